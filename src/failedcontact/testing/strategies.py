"""Hypothesis strategies for realistic cases, for property tests of any pack.

Public: `case_and_as_of(pack, max_events)` for a case and an `as_of`, `cases(pack)`,
`events(pack)`, `event_times()` and `instants()` (docs/verify.md shows them in a test).
hypothesis is a dependency of the library. Cases are plain dicts as a case system would
send them: every service, plan, tenure and pack flag; 0-40 events of every type
and outcome, at times around weekends, bank holidays, the clock changes and midnight, some
naive (UK local) and some with offsets, in shuffled order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from ..engine.loader import Pack
from ..engine.timeline import accepting_timescales
from ..model import vocabulary

__all__ = ["case_and_as_of", "cases", "event_times", "events", "instants"]

# Weekends, bank holidays, both clock changes, and plain weekdays (England and Wales).
ANCHORS = (
    datetime(2026, 10, 24, 12),  # Saturday before the clocks go back
    datetime(2026, 10, 25, 1, 30),  # the repeated hour
    datetime(2026, 11, 23, 10),  # Monday
    datetime(2026, 11, 27, 16, 59),  # Friday, end of the working day
    datetime(2026, 12, 23, 23, 59),  # midnight before Christmas Eve
    datetime(2026, 12, 25, 10),  # Christmas Day
    datetime(2026, 12, 28, 9),  # Boxing Day substitute
    datetime(2027, 1, 1, 0, 0),  # New Year's Day, midnight
    datetime(2027, 3, 26, 10),  # Good Friday
    datetime(2027, 3, 28, 0, 30),  # night the clocks go forward
    datetime(2027, 3, 29, 12),  # Easter Monday
    datetime(2026, 8, 31, 8),  # August bank holiday
)
_OFFSETS = (
    UTC,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """An aware instant near one of the anchors."""
    anchor = draw(st.sampled_from(ANCHORS))
    shift = draw(st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60))
    # Anchors are UK wall times read as UTC here: the shift makes the exact offset moot.
    return (anchor + timedelta(minutes=shift)).replace(tzinfo=UTC)


def _text(instant: datetime, naive: bool, zone: timezone) -> str:
    if naive:
        # A UK wall-clock time (the clocks-forward gap has no wall time: use an offset).
        from ..model.case import UK, as_uk_instant

        wall = instant.astimezone(UK).replace(tzinfo=None)
        try:
            as_uk_instant(wall)
        except ValueError:
            return instant.isoformat()
        if (
            wall.replace(tzinfo=UK).replace(fold=1).utcoffset()
            != wall.replace(tzinfo=UK).utcoffset()
        ):
            return instant.isoformat()  # the repeated hour: naive would be ambiguous
        return wall.isoformat()
    return instant.astimezone(zone).isoformat()


@st.composite
def event_times(draw: st.DrawFn) -> str:
    """An event time as a case system might send it: naive UK local or with an offset."""
    instant = draw(instants())
    return _text(instant, draw(st.booleans()), draw(st.sampled_from(_OFFSETS)))


@st.composite
def _absences(draw: st.DrawFn) -> dict[str, Any]:
    instant = draw(instants())
    absence: dict[str, Any] = {
        "at": _text(instant, draw(st.booleans()), UTC),
        "type": "worker_absence",
    }
    if draw(st.booleans()):
        from ..model.case import UK

        start = instant.astimezone(UK).date()
        absence["until"] = (start + timedelta(days=draw(st.integers(0, 70)))).isoformat()
    return absence


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


def events(pack: Pack) -> st.SearchStrategy[dict[str, Any]]:
    """Any event the contract allows, with action ids the pack knows.

    The pack's failed contacts, visits and appointments, which dominate real histories,
    are drawn more often than the rest.
    """
    at = event_times()
    pairs = sorted(pack.compiled.failed_kind)
    # `one_of` keeps one branch per strategy object, so each weight is a new object.
    failed = [_failed(pairs, at) if pairs else _visits(at) for _ in range(3)]
    common = [_visits(at), _appointments(at), _visits(at), _appointments(at)]
    timed = _timescales(pack, at)
    others = _other_events(at, sorted(pack.compiled.action_ids))
    return st.one_of(*failed, *common, *others, *timed)


def _timescales(pack: Pack, at: st.SearchStrategy[str]) -> list[st.SearchStrategy[dict[str, Any]]]:
    """`timescale` events (contract 1.2) for the actions and duties the pack lets a case time."""
    accepted = accepting_timescales(pack.compiled)
    within, every = sorted(accepted[0]), sorted(accepted[1])
    units = st.sampled_from(["working_days", "calendar_days", "weeks"]).flatmap(
        lambda unit: st.fixed_dictionaries({unit: st.integers(1, 12)})
    )
    found = []
    if within:
        found.append(
            st.fixed_dictionaries(
                {
                    "at": at,
                    "type": st.just("timescale"),
                    "for": st.sampled_from(within),
                    "within": st.just("immediately") | units,
                }
            )
        )
    if every:
        found.append(
            st.fixed_dictionaries(
                {
                    "at": at,
                    "type": st.just("timescale"),
                    "for": st.sampled_from(every),
                    "every": units,
                }
            )
        )
    return found


def _visits(at: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "at": at,
            "type": st.just("home_visit"),
            "outcome": st.sampled_from(_values(vocabulary.HomeVisitOutcome)),
        },
        optional={
            "announced": st.booleans(),
            # what the visit achieved (contract 1.2)
            "seen_alone": st.booleans(),
            "bedroom_seen": st.booleans(),
            "seen_awake": st.booleans(),
            "interpreter": st.booleans(),
        },
    )


def _appointments(at: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "at": at,
            "type": st.just("appointment"),
            "outcome": st.sampled_from(_values(vocabulary.AppointmentOutcome)),
        },
        optional={"setting": st.sampled_from(["clinic", "school"])},
    )


def _failed(
    pairs: list[tuple[str, str]], at: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    """An event the pack counts as a failed contact."""
    return st.sampled_from(pairs).flatmap(
        lambda pair: st.fixed_dictionaries(
            {"at": at, "type": st.just(pair[0]), "outcome": st.just(pair[1])}
        )
    )


def _other_events(
    at: st.SearchStrategy[str], actions: list[str]
) -> list[st.SearchStrategy[dict[str, Any]]]:
    """One strategy for each other event type of the contract."""
    return [
        st.fixed_dictionaries(
            {
                "at": at,
                "type": st.just("call"),
                "outcome": st.sampled_from(_values(vocabulary.CallOutcome)),
            },
            optional={"out_of_hours": st.booleans()},
        ),
        st.fixed_dictionaries(
            {
                "at": at,
                "type": st.just("message"),
                "channel": st.sampled_from(_values(vocabulary.Channel)),
            }
        ),
        st.fixed_dictionaries(
            {"at": at, "type": st.just("action"), "action": st.sampled_from(actions)}
        ),
        st.fixed_dictionaries(
            {"at": at, "type": st.just("seen_by_other_agency"), "agency": st.just("GP")}
        ),
        st.fixed_dictionaries({"at": at, "type": st.just("address_change")}),
        st.fixed_dictionaries(
            {
                "at": at,
                "type": st.just("concern"),
                "level": st.sampled_from(_values(vocabulary.ConcernLevel)),
            }
        ),
        st.fixed_dictionaries({"at": at, "type": st.just("service_refused")}),
        st.fixed_dictionaries({"at": at, "type": st.just("support_request")}),
        _absences(),
        st.fixed_dictionaries(
            {
                "at": at,
                "type": st.just("referral"),
                "kind": st.sampled_from(_values(vocabulary.ReferralKind)),
            },
            optional={"source": st.sampled_from(["police", "school", "health visitor"])},
        ),
        st.fixed_dictionaries(
            {
                "at": at,
                "type": st.just("plan_change"),
                "plan": st.sampled_from(_values(vocabulary.Plan)),
            }
        ),
        _reviews(at),
    ]


def _reviews(at: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A review held, or booked (contract 1.2), initial conference or not."""
    return st.fixed_dictionaries(
        {
            "at": at,
            "type": st.just("review"),
            "kind": st.sampled_from(_values(vocabulary.ReviewKind)),
        },
        optional={"initial": st.booleans(), "booked": st.booleans()},
    )


def _landlords(pack: Pack) -> list[str | None]:
    """Landlords the pack's rules name (as written and in capitals), another, and none."""
    from ..pack.tree import constants

    found: dict[str, set[object]] = {}
    for _, condition in pack.compiled.conditions:
        constants(condition.tree, found)
    named = sorted(str(v) for v in found.get("landlord", set()))
    return [None, "Another Housing Trust", *named, *(n.upper() for n in named)]


def _authorities(pack: Pack) -> list[str | None]:
    areas = {a for group in pack.compiled.contacts.values() for a in group if a != "default"}
    return [None, "somewhere_else", *sorted(areas)]


def cases(pack: Pack, max_events: int = 40) -> st.SearchStrategy[dict[str, Any]]:
    """A whole case for `pack`: child, household, the pack's flags and a shuffled history."""
    child = st.fixed_dictionaries(
        {
            "date_of_birth": st.none() | st.dates(date(2006, 1, 1), date(2027, 3, 1)).map(str),
            "unborn": st.booleans(),
            "disability": st.booleans(),
            "plan": st.sampled_from(_values(vocabulary.Plan)),
            "known_to_childrens_services": st.booleans(),
            "previous_concerns": st.booleans(),
            "cp_plan_in_last_year": st.booleans(),
            "home_educated": st.booleans(),
            "urgent_health_need": st.booleans(),
        }
    )
    household = st.fixed_dictionaries(
        {
            "local_authority": st.sampled_from(_authorities(pack)),
            "tenure": st.sampled_from(_values(vocabulary.Tenure)),
            "landlord": st.sampled_from(_landlords(pack)),
            "known_violence": st.booleans(),
            "communication_needs": st.booleans(),
        }
    )
    return st.fixed_dictionaries(
        {
            "case_id": st.text("ABCXYZ-789", min_size=1, max_size=8),
            "service": st.sampled_from(_values(vocabulary.Service)),
            "child": child,
            "household": household,
            "flags": st.lists(st.sampled_from(sorted(pack.compiled.flags)), unique=True)
            if pack.compiled.flags
            else st.just([]),
            # times are drawn independently, so the list order is already shuffled in time
            "events": st.lists(events(pack), max_size=max_events),
        }
    ).map(_plan_from_history)


def _plan_from_history(case: dict[str, Any]) -> dict[str, Any]:
    """With a `plan_change` history the case leaves `child.plan` out: the history decides
    (contract 1.2), and a `child.plan` that disagrees with it at `as_of` is invalid."""
    if any(event["type"] == "plan_change" for event in case["events"]):
        case["child"] = {k: v for k, v in case["child"].items() if k != "plan"}
    return case


@st.composite
def as_of_for(draw: st.DrawFn, case: dict[str, Any]) -> datetime:
    """An `as_of` before, between or after the case's events (aware)."""
    from ..model.case_input import parse_case

    times = sorted(e.at for e in parse_case(case).events)
    if not times:
        return draw(instants())
    choice = draw(st.sampled_from(["before", "between", "after"]))
    if choice == "before":
        return times[0] - timedelta(minutes=draw(st.integers(1, 60 * 24 * 10)))
    if choice == "between" and len(times) > 1:
        index = draw(st.integers(0, len(times) - 2))
        return times[index] + (times[index + 1] - times[index]) / 2
    return times[-1] + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))


def case_and_as_of(
    pack: Pack, max_events: int = 40
) -> st.SearchStrategy[tuple[dict[str, Any], datetime]]:
    """A case and an `as_of` for it."""
    return cases(pack, max_events).flatmap(lambda c: st.tuples(st.just(c), as_of_for(c)))

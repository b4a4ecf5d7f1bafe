"""`next_change`: the earliest instant after `as_of` at which the answer would differ (1.2).

With no event added, an answer changes only as time passes it: a due passes, an event
already sent with a later time is reached, an event leaves a counting window, a birthday
or midnight changes a fact read at `as_of`. The first three change the answer for certain
and are found exactly. A window in a condition read at `as_of` (risk, closure, duties,
rules `on: [as_of]`), an age or an open-ended absence change a count or a number, which
changes the answer only if a condition's truth flips: those instants are checked by
assessing again there, earliest first, at most `_CHECKS` of them.

What moves with `as_of` itself is not a change: `as_of`, and the trigger and due of a step
that runs from `as_of` (a rule `on: [as_of]`, a duty with no event), which never fall
overdue (docs/decisions.md, "next_change").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import copy
from datetime import date, datetime, time, timedelta
from typing import Any

from ..model.calendar import add_months, months_before
from ..model.case import UK, Case, age_in_years
from ..model.vocabulary import ActionStatus
from ..pack.compiler import CompiledPack
from ..pack.facts import Summary
from .findings import assess_risk
from .timeline import Timeline

_TICK = timedelta(microseconds=1)
_CHECKS = 16  # instants assessed again at most, per answer

Reassess = Callable[[datetime], dict[str, Any]]


def next_change(
    pack: CompiledPack,
    case: Case,
    document: dict[str, Any],
    line: Timeline,
    summary: Summary,
    considered: list[int],
    stamps: list[float],
    reassess: Reassess,
) -> datetime | None:
    """The earliest instant after `as_of` at which `document` would differ, or None."""
    as_of = document["as_of"]
    now = as_of.timestamp()
    certain = min(_certain(pack, case, document, considered, stamps, now), default=None)
    maybe = sorted(set(_possible(pack, case, line, now)))
    if certain is not None:
        maybe = [(at, whole) for at, whole in maybe if at < certain]
    if not maybe:
        return _uk(certain)
    same: Any = None
    read = _as_of_reads(pack, case, summary)
    for at, whole in maybe[:_CHECKS]:
        if whole:  # a fact of an event moved: only assessing again tells
            if same is None:
                same = _comparable(document)
            if _comparable(reassess(at)) != same:
                return _uk(at)
        elif _as_of_reads(pack, case, _moved(summary, at)) != read:
            return _uk(at)
    if len(maybe) > _CHECKS:
        return _uk(maybe[_CHECKS][0])  # not checked: the earliest instant it may change
    return _uk(certain)


def _as_of_reads(pack: CompiledPack, case: Case, summary: Summary) -> tuple[Any, ...]:
    """What the conditions read at `as_of` decide: the tier and its reasons, then whether
    each rule `on: [as_of]`, duty and closure condition holds. Were each the same at a
    later instant, the answer would be too, as nothing else reads `as_of`."""
    tier, reasons = assess_risk(pack, case, summary, [])
    summary.risk_tier = tier
    return (
        tier,
        reasons,
        tuple(rule.when.test(case, summary) for rule in pack.rules_at_as_of),
        tuple(duty.when.test(case, summary) for duty in pack.duties),
        tuple(c.when.test(case, summary) for c in pack.closure or ()),
    )


def _moved(summary: Summary, at: datetime) -> Summary:
    """A copy of the summary at a later instant, with the same history."""
    moved = copy(summary)
    moved.at, moved.stamp = at, at.timestamp()
    return moved


def _uk(at: datetime | None) -> datetime | None:
    return at.astimezone(UK) if at is not None else None


def _certain(
    pack: CompiledPack,
    case: Case,
    document: dict[str, Any],
    considered: list[int],
    stamps: list[float],
    now: float,
) -> Iterator[datetime]:
    """Instants at which the answer changes for certain."""
    for action in document["actions"]:
        due = action["due"]
        if (
            due is not None
            and action["status"] is ActionStatus.OUTSTANDING
            and action["trigger"]["event"] is not None  # a clock from as_of moves with it
        ):
            yield due + _TICK  # overdue once as_of is past the due instant
    counted = set(considered)
    events = case.events
    for index, event in enumerate(events):
        if index not in counted and stamps[index] > now and not _booked(event):
            yield event.at  # counted once as_of reaches it
    patterns = {pattern.id: pattern for pattern in pack.patterns}
    for found in document["patterns"]:
        pattern = patterns[found["id"]]
        if pattern.kind == "count" and found["events"]:
            earliest = min(events[i].at for i in found["events"])
            leaves = _leaves(earliest, pattern.within_days, pattern.within_months)
            if leaves is not None:
                yield leaves


def _booked(event: Any) -> bool:
    return event.type == "review" and bool(event.booked)


def _leaves(at: datetime, days: int | None, months: int | None) -> datetime | None:
    """The first instant at which an event at `at` is outside a window ending then."""
    if days:
        return at + timedelta(days=days)
    if months:
        return _first_outside(at.timestamp(), months)
    return None


def _first_outside(stamp: float, months: int) -> datetime:
    """The least instant whose `months` window no longer holds `stamp`: the same UK wall
    time `months` on, or the start of the first day whose window begins after the event's
    day (a month-end event, where the months are shorter)."""
    event = datetime.fromtimestamp(stamp, UK)
    day = event.date()
    target = add_months(day, months)
    for candidate in (target + timedelta(days=shift) for shift in range(-3, 5)):
        back = add_months(candidate, -months)
        if back == day:
            found = datetime.combine(candidate, event.time(), UK)
            break
        if back > day:
            found = datetime.combine(candidate, time(), UK)
            break
    else:
        raise AssertionError("a window's end is within days of the same date months on")
    if months_before(found.timestamp(), months) >= stamp:
        return found
    # an event in the hour the clocks go back repeats: search the next two hours exactly
    low, high = int(found.timestamp() * 1e6), int(found.timestamp() * 1e6) + 7_200_000_000
    while high - low > 1:
        middle = (low + high) // 2
        if months_before(middle / 1e6, months) >= stamp:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high / 1e6, UK)


def _possible(
    pack: CompiledPack, case: Case, line: Timeline, now: float
) -> Iterator[tuple[datetime, bool]]:
    """Instants at which a fact read at `as_of` changes, which may change the answer; True
    with one that only assessing the whole case again can tell."""
    windows, ages, absences = pack.clocks
    if windows:
        for moment in line.moments:
            for days, months in windows:
                leaves = _leaves(moment.at, days, months)
                if leaves is not None and leaves.timestamp() > now:
                    yield leaves, False
    local = datetime.fromtimestamp(now, UK)
    born = case.child.date_of_birth
    if ages and born is not None and not case.child.unborn:
        age = age_in_years(born, local.date())
        later = [years for years in ages if years > age]
        if later:
            yield _birthday(born, min(later)), False
    if absences:
        today = local.date()
        for event in case.events:
            if event.type == "worker_absence" and event.until is None:
                start = event.at.astimezone(UK).date()
                later = [days for days in absences if start + timedelta(days=days) > today]
                if later:  # its length so far reaches a length a test reads, at midnight
                    day = start + timedelta(days=min(later))
                    yield datetime.combine(day, time(), UK), True


def _birthday(born: date, years: int) -> datetime:
    """UK midnight at the start of the day the child turns `years` (as `age_in_years`
    counts: a 29 February birthday is reached on 1 March in other years)."""
    year = born.year + years
    try:
        day = born.replace(year=year)
    except ValueError:
        day = date(year, 3, 1)
    return datetime.combine(day, time(), UK)


def _comparable(document: dict[str, Any]) -> Any:
    """The answer without what moves with `as_of` itself."""
    actions = [
        {key: value for key, value in action.items() if key not in ("due", "trigger")}
        if action["trigger"]["event"] is None
        else action
        for action in document["actions"]
    ]
    episode = document["episode"]
    return (
        document["risk_tier"],
        document["risk_reasons"],
        document["failed_contacts"],
        document["last_seen"],
        actions,
        document["patterns"],
        document["closure"],
        episode if episode["event"] is not None else None,
        document["trace"],
    )

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

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from ..model.calendar import months_before
from ..model.case import UK, Case
from ..model.vocabulary import ActionStatus
from ..pack.compiler import CompiledPack
from ..pack.tree import AllOf, AnyOf, Count, Node, Not, Test
from .timeline import Timeline

_TICK = timedelta(microseconds=1)
_CHECKS = 16  # instants assessed again at most, per answer
_AT_AS_OF = ("risk", "closure", "duties")  # where a condition is read at `as_of`

Reassess = Callable[[datetime], dict[str, Any]]


def next_change(
    pack: CompiledPack,
    case: Case,
    document: dict[str, Any],
    line: Timeline,
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
        maybe = [at for at in maybe if at < certain]
    if not maybe:
        return _uk(certain)
    same = _comparable(document)
    for at in maybe[:_CHECKS]:
        if _comparable(reassess(at)) != same:
            return _uk(at)
    if len(maybe) > _CHECKS:
        return _uk(maybe[_CHECKS])  # not checked: the earliest instant it may change
    return _uk(certain)


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
    """The least instant whose `months` window no longer holds `stamp` (a search, to the
    microsecond, since calendar months differ in length)."""
    low = int(stamp * 1_000_000)  # inside: the window ending at the event holds it
    high = low + (months * 31 + 2) * 86_400_000_000  # outside
    while high - low > 1:
        middle = (low + high) // 2
        if months_before(middle / 1_000_000, months) >= stamp:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high / 1_000_000, UK)


def _possible(pack: CompiledPack, case: Case, line: Timeline, now: float) -> Iterator[datetime]:
    """Instants at which a fact read at `as_of` changes, which may change the answer."""
    windows, age, absence = _clocks(pack)
    if windows:
        for moment in line.moments:
            for days, months in windows:
                leaves = _leaves(moment.at, days, months)
                if leaves is not None and leaves.timestamp() > now:
                    yield leaves
    local = datetime.fromtimestamp(now, UK)
    if age and case.child.date_of_birth is not None and not case.child.unborn:
        yield _next_birthday(case.child.date_of_birth, local.date())
    if absence and any(e.type == "worker_absence" and e.until is None for e in case.events):
        yield datetime.combine(local.date() + timedelta(days=1), time(), UK)


def _next_birthday(born: date, today: date) -> datetime:
    """UK midnight at the start of the next birthday after `today` (29 February: 1 March)."""
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:
            day = date(year, 3, 1)
        if day > today:
            return datetime.combine(day, time(), UK)
    raise AssertionError("a birthday falls within a year")


def _clocks(pack: CompiledPack) -> tuple[tuple[tuple[int | None, int | None], ...], bool, bool]:
    """What a pack reads that changes with time alone: the windows of counts read at
    `as_of`, whether an age is read at `as_of`, whether an absence's length is read."""
    windows: list[tuple[int | None, int | None]] = []
    age = absence = False
    as_of_rules = {("rules", r.order, "when") for r in pack.rules_at_as_of}
    for path, condition in pack.conditions:
        at_as_of = path[0] in _AT_AS_OF or path[:3] in as_of_rules
        for node in _nodes(condition.tree):
            if isinstance(node, Count) and at_as_of and (node.days or node.months):
                windows.append((node.days, node.months))
            elif isinstance(node, Test):
                age = age or (at_as_of and node.fact.name == "age_years")
                absence = absence or node.fact.name == "absence_days"
    return tuple(dict.fromkeys(windows)), age, absence


def _nodes(node: Node | None) -> Iterable[Node]:
    if node is None:
        return
    yield node
    if isinstance(node, AllOf | AnyOf):
        for part in node.parts:
            yield from _nodes(part)
    elif isinstance(node, Not):
        yield from _nodes(node.part)
    elif isinstance(node, Count):
        yield from _nodes(node.of)
        yield from _nodes(node.since)


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

"""What an assessment finds on the case as a whole: its risk tier, patterns and closure."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..model.calendar import months_before
from ..model.case import Case
from ..pack.compiler import CompiledPack, CompiledPattern
from ..pack.conditions import Compiled
from ..pack.facts import Moment, Summary
from .trace import trace_step

_DAY = 86400.0
# A pattern's window of calendar months starts at the same instant for every case assessed
# at one `as_of`, and working it out costs more than the rest of the pattern: remember the
# last few (a pure function of its arguments, so the answers cannot change).
_months_before = lru_cache(maxsize=64)(months_before)


def assess_risk(
    pack: CompiledPack, case: Case, summary: Summary, trace: list[dict[str, Any]]
) -> tuple[str, list[str]]:
    """The risk tier the first matching rule gives, and the reasons of its rules that match."""
    tier: str | None = None
    reasons: list[str] = []
    for risk in pack.risk:
        if tier is not None and risk.tier != tier:
            continue
        if risk.when.test(case, summary):
            tier = risk.tier.value
            if risk.reason not in reasons:
                reasons.append(risk.reason)
            trace.append(
                trace_step("risk", risk.id, None, f"{risk.when.text}: {risk.reason}", [],
                           risk.citation)
            )  # fmt: skip
    if tier is None:
        default = pack.risk_default
        trace.append(
            trace_step("risk", default.id, None, f"no risk rule matched: {default.reason}", [],
                       default.citation)
        )  # fmt: skip
        return default.tier.value, [default.reason]
    return tier, reasons


def find_patterns(
    pack: CompiledPack,
    case: Case,
    moments: list[Moment],
    last_seen_position: int,
    now: float,
    trace: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The pack's patterns the timeline shows, each noted in the trace."""
    found = []
    for pattern in pack.patterns:
        result = _pattern(pattern, case, moments, last_seen_position, now)
        if result is not None:
            found.append(result)
            trace.append(
                trace_step("pattern", pattern.id, None,
                           f"events {result['events']} show {pattern.title.lower()}", [],
                           pattern.citation)
            )  # fmt: skip
    return found


def _pattern(
    pattern: CompiledPattern,
    case: Case,
    moments: list[Moment],
    last_seen_position: int,
    now: float,
) -> dict[str, Any] | None:
    select = pattern.select.test
    types = pattern.select.event_types
    matched: list[int] = []
    if pattern.kind == "count":
        start: float | None = None
        windowed = bool(pattern.within_days or pattern.within_months)
        first = last_seen_position + 1 if pattern.in_run else 0
        for moment in moments[first:]:
            if types is not None and moment.type not in types:
                continue
            if windowed:  # the window's start, worked out once an event of its types is seen
                windowed = False
                start = now - pattern.within_days * _DAY if pattern.within_days else None
                if pattern.within_months:
                    start = _months_before(now, pattern.within_months)
            if (start is None or moment.stamp > start) and select(case, moment):
                matched.append(moment.index)
        if len(matched) < pattern.at_least:
            return None
    else:
        assert pattern.next is not None and pattern.then is not None
        is_next, then = pattern.next, pattern.then.test
        window = pattern.within_days * _DAY if pattern.within_days else None
        chosen: dict[int, int] = {}
        following: list[int] | None = None  # the next `next` event after each position
        for position, moment in enumerate(moments):
            if (types is not None and moment.type not in types) or not select(case, moment):
                continue
            if following is None:
                following = _next_positions(case, moments, is_next)
            offset = following[position]
            if offset >= 0:
                later = moments[offset]
                if then(case, later) and (window is None or later.stamp - moment.stamp <= window):
                    chosen[moment.index] = position
                    chosen[later.index] = offset
        if not chosen:
            return None
        matched = sorted(chosen, key=chosen.__getitem__)
    return {"id": pattern.id, "title": pattern.title, "events": matched}


def _next_positions(case: Case, moments: list[Moment], is_next: Compiled) -> list[int]:
    """For each position, the first later position whose event is a `next` one (-1: none).

    One backward pass, so a sequence pattern costs the same per event however far apart
    its events are.
    """
    following = [-1] * len(moments)
    upcoming = -1
    test, types = is_next.test, is_next.event_types
    for position in range(len(moments) - 1, -1, -1):
        following[position] = upcoming
        moment = moments[position]
        if (types is None or moment.type in types) and test(case, moment):
            upcoming = position
    return following


def closure_verdict(
    pack: CompiledPack,
    case: Case,
    summary: Summary,
    actions: list[dict[str, Any]],
    episode_done: list[str],
    trace: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """Whether the case may close, and the pack's closure conditions it does not meet yet."""
    if pack.closure is None:
        return None
    # these facts are read by closure conditions only
    summary.open_actions = sum(1 for a in actions if a["status"] != "done")
    summary.overdue_actions = sum(1 for a in actions if a["status"] == "overdue")
    summary.actions_done = frozenset(episode_done)
    unmet = []
    for condition in pack.closure:
        held = condition.when.test(case, summary)
        if not held:
            unmet.append({"id": condition.id, "title": condition.title, "action": condition.action})
        trace.append(
            trace_step("closure", condition.id, None,
                       f"{'met' if held else 'not met'}: {condition.when.text}", [],
                       condition.citation)
        )  # fmt: skip
    return {"allowed": not unmet, "unmet": unmet}

"""Phases 1 and 2 of an assessment: the timeline of moments, and the rules each one fires.

The loops here run once for every event of every case: they read each fact once, keep
their constants in this module and make no call that an event does not need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import CaseError, CaseIssue, did_you_mean, one_of
from ..model.calendar import WorkingCalendar
from ..model.case import UK, ActionDone, Case
from ..model.vocabulary import EPISODE_EVENT_TYPES, OUTCOME_EVENT_TYPES, SEEN_PAIRS
from ..pack.compiler import CompiledPack, CompiledRequirement, CompiledRule
from ..pack.facts import Moment, Summary
from .trace import describe, trace_step

_SEEN = SEEN_PAIRS
_WITH_OUTCOME = OUTCOME_EVENT_TYPES
_DERIVED = frozenset({"call", "worker_absence"})  # events with a fact worked out at a moment
_RARE = frozenset({"plan_change", "timescale"})  # events that change the case state (1.2)


def check_case_against_pack(pack: CompiledPack, case: Case) -> None:
    """Reject flags the pack does not declare and action ids it does not know."""
    issues = []
    for index, flag in enumerate(case.flags):
        if flag not in pack.flags:
            declared = one_of(sorted(pack.flags)) if pack.flags else "none"
            hint = did_you_mean(flag, pack.flags)
            issues.append(
                CaseIssue(
                    f"flags[{index}]",
                    f"unknown flag `{flag}`; pack `{pack.document.id}` declares: {declared}"
                    + (f" ({hint})" if hint else ""),
                )
            )
    for index, event in enumerate(case.events):
        if isinstance(event, ActionDone) and event.action not in pack.action_ids:
            hint = did_you_mean(event.action, pack.action_ids)
            issues.append(
                CaseIssue(
                    f"events[{index}].action",
                    f"unknown action id `{event.action}`"
                    + (f" ({hint})" if hint else "")
                    + f"; expected one of {one_of(sorted(pack.action_ids))}",
                )
            )
    if issues:
        raise CaseError(issues)


# What required an action: (position, moment, requirement, rule). A tuple, not a class,
# because one is made for every requirement of every rule that fires.
Fired = tuple[int, Moment, CompiledRequirement, CompiledRule]


def considered_events(
    pack: CompiledPack, case: Case, now: float, trace: list[dict[str, Any]]
) -> tuple[list[int], list[float]]:
    """The indexes of the events up to `now` in time order, and every event's timestamp.

    Notes in the trace the events after `as_of`, and a pregnancy the pack does not cover.
    """
    events = case.events
    stamps = [event.at.timestamp() for event in events]
    order = sorted(range(len(events)), key=stamps.__getitem__)
    booked = _booked(events)
    if booked:
        order = [i for i in order if i not in booked]
        trace.append(
            trace_step("note", "booked", None,
                       f"events {sorted(booked)} are booked reviews: they have not happened, so "
                       "they complete, end and open nothing", [], None)
        )  # fmt: skip
    considered = [i for i in order if stamps[i] <= now]
    if len(considered) < len(order):
        later = sorted(set(order) - set(considered))
        if any(events[i].type == "action" for i in later):
            check_case_against_pack(pack, case)  # an unknown action id after as_of
        trace.append(
            trace_step("note", "after_as_of", None,
                       f"events {later} are after as_of and were not counted", [], None)
        )  # fmt: skip
    if case.child.unborn and not pack.document.scope.unborn:
        trace.append(
            trace_step("note", "scope", None,
                       "this pack's guidance does not explicitly cover pregnant women (unborn "
                       "children); its steps are applied as for a child", [], None)
        )  # fmt: skip
    return considered, stamps


def _booked(events: tuple[Any, ...]) -> set[int]:
    """The indexes of reviews that are booked, not held (contract 1.2)."""
    return {i for i, event in enumerate(events) if event.type == "review" and event.booked}


def check_plan_agrees(case: Case, line: Timeline) -> None:
    """A case that gives `child.plan` and a `plan_change` history must agree at `as_of`."""
    child = case.child
    plan_at_as_of = line.plan
    if not line.plan_history or plan_at_as_of == child.plan:
        return
    if "plan" not in child.model_fields_set:
        return
    raise CaseError(
        [
            CaseIssue(
                "child.plan",
                f"`{child.plan}` but the `plan_change` events give `{plan_at_as_of}` at as_of; "
                "send the plan at as_of, or leave `child.plan` out and let the history decide",
            )
        ]
    )


def accepting_timescales(pack: CompiledPack) -> tuple[frozenset[str], frozenset[str]]:
    """The action ids a case may set a timescale for: `within` (actions), `every` (duties)."""
    document = pack.document
    within = frozenset(i for i, a in document.actions.items() if a.case_timescale is not None)
    every = frozenset(d.action for d in document.duties if d.case_timescale is not None)
    return within, every


def check_timescales(pack: CompiledPack, case: Case, line: Timeline) -> None:
    """A `timescale` event may name only an action or duty the pack lets a case time."""
    within, every = accepting_timescales(pack)
    issues = []
    for position in line.timescales:
        moment = line.moments[position]
        event = moment.event
        allowed, what = (within, "action") if event.within is not None else (every, "duty")
        if event.for_ not in allowed:
            listed = one_of(sorted(allowed)) if allowed else "none"
            key = "within" if what == "action" else "every"
            issues.append(
                CaseIssue(
                    f"events[{moment.index}].for",
                    f"pack `{pack.document.id}` does not let a case set the timescale "
                    f"(`{key}`) of `{event.for_}`; the {what} ids that accept one: {listed}",
                )
            )
    if issues:
        raise CaseError(issues)


@dataclass(slots=True)
class Timeline:
    """The moments of one assessment, and the run and episode facts at its end."""

    moments: list[Moment]
    last_seen_position: int  # of the last time the child was seen (-1: never)
    run_count: int
    episode_start: int
    episode_done: list[str]  # action ids recorded in the current episode
    failed_position: int
    seen_elsewhere: bool
    last_done: dict[str, int]  # action id: position of its latest `action` record
    concern_levels: set[str]
    plan: str  # the plan at the last moment (at `as_of`)
    seen_positions: list[int]  # where the child was seen, in time order
    timescales: list[int]  # positions of `timescale` events (contract 1.2)
    plan_history: bool  # the case sends `plan_change` events


def timeline(
    pack: CompiledPack,
    case: Case,
    considered: list[int],
    stamps: list[float],
    summary: Summary,
    calendar: WorkingCalendar,
) -> Timeline:
    """Phase 1: the timeline of moments, with the run and event facts at each."""
    # Dispatch below is on the `type` tag, which mypy cannot narrow on: read events as Any.
    events: tuple[Any, ...] = case.events
    as_of, memo = summary.at, summary.memo
    failed_kind, action_ids = pack.failed_kind, pack.action_ids
    moments: list[Moment] = []
    last_done: dict[str, int] = {}
    concern_levels: set[str] = set()
    run_count = run_start = episode_start = 0
    episode_done: list[str] = []
    failed_position, seen_elsewhere = -1, False
    history, plan = _first_plan(case)
    seen_positions: list[int] = []
    timescales: list[int] = []
    for position, index in enumerate(considered):
        event = events[index]
        event_type = event.type
        kind = None
        if event_type in _RARE:  # a plan change, or a timescale set for this child
            plan = _rare(event, position, plan, timescales)
        if event_type in EPISODE_EVENT_TYPES:
            episode_start = position
            episode_done = []
        if event_type in _WITH_OUTCOME:
            outcome = event.outcome
            if (event_type, outcome) in _SEEN:
                run_count, run_start, seen_elsewhere = 0, position + 1, False
                seen_positions.append(position)
            else:
                kind = failed_kind.get((event_type, outcome))
                if kind is not None:
                    run_count, failed_position = run_count + 1, position
        elif event_type == "action":
            action = event.action
            if action not in action_ids:
                check_case_against_pack(pack, case)  # raises, naming every problem
            last_done[action] = position
            episode_done.append(action)
        elif event_type == "seen_by_other_agency":
            seen_elsewhere = True
        elif event_type == "concern":
            concern_levels.add(event.level)
        moment = Moment(event, index, event.at, stamps[index], kind, run_count, seen_elsewhere,
                        moments, position, run_start, episode_start, failed_position, memo,
                        plan)  # fmt: skip
        if event_type in _DERIVED:
            _derive(moment, event, as_of, calendar)
        moments.append(moment)
    # The run counts from just after the last time the child was seen: `run_start - 1`.
    return Timeline(moments, run_start - 1, run_count, episode_start, episode_done,
                    failed_position, seen_elsewhere, last_done, concern_levels, plan,
                    seen_positions, timescales, history)  # fmt: skip


def _first_plan(case: Case) -> tuple[bool, str]:
    """Whether the case sends a plan history, and the plan before its first `plan_change`:
    `none` when it sends any, else `child.plan` (contract 1.2)."""
    history = any(event.type == "plan_change" for event in case.events)
    return history, "none" if history else case.child.plan


def _rare(event: Any, position: int, plan: str, timescales: list[int]) -> str:
    """The plan from here on: a plan change's; a timescale event is noted where it is."""
    if event.type == "plan_change":
        return str(event.plan)
    timescales.append(position)
    return plan


def _derive(moment: Moment, event: Any, as_of: datetime, calendar: WorkingCalendar) -> None:
    """A call's out-of-hours fact (when not given), or an absence's length in days."""
    if event.type == "call":
        moment.out_of_hours = (
            event.out_of_hours
            if event.out_of_hours is not None
            else calendar.is_out_of_hours(event.at)
        )
    else:
        moment.absence_days = _absence_days(event, as_of)


def _absence_days(event: Any, as_of: datetime) -> int:
    start = event.at.astimezone(UK).date()
    end: date = event.until if event.until is not None else as_of.astimezone(UK).date()
    days: int = (end - start).days
    return days


def summarise(summary: Summary, line: Timeline, case: Case, order: list[int]) -> datetime | None:
    """Give `summary` the run and episode facts at the timeline's end; the last time seen.

    `order` is the positions' event indexes (`considered_events`).
    """
    moments = line.moments
    last_seen = (
        case.events[order[line.last_seen_position]].at if line.last_seen_position >= 0 else None
    )
    summary.run_count = line.run_count
    summary.timeline = moments
    summary.position = len(moments) - 1
    summary.run_start = line.last_seen_position + 1
    summary.episode_start = line.episode_start
    summary.failed_position = line.failed_position
    summary.seen_elsewhere = line.seen_elsewhere
    summary.last_seen = last_seen
    summary.concern_levels = frozenset(line.concern_levels)
    summary.plan = line.plan
    return last_seen


def fire(
    pack: CompiledPack,
    case: Case,
    line: Timeline,
    summary: Summary,
    matched: set[tuple[int, int]] | None,
    trace: list[dict[str, Any]],
    per_event: list[Fired],
) -> dict[str, Fired]:
    """Phase 2: the rules each moment triggers, natively or as `matched` by another matcher.

    Returns, per action id, what last required it; adds to `per_event` every instance of an
    action the pack requires once per triggering event.
    """
    rules_for_event = pack.rules_for_event
    # A rule's test on case facts holds or not for the whole assessment: run it once, and
    # keep, per kind of moment, the candidate rules whose case test holds, with the rest of
    # their test (the plan is a case fact too when the case sends no plan history).
    fixed_plan = not line.plan_history
    case_ok: dict[CompiledRule, bool] = {}
    allowed: dict[tuple[str | None, bool], list[tuple[CompiledRule, Any]]] = {}
    fired: dict[str, Fired] = {}
    once_fired: set[CompiledRule] = set()
    per_event_seen: set[tuple[int, str]] = set()
    for position, moment in enumerate(line.moments):
        if matched is None:
            key = (moment.type, moment.kind is not None)
            candidates = allowed.get(key)
            if candidates is None:
                rules = rules_for_event[key]  # type: ignore[index]  # an event's type is set
                candidates = allowed[key] = _allowed(rules, case, summary, case_ok, fixed_plan)
        else:
            candidates = [(r, None) for r in pack.rules if (position, r.order) in matched]
        described = None
        for rule, moment_test in candidates:
            if moment_test is not None and not moment_test(case, moment):
                continue
            if rule.once:
                if rule in once_fired:
                    continue
                once_fired.add(rule)
            for requirement in rule.requires:
                if requirement.per_event:
                    instance = (position, requirement.action)
                    if instance not in per_event_seen:
                        per_event_seen.add(instance)
                        per_event.append((position, moment, requirement, rule))
                    continue
                previous = fired.get(requirement.action)
                if previous is None or previous[0] != position:
                    fired[requirement.action] = (position, moment, requirement, rule)
            if described is None:
                described = describe(moment, pack)
            trace.append(
                trace_step("rule", rule.id, moment.index, described + rule.explanation,
                           list(rule.action_ids), rule.citation)
            )  # fmt: skip
    return fired


def _allowed(
    rules: tuple[CompiledRule, ...],
    case: Case,
    summary: Summary,
    case_ok: dict[CompiledRule, bool],
    fixed_plan: bool,
) -> list[tuple[CompiledRule, Any]]:
    """The rules whose once-per-case test holds (memoised in `case_ok`), each with the test
    left to run at each moment."""
    result = []
    for rule in rules:
        case_test, moment_test = rule.fixed_plan_tests if fixed_plan else (
            rule.case_test, rule.moment_test
        )  # fmt: skip
        ok = case_ok.get(rule)
        if ok is None:
            ok = case_ok[rule] = case_test is None or case_test(case, summary)
        if ok:
            result.append((rule, moment_test))
    return result


def fire_at_as_of(
    pack: CompiledPack,
    case: Case,
    summary: Summary,
    fired: dict[str, Fired],
    trace: list[dict[str, Any]],
) -> None:
    """Rules `on: [as_of]`: their clock starts at `as_of`, from the case's facts then."""
    position = len(summary.timeline)
    for rule in pack.rules_at_as_of:
        if not rule.when.test(case, summary):
            continue
        for requirement in rule.requires:
            if requirement.action not in fired:  # an event's instance keeps its own clock
                fired[requirement.action] = (position, summary, requirement, rule)
        why = f"at as_of; {rule.when.text}"
        trace.append(
            trace_step("rule", rule.id, None, f"{why}; {rule.note}" if rule.note else why,
                       [r.action for r in rule.requires], rule.citation)
        )  # fmt: skip

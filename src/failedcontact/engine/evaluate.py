"""Evaluate a compiled pack against one case at one instant: pure, deterministic, thread-safe.

The engine works on timestamps and plain data; `evaluate` returns the assessment as a plain,
JSON-ready dict, from which `assess` builds the typed `Assessment` and `assess_json` writes
JSON text directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson

from .._version import ENGINE_VERSIONS
from ..errors import CaseError, CaseIssue, did_you_mean, one_of
from ..model.assessment import Assessment, from_plain
from ..model.calendar import (
    WorkingCalendar,
    add_hours,
    end_of_calendar_days,
    end_of_months,
    months_before,
)
from ..model.case import UK, ActionDone, Case
from ..model.vocabulary import (
    CONTRACT_VERSION,
    EPISODE_EVENT_TYPES,
    OUTCOME_EVENT_TYPES,
    SEEN_PAIRS,
    ActionStatus,
)
from ..pack.compiler import (
    CompiledDuty,
    CompiledPack,
    CompiledPattern,
    CompiledRequirement,
    CompiledRule,
)
from ..pack.conditions import Compiled
from ..pack.facts import Moment, Summary

_SEEN = SEEN_PAIRS
_WITH_OUTCOME = OUTCOME_EVENT_TYPES
_DAY = 86400.0
# A pattern's window of calendar months starts at the same instant for every case assessed
# at one `as_of`, and working it out costs more than the rest of the pattern: remember the
# last few (a pure function of its arguments, so the answers cannot change).
_months_before = lru_cache(maxsize=64)(months_before)


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


def due_at(kind: str, amount: float, at: datetime, calendar: WorkingCalendar) -> datetime | None:
    """The deadline instant for an action triggered at `at`."""
    if kind == "working_days":
        return calendar.end_of_working_days(at, int(amount))
    if kind == "hours":
        return add_hours(at, amount)
    if kind == "calendar_days":
        return end_of_calendar_days(at, int(amount))
    if kind == "weeks":
        return end_of_calendar_days(at, 7 * int(amount))
    if kind == "months":
        return end_of_months(at, int(amount))
    if kind == "immediately":
        return at.astimezone(UK)
    return None


# What required an action: (position, moment, requirement, rule). A tuple, not a class,
# because one is made for every requirement of every rule that fires.
_Fired = tuple[int, Moment, CompiledRequirement, CompiledRule]


def _describe(moment: Moment, pack: CompiledPack) -> str:
    outcome = moment.outcome
    shown = f"{moment.type}, {outcome}" if outcome else moment.type
    what = f"event {moment.index} ({shown})"
    if moment.kind is not None:
        name = pack.kind_names[moment.kind]
        return f"{what} is failed contact {moment.run_count} of the current run ({name})"
    if moment.type == "concern":
        return f"{what}, level {moment.event.level}"
    return what


def _trace(step: str, id: str, event: int | None, why: str, actions: list[str],
           citation: str | None) -> dict[str, Any]:  # fmt: skip
    return {"step": step, "id": id, "event": event, "why": why, "actions": actions,
            "citation": citation}  # fmt: skip


Matcher = Callable[[CompiledPack, Case, list[Moment], int], set[tuple[int, int]]]


def evaluate(
    pack: CompiledPack,
    case: Case,
    as_of: datetime,
    calendar: WorkingCalendar | None = None,
    matcher: Matcher | None = None,
) -> dict[str, Any]:
    """Assess `case` under `pack` at `as_of` and return the contract's JSON document as data.

    Events after `as_of` have not happened yet and are not counted (the trace says so).
    `matcher`, when given, decides which rules each moment triggers instead of the compiled
    tests: it returns (moment position, rule order) pairs. The durable-rules backend uses it.
    """
    cal = calendar if calendar is not None else pack.calendar
    if case.flags and not pack.flags.issuperset(case.flags):
        check_case_against_pack(pack, case)  # raises, naming every problem
    now = as_of.timestamp()
    trace: list[dict[str, Any]] = []
    considered, stamps = _considered(pack, case, now, trace)
    summary = Summary(as_of, 0, False, None)
    memo: dict[object, Any] = {}
    summary.memo = memo  # this assessment's count indexes (see conditions.py)
    line = _timeline(pack, case, considered, stamps, summary, cal)
    moments = line.moments
    matched = matcher(pack, case, moments, line.last_seen_position) if matcher is not None else None
    fired = _fire(pack, case, line, summary, matched, trace)
    last_seen = (
        case.events[considered[line.last_seen_position]].at
        if line.last_seen_position >= 0
        else None
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
    found = _patterns(pack, case, moments, line.last_seen_position, now, trace)
    summary.patterns = frozenset(p["id"] for p in found)
    _fire_at_as_of(pack, case, summary, fired, trace)

    tier, reasons = _risk(pack, case, summary, trace)
    ranked = _actions(pack, case, fired, line.last_done, now, cal, moments, line.episode_start)
    for duty in pack.duties:
        _duty(pack, duty, case, summary, ranked, now, cal, trace)
    ranked.sort(key=_first)
    actions = [entry for _, entry in ranked]
    if pack.closure is not None:  # these facts are read by closure conditions only
        summary.open_actions = sum(1 for a in actions if a["status"] != "done")
        summary.overdue_actions = sum(1 for a in actions if a["status"] == "overdue")
        summary.actions_done = frozenset(line.episode_done)
    closure = _closure(pack, case, summary, trace)
    document = _document(pack, case, as_of, tier, reasons, line, last_seen, actions, found,
                         closure, trace)  # fmt: skip
    # Moments point at their timeline and share the memo, so each assessment leaves
    # reference cycles behind: emptying both frees it at once instead of at the next
    # collection (fewer collections, and its memory reused while still in cache).
    memo.clear()
    moments.clear()
    return document


def _document(
    pack: CompiledPack,
    case: Case,
    as_of: datetime,
    tier: str,
    reasons: list[str],
    line: _Timeline,
    last_seen: datetime | None,
    actions: list[dict[str, Any]],
    patterns: list[dict[str, Any]],
    closure: dict[str, Any] | None,
    trace: list[dict[str, Any]],
) -> dict[str, Any]:
    """The contract's assessment document, as data."""
    if line.moments:
        opened = line.moments[line.episode_start]
        episode = {"started": opened.at.astimezone(UK), "event": opened.index}
    else:
        episode = {"started": as_of, "event": None}
    document = pack.document
    return {
        "contract": CONTRACT_VERSION,
        "case_id": case.case_id,
        "as_of": as_of,  # as the caller gave it (a naive one was read as UK local time)
        "pack": {"id": document.id, "version": document.version, "digest": pack.digest},
        "engine": dict(ENGINE_VERSIONS),
        "risk_tier": tier,
        "risk_reasons": reasons,
        "failed_contacts": line.run_count,
        "last_seen": last_seen.astimezone(UK) if last_seen is not None else None,
        "actions": actions,
        "patterns": patterns,
        "closure": closure,
        "episode": episode,
        "trace": trace,
    }


def _considered(
    pack: CompiledPack, case: Case, now: float, trace: list[dict[str, Any]]
) -> tuple[list[int], list[float]]:
    """The indexes of the events up to `now` in time order, and every event's timestamp.

    Notes in the trace the events after `as_of`, and a pregnancy the pack does not cover.
    """
    events = case.events
    stamps = [event.at.timestamp() for event in events]
    order = sorted(range(len(events)), key=stamps.__getitem__)
    considered = [i for i in order if stamps[i] <= now]
    if len(considered) < len(order):
        later = sorted(set(order) - set(considered))
        if any(events[i].type == "action" for i in later):
            check_case_against_pack(pack, case)  # an unknown action id after as_of
        trace.append(
            _trace("note", "after_as_of", None,
                   f"events {later} are after as_of and were not counted", [], None)
        )  # fmt: skip
    if case.child.unborn and not pack.document.scope.unborn:
        trace.append(
            _trace("note", "scope", None,
                   "this pack's guidance does not explicitly cover pregnant women (unborn "
                   "children); its steps are applied as for a child", [], None)
        )  # fmt: skip
    return considered, stamps


@dataclass(slots=True)
class _Timeline:
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


def _timeline(
    pack: CompiledPack,
    case: Case,
    considered: list[int],
    stamps: list[float],
    summary: Summary,
    calendar: WorkingCalendar,
) -> _Timeline:
    """Phase 1: the timeline of moments, with the run and event facts at each."""
    # Dispatch below is on the `type` tag, which mypy cannot narrow on: read events as Any.
    events: tuple[Any, ...] = case.events
    as_of, memo = summary.at, summary.memo
    failed_kind = pack.failed_kind
    action_ids = pack.action_ids
    moments: list[Moment] = []
    last_done: dict[str, int] = {}
    concern_levels: set[str] = set()
    run_count = run_start = episode_start = 0
    episode_done: list[str] = []
    failed_position, seen_elsewhere = -1, False
    for position, index in enumerate(considered):
        event = events[index]
        event_type = event.type
        kind = None
        if event_type in EPISODE_EVENT_TYPES:
            episode_start = position
            episode_done = []
        if event_type in _WITH_OUTCOME:
            outcome = event.outcome
            if (event_type, outcome) in _SEEN:
                run_count = 0
                run_start = position + 1
                seen_elsewhere = False
            else:
                kind = failed_kind.get((event_type, outcome))
                if kind is not None:
                    run_count += 1
                    failed_position = position
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
        moment = Moment(
            event, index, event.at, stamps[index], kind, run_count, seen_elsewhere,
            moments, position, run_start, episode_start, failed_position, memo,
        )  # fmt: skip
        if event_type in _DERIVED:
            _derive(moment, event, as_of, calendar)
        moments.append(moment)
    # The run counts from just after the last time the child was seen: `run_start - 1`.
    return _Timeline(
        moments, run_start - 1, run_count, episode_start, episode_done, failed_position,
        seen_elsewhere, last_done, concern_levels,
    )  # fmt: skip


def _fire(
    pack: CompiledPack,
    case: Case,
    line: _Timeline,
    summary: Summary,
    matched: set[tuple[int, int]] | None,
    trace: list[dict[str, Any]],
) -> dict[str, _Fired]:
    """Phase 2: the rules each moment triggers, natively or as `matched` by another matcher.

    Returns, per action id, what last required it.
    """
    rules_for_event = pack.rules_for_event
    last_seen_position = line.last_seen_position
    # A rule's test on case facts holds or not for the whole assessment: run it once, and
    # keep, per kind of moment, the candidate rules whose case test holds.
    case_ok: dict[CompiledRule, bool] = {}
    allowed: dict[tuple[str | None, bool], list[CompiledRule]] = {}
    fired: dict[str, _Fired] = {}
    once_fired: set[CompiledRule] = set()
    for position, moment in enumerate(line.moments):
        index = moment.index
        if matched is None:
            key = (moment.type, moment.kind is not None and position > last_seen_position)
            candidates = allowed.get(key)
            if candidates is None:
                rules = rules_for_event[key]  # type: ignore[index]  # an event's type is set
                candidates = allowed[key] = _allowed(rules, case, summary, case_ok)
        else:
            candidates = [rule for rule in pack.rules if (position, rule.order) in matched]
        described = None
        for rule in candidates:
            if (
                matched is None
                and rule.moment_test is not None
                and not rule.moment_test(case, moment)
            ):
                continue
            if rule.once:
                if rule in once_fired:
                    continue
                once_fired.add(rule)
            for requirement in rule.requires:
                previous = fired.get(requirement.action)
                if previous is None or previous[0] != position:
                    fired[requirement.action] = (position, moment, requirement, rule)
            if described is None:
                described = _describe(moment, pack)
            trace.append(
                _trace("rule", rule.id, index, described + rule.explanation,
                       list(rule.action_ids), rule.citation)
            )  # fmt: skip
    return fired


def assess(
    pack: CompiledPack,
    case: Case,
    as_of: datetime,
    calendar: WorkingCalendar | None = None,
    matcher: Matcher | None = None,
) -> Assessment:
    """Assess one case and return the typed `Assessment`."""
    return from_plain(evaluate(pack, case, as_of, calendar, matcher))


def assess_to_json(
    pack: CompiledPack, case: Case, as_of: datetime, calendar: WorkingCalendar | None = None
) -> bytes:
    """Assess one case and return the contract's JSON document as UTF-8 bytes."""
    return orjson.dumps(evaluate(pack, case, as_of, calendar))


_DERIVED = frozenset({"call", "worker_absence"})  # events with a fact worked out at a moment


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


def _allowed(
    rules: tuple[CompiledRule, ...], case: Case, summary: Summary, case_ok: dict[CompiledRule, bool]
) -> list[CompiledRule]:
    """The rules whose once-per-case test holds (memoised in `case_ok`)."""
    result = []
    for rule in rules:
        ok = case_ok.get(rule)
        if ok is None:
            ok = case_ok[rule] = rule.case_test is None or rule.case_test(case, summary)
        if ok:
            result.append(rule)
    return result


def _risk(
    pack: CompiledPack, case: Case, summary: Summary, trace: list[dict[str, Any]]
) -> tuple[str, list[str]]:
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
                _trace("risk", risk.id, None, f"{risk.when.text}: {risk.reason}", [],
                       risk.citation)
            )  # fmt: skip
    if tier is None:
        default = pack.risk_default
        trace.append(
            _trace("risk", default.id, None, f"no risk rule matched: {default.reason}", [],
                   default.citation)
        )  # fmt: skip
        return default.tier.value, [default.reason]
    return tier, reasons


def _fire_at_as_of(
    pack: CompiledPack,
    case: Case,
    summary: Summary,
    fired: dict[str, _Fired],
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
            _trace("rule", rule.id, None, f"{why}; {rule.note}" if rule.note else why,
                   [r.action for r in rule.requires], rule.citation)
        )  # fmt: skip


def _latest_evidence(evidence: Compiled, case: Case, moments: list[Moment]) -> int:
    """The position of the latest event that `evidence` accepts (-1: none).

    An action is complete when such an event follows its trigger, so the latest one
    answers for every trigger at once.
    """
    test, types = evidence.test, evidence.event_types
    for position in range(len(moments) - 1, -1, -1):
        moment = moments[position]
        if (types is None or moment.type in types) and test(case, moment):
            return position
    return -1


# An action with its place in the contract 1.1 order: overdue (earliest due first), then
# outstanding with a due time (earliest first), then without one, then done; ties by trigger
# event index (a trigger with no event last), then id.
_Urgency = tuple[int, float, int, str]
_Ranked = tuple[_Urgency, dict[str, Any]]
_NO_EVENT = 1 << 62


def _ranked(
    entry: dict[str, Any], due_stamp: float | None, now: float, done: bool = False
) -> _Ranked:
    """Set the entry's status (done, else from its due time) and rank it."""
    event = entry["trigger"]["event"]
    order = event if event is not None else _NO_EVENT
    if done:
        entry["status"] = ActionStatus.DONE
        return (3, 0.0, order, entry["id"]), entry
    if due_stamp is None:
        entry["status"] = ActionStatus.OUTSTANDING
        return (2, 0.0, order, entry["id"]), entry
    overdue = now > due_stamp
    entry["status"] = ActionStatus.OVERDUE if overdue else ActionStatus.OUTSTANDING
    return (0 if overdue else 1, due_stamp, order, entry["id"]), entry


_first = itemgetter(0)  # the urgency of a ranked entry (a C-level sort key)


def _duty(
    pack: CompiledPack,
    duty: CompiledDuty,
    case: Case,
    summary: Summary,
    ranked: list[_Ranked],
    now: float,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
) -> None:
    """A recurring duty: due `every` after the last qualifying event, or after its start."""
    if not duty.when.test(case, summary):
        return
    moments = summary.timeline
    start: Moment | None = None
    if duty.starts is not None:
        for moment in reversed(moments):
            if duty.starts.test(case, moment):
                start = moment
                break
    if start is None and moments:
        start = moments[summary.episode_start]
    anchor = start
    if start is not None:
        test, types = duty.by.test, duty.by.event_types
        for moment in reversed(moments[start.position :]):
            if (types is None or moment.type in types) and test(case, moment):
                anchor = moment
                break
    at = (anchor.at if anchor is not None else summary.at).astimezone(UK)
    requirement = duty.requirement
    due = due_at(requirement.timescale.kind, requirement.timescale.amount, at, calendar)
    contacts = _contacts(pack, requirement, case.household.local_authority or "")
    entry = _entry(requirement, duty.citation, due, anchor, at, contacts)
    entry["recurring"] = True
    item = _ranked(entry, due.timestamp() if due is not None else None, now)
    since = "the last qualifying event" if anchor is not start else "the duty began"
    why = f"{duty.when.text}; due {requirement.timescale.describe('every')} from {since}" + (
        f" (event {anchor.index})" if anchor is not None else " (as_of: no events)"
    )
    trace.append(
        _trace("rule", duty.id, anchor.index if anchor is not None else None,
               f"{why}; {duty.note}" if duty.note else why, [requirement.action], duty.citation)
    )  # fmt: skip
    for position, existing in enumerate(ranked):
        if existing[1]["id"] == requirement.action:
            if item[0] < existing[0]:
                ranked[position] = item  # one entry per id: the more urgent instance
            return
    ranked.append(item)


def _contacts(
    pack: CompiledPack, requirement: CompiledRequirement, authority: str
) -> list[dict[str, str]]:
    """The action's contacts for the child's local authority, else the group's default."""
    if requirement.contacts is None:
        return []
    by_area = pack.contacts.get(requirement.contacts, {})
    listed = by_area.get(authority) or by_area.get("default") or ()
    return [{"name": name, "phone": phone} for name, phone in listed]


def _entry(
    requirement: CompiledRequirement,
    citation: str,
    due: datetime | None,
    moment: Moment | None,
    at: datetime,
    contacts: list[dict[str, str]],
) -> dict[str, Any]:
    return {
        "id": requirement.action,
        "title": requirement.title,
        "citation": citation,
        "owner": requirement.owner,
        "category": requirement.category,  # a StrEnum: JSON writes its value
        "recurring": False,
        "due": due,
        "status": ActionStatus.OUTSTANDING,  # set by _ranked
        "trigger": {"event": moment.index if moment is not None else None, "at": at},
        "contacts": contacts,
    }


def _actions(
    pack: CompiledPack,
    case: Case,
    fired: dict[str, _Fired],
    last_done: dict[str, int],
    now: float,
    calendar: WorkingCalendar,
    moments: list[Moment],
    episode_start: int,
) -> list[_Ranked]:
    authority = case.household.local_authority or ""
    local_at: dict[int, datetime] = {}
    deadlines: dict[tuple[int, str, float], tuple[datetime | None, float | None]] = {}
    evidenced: dict[int, int] = {}
    past_every_event = len(moments)
    result = []
    for action_id, (position, moment, requirement, rule) in fired.items():
        index = moment.index
        due: datetime | None = None
        due_stamp: float | None = None
        timescale = requirement.timescale
        if timescale.kind != "none":
            key = (index, timescale.kind, timescale.amount)
            found = deadlines.get(key)
            if found is None:
                due = due_at(timescale.kind, timescale.amount, moment.at, calendar)
                found = deadlines[key] = (due, due.timestamp() if due is not None else None)
            due, due_stamp = found
        # Evidence must follow the trigger; a rule fired at as_of (past every event) accepts
        # evidence from anywhere in the current episode, since its fact held throughout.
        after = position if position < past_every_event else episode_start - 1
        done = last_done.get(action_id, -1) > after
        evidence = requirement.completed_by
        if not done and evidence is not None:
            latest = evidenced.get(id(evidence))  # by identity: a Compiled hashes its fields
            if latest is None:
                latest = evidenced[id(evidence)] = _latest_evidence(evidence, case, moments)
            done = latest > after
        at = local_at.get(index)
        if at is None:
            at = local_at[index] = moment.at.astimezone(UK)
        trigger = moment if moment.event is not None else None
        contacts = _contacts(pack, requirement, authority) if requirement.contacts else []
        entry = _entry(requirement, rule.citation, due, trigger, at, contacts)
        result.append(_ranked(entry, due_stamp, now, done))
    return result


def _patterns(
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
                _trace("pattern", pattern.id, None,
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


def _closure(
    pack: CompiledPack, case: Case, summary: Summary, trace: list[dict[str, Any]]
) -> dict[str, Any] | None:
    if pack.closure is None:
        return None
    unmet = []
    for condition in pack.closure:
        held = condition.when.test(case, summary)
        if not held:
            unmet.append({"id": condition.id, "title": condition.title})
        trace.append(
            _trace("closure", condition.id, None,
                   f"{'met' if held else 'not met'}: {condition.when.text}", [],
                   condition.citation)
        )  # fmt: skip
    return {"allowed": not unmet, "unmet": unmet}

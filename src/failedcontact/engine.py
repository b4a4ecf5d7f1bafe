"""Evaluate a compiled pack against one case at one instant: pure, deterministic, thread-safe."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .assessment import (
    Assessment,
    Closure,
    ContactOut,
    PackRef,
    PatternFound,
    RequiredAction,
    TraceEntry,
    Trigger,
    UnmetCondition,
)
from .calendar import WorkingCalendar, add_hours
from .case import UK, ActionDone, Case
from .errors import CaseError, CaseIssue, did_you_mean, one_of
from .pack.compiler import (
    CompiledPack,
    CompiledPattern,
    CompiledRequirement,
    CompiledRule,
    Timescale,
)
from .pack.facts import Moment, Summary
from .pack.references import FAILED_CONTACT
from .vocabulary import ActionStatus, RiskTier

_SEEN = frozenset({("home_visit", "child_seen"), ("appointment", "attended")})


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
                    f"unknown flag `{flag}`; pack "
                    f"`{pack.document.id}` declares: {declared}" + (f" ({hint})" if hint else ""),
                )
            )
    for index, event in enumerate(case.events):
        if isinstance(event, ActionDone) and event.action not in pack.action_ids:
            hint = did_you_mean(event.action, pack.action_ids)
            issues.append(
                CaseIssue(
                    f"events[{index}].action",
                    f"unknown action id "
                    f"`{event.action}`"
                    + (f" ({hint})" if hint else "")
                    + f"; expected one of {one_of(sorted(pack.action_ids))}",
                )
            )
    if issues:
        raise CaseError(issues)


def due_at(timescale: Timescale, at: datetime, calendar: WorkingCalendar) -> datetime | None:
    """The deadline instant for an action triggered at `at`."""
    kind = timescale.kind
    if kind == "working_days":
        return calendar.end_of_working_days(at, int(timescale.amount))
    if kind == "hours":
        return add_hours(at, timescale.amount)
    if kind == "immediately":
        return at.astimezone(UK)
    return None


class _Fired:
    __slots__ = ("at", "index", "position", "requirement", "rule", "sequence")

    def __init__(
        self,
        position: int,
        index: int,
        at: datetime,
        requirement: CompiledRequirement,
        rule: CompiledRule,
        sequence: int,
    ) -> None:
        self.position = position
        self.index = index
        self.at = at
        self.requirement = requirement
        self.rule = rule
        self.sequence = sequence


def _rules_for(pack: CompiledPack, event_type: str, counts: bool) -> tuple[CompiledRule, ...]:
    by_type = pack.rules_by_trigger.get(event_type, ())
    if not counts:
        return by_type
    on_failed = pack.rules_by_trigger.get(FAILED_CONTACT, ())
    if not by_type:
        return on_failed
    merged = dict.fromkeys((*on_failed, *by_type))
    return tuple(sorted(merged, key=pack.rules.index))


def _describe(event: Any, index: int, moment: Moment, pack: CompiledPack) -> str:
    outcome = getattr(event, "outcome", None)
    what = f"event {index} ({event.type}{', ' + str(outcome) if outcome else ''})"
    if moment.kind is not None:
        name = pack.document.failed_contacts[moment.kind].name
        return f"{what} is failed contact {moment.run_count} of the current run ({name})"
    level = getattr(event, "level", None)
    return what if level is None else f"{what}, level {level}"


def assess(
    pack: CompiledPack, case: Case, as_of: datetime, calendar: WorkingCalendar | None = None
) -> Assessment:
    """Assess `case` under `pack` as it stood at `as_of`; events after `as_of` are not counted."""
    check_case_against_pack(pack, case)
    cal = calendar if calendar is not None else pack.calendar
    events = case.events
    order = sorted(range(len(events)), key=lambda i: events[i].at)
    considered = [i for i in order if events[i].at <= as_of]
    trace: list[TraceEntry] = []
    if len(considered) < len(order):
        later = sorted(set(order) - set(considered))
        trace.append(
            TraceEntry.model_construct(
                step="note",
                id="after_as_of",
                event=None,
                actions=[],
                citation=None,
                why=f"events {later} are after as_of and were not counted",
            )
        )

    last_seen_position = -1
    for position, index in enumerate(considered):
        event = events[index]
        if (event.type, getattr(event, "outcome", None)) in _SEEN:
            last_seen_position = position

    failed_kind = pack.failed_kind
    moments: list[Moment] = []
    fired: dict[str, _Fired] = {}
    last_done: dict[str, int] = {}
    run_count = 0
    seen_elsewhere = False
    sequence = 0
    for position, index in enumerate(considered):
        event = events[index]
        event_type = event.type
        outcome = getattr(event, "outcome", None)
        kind = failed_kind.get((event_type, outcome)) if outcome is not None else None
        if (event_type, outcome) in _SEEN:
            run_count = 0
            seen_elsewhere = False
        elif kind is not None:
            run_count += 1
        elif event_type == "seen_by_other_agency":
            seen_elsewhere = True
        elif isinstance(event, ActionDone):
            last_done[event.action] = position
        moment = Moment(event, index, event.at, kind, run_count, seen_elsewhere)
        moments.append(moment)
        in_run = position > last_seen_position
        candidates = _rules_for(pack, event_type, kind is not None and in_run)
        for rule in candidates:
            if not rule.when.test(case, moment):
                continue
            for requirement in rule.requires:
                sequence += 1
                previous = fired.get(requirement.action)
                if previous is None or previous.position != position:
                    fired[requirement.action] = _Fired(
                        position, index, event.at, requirement, rule, sequence
                    )
            trace.append(
                TraceEntry.model_construct(
                    step="rule",
                    id=rule.id,
                    event=index,
                    citation=rule.citation,
                    actions=[r.action for r in rule.requires],
                    why=f"{_describe(event, index, moment, pack)}; {rule.when.text}"
                    + (f"; {rule.note}" if rule.note else ""),
                )
            )

    last_seen = events[considered[last_seen_position]].at if last_seen_position >= 0 else None
    summary = Summary(as_of, run_count, seen_elsewhere, last_seen)
    patterns = [_pattern(p, case, moments, last_seen_position, as_of) for p in pack.patterns]
    found = [p for p in patterns if p is not None]
    for pattern_found in found:
        trace.append(
            TraceEntry.model_construct(
                step="pattern",
                id=pattern_found.id,
                event=None,
                actions=[],
                citation=None,
                why=f"events {pattern_found.events} show {pattern_found.title.lower()}",
            )
        )
    summary.patterns = frozenset(p.id for p in found)
    summary.concern_levels = frozenset(m.event.level for m in moments if m.event.type == "concern")

    tier, reasons = _risk(pack, case, summary, trace)
    actions = _actions(pack, case, fired, last_done, as_of, cal)
    summary.open_actions = sum(1 for a in actions if a.status is not ActionStatus.DONE)
    summary.overdue_actions = sum(1 for a in actions if a.status is ActionStatus.OVERDUE)
    summary.actions_done = frozenset(last_done)
    closure = _closure(pack, case, summary, trace)
    document = pack.document
    return Assessment.model_construct(
        contract="1",
        case_id=case.case_id,
        as_of=as_of.astimezone(UK),
        pack=PackRef.model_construct(id=document.id, version=document.version, digest=pack.digest),
        risk_tier=tier,
        risk_reasons=reasons,
        failed_contacts=run_count,
        last_seen=last_seen.astimezone(UK) if last_seen is not None else None,
        actions=actions,
        patterns=found,
        closure=closure,
        trace=trace,
    )


def _risk(
    pack: CompiledPack, case: Case, summary: Summary, trace: list[TraceEntry]
) -> tuple[RiskTier, list[str]]:
    tier: RiskTier | None = None
    reasons: list[str] = []
    for risk in pack.risk:
        if tier is not None and risk.tier != tier:
            continue
        if risk.when.test(case, summary):
            tier = risk.tier
            if risk.reason not in reasons:
                reasons.append(risk.reason)
            trace.append(
                TraceEntry.model_construct(
                    step="risk",
                    id=risk.id,
                    event=None,
                    actions=[],
                    citation=risk.citation,
                    why=f"{risk.when.text}: {risk.reason}",
                )
            )
    if tier is None:
        default = pack.risk_default
        trace.append(
            TraceEntry.model_construct(
                step="risk",
                id=default.id,
                event=None,
                actions=[],
                citation=default.citation,
                why=f"no risk rule matched: {default.reason}",
            )
        )
        return default.tier, [default.reason]
    return tier, reasons


def _actions(
    pack: CompiledPack,
    case: Case,
    fired: dict[str, _Fired],
    last_done: dict[str, int],
    as_of: datetime,
    calendar: WorkingCalendar,
) -> list[RequiredAction]:
    authority = case.household.local_authority
    result = []
    for action_id, item in sorted(fired.items(), key=lambda kv: (kv[1].position, kv[1].sequence)):
        requirement = item.requirement
        due = due_at(requirement.timescale, item.at, calendar)
        if last_done.get(action_id, -1) > item.position:
            status = ActionStatus.DONE
        elif due is not None and as_of > due:
            status = ActionStatus.OVERDUE
        else:
            status = ActionStatus.OUTSTANDING
        contacts: list[ContactOut] = []
        if requirement.contacts is not None:
            by_area = pack.contacts.get(requirement.contacts, {})
            listed = by_area.get(authority or "") or by_area.get("default") or ()
            contacts = [
                ContactOut.model_construct(name=name, phone=phone) for name, phone in listed
            ]
        result.append(
            RequiredAction.model_construct(
                id=action_id,
                title=requirement.title,
                citation=item.rule.citation,
                owner=requirement.owner,
                due=due,
                status=status,
                trigger=Trigger.model_construct(event=item.index, at=item.at.astimezone(UK)),
                contacts=contacts,
            )
        )
    return result


def _pattern(
    pattern: CompiledPattern,
    case: Case,
    moments: list[Moment],
    last_seen_position: int,
    as_of: datetime,
) -> PatternFound | None:
    window = timedelta(days=pattern.within_days) if pattern.within_days else None
    select = pattern.select.test
    matched: list[int] = []
    if pattern.kind == "count":
        start = as_of - window if window is not None else None
        first = last_seen_position + 1 if pattern.in_run else 0
        for moment in moments[first:]:
            if (start is None or moment.at > start) and select(case, moment):
                matched.append(moment.index)
        if len(matched) < pattern.at_least:
            return None
    else:
        assert pattern.next is not None and pattern.then is not None
        is_next, then = pattern.next.test, pattern.then.test
        chosen: dict[int, None] = {}
        for position, moment in enumerate(moments):
            if not select(case, moment):
                continue
            for later in moments[position + 1 :]:
                if is_next(case, later):
                    if then(case, later) and (window is None or later.at - moment.at <= window):
                        chosen[moment.index] = None
                        chosen[later.index] = None
                    break
        if not chosen:
            return None
        position_of = {m.index: p for p, m in enumerate(moments)}
        matched = sorted(chosen, key=position_of.__getitem__)
    return PatternFound.model_construct(id=pattern.id, title=pattern.title, events=matched)


def _closure(
    pack: CompiledPack, case: Case, summary: Summary, trace: list[TraceEntry]
) -> Closure | None:
    if pack.closure is None:
        return None
    unmet = []
    for condition in pack.closure:
        held = condition.when.test(case, summary)
        if not held:
            unmet.append(UnmetCondition.model_construct(id=condition.id, title=condition.title))
        trace.append(
            TraceEntry.model_construct(
                step="closure",
                id=condition.id,
                event=None,
                actions=[],
                citation=condition.citation,
                why=f"{'met' if held else 'not met'}: {condition.when.text}",
            )
        )
    return Closure.model_construct(allowed=not unmet, unmet=unmet)

"""The required actions of an assessment: their due times, statuses and order.

Each action a rule fired is done (a record or evidence after its trigger), overdue or
outstanding; recurring duties add theirs; the list is sorted by urgency (contract 1.1).
"""

from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Any

from ..model.calendar import WorkingCalendar, add_hours, end_of_calendar_days, end_of_months
from ..model.case import UK, Case
from ..model.vocabulary import ActionStatus
from ..pack.compiler import CompiledDuty, CompiledPack, CompiledRequirement, Timescale
from ..pack.conditions import Compiled
from ..pack.facts import Moment, Summary
from .timeline import Fired, Timeline
from .trace import trace_step


def required_actions(
    pack: CompiledPack,
    case: Case,
    summary: Summary,
    fired: dict[str, Fired],
    line: Timeline,
    now: float,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
    per_event: list[Fired],
) -> list[dict[str, Any]]:
    """The actions the fired rules and the pack's duties require, most urgent first."""
    if line.seen_positions:
        fired, per_event = _not_ended(fired, per_event, line, trace)
    ranked = _fired_actions(pack, case, fired, line, now, calendar, trace)
    if per_event:
        ranked += _per_event_actions(pack, case, per_event, line, now, calendar, trace)
    overdue: list[tuple[CompiledDuty, datetime, Moment | None]] = []
    for duty in pack.duties:
        fell = _duty(pack, duty, case, summary, ranked, now, calendar, trace, line)
        if fell is not None:
            overdue.append((duty, *fell))
    if overdue and pack.rules_on_overdue:
        ranked += _gap_steps(pack, case, summary, overdue, ranked, now, calendar, trace)
    ranked.sort(key=_first)
    return [entry for _, entry in ranked]


def _not_ended(
    fired: dict[str, Fired], per_event: list[Fired], line: Timeline, trace: list[dict[str, Any]]
) -> tuple[dict[str, Fired], list[Fired]]:
    """The fired actions the child seen since their trigger has not ended (contract 1.2).

    Only actions the pack says seeing the child ends leave; one trace note for each visit
    that ended some names them.
    """
    seen = line.seen_positions
    last_seen = seen[-1]
    ended_by: dict[int, list[str]] = {}

    def kept(item: Fired) -> bool:
        position, _, requirement, _ = item
        if not requirement.ended_when_seen or position >= last_seen:
            return True  # an as_of rule's position is past every event, so past any visit
        by = next(p for p in seen if p > position)
        ended_by.setdefault(by, []).append(requirement.action)
        return False

    fired = {action: item for action, item in fired.items() if kept(item)}
    per_event = [item for item in per_event if kept(item)]
    for by in sorted(ended_by):
        moment = line.moments[by]
        trace.append(
            trace_step("note", "ended_when_seen", moment.index,
                       f"the child was seen at event {moment.index} ({moment.type}, "
                       f"{moment.outcome}): that ends these steps, required before it",
                       list(dict.fromkeys(ended_by[by])), None)
        )  # fmt: skip
    return fired, per_event


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


def _fired_actions(
    pack: CompiledPack,
    case: Case,
    fired: dict[str, Fired],
    line: Timeline,
    now: float,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
) -> list[_Ranked]:
    """The actions the fired rules require, each with its status, ranked (unsorted)."""
    last_done, moments, episode_start = line.last_done, line.moments, line.episode_start
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
        timescale, set_by = _case_timescale(requirement, moment, line, calendar, trace)
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
        if set_by is not None:
            entry["timescale_set_by"] = set_by
        result.append(_ranked(entry, due_stamp, now, done))
    return result


def _case_timescale(
    requirement: CompiledRequirement,
    moment: Moment,
    line: Timeline,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
    key: str = "within",
    at: datetime | None = None,
) -> tuple[Timescale, int | None]:
    """The timescale a case's latest `timescale` event at or before `moment` sets for the
    action (`within`) or duty (`every`), when within the pack's bound; else the pack's own.

    Returns the timescale and the input index of the event that set it (None: the pack's).
    """
    own = requirement.timescale
    if not requirement.accepts or not line.timescales:
        return own, None
    moments = line.moments
    for position in reversed(line.timescales):
        if position > moment.position:
            continue
        event = moments[position].event
        if event.for_ != requirement.action or getattr(event, key) is None:
            continue
        kind, amount = event.timescale
        chosen = Timescale(kind, amount)
        longest = requirement.longest
        if longest is not None and _later(chosen, longest, at or moment.at, calendar):
            trace.append(
                trace_step("note", requirement.action, moments[position].index,
                           f"the timescale set at event {moments[position].index} "
                           f"({chosen.describe(key)}) is longer than the guidance allows "
                           f"({longest.describe(key)}): not applied, the pack's "
                           f"{own.describe(key)} stands", [requirement.action], None)
            )  # fmt: skip
            return own, None
        return chosen, moments[position].index
    return own, None


def _later(chosen: Timescale, longest: Timescale, at: datetime, calendar: WorkingCalendar) -> bool:
    """Whether `chosen` ends after `longest`, both counted from `at`."""
    mine = due_at(chosen.kind, chosen.amount, at, calendar)
    bound = due_at(longest.kind, longest.amount, at, calendar)
    return mine is not None and bound is not None and mine > bound


def _per_event_actions(
    pack: CompiledPack,
    case: Case,
    instances: list[Fired],
    line: Timeline,
    now: float,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
) -> list[_Ranked]:
    """One entry per triggering event; each record (or evidence) completes the earliest
    instance before it that no earlier record completed."""
    authority = case.household.local_authority or ""
    moments = line.moments
    result = []
    used: set[int] = set()
    for position, moment, requirement, rule in sorted(instances, key=_first):
        done = False
        for later in range(position + 1, len(moments)):
            if later not in used and _completes(requirement, case, moments[later]):
                used.add(later)
                done = True
                break
        timescale, set_by = _case_timescale(requirement, moment, line, calendar, trace)
        due = due_at(timescale.kind, timescale.amount, moment.at, calendar)
        contacts = _contacts(pack, requirement, authority) if requirement.contacts else []
        at = moment.at.astimezone(UK)
        entry = _entry(requirement, rule.citation, due, moment, at, contacts)
        if set_by is not None:
            entry["timescale_set_by"] = set_by
        result.append(_ranked(entry, due.timestamp() if due is not None else None, now, done))
    return result


def _completes(requirement: CompiledRequirement, case: Case, moment: Moment) -> bool:
    """A record of the action, or an event its `completed_by` accepts."""
    if moment.type == "action":
        return bool(moment.event.action == requirement.action)
    evidence = requirement.completed_by
    if evidence is None:
        return False
    types = evidence.event_types
    return (types is None or moment.type in types) and evidence.test(case, moment)


def _duty(
    pack: CompiledPack,
    duty: CompiledDuty,
    case: Case,
    summary: Summary,
    ranked: list[_Ranked],
    now: float,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
    line: Timeline,
) -> tuple[datetime, Moment | None] | None:
    """A recurring duty: due `every` after the last qualifying event, or after its start.

    Returns when it fell due and the event it runs from, when it is overdue.
    """
    if not duty.when.test(case, summary):
        return None
    start, anchor = _duty_anchor(duty, case, summary)
    at = (anchor.at if anchor is not None else summary.at).astimezone(UK)
    requirement = duty.requirement
    timescale, set_by = _case_timescale(requirement, summary, line, calendar, trace, "every", at)
    due = due_at(timescale.kind, timescale.amount, at, calendar)
    contacts = _contacts(pack, requirement, case.household.local_authority or "")
    entry = _entry(requirement, duty.citation, due, anchor, at, contacts)
    entry["recurring"] = True
    if set_by is not None:
        entry["timescale_set_by"] = set_by
    item = _ranked(entry, due.timestamp() if due is not None else None, now)
    since = "the last qualifying event" if anchor is not start else "the duty began"
    why = f"{duty.when.text}; due {timescale.describe('every')} from {since}" + (
        f" (event {anchor.index})" if anchor is not None else " (as_of: no events)"
    )
    trace.append(
        trace_step("rule", duty.id, anchor.index if anchor is not None else None,
                   f"{why}; {duty.note}" if duty.note else why, [requirement.action], duty.citation)
    )  # fmt: skip
    fell = (due, anchor) if due is not None and entry["status"] is ActionStatus.OVERDUE else None
    for position, existing in enumerate(ranked):
        if existing[1]["id"] == requirement.action:
            if item[0] < existing[0]:
                ranked[position] = item  # one entry per id: the more urgent instance
            return fell
    ranked.append(item)
    return fell


def _duty_anchor(
    duty: CompiledDuty, case: Case, summary: Summary
) -> tuple[Moment | None, Moment | None]:
    """Where the duty starts (its `starts` event, else the episode's start) and the event
    it runs from (the latest that discharges it since then, else the start)."""
    moments = summary.timeline
    start: Moment | None = None
    if duty.starts is not None:
        for moment in reversed(moments):
            if duty.starts.test(case, moment):
                start = moment
                break
    if start is None and moments:
        start = moments[summary.episode_start]
    if start is None:
        return None, None
    test, types = duty.by.test, duty.by.event_types
    for moment in reversed(moments[start.position :]):
        if (types is None or moment.type in types) and test(case, moment):
            return start, moment
    return start, start


def _gap_steps(
    pack: CompiledPack,
    case: Case,
    summary: Summary,
    overdue: list[tuple[CompiledDuty, datetime, Moment | None]],
    ranked: list[_Ranked],
    now: float,
    calendar: WorkingCalendar,
    trace: list[dict[str, Any]],
) -> list[_Ranked]:
    """Rules `on: [duty_overdue]`: their steps' clocks start the instant the duty fell
    overdue; a record (or evidence) after that instant completes them (contract 1.2)."""
    listed = {item[1]["id"] for item in ranked}
    authority = case.household.local_authority or ""
    result = []
    for rule in pack.rules_on_overdue:
        for duty, fell, anchor in overdue:
            if duty.id != rule.duty or not rule.when.test(case, summary):
                continue
            at = fell.astimezone(UK)
            for requirement in rule.requires:
                if requirement.action in listed:
                    continue  # one entry per id: another rule's instance stands
                listed.add(requirement.action)
                timescale = requirement.timescale
                due = due_at(timescale.kind, timescale.amount, at, calendar)
                done = any(
                    m.stamp > fell.timestamp() and _completes(requirement, case, m)
                    for m in summary.timeline
                )
                contacts = _contacts(pack, requirement, authority) if requirement.contacts else []
                entry = _entry(requirement, rule.citation, due, anchor, at, contacts)
                result.append(_ranked(entry, due.timestamp() if due else None, now, done))
            trace.append(
                trace_step("rule", rule.id, anchor.index if anchor is not None else None,
                           f"duty `{duty.id}` fell overdue at {at.isoformat()}{rule.explanation}",
                           list(rule.action_ids), rule.citation)
            )  # fmt: skip
    return result


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

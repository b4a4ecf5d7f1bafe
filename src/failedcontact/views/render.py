"""Render an assessment for a person: a rich table in the terminal."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import literal
from ..model.assessment import Assessment, RequiredAction, TraceEntry
from ..model.case import UK, Case
from ..model.vocabulary import OUTCOME_EVENT_TYPES, SEEN_PAIRS, ActionStatus
from ..pack.compiler import CompiledPack, Timescale
from .describe import describer_for, humanise, label, ordinal
from .wording import (
    call_line,
    event_number,
    failed_contacts_words,
    outcome_words,
    recurring_words,
)

_TIER_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
_STATUS_STYLE = {"done": "green", "overdue": "bold red", "outstanding": "yellow"}


def _when(value: datetime | None) -> str:
    if value is None:
        return "no timescale"
    return value.astimezone(UK).strftime("%d %b %Y %H:%M")


def render_table(
    assessment: Assessment, console: Console, case: Case, pack: CompiledPack | None = None
) -> None:
    """Print the assessment as a summary panel, an actions table and the patterns."""
    tier = assessment.risk_tier.value
    summary = Text(literal(first_line(assessment)) + "\n", style="bold")
    summary.append(summary_line(assessment) + "\n", style=_TIER_STYLE[tier])
    summary.append(literal(f"Case {assessment.case_id}"), style="bold")
    summary.append(f"  pack {assessment.pack.id} {assessment.pack.version}")
    summary.append(f"  as of {_when(assessment.as_of)}\n")
    summary.append("Risk: ")
    summary.append(tier.upper(), style=_TIER_STYLE[tier])
    summary.append(literal(" - " + "; ".join(assessment.risk_reasons)) + "\n")
    summary.append(failed_contacts_words(assessment.failed_contacts).capitalize())
    last = _when(assessment.last_seen) if assessment.last_seen else "never (in this history)"
    summary.append(f"   Child last seen: {last}")
    parts: list[Table | Text] = [summary]

    actions = Table(title="Required actions", expand=True)
    actions.add_column("status", no_wrap=True)
    actions.add_column("due", no_wrap=True)
    actions.add_column("action", ratio=1)
    for group in groups(assessment, case, pack):
        actions.add_row("", "", Text(literal(f"{group.heading} ({group.citation})"), style="bold"))
        for action in group.actions:
            cell = Text(literal(action.title))
            cell.append(literal(f"\n{action.owner}"), "dim")
            for contact in action.contacts:
                cell.append(literal("\n" + call_line(contact.name, contact.phone)), "bold")
            actions.add_row(
                Text(action.status.value, style=_STATUS_STYLE[action.status.value]),
                _when(action.due),
                cell,
            )
    if assessment.actions:
        parts.append(actions)
    else:
        parts.append(Text("No actions are required."))
    for pattern in assessment.patterns:
        parts.append(
            Text(
                literal(f"Pattern to watch: {pattern.title} ({events_words(pattern.events)})"),
                style="magenta",
            )
        )
    if assessment.closure is not None:
        if assessment.closure.allowed:
            parts.append(Text("The case may close.", style="green"))
        else:
            unmet = "; ".join(u.title for u in assessment.closure.unmet)
            parts.append(Text(literal(f"The case may not close yet: {unmet}"), style="red"))
    console.print(Panel(Group(*parts), title="failedcontact assessment"))


@dataclass(frozen=True, slots=True)
class StepView:
    """One required step as the practitioner reads it."""

    id: str
    title: str
    status: str
    due: datetime | None
    due_words: str  # `due by Fri 4 Dec 23:59`, or that no timescale is set
    owner: str
    recurring: bool
    calls: tuple[str, ...]  # `Call <team> on <number> (dial ...).`
    why: str
    trigger: int | None
    citation: str


@dataclass(frozen=True, slots=True)
class GroupView:
    """Steps with one trigger and citation, and the reason they share (if they share one)."""

    heading: str
    citation: str
    shared_why: str | None
    steps: tuple[StepView, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """The practitioner's view of an assessment, worked out once for every output format."""

    first_line: str
    summary: str
    risk_tier: str
    context: str  # `case X, <pack> <version>, as of ...`
    reasons: tuple[str, ...]
    seen_words: str
    failed_contacts: int
    groups: tuple[GroupView, ...]
    patterns: tuple[str, ...]
    closure: str
    still_needed: tuple[str, ...]

    @property
    def counts(self) -> str:
        """The summary without its tier, for a view that shows the tier beside it."""
        return self.summary.partition(": ")[2] or self.summary

    @property
    def failed_words(self) -> str:
        """`2 failed contacts in a row since the child was last seen`."""
        return failed_contacts_words(self.failed_contacts)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data: times as ISO 8601 text."""
        data = asdict(self)
        for group in data["groups"]:
            for step in group["steps"]:
                step["due"] = step["due"].isoformat() if step["due"] is not None else None
        return data

    def markdown(self) -> str:
        """The explanation as Markdown, for a case note or an email."""
        # The context carries the case id, which is the caller's text: a Markdown viewer
        # would render HTML in it, so it is escaped (pack text is the pack author's).
        context = html.escape(self.context, quote=False)
        lines = [f"**{self.first_line}**", "", f"**{self.summary}** ({context})", ""]
        lines += [f"- because {reason}." for reason in self.reasons]
        lines += ["", f"The child was {self.seen_words}; {self.failed_words}.", ""]
        if not self.groups:
            lines += ["No actions are required.", ""]
        for group in self.groups:
            count = len(group.steps)
            lines += [f"### {group.heading}: {count} step{'s' if count != 1 else ''} "
                      f"({group.citation})", ""]  # fmt: skip
            if group.shared_why is not None:
                lines += [f"Why: {group.shared_why}", ""]
            for step in group.steps:
                lines.append(f"- **[{step.status.upper()}] {step.title}**: {step.due_words}; "
                             f"owner: {step.owner}.")  # fmt: skip
                lines += [f"  {call}" for call in step.calls]
                if group.shared_why is None:
                    lines.append(f"  Why: {step.why}")
            lines.append("")
        lines += [f"Pattern to watch: {pattern}." for pattern in self.patterns]
        lines += ["", self.closure]
        lines += [f"- {needed}" for needed in self.still_needed]
        return "\n".join(lines).rstrip() + "\n"


def explain(assessment: Assessment, case: Case, pack: CompiledPack | None = None) -> Explanation:
    """Work out the practitioner's view: the most urgent thing first, in their words."""
    views = []
    for group in groups(assessment, case, pack):
        reasons = [why_line(assessment, action, pack) for action in group.actions]
        steps = []
        for action, reason in zip(group.actions, reasons, strict=True):
            when = (f"due by {_day(action.due, assessment.as_of)}" if action.due is not None
                    else "no timescale is set")  # fmt: skip
            if action.recurring:
                when += " (a recurring duty: due again after each qualifying contact)"
            again = again_words(assessment, case, action)
            if again is not None:
                when += f" ({again})"
            calls = tuple(call_line(c.name, c.phone) for c in action.contacts)
            steps.append(StepView(action.id, action.title, action.status.value, action.due, when,
                                  action.owner, action.recurring, calls, reason,
                                  action.trigger.event, action.citation))  # fmt: skip
        shared = reasons[0] if len(set(reasons)) == 1 else None
        views.append(GroupView(group.heading, group.citation, shared, tuple(steps)))
    seen = (f"last seen {_when(assessment.last_seen)}" if assessment.last_seen
            else "not seen in this history")  # fmt: skip
    patterns = tuple(f"{p.title} ({events_words(p.events)})" for p in assessment.patterns)
    needed: tuple[str, ...] = ()
    if assessment.closure is None:
        closure = "This guidance says nothing about closing the case."
    elif assessment.closure.allowed:
        closure = "The case may close: every closure condition is met."
    else:
        closure = "The case may not close yet. Still needed:"
        needed = tuple(u.title for u in assessment.closure.unmet)
    context = (f"case {assessment.case_id}, {assessment.pack.id} {assessment.pack.version}, "
               f"as of {_when(assessment.as_of)}")  # fmt: skip
    return Explanation(first_line(assessment), summary_line(assessment),
                       assessment.risk_tier.value, context, tuple(assessment.risk_reasons), seen,
                       assessment.failed_contacts, tuple(views), patterns, closure,
                       needed)  # fmt: skip


def render_explanation(explanation: Explanation, console: Console) -> None:
    """Print the explanation in the terminal, with colour where it helps."""
    view = explanation
    console.print(literal(view.first_line), style="bold", markup=False)
    heading = Text(view.summary, style=_TIER_STYLE[view.risk_tier])
    heading.append(literal(f"   ({view.context})"), style="default")
    console.print(heading)
    for reason in view.reasons:
        console.print(literal(f"  because {reason}."), markup=False)
    console.print(f"\nThe child was {view.seen_words}; {view.failed_words}.", markup=False)
    if not view.groups:
        console.print("\nNo actions are required.")
    else:
        console.print("\nWhat to do, most urgent first:", style="bold")
    for group in view.groups:
        count = len(group.steps)
        console.print(literal(f"\n{group.heading}: {count} step{'s' if count != 1 else ''}"
                      f" ({group.citation})"), style="bold", markup=False)  # fmt: skip
        if group.shared_why is not None:
            console.print(literal(f"  Why: {group.shared_why}"), markup=False)
        for step in group.steps:
            line = Text("  • ")
            line.append(f"[{step.status.upper()}] ", style=_STATUS_STYLE[step.status])
            line.append(literal(step.title), style="bold")
            console.print(line)
            console.print(literal(f"    {step.due_words}; owner: {step.owner}."), markup=False)
            for call in step.calls:
                console.print(literal(f"    {call}"), markup=False)
            if group.shared_why is None:
                console.print(literal(f"    Why: {step.why}"), markup=False)
    for pattern in view.patterns:
        console.print(literal(f"\nPattern to watch: {pattern}."), style="magenta", markup=False)
    style = "green" if view.closure.startswith("The case may close") else "bold"
    console.print(literal(f"\n{view.closure}"), style=style if view.still_needed or
                  style == "green" else None, markup=False)  # fmt: skip
    for needed in view.still_needed:
        console.print(literal(f"  • {needed}"), markup=False)


def _day(value: datetime, as_of: datetime) -> str:
    """`Fri 4 Dec 23:59`, with the year when it is not `as_of`'s."""
    local = value.astimezone(UK)
    year = "" if local.year == as_of.astimezone(UK).year else f" {local.year}"
    return f"{local:%a} {local.day} {local:%b}{year} {local:%H:%M}"


def first_line(assessment: Assessment) -> str:
    """The most urgent thing to do, or that nothing is outstanding."""
    open_actions = [a for a in assessment.actions if a.status is not ActionStatus.DONE]
    if not open_actions:
        return "Nothing to do now: every required step is done."
    top = open_actions[0]  # the contract orders actions most urgent first
    if top.status is ActionStatus.OVERDUE and top.due is not None:
        state = f"overdue since {_day(top.due, assessment.as_of)}"
    elif top.due is not None:
        state = f"due {_day(top.due, assessment.as_of)}"
    else:
        state = "no timescale set"
    return f"Do first: {top.title} ({state})."


def summary_line(assessment: Assessment) -> str:
    """`HIGH risk: 1 overdue, 9 outstanding; next due Fri 4 Dec 23:59`."""
    overdue = sum(a.status is ActionStatus.OVERDUE for a in assessment.actions)
    outstanding = sum(a.status is ActionStatus.OUTSTANDING for a in assessment.actions)
    upcoming = [a.due for a in assessment.actions if a.status is ActionStatus.OUTSTANDING and a.due]
    line = (
        f"{assessment.risk_tier.value.upper()} risk: {overdue} overdue, {outstanding} outstanding"
    )
    if upcoming:
        line += f"; next due {_day(min(upcoming), assessment.as_of)}"
    return line


@dataclass(frozen=True, slots=True)
class StepGroup:
    """Steps that share one trigger and one citation."""

    heading: str
    citation: str
    actions: tuple[RequiredAction, ...]


def groups(assessment: Assessment, case: Case, pack: CompiledPack | None) -> list[StepGroup]:
    """Steps grouped by trigger and citation, groups in the order of their most urgent step."""
    found: dict[tuple[int | None, str], list[RequiredAction]] = {}
    for action in assessment.actions:
        found.setdefault((action.trigger.event, action.citation), []).append(action)
    return [
        StepGroup(trigger_words(assessment, case, pack, event), citation,
                  tuple(_in_pack_order(assessment, actions, pack)))
        for (event, citation), actions in found.items()
    ]  # fmt: skip


def _in_pack_order(
    assessment: Assessment, actions: list[RequiredAction], pack: CompiledPack | None
) -> list[RequiredAction]:
    """Steps with a due time as the contract orders them (most urgent first), then those
    with no timescale in the order the rule requires them (not by id)."""
    dated = [a for a in actions if a.due is not None]
    undated = [a for a in actions if a.due is None]
    if pack is None:
        return dated + undated
    order = list(pack.document.actions)

    def position(action: RequiredAction) -> tuple[int, int]:
        source = _source(assessment, action)
        rule = next((r for r in pack.rules if source is not None and r.id == source.id), None)
        if rule is not None and action.id in rule.action_ids:
            return (0, rule.action_ids.index(action.id))
        return (1, order.index(action.id) if action.id in order else len(order))

    return dated + sorted(undated, key=position)


def trigger_words(
    assessment: Assessment, case: Case, pack: CompiledPack | None, index: int | None
) -> str:
    """What happened, in words: `Second no access visit on Fri 27 Nov 10:00`."""
    if index is None:
        return "From what is known about the case"
    event: Any = case.events[index]
    when = _day(event.at, assessment.as_of)
    if pack is not None and event.type in OUTCOME_EVENT_TYPES:
        kind = pack.failed_kind.get((event.type, event.outcome))
        if kind is not None:
            number = _run_number(case, pack, index)
            spec = pack.document.failed_contacts[kind]
            name = spec.name.capitalize()
            if len(spec.outcomes) > 1:  # say which of the kind's outcomes it was
                name += f" ({outcome_words(event.type, event.outcome)})"
            return f"{name}, the {ordinal(number)} failed contact in a row, on {when}"
    if event.type == "concern":
        return f"Concern about {label('concern_level', event.level)} on {when}"
    what = humanise(event.type).capitalize()
    if event.type in OUTCOME_EVENT_TYPES:
        what += f" ({humanise(event.outcome)})"
    elif event.type == "action" and pack is not None:
        title = pack.document.actions.get(event.action)
        what = f"Recorded: {title.title if title else humanise(event.action)}"
    return f"{what} on {when}"


def _run_number(case: Case, pack: CompiledPack, index: int) -> int:
    """Which failed contact of its run the event at `index` is."""
    events: tuple[Any, ...] = case.events
    target = events[index].at.timestamp()
    ordered = sorted(range(len(events)), key=lambda i: events[i].at.timestamp())
    count = 0
    for i in ordered:
        event = events[i]
        if event.at.timestamp() > target:
            break
        if event.type in OUTCOME_EVENT_TYPES:
            if (event.type, event.outcome) in SEEN_PAIRS:
                count = 0
            elif (event.type, event.outcome) in pack.failed_kind:
                count += 1
        if i == index:
            break
    return max(count, 1)


def events_words(events: list[int]) -> str:
    """`event 1`, `events 1, 3`: numbered as people count, from 1."""
    numbers = ", ".join(str(event_number(i)) for i in events)
    return f"event{'s' if len(events) != 1 else ''} {numbers}"


def _source(assessment: Assessment, action: RequiredAction) -> TraceEntry | None:
    """The trace step of the rule or duty that required the action."""
    return next(
        (t for t in assessment.trace
         if t.step == "rule" and t.event == action.trigger.event and action.id in t.actions),
        None,
    )  # fmt: skip


def timescale_of(
    assessment: Assessment, action: RequiredAction, pack: CompiledPack | None
) -> Timescale | None:
    """The timescale the pack gave the step, as written (`immediately`, `{hours: 24}`...)."""
    source = _source(assessment, action)
    if source is None or pack is None:
        return None
    for rule in pack.rules:
        if rule.id == source.id:
            return next((n.timescale for n in rule.requires if n.action == action.id), None)
    for duty in pack.duties:
        if duty.id == source.id and duty.requirement.action == action.id:
            return duty.requirement.timescale
    return None


def again_words(assessment: Assessment, case: Case, action: RequiredAction) -> str | None:
    """Why a step recorded done is outstanding again: a later event required it anew."""
    if action.status is ActionStatus.DONE:
        return None
    trigger = action.trigger.at.timestamp()
    done = [
        e.at
        for e in case.events
        if getattr(e, "action", None) == action.id and e.at.timestamp() <= trigger
    ]
    if not done:
        return None
    when = _day(max(done, key=lambda at: at.timestamp()), assessment.as_of)
    return f"recorded done on {when}, then required again by a later event"


def why_line(assessment: Assessment, action: RequiredAction, pack: CompiledPack | None) -> str:
    """Why the step is required, from the rule's condition in plain words."""
    source = _source(assessment, action)
    if source is None or pack is None:
        return "the guidance requires it at this point."
    reason = plain_reason(pack, source.id)
    return f"{reason}." if reason != "always" else "the guidance requires this step here."


def plain_reason(pack: CompiledPack, rule_id: str) -> str:
    """A rule's or duty's condition in a practitioner's words."""
    describer = describer_for(pack.document)
    for index, rule in enumerate(pack.rules):
        if rule.id == rule_id:
            return describer.describe(pack.trees.get(("rules", index, "when")))
    for index, duty in enumerate(pack.duties):
        if duty.id == rule_id:
            every = recurring_words(duty.requirement.timescale)
            applies = describer.describe(pack.trees.get(("duties", index, "when")))
            return f"{applies}, so the child must be seen {every}"
    return "always"

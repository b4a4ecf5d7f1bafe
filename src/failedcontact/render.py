"""Render an assessment for a person: a rich table in the terminal."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .assessment import Assessment
from .case import UK, Case

_TIER_STYLE = {"low": "green", "medium": "yellow", "high": "bold red"}
_STATUS_STYLE = {"done": "green", "overdue": "bold red", "outstanding": "yellow"}


def _when(value: datetime | None) -> str:
    if value is None:
        return "no timescale"
    return value.astimezone(UK).strftime("%d %b %Y %H:%M")


def render_table(assessment: Assessment, console: Console) -> None:
    """Print the assessment as a summary panel, an actions table and the patterns."""
    tier = assessment.risk_tier.value
    summary = Text()
    summary.append(f"Case {assessment.case_id}", style="bold")
    summary.append(f"  pack {assessment.pack.id} {assessment.pack.version}")
    summary.append(f"  as of {_when(assessment.as_of)}\n")
    summary.append("Risk: ")
    summary.append(tier.upper(), style=_TIER_STYLE[tier])
    summary.append(" - " + "; ".join(assessment.risk_reasons) + "\n")
    summary.append(f"Failed contacts in the current run: {assessment.failed_contacts}")
    last = _when(assessment.last_seen) if assessment.last_seen else "never (in this history)"
    summary.append(f"   Child last seen: {last}")
    parts: list[Table | Text] = [summary]

    actions = Table(title="Required actions", expand=True)
    actions.add_column("status", no_wrap=True)
    actions.add_column("due", no_wrap=True)
    actions.add_column("action", ratio=1)
    for action in assessment.actions:
        cell = Text(action.title)
        cell.append(f"\n{action.owner}; event {action.trigger.event}; {action.citation}", "dim")
        for contact in action.contacts:
            cell.append(f"\ncall {contact.name}: {contact.phone}", "bold")
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
            Text(f"Pattern to watch: {pattern.title} (events {pattern.events})", style="magenta")
        )
    if assessment.closure is not None:
        if assessment.closure.allowed:
            parts.append(Text("The case may close.", style="green"))
        else:
            unmet = "; ".join(u.title for u in assessment.closure.unmet)
            parts.append(Text(f"The case may not close yet: {unmet}", style="red"))
    console.print(Panel(Group(*parts), title="failedcontact assessment"))


def _event_words(case: Case, index: int | None) -> str:
    if index is None:
        return "the case's facts at the time of assessment"
    event = case.events[index]
    outcome = getattr(event, "outcome", None)
    what = event.type.replace("_", " ") + (
        f" ({str(outcome).replace('_', ' ')})" if outcome else ""
    )
    return f"the {what} on {_when(event.at)} (event {index})"


def render_explanation(assessment: Assessment, case: Case, console: Console) -> None:
    """Explain the assessment for a practitioner, in plain English."""
    tier = assessment.risk_tier.value
    heading = Text("Risk: ")
    heading.append(tier.upper(), style=_TIER_STYLE[tier])
    heading.append(f"   (case {assessment.case_id}, {assessment.pack.id} {assessment.pack.version},"
                   f" as of {_when(assessment.as_of)})")  # fmt: skip
    console.print(heading)
    for reason in assessment.risk_reasons:
        console.print(f"  because {reason}.", markup=False)
    seen = (f"last seen {_when(assessment.last_seen)}" if assessment.last_seen
            else "not seen in this history")  # fmt: skip
    console.print(f"\nThe child was {seen}; failed contacts since then: "
                  f"{assessment.failed_contacts}.", markup=False)  # fmt: skip
    rules = [t for t in assessment.trace if t.step == "rule"]
    if not assessment.actions:
        console.print("\nNo actions are required.")
    else:
        console.print("\nWhat to do:", style="bold")
    for action in assessment.actions:
        line = Text("  • ")
        line.append(f"[{action.status.value.upper()}] ", style=_STATUS_STYLE[action.status.value])
        line.append(action.title, style="bold")
        console.print(line)
        when = (f"due by {_when(action.due)}" if action.due is not None
                else "no timescale is set")  # fmt: skip
        if action.recurring:
            when += " (a recurring duty: due again after each qualifying contact)"
        console.print(f"    {when}; owner: {action.owner}.", markup=False)
        source = next(
            (t for t in rules if t.event == action.trigger.event and action.id in t.actions),
            None,
        )
        why = f"required by {_event_words(case, action.trigger.event)}"
        if source is not None:
            why += f": {source.why.split('; ', 1)[-1]}"
        console.print(f"    Why: {why}.", markup=False)
        console.print(f"    Guidance: {action.citation}.", markup=False)
        for contact in action.contacts:
            console.print(f"    Call {contact.name} on {contact.phone}.", markup=False)
    overdue = [a.title for a in assessment.actions if a.status.value == "overdue"]
    if overdue:
        console.print(f"\nOverdue now: {len(overdue)} action(s).", style="bold red")
    for pattern in assessment.patterns:
        events = ", ".join(str(i) for i in pattern.events)
        console.print(f"\nPattern to watch: {pattern.title} (events {events}).", style="magenta")
    if assessment.closure is None:
        console.print("\nThis guidance says nothing about closing the case.")
    elif assessment.closure.allowed:
        console.print("\nThe case may close: every closure condition is met.", style="green")
    else:
        console.print("\nThe case may not close yet. Still needed:", style="bold")
        for unmet in assessment.closure.unmet:
            console.print(f"  • {unmet.title}", markup=False)

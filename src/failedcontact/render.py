"""Render an assessment for a person: a rich table in the terminal."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .assessment import Assessment
from .case import UK

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

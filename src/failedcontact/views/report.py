"""One self-contained HTML page for a case: timeline, actions on a working-day calendar, risk,
patterns and the closure verdict. No scripts, no fonts, no links out: it opens offline."""

from __future__ import annotations

import calendar as month_names
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

import holidays

from ..model.assessment import Assessment
from ..model.calendar import WorkingCalendar
from ..model.case import UK, Case
from ..model.vocabulary import OUTCOME_EVENT_TYPES, SEEN_PAIRS
from ..pack.compiler import CompiledPack
from .render import Explanation, trigger_words

_MAX_MONTHS = 4  # the calendar shows the months around `as_of` that hold triggers and dues

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #555; } .first { font-size: 1.1rem; font-weight: 600; }
.tier { display: inline-block; padding: .1rem .6rem; border-radius: .3rem; font-weight: 700;
        color: #fff; } .tier.low { background: #2e7d32; } .tier.medium { background: #b26a00; }
.tier.high { background: #c62828; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.status-overdue { color: #c62828; font-weight: 700; } .status-done { color: #2e7d32; }
.status-outstanding { color: #b26a00; font-weight: 600; }
.failed { color: #c62828; } .seen { color: #2e7d32; }
.months { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.month table { width: auto; } .month td, .month th { width: 2.2rem; height: 2.2rem;
  padding: .15rem; font-size: .8rem; text-align: right; }
td.weekend { background: #e8e8e8; } td.holiday { background: #ffd8a8; }
td.event { outline: 2px solid #1565c0; outline-offset: -2px; }
td.due { background: #ffcdd2; font-weight: 700; } td.asof { border: 3px solid #000; }
.key span { display: inline-block; padding: 0 .5rem; margin-right: .5rem; border: 1px solid #ccc; }
"""


@dataclass(frozen=True, slots=True)
class _Day:
    """What happens on one calendar day, for shading."""

    events: tuple[int, ...]
    due: tuple[str, ...]


def render_report(assessment: Assessment, case: Case, pack: CompiledPack, view: Explanation) -> str:
    """The assessment of one case as a complete HTML document."""
    calendar = pack.calendar
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Case {escape(assessment.case_id)}: {escape(view.summary)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Case {escape(assessment.case_id)}</h1>",
        f'<p class="meta">{escape(pack.document.area)}: {escape(assessment.pack.id)} '
        f"{escape(assessment.pack.version)} ({escape(assessment.pack.digest[:19])}...), "
        f"assessed as of {_local(assessment.as_of)} UK time</p>",
        f'<p class="first" id="first">{escape(view.first_line)}</p>',
        f'<p><span class="tier {escape(view.risk_tier)}" id="tier">'
        f"{escape(view.risk_tier.upper())} risk</span> {escape(view.summary)}</p>",
        "<ul>" + "".join(f"<li>because {escape(r)}.</li>" for r in view.reasons) + "</ul>",
        f"<p>The child was {escape(view.seen_words)}; failed contacts since then: "
        f"{view.failed_contacts}.</p>",
        _timeline(assessment, case, pack),
        _actions(assessment, case, pack, calendar),
        _calendar(assessment, case, calendar),
        _patterns(view),
        _closure(view),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _local(value: datetime) -> str:
    local = value.astimezone(UK)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _kind(case: Case, pack: CompiledPack, index: int) -> str:
    event = case.events[index]
    if event.type in OUTCOME_EVENT_TYPES:
        outcome = getattr(event, "outcome", None)
        if (event.type, outcome) in SEEN_PAIRS:
            return '<span class="seen">child seen</span>'
        if (event.type, outcome) in pack.failed_kind:
            return '<span class="failed">failed contact</span>'
    return ""


def _timeline(assessment: Assessment, case: Case, pack: CompiledPack) -> str:
    order = sorted(range(len(case.events)), key=lambda i: case.events[i].at.timestamp())
    rows = [
        f'<tr id="event-{i}"><td>{i}</td><td>{_local(case.events[i].at)}</td>'
        f"<td>{escape(trigger_words(assessment, case, pack, i))}</td>"
        f"<td>{_kind(case, pack, i)}</td></tr>"
        for i in order
    ]
    if not rows:
        return "<h2>Timeline</h2><p>No events are recorded.</p>"
    return (
        "<h2>Timeline</h2><table><thead><tr><th>event</th><th>when (UK time)</th>"
        "<th>what happened</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _working_days_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def _actions(
    assessment: Assessment, case: Case, pack: CompiledPack, calendar: WorkingCalendar
) -> str:
    if not assessment.actions:
        return "<h2>Required actions</h2><p>No actions are required.</p>"
    rows = []
    for action in assessment.actions:
        trigger = action.trigger
        when = trigger_words(assessment, case, pack, trigger.event)
        if action.due is None:
            due, span = "no timescale is set", ""
        else:
            due = _local(action.due)
            days = _working_days_between(
                calendar, trigger.at.astimezone(UK).date(), action.due.astimezone(UK).date()
            )
            span = f"{days} working day{'s' if days != 1 else ''} after the trigger's day"
        contacts = "<br>".join(
            f"{escape(c.name)}: {escape(c.phone)}" for c in action.contacts
        )  # fmt: skip
        rows.append(
            f'<tr class="action" data-id="{escape(action.id)}">'
            f'<td class="status-{action.status.value}">{action.status.value}</td>'
            f"<td>{escape(action.title)}<br><small>{escape(action.citation)}; owner: "
            f"{escape(action.owner)}{'; recurring' if action.recurring else ''}</small></td>"
            f"<td>{escape(when)}</td>"
            f'<td class="due-when">{due}<br><small>{span}</small></td><td>{contacts}</td></tr>'
        )
    return (
        "<h2>Required actions, most urgent first</h2><table><thead><tr><th>status</th>"
        "<th>action</th><th>triggered by</th><th>due (UK time)</th><th>who to call</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _months(assessment: Assessment, case: Case) -> list[tuple[int, int]]:
    """The months to draw: those holding `as_of`, the events and the dues, nearest first."""
    as_of = assessment.as_of.astimezone(UK).date()
    days = {as_of}
    days |= {e.at.astimezone(UK).date() for e in case.events}
    days |= {a.due.astimezone(UK).date() for a in assessment.actions if a.due is not None}
    wanted = {(d.year, d.month) for d in days}
    nearest = sorted(wanted, key=lambda m: abs((m[0] - as_of.year) * 12 + m[1] - as_of.month))
    return sorted(nearest[:_MAX_MONTHS])


def _calendar(assessment: Assessment, case: Case, calendar: WorkingCalendar) -> str:
    marks = _marks(assessment, case)
    as_of = assessment.as_of.astimezone(UK).date()
    blocks = []
    for year, month in _months(assessment, case):
        names = holidays.country_holidays(calendar.country, subdiv=calendar.subdivision, years=year)
        rows = []
        for week in month_names.Calendar().monthdatescalendar(year, month):
            cells = [
                _day_cell(day, calendar, names, marks.get(day), as_of)
                if day.month == month
                else "<td></td>"
                for day in week
            ]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        head = "".join(f"<th>{d}</th>" for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"))
        blocks.append(
            f'<div class="month"><strong>{month_names.month_name[month]} {year}</strong>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    key = (
        '<p class="key"><span class="weekend-key" style="background:#e8e8e8">weekend</span>'
        '<span style="background:#ffd8a8">bank holiday</span>'
        '<span style="outline:2px solid #1565c0">an event</span>'
        '<span style="background:#ffcdd2">an action due</span>'
        '<span style="border:3px solid #000">as of</span></p>'
    )
    region = calendar.country + (f"-{calendar.subdivision}" if calendar.subdivision else "")
    return (
        "<h2>Working days</h2><p>Deadlines in working days skip weekends and the bank holidays "
        f"of {escape(region)}"
        f"; hover over a day for what falls on it.</p>{key}"
        f'<div class="months">{"".join(blocks)}</div>'
    )


def _marks(assessment: Assessment, case: Case) -> dict[date, _Day]:
    """Each UK day with the case's events on it and the titles of the actions due on it."""
    marks: dict[date, _Day] = {}
    for index, event in enumerate(case.events):
        day = event.at.astimezone(UK).date()
        old = marks.get(day, _Day((), ()))
        marks[day] = _Day((*old.events, index), old.due)
    for action in assessment.actions:
        if action.due is not None:
            day = action.due.astimezone(UK).date()
            old = marks.get(day, _Day((), ()))
            marks[day] = _Day(old.events, (*old.due, action.title))
    return marks


def _day_cell(
    day: date, calendar: WorkingCalendar, names: Mapping[date, str], mark: _Day | None, as_of: date
) -> str:
    """One day of the month's table: its classes, and a title saying what falls on it."""
    classes, notes = [], []
    if day.weekday() >= 5:
        classes.append("weekend")
    elif not calendar.is_working_day(day):
        classes.append("holiday")
        notes.append(f"bank holiday: {names.get(day, 'bank holiday')}")
    if mark is not None and mark.events:
        classes.append("event")
        notes.append("events " + ", ".join(str(i) for i in mark.events))
    if mark is not None and mark.due:
        classes.append("due")
        notes += [f"due: {title}" for title in mark.due]
    if day == as_of:
        classes.append("asof")
        notes.append("as of")
    title = f' title="{escape("; ".join(notes))}"' if notes else ""
    return f'<td class="{" ".join(classes)}" data-date="{day.isoformat()}"{title}>{day.day}</td>'


def _patterns(view: Explanation) -> str:
    if not view.patterns:
        return "<h2>Patterns to watch</h2><p>None found.</p>"
    return "<h2>Patterns to watch</h2><ul>" + "".join(
        f"<li>{escape(p)}</li>" for p in view.patterns
    ) + "</ul>"  # fmt: skip


def _closure(view: Explanation) -> str:
    needed = "".join(f"<li>{escape(n)}</li>" for n in view.still_needed)
    return f'<h2>Closing the case</h2><p id="closure">{escape(view.closure)}</p>' + (
        f"<ul>{needed}</ul>" if needed else ""
    )

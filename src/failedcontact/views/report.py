"""One self-contained HTML page for a case: timeline, actions on a working-day calendar, risk,
patterns and the closure verdict. No scripts, no fonts, no links out: it opens offline, and
prints (a print stylesheet). Built from a Jinja template with autoescape on."""

from __future__ import annotations

import calendar as month_names
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import holidays

from ..model.assessment import Assessment, RequiredAction
from ..model.calendar import WorkingCalendar
from ..model.case import UK, Case
from ..model.vocabulary import OUTCOME_EVENT_TYPES, SEEN_PAIRS
from ..pack.compiler import CompiledPack
from ._templates import environment
from .render import Explanation, again_words, timescale_of, trigger_words
from .wording import call_line, deadline_rule, event_number, status_words, timescale_words

_MAX_MONTHS = 4  # the calendar shows the months around `as_of` that hold triggers and dues


@dataclass(frozen=True, slots=True)
class _Day:
    """What happens on one calendar day, for shading."""

    events: tuple[int, ...]
    due: tuple[str, ...]


def render_report(assessment: Assessment, case: Case, pack: CompiledPack, view: Explanation) -> str:
    """The assessment of one case as a complete HTML document."""
    calendar = pack.calendar
    region = calendar.country + (f"-{calendar.subdivision}" if calendar.subdivision else "")
    page = {
        "case_id": assessment.case_id,
        "area": pack.document.area,
        "pack_id": assessment.pack.id,
        "version": assessment.pack.version,
        "digest": assessment.pack.digest[:19],
        "as_of": _local(assessment.as_of),
        "timeline": _timeline(assessment, case, pack),
        "actions": [_action(assessment, case, pack, a) for a in assessment.actions],
        "region": region,
        "months": _calendar(assessment, case, calendar),
    }
    return environment().get_template("report.html.j2").render(page=page, view=view)


def _local(value: datetime) -> str:
    local = value.astimezone(UK)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _timeline(assessment: Assessment, case: Case, pack: CompiledPack) -> list[dict[str, Any]]:
    order = sorted(range(len(case.events)), key=lambda i: case.events[i].at.timestamp())
    rows = []
    for i in order:
        event = case.events[i]
        kind, kind_class = "", ""
        if event.type in OUTCOME_EVENT_TYPES:
            outcome = getattr(event, "outcome", None)
            if (event.type, outcome) in SEEN_PAIRS:
                kind, kind_class = "child seen", "seen"
            elif (event.type, outcome) in pack.failed_kind:
                kind, kind_class = "failed contact", "failed"
        rows.append({"index": i, "number": event_number(i), "when": _local(event.at),
                     "what": trigger_words(assessment, case, pack, i), "kind": kind,
                     "kind_class": kind_class})  # fmt: skip
    return rows


def _action(
    assessment: Assessment, case: Case, pack: CompiledPack, action: RequiredAction
) -> dict[str, Any]:
    timescale = timescale_of(assessment, action, pack)
    if action.due is None:
        due, span = "no timescale is set", ""
    else:
        due = _local(action.due)
        span = f"{timescale_words(timescale)}: {deadline_rule(timescale)}" if timescale else ""
    return {
        "id": action.id,
        "status": status_words(action.status.value),
        "again": again_words(assessment, case, action),
        "title": action.title,
        "citation": action.citation,
        "owner": action.owner,
        "recurring": action.recurring,
        "trigger": trigger_words(assessment, case, pack, action.trigger.event),
        "due": due,
        "span": span,
        "contacts": [call_line(c.name, c.phone) for c in action.contacts],
    }


def _months(assessment: Assessment, case: Case) -> list[tuple[int, int]]:
    """The months to draw: those holding `as_of`, the events and the dues, nearest first."""
    as_of = assessment.as_of.astimezone(UK).date()
    days = {as_of}
    days |= {e.at.astimezone(UK).date() for e in case.events}
    days |= {a.due.astimezone(UK).date() for a in assessment.actions if a.due is not None}
    wanted = {(d.year, d.month) for d in days}
    nearest = sorted(wanted, key=lambda m: abs((m[0] - as_of.year) * 12 + m[1] - as_of.month))
    return sorted(nearest[:_MAX_MONTHS])


def _calendar(
    assessment: Assessment, case: Case, calendar: WorkingCalendar
) -> list[dict[str, Any]]:
    marks = _marks(assessment, case)
    as_of = assessment.as_of.astimezone(UK).date()
    months = []
    for year, month in _months(assessment, case):
        names = holidays.country_holidays(calendar.country, subdiv=calendar.subdivision, years=year)
        weeks = [
            [_day_cell(day, calendar, names, marks.get(day), as_of) if day.month == month
             else None for day in week]
            for week in month_names.Calendar().monthdatescalendar(year, month)
        ]  # fmt: skip
        months.append({"name": f"{month_names.month_name[month]} {year}", "weeks": weeks})
    return months


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
) -> dict[str, Any]:
    """One day of the month's table: its classes, and a title saying what falls on it."""
    classes, notes = [], []
    if day.weekday() >= 5:
        classes.append("weekend")
    elif not calendar.is_working_day(day):
        classes.append("holiday")
        notes.append(f"bank holiday: {names.get(day, 'bank holiday')}")
    if mark is not None and mark.events:
        classes.append("event")
        notes.append("events " + ", ".join(str(event_number(i)) for i in mark.events))
    if mark is not None and mark.due:
        classes.append("due")
        notes += [f"due: {title}" for title in mark.due]
    if day == as_of:
        classes.append("asof")
        notes.append("as of")
    return {"classes": " ".join(classes), "date": day.isoformat(), "title": "; ".join(notes),
            "day": day.day}  # fmt: skip

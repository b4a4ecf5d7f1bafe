"""One wording for each thing, in explain, the table, the report and the handbook (issue 30)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

import failedcontact as fc
from failedcontact.model.case_input import parse_case
from failedcontact.pack.compiler import Timescale
from failedcontact.views.render import explain, render_explanation, render_table
from failedcontact.views.report import render_report
from failedcontact.views.wording import deadline_rule, failed_contacts_words, timescale_words

from .conftest import MINIMAL_PACK

AS_OF = datetime(2026, 11, 30, 9, tzinfo=UTC)
CHILD = {"date_of_birth": "2015-01-01"}


def _views(pack: fc.Pack, events: list[dict[str, Any]]) -> tuple[str, str, str]:
    """The report page, the explanation as Markdown and the terminal table, for one case."""
    case = parse_case({"case_id": "W-1", "child": CHILD, "events": events})
    assessment = pack.assess(case, AS_OF)
    view = explain(assessment, case, pack.compiled)
    console = Console(width=200, record=True)
    render_table(assessment, console, case, pack.compiled)
    render_explanation(view, console)
    page = render_report(assessment, case, pack.compiled, view)
    return page, view.markdown(), console.export_text()


@pytest.mark.parametrize(
    ("timescale", "words", "rule"),
    [
        pytest.param(Timescale("immediately"), "immediately",
                     "due at once, when the trigger happens", id="immediately"),
        pytest.param(Timescale("hours", 24), "within 24 hours",
                     "24 hours after the trigger, at any hour of any day", id="hours"),
        pytest.param(Timescale("working_days", 5), "within 5 working days",
                     "by the end of the fifth working day after the trigger's day (weekends and "
                     "bank holidays do not count)", id="working-days"),
        pytest.param(Timescale("calendar_days", 1), "within 1 calendar day",
                     "by the end of the day 1 calendar day after the trigger's day",
                     id="one-calendar-day"),
        pytest.param(Timescale("none"), "no timescale is set", "", id="none"),
    ],
)  # fmt: skip
def test_a_timescale_is_worded_in_its_own_unit(timescale: Timescale, words: str,
                                               rule: str) -> None:  # fmt: skip
    assert timescale_words(timescale) == words
    assert deadline_rule(timescale) == rule


def test_the_report_explains_deadlines_in_the_unit_the_pack_wrote() -> None:
    pack = fc.load_pack(text=MINIMAL_PACK)
    events = [
        {"at": "2026-11-27T10:00:00", "type": "home_visit", "outcome": "no_response"},
        {"at": "2026-11-27T11:00:00", "type": "concern", "level": "significant_harm"},
    ]
    page, _, _ = _views(pack, events)
    assert "24 hours after the trigger, at any hour of any day" in page  # {hours: 24}
    assert "due at once, when the trigger happens" in page  # immediately
    assert "fifth working day after the trigger&#39;s day" in page  # {working_days: 5}
    assert "0 working days" not in page and "1 working day after" not in page


def test_each_view_words_the_run_of_failed_contacts_and_the_tier_once() -> None:
    pack = fc.load_pack("north_lincs")
    events = [
        {"at": "2026-11-20T10:00:00", "type": "home_visit", "outcome": "no_response"},
        {"at": "2026-11-27T10:00:00", "type": "home_visit", "outcome": "no_response"},
    ]
    page, markdown, terminal = _views(pack, events)
    words = "2 failed contacts in a row since the child was last seen"
    assert words in page and words in markdown and words in terminal.replace("\n", " ")
    assert "since then: 2" not in page + markdown + terminal
    assert failed_contacts_words(1) == "1 failed contact in a row since the child was last seen"
    assert page.count(">LOW risk</span>") == 1 and "LOW risk LOW risk" not in page
    assert "LOW risk</span> 0 overdue" in page
    assert '<th class="kind">counts as</th>' in page  # the timeline's last column has a header
    assert "@media print" in page


def test_an_outcome_is_named_when_its_kind_has_several() -> None:
    pack = fc.load_pack("north_lincs")
    events = [{"at": "2026-11-27T10:00:00", "type": "home_visit",
               "outcome": "prevented_from_seeing_child"}]  # fmt: skip
    page, markdown, _ = _views(pack, events)
    wanted = "Child not seen (the practitioner prevented from seeing the child), the first"
    assert wanted in markdown
    assert wanted in page


def test_events_are_numbered_from_one() -> None:
    pack = fc.load_pack("north_lincs")
    events = [{"at": f"2026-11-{day}T10:00:00", "type": "home_visit", "outcome": "no_response"}
              for day in (23, 24, 25)]  # fmt: skip
    page, markdown, terminal = _views(pack, events)
    assert "Closure (events 1, 2, 3)" in markdown
    assert "Closure (events 1, 2, 3)" in terminal
    assert '<tr id="event-0"><td>1</td>' in page


def test_steps_with_no_timescale_keep_the_order_the_rule_gives_them() -> None:
    pack = fc.load_pack("north_lincs")
    events = [{"at": "2026-11-27T10:00:00", "type": "home_visit", "outcome": "no_response"}]
    case = parse_case({"case_id": "W-1", "child": CHILD, "events": events})
    view = explain(pack.assess(case, AS_OF), case, pack.compiled)
    [group] = view.groups
    undated = [s.id for s in group.steps if s.due is None]
    rule = next(r for r in pack.document.rules if r.id == "universal_first_no_access")
    wanted = [a for a in rule.require if isinstance(a, str) and a in undated]
    assert undated == wanted  # check_address first, as the pack writes it, not by id


def test_a_step_done_and_then_required_again_says_why_it_is_outstanding() -> None:
    pack = fc.load_pack("north_lincs")
    events = [
        {"at": "2026-11-20T10:00:00", "type": "home_visit", "outcome": "no_response"},
        {"at": "2026-11-20T12:00:00", "type": "action", "action": "check_address"},
        {"at": "2026-11-27T10:00:00", "type": "home_visit", "outcome": "no_response"},
    ]
    page, markdown, _ = _views(pack, events)
    again = "recorded done on Fri 20 Nov 12:00, then required again by a later event"
    assert again in markdown and again in page

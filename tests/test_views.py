"""What a practitioner reads: the most urgent step first, reasons in their words."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import failedcontact as fc
from failedcontact.cli import app
from failedcontact.pack import tree
from failedcontact.pack.facts import FACTS, Kind
from failedcontact.pack.tree import Operator
from failedcontact.views.describe import Describer
from failedcontact.views.render import (
    explain,
    first_line,
    render_explanation,
    summary_line,
)
from failedcontact.views.wording import dialable

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = datetime(2026, 11, 30, 9, tzinfo=UTC)
# Each bundled pack with its example case.
PACK_EXAMPLES = [
    ("north_lincs", "second_no_access.json"),
    ("north_lincs", "child_protection_concern.json"),
    ("pan_beds", "luton_concern.json"),
    ("ne_lincs", "ne_lincs_protection_plan.json"),
    ("derbyshire", "derbyshire_child_alone.json"),
    ("suffolk", "suffolk_not_engaging.json"),
]
FIELD_OR_CODE = re.compile(r"`|\b[a-z]+_[a-z_]+\b")


def _explain(pack_id: str, example: str) -> tuple[fc.Assessment, list[str]]:
    pack = fc.load_pack(pack_id)
    case = fc.parse_case((EXAMPLES / example).read_text(encoding="utf-8"))
    assessment = pack.assess(case, AS_OF)
    console = Console(width=400, record=True, color_system=None)
    with console.capture() as captured:
        render_explanation(explain(assessment, case, pack.compiled), console)
    return assessment, captured.get().splitlines()


@pytest.mark.parametrize(("pack_id", "example"), PACK_EXAMPLES, ids=lambda v: str(v))
def test_the_first_line_is_the_most_urgent_step(pack_id: str, example: str) -> None:
    assessment, lines = _explain(pack_id, example)
    document = json.loads(assessment.model_dump_json())
    statuses = [a["status"] for a in document["actions"]]
    open_actions = [a for a in document["actions"] if a["status"] != "done"]
    assert open_actions, "every example has something to do"
    assert lines[0].startswith(f"Do first: {open_actions[0]['title']} (")
    if "overdue" in statuses:  # an overdue step always comes first (contract 1.1 order)
        assert open_actions[0]["status"] == "overdue" and "overdue since" in lines[0]
    assert lines[1].startswith(f"{document['risk_tier'].upper()} risk: ")


@pytest.mark.parametrize(("pack_id", "example"), PACK_EXAMPLES, ids=lambda v: str(v))
def test_no_why_line_shows_a_field_name_or_a_code(pack_id: str, example: str) -> None:
    _, lines = _explain(pack_id, example)
    why = [line for line in lines if line.strip().startswith("Why:")]
    assert why
    offending = [line for line in why if FIELD_OR_CODE.search(line)]
    assert not offending, offending


def test_luton_concern_reads_as_the_issue_asks() -> None:
    # A Luton child, two failed visits, then a concern of significant harm: the report to
    # the area's team comes first, with its number, and the routine steps are grouped.
    _, lines = _explain("pan_beds", "luton_concern.json")
    assert lines[0] == (
        "Do first: Report the concern at once to the children's social care team for the "
        "area where the child lives (overdue since Fri 27 Nov 10:20)."
    )
    # 10: each of the two failed visits has its own record to make (per event, contract 1.2)
    assert lines[1].startswith("HIGH risk: 1 overdue, 10 outstanding; next due Fri 4 Dec 23:59")
    text = "\n".join(lines)
    assert "Call Luton MASH on 01582 547760 (dial 01582547760)." in text
    assert (
        "Door step visit, the second failed contact in a row, on Fri 27 Nov 10:00: 8 steps "
        "(pan_beds 6a, second no access visit)" in text
    )
    assert "Why: this is the second failed contact in a row, and the case is held by a " in text
    # the overdue report's group is listed before the routine steps' group
    assert text.index("Concern about significant harm") < text.index("Door step visit")


def test_summary_and_first_line_when_everything_is_done() -> None:
    pack = fc.load_pack("north_lincs")
    events = [{"at": "2026-11-23T10:00:00", "type": "concern", "level": "significant_harm"},
              {"at": "2026-11-23T10:05:00", "type": "action",
               "action": "report_significant_harm"}]  # fmt: skip
    assessment = pack.assess({"case_id": "V", "events": events}, AS_OF)
    assert first_line(assessment) == "Nothing to do now: every required step is done."
    assert summary_line(assessment) == "HIGH risk: 0 overdue, 0 outstanding"


@pytest.mark.parametrize(
    ("printed", "dial"),
    [
        ("01724 296500/296555", ["01724296500", "01724296555"]),
        ("01582 547760", ["01582547760"]),
        ("0300 300 8585", ["03003008585"]),
        ("999", ["999"]),
    ],
    ids=["alternative-line", "spaced", "three-groups", "emergency"],
)
def test_dialable_numbers(printed: str, dial: list[str]) -> None:
    assert dialable(printed) == dial


def _sample(kind: Kind, domain: tuple[str, ...] | None) -> object:
    if kind is Kind.BOOL:
        return True
    if kind is Kind.INT:
        return 2
    return domain[-1] if domain else "example"


@pytest.mark.parametrize("name", sorted(FACTS))
def test_every_fact_reads_without_field_names(name: str) -> None:
    fact = FACTS[name]
    op = {Kind.SET: Operator.CONTAINS, Kind.INT: Operator.AT_LEAST}.get(fact.kind, Operator.IN)
    for value in (_sample(fact.kind, fact.domain),):
        text = Describer().describe(tree.Test(fact, op, (value,), False, ()))
        assert not FIELD_OR_CODE.search(text), text


@pytest.mark.parametrize(
    ("fact", "op", "values", "words"),
    [
        ("failed_contacts", Operator.EQUALS, (2,), "this is the second failed contact in a row"),
        ("tenure", Operator.IN, ("council", "housing_association"),
         "the family's home is a council home or a housing association home"),
        ("plan", Operator.EQUALS, ("child_protection",), "the child is on a child protection plan"),
        ("plan", Operator.NOT_IN, ("none",), "the child is on a plan"),
        ("age_years", Operator.LESS_THAN, (5,), "the child is fewer than 5 years old"),
        ("disability", Operator.EQUALS, (True,), "the child has a disability"),
        ("landlord", Operator.IS_KNOWN, (True,), "the landlord is known"),
        ("age_years", Operator.IS_KNOWN, (False,), "the child's age is not known"),
    ],
    ids=["ordinal", "tenure", "plan", "any-plan", "age", "bool", "known", "not-known"],
)  # fmt: skip
def test_plain_words(fact: str, op: Operator, values: tuple[object, ...], words: str) -> None:
    assert Describer().describe(tree.Test(FACTS[fact], op, values, len(values) > 1, ())) == words


def test_pack_and_case_text_prints_literally(tmp_path: Path) -> None:
    # Rich markup, emoji codes and terminal control sequences in pack text (issue: hostile
    # input, item 9): printed as written, with the escape character made visible.
    text = (Path(__file__).resolve().parents[1] / "policies" / "north_lincs.yaml").read_text()
    hostile = "Offer [/bold] a further [see section 4a] appointment :thumbs_up: \x1b[31m"
    pack_file = tmp_path / "north_lincs.yaml"
    pack_file.write_text(
        text.replace(
            "title: Offer the family a further appointment", f"title: {json.dumps(hostile)}"
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["explain", "--pack", str(pack_file), "--as-of", "2026-11-25T09:00:00Z",
              str(EXAMPLES / "second_no_access.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Offer [/bold] a further [see section 4a] appointment :thumbs_up: \u241b[31m" in (
        result.output
    )
    assert "\x1b" not in result.output

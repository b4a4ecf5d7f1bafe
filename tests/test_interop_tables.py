"""Case-system exports as they really arrive (issue 29): written to `-o`, streamed case by
case, and mapped without rewriting them first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.cli._cases import OutputFormat
from failedcontact.cli._mapped import Source, assess_mapped
from failedcontact.interop.mapped import MappedCase
from failedcontact.interop.tables import map_rows, read_csv

from .conftest import ROOT
from .interop_builders import csv_rows_for, csv_text

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
CASE: dict[str, Any] = {
    "case_id": "A1",
    "child": {"date_of_birth": "2022-03-04"},
    "household": {"local_authority": "north_lincolnshire"},
    "events": [{"at": "2026-11-02T10:00:00", "type": "home_visit", "outcome": "no_response"}],
}


def _export(tmp_path: Path, *ids: str) -> Path:
    rows = [row for case_id in ids for row in csv_rows_for({**CASE, "case_id": case_id})]
    path = tmp_path / "contacts.csv"
    path.write_text(csv_text(rows))
    return path


@pytest.mark.parametrize("source", [Source.CSV, Source.FHIR])
def test_o_is_honoured_with_from(
    source: Source, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = (
        _export(tmp_path, "A1", "B2")
        if source is Source.CSV
        else ROOT / "examples" / "interop" / "second_no_access.fhir.json"
    )
    mapping = "case_system_csv" if source is Source.CSV else None
    out = tmp_path / "answers.jsonl"
    pack = fc.load_pack("north_lincs")
    assess_mapped(str(export), pack, AS_OF, source, mapping, None, OutputFormat.JSON, out)
    assert capsys.readouterr().out == ""
    written = out.read_text()
    if source is Source.CSV:
        assert [json.loads(line)["case_id"] for line in written.splitlines()] == ["A1", "B2"]
    else:
        assert json.loads(written)["risk_tier"]


def test_a_grouped_export_comes_case_by_case() -> None:
    """With where each case ends known, a case comes before the next case's rows are read."""
    read: list[int] = []

    def rows() -> object:
        for line, case_id in enumerate(["A", "A", "B", "C", "C"], start=2):
            read.append(line)
            yield line, {**csv_rows_for({**CASE, "case_id": case_id})[0]}

    out = map_rows(rows(), "case_system_csv", last_lines={"A": 3, "B": 4, "C": 6})  # type: ignore[arg-type]
    first = next(iter(out))
    assert isinstance(first, MappedCase) and first.case_id == "A"
    assert read == [2, 3]


def test_an_ungrouped_export_still_comes_in_first_appearance_order(tmp_path: Path) -> None:
    rows = [csv_rows_for({**CASE, "case_id": c})[0] for c in ["A", "B", "A", "C", "B"]]
    path = tmp_path / "contacts.csv"
    path.write_text(csv_text(rows))
    cases = list(read_csv(path, "case_system_csv"))
    assert [c.case_id for c in cases] == ["A", "B", "C"]
    assert [len(c.case.events) for c in cases if c.case] == [2, 2, 1]


# --- table mappings that fit real exports ---------------------------------------------------

HEAD = """mapping: table
id: site
version: 1.0.0
title: t
source: s
"""
REAL = (
    HEAD
    + """csv: {encoding: cp1252, delimiter: ";"}
case_id: {column: NHS Number, nhs_number: true}
time: {column: Date, time_column: Time, format: ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"]}
event:
  column: Type
  values:
    hv: {type: home_visit}
    appt: {type: appointment}
    "*": null
event_fields:
  outcome:
    columns: [Seen, Alone]
    types: [home_visit]
    values: {"Y|Y": child_seen, "Y|N": seen_not_alone, "N|*": no_response}
  appointment.outcome: {column: Seen, values: {Y: attended, N: not_brought}}
  setting: {column: Place}
case_fields:
  service: {value: social_care}
  child.plan:
    column: Plan
    values: {CP: child_protection, CIN: child_in_need}
    default: none
  child.disability:
    column: Disability
    split: ","
    values: {NONE: false, AUT: true, LD: true, MOB: true}
  flags: {column: Abuse, split: ",", values: {NEG: neglect, EMO: emotional_abuse}}
"""
)
EXPORT = (
    "NHS Number;Date;Time;Type;Seen;Alone;Place;Plan;Disability;Abuse\n"
    "943 476 5919;02/11/2026;10:00;HV;N;;Café Street;CIN;AUT,LD;NEG\n"
    "943 476 5919;2026-11-09;14:30:00;Appt;N;;Clinic;CP;;EMO\n"
    "943 476 5919;10/11/2026;09:00;NOTE;;;;CP;;\n"
    "943 476 5919;16/11/2026;11:15;hv;Y;N;;CP;;\n"
)


def _real(tmp_path: Path, text: str = EXPORT) -> MappedCase:
    from failedcontact.interop.mapping import load_mapping

    path = tmp_path / "export.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    [mapped] = read_csv(path, load_mapping("site.yaml", text=REAL))  # type: ignore[arg-type]
    assert not mapped.errors, [e.render() for e in mapped.errors]
    assert mapped.case is not None
    return mapped


def test_a_real_export_maps_without_rewriting(tmp_path: Path) -> None:
    mapped = _real(tmp_path)
    case = mapped.case
    assert case is not None
    assert case.case_id == "9434765919"  # NHS number, spaces removed
    assert case.service == "social_care"  # a constant
    assert case.child.disability is True  # `AUT,LD` in one cell
    assert case.flags == ("emotional_abuse", "neglect")
    assert case.child.plan == "child_protection"  # the latest row's plan
    events = [e.model_dump(mode="json", exclude_defaults=True) for e in case.events]
    plans = [e["plan"] for e in events if e["type"] == "plan_change"]
    assert plans == ["child_in_need", "child_protection"]  # the plan changes across rows
    assert [e["type"] for e in events].count("home_visit") == 2
    assert events[0]["at"].startswith("2026-11-02T10:00")  # date and time from two columns
    visit = [e for e in events if e["type"] == "home_visit"][-1]
    assert visit["outcome"] == "seen_not_alone" and visit["at"].startswith("2026-11-16T11:15")
    appointment = next(e for e in events if e["type"] == "appointment")
    assert appointment["setting"] == "Clinic" and appointment["outcome"] == "not_brought"
    notes = "\n".join(n.render() for n in mapped.notes)
    assert "`NOTE` is not an event" in notes  # the wildcard skips, and says so
    assert "`setting` is not read for a `home_visit` row" in notes


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("943 476 5919", "943 476 5918"), "check digit"),
        (("02/11/2026;10:00", "02/11/2026;"), "no time of day"),
        (("AUT,LD;NEG", "AUT,XX;NEG"), "unknown code `XX`"),
        (("10/11/2026;09:00", "10.11.2026;09:00"), "is not a time"),
    ],
    ids=["bad-nhs-number", "no-time-of-day", "unknown-part", "unknown-time-format"],
)
def test_a_real_export_s_bad_cells_are_errors(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    from failedcontact.interop.mapping import load_mapping

    path = tmp_path / "export.csv"
    path.write_bytes(EXPORT.replace(*change, 1).encode("cp1252"))
    mapped = list(read_csv(path, load_mapping("site.yaml", text=REAL)))  # type: ignore[arg-type]
    errors = [e for m in mapped for e in m.errors]
    assert any(expected in e.message for e in errors), [e.render() for e in errors]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEAD + "case_id: {column: A}\ntime: {column: T}\nevent: {column: E, values: "
         "{hv: {type: home_visit}, HV: {type: call}}}\n", "are the same code"),
        (HEAD + "case_id: {column: A}\ntime: {column: T}\nevent: {column: E, values: "
         "{HV: {type: home_visit}}}\nevent_fields: {setting: {column: L, types: [home_visit]}}\n",
         "is not a field of these events"),
        (HEAD + "case_id: {column: A}\ntime: {column: T}\nevent: {column: E, values: "
         "{HV: {type: home_visit}}}\ncase_fields: {child.plan: {value: on_a_plan}}\n",
         "is not a valid `child.plan`"),
        (HEAD + "case_id: {column: A}\ntime: {column: T}\nevent: {column: E, values: "
         "{HV: {type: home_visit}}}\nevent_fields: {outcome: {columns: [S, A], "
         "values: {Y: child_seen}}}\n", "has 1 parts for 2 columns"),
        (HEAD + "csv: {encoding: klingon}\ncase_id: {column: A}\ntime: {column: T}\n"
         "event: {column: E, values: {HV: {type: home_visit}}}\n", "unknown encoding"),
    ],
    ids=["codes-equal-ignoring-case", "field-not-of-type", "bad-constant", "parts-vs-columns",
         "unknown-encoding"],
)  # fmt: skip
def test_table_mapping_mistakes_are_refused(text: str, expected: str) -> None:
    from failedcontact.interop.mapping import check_mapping

    result = check_mapping("site.yaml", text=text)
    assert isinstance(result, list)
    assert any(expected in d.message for d in result), [d.message for d in result]


def test_a_windows_1252_export_is_read_in_its_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    rows = csv_rows_for({**CASE, "household": {**CASE["household"], "landlord": "Ongo Café"}})
    export = tmp_path / "contacts.csv"
    export.write_bytes(csv_text(rows).encode("cp1252"))
    pack = fc.load_pack("north_lincs")
    args = (str(export), pack, AS_OF, Source.CSV, "case_system_csv", None, OutputFormat.JSON)
    with pytest.raises(typer.Exit) as refused:
        assess_mapped(*args)
    assert refused.value.exit_code == 5
    assert "encoding" in capsys.readouterr().err
    assess_mapped(*args, None, ("cp1252", None))
    assert json.loads(capsys.readouterr().out)["case_id"] == "A1"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--delimiter", "ab"], "--delimiter `ab` must be one character"),
        (["--encoding", "nope"], "--encoding `nope` is not a text encoding"),
        (["--encoding", "cp1252", "--from", "fhir"], "are for --from csv"),
    ],
    ids=["long-delimiter", "unknown-codec", "not-csv"],
)
def test_a_bad_dialect_option_is_a_usage_error(
    tmp_path: Path, options: list[str], said: str
) -> None:
    from typer.testing import CliRunner

    from failedcontact.cli import app

    export = tmp_path / "export.csv"
    export.write_text("a;b\n", encoding="utf-8")
    args = ["assess", "--pack", "north_lincs", "--mapping", "case_system_csv", str(export)]
    if "--from" not in options:
        args[1:1] = ["--from", "csv"]
    result = CliRunner().invoke(app, [*args, *options])
    assert result.exit_code == 64, result.output
    assert said in result.output

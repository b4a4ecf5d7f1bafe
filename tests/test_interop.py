"""FHIR R4 bundles and case-system exports give the same assessment as the hand-written case.

The expected cases are the bundled examples under examples/ (hand-written JSON); the bundles
and exports under examples/interop/ hold the same histories as their source systems would.
Mapping decisions tested here are explained in docs/interop.md.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.errors import MappingError
from failedcontact.interop.fhir import FindingKind, MappedCase, map_bundle, task_bundle
from failedcontact.interop.mapping import check_mapping, load_mapping
from failedcontact.interop.tables import map_rows, read_csv

from .conftest import ROOT, Cli
from .interop_builders import (
    PREVIOUS,
    REASON,
    bundle_for,
    csv_rows_for,
    csv_text,
)

pytest.importorskip("fhir.resources")

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
PACK_OF = {
    "luton_concern": "pan_beds",
    "ne_lincs_protection_plan": "ne_lincs",
    "derbyshire_child_alone": "derbyshire",
    "suffolk_not_engaging": "suffolk",
}


def _pack(example: Path) -> fc.Pack:
    return fc.load_pack(PACK_OF.get(example.stem, "north_lincs"))


def _assessed(pack: fc.Pack, case: Any) -> dict[str, Any]:
    return pack.assess(case, as_of=AS_OF).model_dump(mode="json")


def _mapped_ok(mapped: MappedCase) -> fc.Case:
    assert not mapped.errors, [e.render() for e in mapped.errors]
    assert mapped.case is not None
    return mapped.case


# --- the done-when: each bundled example, three ways ------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_fhir_bundle_gives_the_hand_written_assessment(example: Path) -> None:
    pack = _pack(example)
    want = _assessed(pack, json.loads(example.read_text()))
    bundle = (ROOT / "examples" / "interop" / f"{example.stem}.fhir.json").read_bytes()
    assert _assessed(pack, _mapped_ok(map_bundle(bundle))) == want


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_csv_export_gives_the_hand_written_assessment(example: Path) -> None:
    pack = _pack(example)
    want = _assessed(pack, json.loads(example.read_text()))
    export = ROOT / "examples" / "interop" / f"{example.stem}.csv"
    [mapped] = list(read_csv(export, "case_system_csv"))
    assert _assessed(pack, _mapped_ok(mapped)) == want


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_parquet_export_gives_the_hand_written_assessment(example: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from failedcontact.interop.tables import read_parquet

    case = json.loads(example.read_text())
    pack = _pack(example)
    path = tmp_path / "contacts.parquet"
    pq.write_table(pa.Table.from_pylist(csv_rows_for(case)), path)
    [mapped] = list(read_parquet(path, "case_system_csv"))
    assert _assessed(pack, _mapped_ok(mapped)) == _assessed(pack, case)


def test_the_committed_interop_examples_are_the_builders_output() -> None:
    for example in EXAMPLES:
        case = json.loads(example.read_text())
        folder = ROOT / "examples" / "interop"
        assert json.loads((folder / f"{example.stem}.fhir.json").read_text()) == bundle_for(case)
        assert (folder / f"{example.stem}.csv").read_text() == csv_text(csv_rows_for(case))


def test_cli_from_fhir_and_csv_print_the_same_assessment_as_the_json(cli: Cli) -> None:
    common = ("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat())
    want = json.loads(cli(*common, "examples/second_no_access.json").stdout)
    fhir = cli(*common, "--from", "fhir", "examples/interop/second_no_access.fhir.json")
    assert fhir.exit_code == 0, fhir.stderr
    assert json.loads(fhir.stdout) == want
    table = cli(*common, "--from", "csv", "--mapping", "case_system_csv",
                "examples/interop/second_no_access.csv")  # fmt: skip
    assert table.exit_code == 0, table.stderr
    assert [json.loads(line) for line in table.stdout.splitlines()] == [want]


# --- FHIR: the awkward bundles ----------------------------------------------------------------

CHILD = {
    "case_id": "9990001112",
    "child": {"date_of_birth": "2022-03-04"},
    "household": {"local_authority": "north_lincolnshire"},
}


def _bundle(*events: dict[str, Any]) -> dict[str, Any]:
    return bundle_for({**CHILD, "events": list(events)})


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _events(mapped: MappedCase) -> list[dict[str, Any]]:
    case = _mapped_ok(mapped)
    return [e.model_dump(mode="json", exclude_defaults=True) for e in case.events]


def test_a_cancelled_appointment_with_no_reason_is_reported_not_guessed() -> None:
    bundle = _bundle({"at": "2026-11-02T10:00:00Z", "type": "appointment", "outcome": "attended"})
    appointment = _resources(bundle, "Appointment")[0]
    appointment["status"] = "cancelled"
    mapped = map_bundle(bundle)
    assert mapped.case is None
    [error] = mapped.errors
    assert error.resource == f"Appointment/{appointment['id']}"
    assert error.location.endswith(".resource.cancelationReason")
    assert "who cancelled is unknown" in error.message


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("pat", "cancelled_by_family"), ("pat-mv", "cancelled_by_family"),
     ("prov", "cancelled_by_service"), ("oth-room", "cancelled_by_service")],
    ids=["patient", "patient-moved", "provider", "room"],
)  # fmt: skip
def test_the_cancellation_reason_says_whose_side_cancelled(code: str, outcome: str) -> None:
    bundle = _bundle({"at": "2026-11-02T10:00:00Z", "type": "appointment", "outcome": "attended"})
    appointment = _resources(bundle, "Appointment")[0]
    appointment["status"] = "cancelled"
    appointment["cancelationReason"] = {"coding": [{"system": REASON, "code": code}]}
    assert _events(map_bundle(bundle))[0]["outcome"] == outcome


def test_an_unplaced_cancellation_reason_is_reported() -> None:
    bundle = _bundle({"at": "2026-11-02T10:00:00Z", "type": "appointment", "outcome": "attended"})
    appointment = _resources(bundle, "Appointment")[0]
    appointment["status"] = "cancelled"
    appointment["cancelationReason"] = {"coding": [{"system": REASON, "code": "oth-weath"}]}
    [error] = map_bundle(bundle).errors
    assert "oth-weath" in error.message


def test_a_time_without_an_offset_in_summer_is_uk_summer_time() -> None:
    bundle = _bundle({"at": "2026-07-01T10:00:00", "type": "home_visit", "outcome": "no_response"})
    _resources(bundle, "Encounter")[0]["period"]["start"] = "2026-07-01T10:00:00"
    mapped = map_bundle(bundle)
    case = _mapped_ok(mapped)
    assert case.events[0].at.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert case.events[0].at.astimezone(UTC).hour == 9
    assert any("read as UK local time" in n.message for n in mapped.notes)


def test_a_time_the_clocks_skip_is_an_error_at_its_location() -> None:
    bundle = _bundle({"at": "2026-03-29T01:30:00Z", "type": "home_visit", "outcome": "no_response"})
    _resources(bundle, "Encounter")[0]["period"]["start"] = "2026-03-29T01:30:00"
    [error] = map_bundle(bundle).errors
    assert error.location.endswith(".resource.period.start")
    assert "does not exist in UK local time" in error.message


def test_a_rebooked_chain_is_rearranged_twice_then_not_brought(north_lincs: fc.Pack) -> None:
    # north_lincs: disguised compliance is a rearranged appointment that is then not kept
    bundle = _bundle(
        {"at": "2026-11-02T10:00:00Z", "type": "appointment", "outcome": "rearranged_by_family"},
        {"at": "2026-11-09T10:00:00Z", "type": "appointment", "outcome": "rearranged_by_family"},
        {"at": "2026-11-16T10:00:00Z", "type": "appointment", "outcome": "not_brought"},
    )
    _, second, third = _resources(bundle, "Appointment")
    assert second["extension"][0]["url"] == PREVIOUS
    assert third["extension"][0]["valueReference"]["reference"] == f"Appointment/{second['id']}"
    case = _mapped_ok(map_bundle(bundle))
    outcomes = [e.outcome for e in case.events]  # type: ignore[union-attr]
    assert outcomes == ["rearranged_by_family", "rearranged_by_family", "not_brought"]
    patterns = [p.id for p in north_lincs.assess(case, as_of=AS_OF).patterns]
    assert "disguised_compliance" in patterns
    # without the later appointment naming it, the first is a plain family cancellation
    del second["extension"]
    outcomes = [e.outcome for e in _mapped_ok(map_bundle(bundle)).events]  # type: ignore[union-attr]
    assert outcomes[0] == "cancelled_by_family"


def test_an_encounter_for_an_adult_in_the_household_is_not_the_childs_contact() -> None:
    bundle = _bundle(
        {"at": "2026-11-02T10:00:00Z", "type": "home_visit", "outcome": "child_seen"},
        {"at": "2026-11-09T10:00:00Z", "type": "home_visit", "outcome": "no_response"},
    )
    adult = {"resourceType": "Patient", "id": "mother-1", "birthDate": "1990-01-01"}
    bundle["entry"].append({"fullUrl": "https://example.nhs.uk/fhir/Patient/mother-1",
                            "resource": adult})  # fmt: skip
    visit = _resources(bundle, "Encounter")[0]
    visit["subject"] = {"reference": "Patient/mother-1"}
    mapped = map_bundle(bundle, patient="child-9990001112")
    assert [e["outcome"] for e in _events(mapped)] == ["no_response"]
    assert any(n.resource == f"Encounter/{visit['id']}" and "not the child" in n.message
               for n in mapped.notes)  # fmt: skip
    # two Patients and no --patient: which one is the child is not guessed
    assert "expected one Patient" in map_bundle(bundle).errors[0].message


def test_duplicate_resources_are_read_once_or_reported() -> None:
    bundle = _bundle({"at": "2026-11-02T10:00:00Z", "type": "home_visit", "outcome": "no_response"})
    entry = bundle["entry"][-1]
    bundle["entry"].append(copy.deepcopy(entry))
    mapped = map_bundle(bundle)
    assert len(_events(mapped)) == 1
    assert any("read once" in n.message for n in mapped.notes)
    changed = copy.deepcopy(entry)
    changed["resource"]["type"][0]["coding"][0]["code"] = "child_seen"
    bundle["entry"][-1] = changed
    assert "two different versions" in map_bundle(bundle).errors[0].message
    entry["resource"]["meta"] = {"lastUpdated": "2026-11-02T11:00:00Z"}
    changed["resource"]["meta"] = {"lastUpdated": "2026-11-03T09:00:00Z"}
    assert [e["outcome"] for e in _events(map_bundle(bundle))] == ["child_seen"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: _resources(b, "Appointment")[0].update(status="arrivedd"),
         "status `arrivedd` is not in the mapping"),
        (lambda b: _resources(b, "Appointment")[0].update(start="soon"), "not valid FHIR R4"),
        (lambda b: _resources(b, "Patient")[0]["address"][0].update(district="Atlantis"),
         "district `Atlantis`"),
        (lambda b: _resources(b, "Patient")[0].update(birthDate="2022-03"),
         "not a whole date of birth"),
        (lambda b: _resources(b, "Encounter")[0].update(type=[]),
         "no outcome the mapping knows"),
        (lambda b: _resources(b, "Encounter")[0]["type"][0]["coding"][0].update(
            code="answered"), "the mapped case is invalid"),
    ],
    ids=["unknown-status", "invalid-fhir", "unknown-district", "partial-birth-date",
         "no-outcome", "wrong-outcome-for-type"],
)  # fmt: skip
def test_what_cannot_be_mapped_is_an_error_naming_the_resource(
    change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    bundle = _bundle(
        {"at": "2026-11-02T10:00:00Z", "type": "appointment", "outcome": "attended"},
        {"at": "2026-11-09T10:00:00Z", "type": "home_visit", "outcome": "no_response"},
    )
    change(bundle)
    mapped = map_bundle(bundle)
    assert mapped.case is None
    assert any(expected in e.message for e in mapped.errors), [e.render() for e in mapped.errors]
    assert all((e.kind is FindingKind.ERROR and "/" in e.resource) or e.resource == "Bundle"
               for e in mapped.errors)  # fmt: skip


def test_resources_outside_a_contact_history_are_noted_not_dropped_silently() -> None:
    bundle = _bundle({"at": "2026-11-02T10:00:00Z", "type": "home_visit", "outcome": "child_seen"})
    bundle["entry"].append({"resource": {"resourceType": "Immunization", "id": "imm-1"}})
    booked = {"resourceType": "Appointment", "id": "next", "status": "booked",
              "start": "2026-12-01T10:00:00Z", "participant": [{"status": "accepted"}]}  # fmt: skip
    bundle["entry"].append({"resource": booked})
    mapped = map_bundle(bundle)
    assert len(_events(mapped)) == 1
    noted = {n.resource for n in mapped.notes}
    assert {"Immunization/imm-1", "Appointment/next"} <= noted


@pytest.mark.parametrize(
    "bundle",
    [b"not json", b"[]", b'{"resourceType": "Patient"}', b'{"resourceType": "Bundle"}'],
    ids=["not-json", "a-list", "not-a-bundle", "no-patient"],
)
def test_what_is_not_a_bundle_is_an_error(bundle: bytes) -> None:
    mapped = map_bundle(bundle)
    assert mapped.case is None and mapped.errors


def test_bundle_to_case_raises_a_case_error_naming_each_resource() -> None:
    from failedcontact.interop.fhir import bundle_to_case

    bundle = _bundle({"at": "2026-11-02T10:00:00Z", "type": "appointment", "outcome": "attended"})
    _resources(bundle, "Appointment")[0]["status"] = "cancelled"
    with pytest.raises(fc.CaseError) as raised:
        bundle_to_case(bundle)
    assert raised.value.issues[0].path.endswith("cancelationReason")


# --- FHIR out, and back in ---------------------------------------------------------------------


def test_tasks_carry_status_due_and_citation_and_validate_as_fhir(north_lincs: fc.Pack) -> None:
    from fhir.resources.R4B.bundle import Bundle

    case = json.loads((ROOT / "examples" / "second_no_access.json").read_text())
    assessment = north_lincs.assess(case, as_of=AS_OF)
    tasks = task_bundle(assessment, "Patient/child-1")
    Bundle.model_validate(tasks)
    by_instance = {
        (e["resource"]["code"]["coding"][0]["code"], e["resource"]["identifier"][0]["value"]): (
            e["resource"]
        )
        for e in tasks["entry"]
    }
    assert len(by_instance) == len(assessment.actions)  # one Task per instance, per-event too
    for action in assessment.actions:
        instance = f"{assessment.case_id}/{action.id}/{action.trigger.event}"
        task = by_instance[(action.id, instance)]
        assert task["for"] == {"reference": "Patient/child-1"}
        assert task["reasonCode"]["text"] == action.citation
        assert task["status"] == ("completed" if action.status == "done" else "requested")
        due = action.model_dump(mode="json")["due"]
        assert task.get("restriction", {}).get("period", {}).get("end") == due


def test_completed_tasks_read_back_mark_their_actions_done(north_lincs: fc.Pack) -> None:
    case = json.loads((ROOT / "examples" / "second_no_access.json").read_text())
    bundle = bundle_for(case)
    before = north_lincs.assess(_mapped_ok(map_bundle(bundle)), as_of=AS_OF)
    open_ids = [a.id for a in before.actions if a.status != "done"]
    assert open_ids
    child = {"reference": f"Patient/{_resources(bundle, 'Patient')[0]['id']}"}
    for entry in task_bundle(before)["entry"]:
        task = entry["resource"]
        if task["status"] == "requested":
            done = {"end": "2026-11-24T12:00:00Z"}
            task |= {"status": "completed", "executionPeriod": done, "for": child}
            bundle["entry"].append({"resource": task})
    after = north_lincs.assess(_mapped_ok(map_bundle(bundle)), as_of=AS_OF)
    assert all(a.status == "done" for a in after.actions if a.id in open_ids)


# --- tables ----------------------------------------------------------------------------------


def _rows(*cases: dict[str, Any]) -> list[tuple[int, dict[str, str]]]:
    rows = [row for case in cases for row in csv_rows_for(case)]
    return list(enumerate(rows, start=2))


def test_rows_are_grouped_into_cases_in_first_appearance_order() -> None:
    first = {**CHILD, "case_id": "B", "events": [
        {"at": "2026-11-02T10:00:00", "type": "home_visit", "outcome": "no_response"}]}  # fmt: skip
    second = {**CHILD, "case_id": "A", "events": [
        {"at": "2026-11-03T10:00:00", "type": "call", "outcome": "no_answer"},
        {"at": "2026-11-01T10:00:00", "type": "home_visit", "outcome": "child_seen"}]}  # fmt: skip
    rows = _rows(first, second)
    rows.insert(1, rows.pop())  # interleave: B, A, B... the export need not be sorted
    mapped = list(map_rows(rows, "case_system_csv"))
    assert [m.case_id for m in mapped] == ["B", "A"]
    a_events = _mapped_ok(mapped[1]).events
    assert [e.type for e in a_events] == ["home_visit", "call"]  # in time order
    assert mapped[1].sources == ("line 4", "line 3")  # each event keeps its row's line


def test_an_unmappable_row_is_reported_with_its_line_number() -> None:
    case = {**CHILD, "events": [
        {"at": "2026-11-02T10:00:00", "type": "home_visit", "outcome": "no_response"},
        {"at": "2026-11-03T10:00:00", "type": "home_visit", "outcome": "no_response"}]}  # fmt: skip
    rows = _rows(case)
    rows[1][1]["Outcome"] = "GONE"
    [mapped] = map_rows(rows, "case_system_csv")
    [error] = mapped.errors
    assert error.location == "line 3, column `Outcome`"
    assert "unknown code `GONE`" in error.message


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [("ContactDateTime", "2026-11-03", "is not a time"), ("DOB", "03/2022", "does not match"),
     ("ContactType", "XX", "unknown code `XX`"), ("LA", "Atlantis", "unknown code `Atlantis`"),
     ("Tenure", "HA", "`household.tenure` is `housing_association` here but `unknown` on line 2")],
    ids=["time", "birth-date", "contact-type", "area", "conflicting-tenure"],
)  # fmt: skip
def test_bad_cells_are_errors_with_line_and_column(column: str, value: str, expected: str) -> None:
    case = {**CHILD, "events": [
        {"at": "2026-11-02T10:00:00", "type": "home_visit", "outcome": "no_response"},
        {"at": "2026-11-03T10:00:00", "type": "home_visit", "outcome": "no_response"}]}  # fmt: skip
    rows = _rows(case)
    rows[1][1][column] = value
    [mapped] = map_rows(rows, "case_system_csv")
    assert mapped.case is None
    assert any(expected in e.message and e.location.startswith("line 3") for e in mapped.errors), [
        e.render() for e in mapped.errors
    ]


def test_cli_writes_an_error_record_in_place_of_an_unmappable_case(
    cli: Cli, tmp_path: Path
) -> None:
    good = {**CHILD, "case_id": "GOOD", "events": [
        {"at": "2026-11-02T10:00:00", "type": "home_visit", "outcome": "no_response"}]}  # fmt: skip
    bad = {**good, "case_id": "BAD"}
    rows = csv_rows_for(bad) + csv_rows_for(good)
    rows[0]["Outcome"] = "GONE"
    export = tmp_path / "contacts.csv"
    export.write_text(csv_text(rows))
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), "--from", "csv",
                 "--mapping", "mappings/case_system_csv.yaml", str(export))  # fmt: skip
    assert result.exit_code == 2
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["case_id"] == "BAD" and "line 2" in first["errors"][0]["path"]
    assert second["case_id"] == "GOOD" and second["risk_tier"]
    assert "GONE" in result.stderr


def test_cli_a_mapped_case_the_pack_rejects_is_an_error_not_a_crash(
    cli: Cli, tmp_path: Path
) -> None:
    """The Derbyshire bundle carries a flag North Lincolnshire's pack does not declare."""
    common = ("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat())
    one = cli(*common, "--from", "fhir", "examples/interop/derbyshire_child_alone.fhir.json")
    assert one.exit_code == 2
    assert one.stdout == ""
    assert "flags[0]: unknown flag `address_dangerous`" in one.stderr
    assert "the bundle could not be assessed" in one.stderr

    good = {**CHILD, "case_id": "GOOD", "events": [
        {"at": "2026-11-02T10:00:00", "type": "home_visit", "outcome": "no_response"}]}  # fmt: skip
    flagged = {**good, "case_id": "FLAGGED", "flags": ["address_dangerous"]}
    export = tmp_path / "contacts.csv"
    export.write_text(csv_text(csv_rows_for(flagged) + csv_rows_for(good)))
    batch = cli(*common, "--from", "csv", "--mapping", "case_system_csv", str(export))
    assert batch.exit_code == 2
    first, second = (json.loads(line) for line in batch.stdout.splitlines())
    assert first == {
        "case_id": "FLAGGED",
        "errors": [
            {
                "path": "flags[0]",
                "message": "unknown flag `address_dangerous`; pack `north_lincs` declares: none",
            }
        ],
    }
    assert second["case_id"] == "GOOD" and second["risk_tier"]
    assert "1 case(s) could not be mapped or assessed" in batch.stderr


def test_an_export_missing_a_column_names_it(tmp_path: Path) -> None:
    export = tmp_path / "contacts.csv"
    export.write_text("PersonID,ContactDateTime\nA,02/11/2026 10:00\n")
    with pytest.raises(fc.CaseError, match="no column `ContactType`"):
        list(read_csv(export, "case_system_csv"))


# --- mapping files ----------------------------------------------------------------------------


def test_the_bundled_mappings_check_clean_and_every_fhir_entry_cites_a_source() -> None:
    for name in ("fhir_uk_core", "case_system_csv"):
        assert not isinstance(check_mapping(name), list)
    document = load_mapping("fhir_uk_core").document
    entries = [*document.appointment_status.values(), *document.cancellation_reasons,  # type: ignore[union-attr]
               *document.encounter_classes, *document.codes]  # type: ignore[union-attr]  # fmt: skip
    assert entries and all(len(e.source) > 10 for e in entries)


MAPPING_HEAD = """mapping: table
id: test_map
version: 1.0.0
title: t
source: s
case_id: {column: Id}
time: {column: At}
"""


@pytest.mark.parametrize(
    ("tail", "where", "code", "message", "help_line"),
    [
        ("event: {column: T, values: {HV: {type: home_visit, outcome: child_seeen}}}\n",
         (8, 8), "mapping.value", "is not a valid `outcome`", "did you mean `child_seen`?"),
        ("event: {column: T, values: {HV: {type: home_vist}}}\n", (8, 8), "mapping.value",
         "unknown event type `home_vist`", "did you mean `home_visit`?"),
        ("event: {column: T, values: {HV: {type: home_visit}}}\ncase_fields:\n"
         "  child.plann: {column: P}\n", (10, 3), "mapping.value",
         "unknown case field `child.plann`", "did you mean `child.plan`?"),
        ("event: {column: T, values: {HV: {type: home_visit}}}\ncolour: red\n", (9, 1),
         "mapping.unknown-field", "unknown field `colour`", None),
        ("event: {column: T, values: {HV: {type: home_visit}}}\ncase_fields:\n"
         "  service: {column: S, values: {X: universel}}\n", (10, 3), "mapping.value",
         "is not a valid `service`", None),
    ],
    ids=["outcome-typo", "event-type-typo", "case-field-typo", "unknown-key", "bad-value"],
)  # fmt: skip
def test_mapping_mistakes_are_located_with_help(
    tail: str, where: tuple[int, int], code: str, message: str, help_line: str | None
) -> None:
    result = check_mapping("m.yaml", text=MAPPING_HEAD + tail)
    assert isinstance(result, list)
    [diagnostic] = result
    assert diagnostic.code == code and message in diagnostic.message, diagnostic.render()
    assert diagnostic.line >= where[0] - 1 and diagnostic.file == "m.yaml"
    if help_line:
        assert diagnostic.help == help_line


def test_a_fhir_mapping_entry_without_a_source_is_refused() -> None:
    text = (ROOT / "mappings" / "fhir_uk_core.yaml").read_text()
    text = text.replace(
        '    source: "FHIR R4 AppointmentStatus `noshow`: some or all participants did not '
        'show; for a child, not brought"\n',
        "",
    )
    result = check_mapping("fhir.yaml", text=text)
    assert isinstance(result, list)
    assert result[0].code == "mapping.missing-field" and "`source`" in result[0].message


def test_check_and_schema_take_mapping_files(cli: Cli, tmp_path: Path) -> None:
    assert cli("check", "mappings/fhir_uk_core.yaml").exit_code == 0
    broken = tmp_path / "map.yaml"
    broken.write_text(MAPPING_HEAD + "event: {column: T, values: {HV: {type: home_vist}}}\n")
    result = cli("check", str(broken))
    assert result.exit_code == 3
    assert f"{broken}:8:" in result.stderr and "home_vist" in result.stderr
    schema = json.loads(cli("schema", "mapping").stdout)
    assert json.loads((ROOT / "schemas" / "mapping.schema.json").read_text()) == schema


def test_an_unknown_mapping_is_an_error_with_the_bundled_ids(cli: Cli) -> None:
    with pytest.raises(MappingError, match="fhir_uk_core"):
        load_mapping("fhir_uk_cor")
    result = cli("assess", "--pack", "north_lincs", "--from", "fhir", "--mapping", "nope",
                 "examples/interop/second_no_access.fhir.json")  # fmt: skip
    assert result.exit_code == 3


def test_a_missing_mapping_file_is_named_without_the_system_error(cli: Cli, tmp_path: Path) -> None:
    gone = tmp_path / "gone.yaml"
    result = cli("assess", "--pack", "north_lincs", "--from", "csv", "--mapping", str(gone),
                 "examples/interop/second_no_access.csv")  # fmt: skip
    assert result.exit_code == 3
    assert f"error[mapping.not-found]: no mapping file `{gone}`" in result.stderr
    assert "Errno" not in result.stderr and f"{gone}:" not in result.stderr


def test_the_wrong_kind_of_mapping_is_a_usage_error(cli: Cli) -> None:
    result = cli("assess", "--pack", "north_lincs", "--from", "csv", "--mapping", "fhir_uk_core",
                 "examples/interop/second_no_access.csv")  # fmt: skip
    assert result.exit_code == 64 and "needs a `table` one" in result.stderr


def test_tasks_word_status_and_contacts_as_every_view_does() -> None:
    """Issue 30: one wording for each thing, shared by explain, the report and FHIR Tasks."""
    from failedcontact.views.wording import call_line, status_words

    pack = fc.load_pack("pan_beds")
    case = json.loads((ROOT / "examples" / "luton_concern.json").read_text())
    assessment = pack.assess(case, as_of=datetime(2026, 11, 30, 9, tzinfo=UTC))
    tasks = task_bundle(assessment)
    for entry, action in zip(tasks["entry"], assessment.actions, strict=True):
        task = entry["resource"]
        assert task["businessStatus"]["text"] == status_words(action.status)
        notes = [note["text"] for note in task.get("note", [])]
        assert notes == [call_line(c.name, c.phone) for c in action.contacts]
    assert any(entry["resource"].get("note") for entry in tasks["entry"])

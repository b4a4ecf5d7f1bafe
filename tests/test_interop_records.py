"""Records as they really arrive (issue 29): NHS England CP-IS, UK Core, ordinary GP records.

Each test here failed on the readers before issue 29. The CP-IS bundle is a small copy of
the shape NHS England publishes (tests/data/interop/README.md says where from).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.interop.fhir import MappedCase, map_bundle
from failedcontact.interop.mapping import check_mapping, load_mapping
from failedcontact.interop.nhs_number import nhs_number_problem, normal_nhs_number

from .conftest import ROOT
from .interop_builders import bundle_for

pytest.importorskip("fhir.resources")

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
DATA = ROOT / "tests" / "data" / "interop"
SCT = "http://snomed.info/sct"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
CHILD_NHS = "9449306753"
CHILD = "Patient/PatientFlag-AlanMann-Example"
FLAG_SYSTEM = "https://fhir.nhs.uk/England/CodeSystem/England-FlagCategoryPatient"


def _cpis() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((DATA / "cpis_patientflag_bundle.json").read_text())
    return bundle


def _add(bundle: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    resource.setdefault("id", f"r{len(bundle['entry'])}")
    bundle["entry"].append({"resource": resource})
    return bundle


def _without(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != kind]
    return bundle


def _noshow(actor: dict[str, Any] | None = None, start: str = "2026-11-20T10:00:00Z") -> Any:
    return {
        "resourceType": "Appointment",
        "status": "noshow",
        "start": start,
        "end": start,
        "participant": [{"actor": actor or {"reference": CHILD}, "status": "accepted"}],
    }


def _ok(mapped: MappedCase) -> fc.Case:
    assert not mapped.errors, [e.render() for e in mapped.errors]
    assert mapped.case is not None
    return mapped.case


def _notes(mapped: MappedCase) -> str:
    return "\n".join(n.render() for n in mapped.notes)


# --- CP-IS as NHS England publishes it ----------------------------------------------------


def _plan_record(kind: str, code: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "resourceType": kind,
        "status": "active",
        "category": [{"coding": [{"system": SCT, "code": code}]}],
        "subject": {"reference": CHILD},
    }
    if kind == "CarePlan":
        record["intent"] = "plan"
    return record


@pytest.mark.parametrize(
    ("change", "plan", "unborn"),
    [
        (lambda b: b, "child_protection", False),
        (lambda b: _without(b, "CarePlan"), "child_protection", False),
        (lambda b: _add(_without(b, "CarePlan"), _plan_record("CareTeam", "764841000000100")),
         "looked_after", False),
        (lambda b: _add(_without(b, "CarePlan"), _plan_record("CareTeam", "818901000000100")),
         "child_protection", True),
        (lambda b: _add(_without(b, "CarePlan"), _plan_record("CarePlan", "764841000000100")),
         "looked_after", False),
    ],
    ids=["published-bundle", "flag-alone", "care-team-looked-after", "care-team-unborn",
         "care-plan-looked-after"],
)  # fmt: skip
def test_cp_is_as_nhs_england_publishes_it_sets_the_plan(
    change: Any, plan: str, unborn: bool
) -> None:
    mapped = map_bundle(change(_cpis()))
    case = _ok(mapped)
    assert case.child.plan == plan
    assert case.child.unborn is unborn
    assert "child.plan" in _notes(mapped)  # the note names where the plan came from


def test_a_cp_is_flag_that_gives_way_to_a_plan_code_says_so() -> None:
    bundle = _add(_without(_cpis(), "CarePlan"), _plan_record("CareTeam", "764841000000100"))
    mapped = map_bundle(bundle)
    assert _ok(mapped).child.plan == "looked_after"
    assert "`child.plan: child_protection` gives way to `looked_after`" in _notes(mapped)


def test_a_cp_is_child_not_brought_is_high_risk() -> None:
    bundle = _add(_cpis(), _noshow())
    case = _ok(map_bundle(bundle))
    assert case.household.local_authority == "north_lincolnshire"  # from the UK Core city
    assessment = fc.load_pack("north_lincs").assess(case, as_of=AS_OF)
    assert assessment.risk_tier == "high"
    assert assessment.failed_contacts == 1


def test_an_inactive_cp_is_plan_is_noted_not_applied() -> None:
    bundle = _without(_cpis(), "Flag")
    bundle["entry"][-1]["resource"]["status"] = "completed"
    mapped = map_bundle(bundle)
    assert _ok(mapped).child.plan == "none"
    assert "says nothing about today" in _notes(mapped)


# --- another person's contact ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "counted"),
    [
        ({"identifier": {"system": NHS, "value": "9434765919"}}, False),
        ({"type": "Patient", "identifier": {"system": NHS, "value": "943 476 5919"}}, False),
        ({"reference": "RelatedPerson/mother"}, False),
        ({"identifier": {"system": NHS, "value": "944 930 6753"}}, True),
        ({"reference": CHILD}, True),
    ],
    ids=["other-nhs-number", "other-nhs-number-typed", "related-person", "own-nhs-number",
         "own-reference"],
)  # fmt: skip
def test_only_the_childs_own_contacts_count(actor: dict[str, Any], counted: bool) -> None:
    mapped = map_bundle(_add(_cpis(), _noshow(actor)))
    events = _ok(mapped).events
    assert len(events) == (1 if counted else 0)
    if not counted:
        assert "not the child" in _notes(mapped)


def test_an_encounter_whose_subject_is_another_nhs_number_is_not_the_childs() -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": ACT, "code": "HH"},
        "type": [{"coding": [{"system": SCT, "code": "185471009"}]}],
        "subject": {"identifier": {"system": NHS, "value": "9434765919"}},
        "period": {"start": "2026-11-20T10:00:00Z"},
    }
    mapped = map_bundle(_add(_cpis(), encounter))
    assert _ok(mapped).events == ()
    assert "9434765919" in _notes(mapped)


# --- resources that are not contacts --------------------------------------------------------

_ALLERGY_FLAG = {
    "resourceType": "Flag",
    "status": "active",
    "code": {"coding": [{"system": SCT, "code": "609328004", "display": "Allergic disposition"}]},
    "subject": {"reference": CHILD},
}


@pytest.mark.parametrize(
    "resource",
    [
        _ALLERGY_FLAG,
        {**_ALLERGY_FLAG, "status": "inactive"},
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
         "code": {"coding": [{"system": SCT, "code": "306206005"}]},
         "subject": {"reference": CHILD}, "authoredOn": "2026-11-01T10:00:00Z"},
        {"resourceType": "Communication", "status": "completed",
         "medium": [{"coding": [{"system": "urn:local", "code": "portal"}]}],
         "subject": {"reference": CHILD}, "sent": "2026-11-01T10:00:00Z"},
        {"resourceType": "CareTeam", "status": "active",
         "category": [{"coding": [{"system": "http://loinc.org", "code": "LA27976-2"}]}],
         "subject": {"reference": CHILD}},
    ],
    ids=["allergy-flag", "inactive-unknown-flag", "referral", "notification", "care-team"],
)  # fmt: skip
def test_a_resource_that_is_not_a_contact_is_noted_never_fatal(resource: dict[str, Any]) -> None:
    mapped = map_bundle(_add(_cpis(), copy.deepcopy(resource)))
    assert _ok(mapped).child.plan == "child_protection"
    assert resource["resourceType"] in _notes(mapped)


MAPPING = (ROOT / "mappings" / "fhir_uk_core.yaml").read_text()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("  - {resource: Communication, system: x, codes: [a], set: {child.plan: child_in_need},"
         " source: s}\n", "would have no effect"),
        ("  - {resource: ServiceRequest, system: x, codes: [a], value_to: service, source: s}\n",
         "would have no effect"),
        ("  - {resource: Observation, system: x, codes: [a], event: {type: concern}, source: s}\n",
         "would have no effect"),
        ("  - {resource: Flag, system: x, codes: [a], classes: [HH], set: {}, source: s}\n",
         "limits Encounter rules only"),
        ("  - {resource: Encounter, system: x, codes: [a], classes: [ZZ], event: {}, source: s}\n",
         "class `ZZ` is not listed"),
    ],
    ids=["communication-set", "service-request-value", "observation-event", "classes-on-flag",
         "unknown-class"],
)  # fmt: skip
def test_check_refuses_rules_that_can_have_no_effect(rule: str, expected: str) -> None:
    result = check_mapping("map.yaml", text=MAPPING.replace("\ncodes:\n", "\ncodes:\n" + rule))
    assert isinstance(result, list)
    assert any(expected in d.message for d in result), [d.message for d in result]


# --- Encounter as FHIR means it ---------------------------------------------------------------


def _encounter(klass: str, *, type_code: str | None = None, reason: str | None = None) -> Any:
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": ACT, "code": klass},
        "subject": {"reference": CHILD},
        "period": {"start": "2026-11-20T10:00:00Z"},
    }
    if type_code:
        encounter["type"] = [{"coding": [{"system": SCT, "code": type_code}]}]
    if reason:
        encounter["reasonCode"] = [{"coding": [{"system": SCT, "code": reason}]}]
    return encounter


@pytest.mark.parametrize(
    ("encounter", "expected"),
    [
        (_encounter("AMB", type_code="390906007", reason="27113001"),
         {"type": "appointment", "outcome": "attended"}),
        (_encounter("HH", type_code="281399006"), {"type": "home_visit", "outcome": "no_response"}),
        (_encounter("HH", type_code="185471009"), {"type": "home_visit", "outcome": "no_response"}),
        (_encounter("HH", type_code="414186007"),
         {"type": "home_visit", "outcome": "access_refused"}),
        (_encounter("AMB", type_code="956821000000104"),
         {"type": "appointment", "outcome": "not_brought"}),
        (_encounter("AMB", type_code="185332005"),
         {"type": "appointment", "outcome": "cancelled_by_family"}),
        (_encounter("VR", type_code="185340004"), {"type": "call", "outcome": "no_answer"}),
    ],
    ids=["clinic-with-a-reason", "dna-on-home-visit", "home-visit-no-reply", "access-denied",
         "hv-contact-dna", "cancelled-by-patient", "call-answer-machine"],
)  # fmt: skip
def test_an_encounter_is_read_as_fhir_means_it(encounter: Any, expected: dict[str, Any]) -> None:
    case = _ok(map_bundle(_add(_cpis(), encounter)))
    assert [e.model_dump(mode="json", include={"type", "outcome"}) for e in case.events] == [
        expected
    ]


def test_a_home_visit_with_an_outcome_only_in_reason_code_points_at_type() -> None:
    mapped = map_bundle(_add(_cpis(), _encounter("HH", reason="185471009")))
    assert mapped.case is None
    assert mapped.errors[0].location.endswith(".type")
    assert "is a reason" in mapped.errors[0].message


def test_an_adults_no_show_is_told_apart() -> None:
    bundle = _cpis()
    bundle["entry"][0]["resource"]["birthDate"] = "2000-01-01"
    mapped = map_bundle(_add(bundle, _noshow()))
    assert len(_ok(mapped).events) == 1
    assert "an adult's own missed appointment" in _notes(mapped)


@pytest.mark.parametrize("status", ["arrived", "checked-in"])
def test_arrived_is_not_attended(status: str) -> None:
    appointment = {**_noshow(), "status": status}
    mapped = map_bundle(_add(_cpis(), appointment))
    assert _ok(mapped).events == ()
    assert "not yet seen" in _notes(mapped)


# --- UK Core: NHS numbers and the local authority --------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [("9449306753", None), ("944 930 6753", None), ("944-930-6753", None),
     ("9449306754", "check digit"), ("944930675", "10 digits"), ("ABCDEFGHIJ", "10 digits")],
)  # fmt: skip
def test_nhs_numbers_are_normalised_and_checked(value: str, problem: str | None) -> None:
    found = nhs_number_problem(normal_nhs_number(value))
    assert found is None if problem is None else problem in str(found)


def test_a_patient_with_a_bad_nhs_number_is_an_error_at_the_identifier() -> None:
    bundle = _cpis()
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "9449306754"
    mapped = map_bundle(bundle)
    assert mapped.case is None
    assert mapped.errors[0].location.endswith("identifier[0].value")


def test_the_case_id_is_the_normalised_nhs_number() -> None:
    bundle = _cpis()
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "944 930 6753"
    assert _ok(map_bundle(bundle)).case_id == "9449306753"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ({"city": "Scunthorpe", "district": "Lincolnshire"}, "north_lincolnshire"),
        ({"city": "Derby", "district": "Derbyshire"}, "derby"),
        ({"city": "Chesterfield", "district": "Derbyshire"}, "derbyshire"),
        ({"city": "Anytown", "postalCode": "LU1 1AA"}, "luton"),
    ],
    ids=["town", "city-inside-a-county", "county", "postcode"],
)  # fmt: skip
def test_the_local_authority_comes_from_the_address_as_uk_core_carries_it(
    address: dict[str, str], expected: str
) -> None:
    text = MAPPING.replace("\nlocal_authorities:\n", "\nlocal_authority_postcodes: {LU1: luton}\n"
                           "local_authorities:\n")  # fmt: skip
    mapping = load_mapping("site.yaml", text=text)
    bundle = _cpis()
    bundle["entry"][0]["resource"]["address"] = [{"use": "home", **address}]
    assert _ok(map_bundle(bundle, mapping)).household.local_authority == expected  # type: ignore[arg-type]


def test_an_address_naming_no_known_authority_is_an_error_listing_what_was_tried() -> None:
    bundle = _cpis()
    bundle["entry"][0]["resource"]["address"] = [{"use": "home", "city": "Atlantis"}]
    mapped = map_bundle(bundle)
    assert mapped.case is None
    assert "city `Atlantis`" in mapped.errors[0].message


def test_the_builders_still_round_trip() -> None:
    case = {"case_id": "9434765919", "events": []}
    assert _ok(map_bundle(bundle_for(case))).case_id == "9434765919"


# --- FHIR out ---------------------------------------------------------------------------------


def test_tasks_have_real_uuids_that_reruns_agree_on_and_no_nhs_number_in_ids() -> None:
    import uuid

    from failedcontact.interop.fhir import task_bundle

    bundle = _add(_cpis(), _noshow())
    case = _ok(map_bundle(bundle))
    assessment = fc.load_pack("north_lincs").assess(case, as_of=AS_OF)
    first, again = (task_bundle(assessment, CHILD) for _ in range(2))
    assert first == again and first["entry"]
    for entry in first["entry"]:
        task_id = entry["resource"]["id"]
        assert uuid.UUID(task_id).version == 5
        assert entry["fullUrl"] == f"urn:uuid:{task_id}"
        assert CHILD_NHS not in task_id


def test_a_case_with_no_actions_has_no_empty_entry_array() -> None:
    from failedcontact.interop.fhir import task_bundle

    assessment = fc.load_pack("north_lincs").assess(fc.Case(case_id="9434765919"), as_of=AS_OF)
    assert assessment.actions == []
    bundle = task_bundle(assessment)
    assert "entry" not in bundle
    assert not any(value == [] for value in bundle.values())


@pytest.mark.parametrize(
    ("rule", "resource"),
    [
        ("  - {resource: EpisodeOfCare, system: 'urn:la', codes: [CPP], "
         "set: {child.plan: child_protection}, source: s}\n",
         {"resourceType": "EpisodeOfCare", "status": "active",
          "type": [{"coding": [{"system": "urn:la", "code": "CPP"}]}],
          "patient": {"reference": CHILD}}),
        ("  - {resource: Condition, system: 'urn:la', codes: [CPP], "
         "set: {child.plan: child_protection}, source: s}\n",
         {"resourceType": "Condition", "subject": {"reference": CHILD},
          "clinicalStatus": {"coding": [{"system":
           "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
          "code": {"coding": [{"system": "urn:la", "code": "CPP"}]}}),
    ],
    ids=["episode-of-care", "condition"],
)  # fmt: skip
def test_a_mapping_can_set_the_plan_from_other_resource_types(
    rule: str, resource: dict[str, Any]
) -> None:
    mapping = load_mapping("site.yaml", text=MAPPING.replace("\ncodes:\n", "\ncodes:\n" + rule))
    bundle = _without(_without(_cpis(), "Flag"), "CarePlan")
    assert _ok(map_bundle(bundle)).child.plan == "none"
    mapped = map_bundle(_add(bundle, resource), mapping)  # type: ignore[arg-type]
    assert _ok(mapped).child.plan == "child_protection"


def test_a_condition_is_not_read_when_the_mapping_has_no_rule_for_it() -> None:
    condition = {"resourceType": "Condition", "subject": {"reference": CHILD}, "code": "asthma"}
    mapped = map_bundle(_add(_cpis(), condition))  # not valid FHIR, and not read
    assert _ok(mapped).child.plan == "child_protection"
    assert "not part of a contact history" in _notes(mapped)


def test_the_hl7_r4_examples_are_read_as_fhir_means_them() -> None:
    """HL7's own examples: a booked appointment is not yet a contact (noted), a finished home
    visit with no outcome in `type` is an error there, and an address in no English local
    authority is an error naming what was tried; nothing is a crash."""
    mapped = map_bundle((DATA / "hl7_r4_examples_bundle.json").read_bytes())
    assert mapped.case is None
    errors = {e.resource: e for e in mapped.errors}
    assert errors["Encounter/home"].location.endswith(".type")
    assert "city `PleasantVille`, district `Rainbow`" in errors["Patient/example"].message
    assert "Appointment/example" in _notes(mapped)

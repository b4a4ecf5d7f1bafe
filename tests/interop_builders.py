"""Build realistic FHIR R4 bundles and case-system CSV rows from a case, as the sources would.

Used by the interop tests and to write the examples under examples/interop/. A case system
or EHR would hold these records natively; the builders only express the same history in
those shapes (UK Core identifiers and codes, the mapping files' local codes).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

FC = "https://fhir.failedcontact.org/CodeSystem/"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
CASE_ID = "https://fhir.failedcontact.org/Id/case"
PREVIOUS = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.previousAppointment"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"

AREAS = {
    "north_lincolnshire": "North Lincolnshire",
    "north_east_lincolnshire": "North East Lincolnshire",
    "bedford": "Bedford",
    "central_bedfordshire": "Central Bedfordshire",
    "luton": "Luton",
    "derby": "Derby",
    "derbyshire": "Derbyshire",
    "suffolk": "Suffolk",
}
_APPOINTMENT = {
    "attended": ("fulfilled", None),
    "not_brought": ("noshow", None),
    "cancelled_by_family": ("cancelled", "pat"),
    "rearranged_by_family": ("cancelled", "pat"),
    "cancelled_by_service": ("cancelled", "prov"),
}


def _id_system(case_id: str) -> str:
    """The NHS number system for an NHS number, else a case system's own id."""
    from failedcontact.interop.nhs_number import nhs_number_problem

    return NHS if nhs_number_problem(case_id) is None else CASE_ID


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _time(at: str, naive: bool) -> str:
    """The event's time as the source would write it: with its offset unless `naive`."""
    if naive or datetime.fromisoformat(at).utcoffset() is not None:
        return at
    from failedcontact.model.case import as_uk_instant

    return as_uk_instant(datetime.fromisoformat(at)).isoformat()


def bundle_for(case: dict[str, Any], *, naive_times: bool = False) -> dict[str, Any]:
    """A searchset Bundle holding the case's history as UK Core style resources."""
    child = case.get("child", {})
    household = case.get("household", {})
    patient_id = "child-" + case["case_id"].lower()
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"profile": [UK_CORE + "Patient"]},
        "identifier": [{"system": _id_system(case["case_id"]), "value": case["case_id"]}],
    }
    if child.get("date_of_birth"):
        patient["birthDate"] = child["date_of_birth"]
    if household.get("local_authority"):
        patient["address"] = [{"use": "home", "district": AREAS[household["local_authority"]]}]
    ref = {"reference": f"Patient/{patient_id}"}
    resources: list[dict[str, Any]] = [patient]
    counter = iter(range(1, 10_000))

    def add(resource: dict[str, Any]) -> dict[str, Any]:
        resource["id"] = f"{resource['resourceType'].lower()}-{next(counter)}"
        resources.append(resource)
        return resource

    if child.get("plan", "none") != "none":
        plan = child["plan"]
        plan_code: dict[str, Any] = (
            {"coding": [{"system": "http://snomed.info/sct", "code": "224353004"}]}
            if plan == "child_protection"
            else _coding(FC + "plan", plan)
        )
        add({"resourceType": "Flag", "status": "active", "code": plan_code, "subject": ref})
    for flag in case.get("flags", []):
        add(
            {
                "resourceType": "Flag",
                "status": "active",
                "code": _coding(FC + "case-flag", flag),
                "subject": ref,
            }
        )
    facts = {
        "service": case.get("service"),
        "tenure": household.get("tenure"),
        "landlord": household.get("landlord"),
    }
    for fact, value in facts.items():
        if value is None:
            continue
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "code": _coding(FC + "case-fact", fact),
            "subject": ref,
        }
        if fact == "landlord":
            observation["valueString"] = value
        else:
            observation["valueCodeableConcept"] = _coding(FC + fact, value)
        add(observation)
    last_family_cancel: dict[str, Any] | None = None
    for event in case.get("events", []):
        at = _time(event["at"], naive_times)
        kind = event["type"]
        if kind in ("home_visit", "call"):
            reasons = [_coding(FC + "contact-outcome", event["outcome"])]
            if kind == "home_visit" and event.get("announced") is False:
                reasons.append(_coding(FC + "visit", "unannounced"))
            add(
                {
                    "resourceType": "Encounter",
                    "status": "finished",
                    "class": {"system": ACT, "code": "HH" if kind == "home_visit" else "VR"},
                    "subject": ref,
                    "period": {"start": at},
                    "type": reasons,
                }
            )
        elif kind == "appointment":
            status, reason = _APPOINTMENT[event["outcome"]]
            appointment: dict[str, Any] = {
                "resourceType": "Appointment",
                "status": status,
                "start": at,
                "end": at,
                "participant": [{"actor": ref, "status": "accepted"}],
            }
            if reason:
                appointment["cancelationReason"] = _coding(REASON, reason)
            if event.get("setting"):
                appointment["serviceType"] = [{"text": event["setting"]}]
            if last_family_cancel is not None:
                appointment["extension"] = [
                    {
                        "url": PREVIOUS,
                        "valueReference": {"reference": f"Appointment/{last_family_cancel['id']}"},
                    }
                ]
                last_family_cancel = None
            add(appointment)
            if event["outcome"] == "rearranged_by_family":
                last_family_cancel = appointment
        elif kind == "message":
            add(
                {
                    "resourceType": "Communication",
                    "status": "completed",
                    "subject": ref,
                    "medium": [_coding(FC + "channel", event["channel"])],
                    "sent": at,
                }
            )
        elif kind == "action":
            add(
                {
                    "resourceType": "Task",
                    "status": "completed",
                    "intent": "order",
                    "for": ref,
                    "code": _coding(FC + "action", event["action"]),
                    "executionPeriod": {"end": at},
                }
            )
        elif kind == "concern":
            add(
                {
                    "resourceType": "Flag",
                    "status": "active",
                    "subject": ref,
                    "code": _coding(FC + "concern-level", event["level"]),
                    "period": {"start": at},
                }
            )
        elif kind in ("support_request", "referral"):
            code = "support_request" if kind == "support_request" else event["kind"]
            add(
                {
                    "resourceType": "ServiceRequest",
                    "status": "active",
                    "intent": "order",
                    "subject": ref,
                    "code": _coding(FC + "request", code),
                    "authoredOn": at,
                }
            )
        else:
            raise ValueError(f"the default FHIR mapping does not carry `{kind}` events")
    if last_family_cancel is not None:
        # the rebooked appointment, not yet due: the source holds it as `booked`
        add(
            {
                "resourceType": "Appointment",
                "status": "booked",
                "start": "2099-01-01T10:00:00Z",
                "participant": [{"actor": ref, "status": "accepted"}],
                "extension": [
                    {
                        "url": PREVIOUS,
                        "valueReference": {"reference": f"Appointment/{last_family_cancel['id']}"},
                    }
                ],
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"https://example.nhs.uk/fhir/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


CSV_COLUMNS = [
    "PersonID",
    "ContactDateTime",
    "ContactType",
    "Outcome",
    "Location",
    "StepDone",
    "Agency",
    "Team",
    "DOB",
    "PlanStatus",
    "LA",
    "Tenure",
    "Landlord",
    "Flags",
]
_TYPE = {
    "home_visit": "HV",
    "appointment": "APPT",
    "call": "TEL",
    "action": "DONE",
    "seen_by_other_agency": "SEEN-OA",
    "address_change": "MOVE",
    "service_refused": "REFUSED",
    "support_request": "REQ",
}
_CHANNEL = {"letter": "LTR", "text": "TXT", "email": "EML", "card": "CARD"}
_LEVEL = {"welfare": "CON-W", "significant_harm": "CON-SH", "immediate_danger": "CON-ID"}
_OUTCOME = {
    "child_seen": "SEEN",
    "no_response": "NR",
    "access_refused": "REF",
    "doorstep": "DOOR",
    "child_not_seen": "NSEEN",
    "prevented_from_seeing_child": "PREV",
    "child_alone": "ALONE",
    "seen_not_alone": "SNA",
    "seen_alone_refused": "SAR",
    "attended": "ATT",
    "not_brought": "WNB",
    "cancelled_by_family": "CBF",
    "rearranged_by_family": "RBF",
    "cancelled_by_service": "CBS",
    "answered": "ANS",
    "no_answer": "NA",
}
_SERVICE = {"universal": "HV", "early_help": "EH", "social_care": "CSC", "adult_service": "ADULT"}
_PLAN = {
    "none": "NONE",
    "early_help": "EHA",
    "child_in_need": "CIN",
    "child_protection": "CP",
    "looked_after": "LAC",
}
_TENURE = {
    "council": "COUNCIL",
    "housing_association": "HA",
    "private_rented": "PRIVATE",
    "owner_occupier": "OWNER",
    "unknown": "UNKNOWN",
}


def csv_rows_for(case: dict[str, Any]) -> list[dict[str, str]]:
    """The case as the example case system's contact export rows (UK local times)."""
    from failedcontact.model.case import UK

    child = case.get("child", {})
    household = case.get("household", {})
    facts = {
        "PersonID": case["case_id"],
        "Team": _SERVICE[case.get("service", "universal")],
        "DOB": _uk_date(child.get("date_of_birth")),
        "PlanStatus": _PLAN[child.get("plan", "none")],
        "LA": AREAS.get(household.get("local_authority") or "", ""),
        "Tenure": _TENURE[household.get("tenure", "unknown")],
        "Landlord": household.get("landlord") or "",
        "Flags": ";".join(case.get("flags", [])),
    }
    rows = []
    for event in case.get("events", []):
        at = datetime.fromisoformat(event["at"])
        if at.utcoffset() is not None:
            at = at.astimezone(UK)
        kind = event["type"]
        code = _TYPE.get(kind)
        if kind == "home_visit" and event.get("announced") is False:
            code = "HVU"
        elif kind == "message":
            code = _CHANNEL[event["channel"]]
        elif kind == "concern":
            code = _LEVEL[event["level"]]
        if code is None:
            raise ValueError(f"the example export has no code for `{kind}` events")
        row = dict.fromkeys(CSV_COLUMNS, "") | facts
        row |= {
            "ContactDateTime": at.strftime("%d/%m/%Y %H:%M"),
            "ContactType": code,
            "Outcome": _OUTCOME.get(event.get("outcome", ""), ""),
            "Location": event.get("setting") or "",
            "StepDone": event.get("action", ""),
            "Agency": event.get("agency", ""),
        }
        rows.append(row)
    if not rows:
        rows.append(dict.fromkeys(CSV_COLUMNS, "") | facts | {"ContactType": "CASE"})
    return rows


def _uk_date(value: str | None) -> str:
    if not value:
        return ""
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}"


def csv_text(rows: list[dict[str, str]]) -> str:
    """Rows as CSV text with a header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()

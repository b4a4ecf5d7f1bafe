"""Required actions out as FHIR R4 Tasks, for `interop.fhir`: one collection Bundle an
assessment, validated against the FHIR R4 model."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..model.assessment import Assessment
from ..views.wording import call_line, status_words

__all__ = ["ACTION_SYSTEM", "TASK_IDENTIFIER", "task_bundle"]

ACTION_SYSTEM = "https://fhir.failedcontact.org/CodeSystem/action"
TASK_IDENTIFIER = "https://fhir.failedcontact.org/Id/task"

_TASK_STATUS = {"done": "completed", "outstanding": "requested", "overdue": "requested"}


def task_bundle(assessment: Assessment, patient: str | None = None) -> dict[str, Any]:
    """The assessment's required actions as a FHIR R4 collection Bundle of Tasks.

    `patient` is the reference for `Task.for` (default `Patient/<case id>`). Each Task is
    validated against the FHIR R4 model before it is returned.
    """
    from fhir.resources.R4B.bundle import Bundle

    subject = patient or f"Patient/{assessment.case_id}"
    entries = []
    for action in assessment.actions:
        document = action.model_dump(mode="json")
        instance = _instance(assessment.case_id, action.id, document["trigger"]["event"])
        task: dict[str, Any] = {
            "resourceType": "Task",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{TASK_IDENTIFIER}/{instance}")),
            "identifier": [{"system": TASK_IDENTIFIER, "value": instance}],
            "status": _TASK_STATUS[document["status"]],
            "businessStatus": {"text": status_words(document["status"])},
            "intent": "order",
            "priority": _priority(document),
            "code": {
                "coding": [{"system": ACTION_SYSTEM, "code": action.id, "display": action.title}],
                "text": action.title,
            },
            "description": action.title,
            "for": {"reference": subject},
            "authoredOn": document["trigger"]["at"],
            "lastModified": assessment.model_dump(mode="json")["as_of"],
            "owner": {"display": document["owner"]},
            "reasonCode": {"text": document["citation"]},
        }
        if document.get("due"):
            task["restriction"] = {"period": {"end": document["due"]}}
        contacts = document.get("contacts") or []
        if contacts:
            task["note"] = [{"text": call_line(c["name"], c["phone"])} for c in contacts]
        entries.append({"fullUrl": f"urn:uuid:{task['id']}", "resource": task})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    if entries:  # FHIR JSON has no empty arrays: a case with no actions has no `entry`
        bundle["entry"] = entries
    Bundle.model_validate(bundle)
    return bundle


def _priority(action: Mapping[str, Any]) -> str:
    if action.get("category") == "emergency":
        return "stat"
    if action["status"] == "overdue" or action.get("category") == "referral":
        return "urgent"
    return "routine"


def _instance(case_id: str, action_id: str, event: int | None) -> str:
    """`case/action/event`: one Task per required instance (a per-event action has one per
    triggering event, contract 1.2), `as_of` for one that runs from `as_of`. Its UUID
    (version 5) is the Task's id: the same on every run, and no NHS number or other
    identifier in a resource id (ids travel in URLs and logs)."""
    return f"{case_id}/{action_id}/{'as_of' if event is None else event}"

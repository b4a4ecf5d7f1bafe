"""One reader per FHIR resource type, for `interop.fhir`: a resource's codes to events and
facts through the mapping, or an error or note saying why not."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from ..model.case import UK
from .fhir_entries import Builder, Entry, instant
from .mapping import CodeRule, Resource, Side

__all__ = ["PREVIOUS_APPOINTMENT", "READERS", "rebooked_references"]

PREVIOUS_APPOINTMENT = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.previousAppointment"
)
_DONE = {
    "Encounter": {"finished"},
    "Communication": {"completed"},
    "Task": {"completed"},
    "Observation": {"final", "amended", "corrected"},
}


def _when(entry: Entry, builder: Builder, *paths: tuple[str | int, ...]) -> datetime | None:
    """The first time found at `paths`; a date alone is read as 00:00 UK local time."""
    for path in paths:
        node: Any = entry.data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            stamp = instant(node)
            if stamp is not None:
                return stamp
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", node):
                builder.note(entry, entry.at(*path), f"`{node}` has no time: read as 00:00")
                return datetime.combine(date.fromisoformat(node), datetime.min.time(), UK)
            builder.error(entry, entry.at(*path), f"`{node}` is not a day or a time")
            return None
    shown = " or ".join(".".join(str(p) for p in path) for path in paths)
    builder.error(entry, entry.at(), f"no time: expected `{shown}`")
    return None


def _codings(entry: Entry, *elements: str) -> Iterator[tuple[str, str, str]]:
    """(system, code, location) of every coding in the named CodeableConcept elements."""
    for element in elements:
        value = entry.data.get(element)
        concepts = value if isinstance(value, list) else [value] if value else []
        for ci, concept in enumerate(concepts):
            codings = concept.get("coding", []) if isinstance(concept, dict) else []
            for di, coding in enumerate(codings):
                where = entry.at(element, *([ci] if isinstance(value, list) else []), "coding", di)
                yield coding.get("system", ""), coding.get("code", ""), where


def _matches(
    entry: Entry, builder: Builder, resource: Resource, *elements: str, klass: str | None = None
) -> list[tuple[CodeRule, str, str]]:
    found = []
    for system, code, where in _codings(entry, *elements):
        rule = builder.mapping.rule(resource, system, code, klass)
        if rule is not None:
            found.append((rule, code, where))
    return found


def _describe_codes(entry: Entry, *elements: str) -> str:
    codes = [f"{system}|{code}" for system, code, _ in _codings(entry, *elements)]
    return ", ".join(f"`{c}`" for c in codes) if codes else "no coding"


# --- one reader per resource type -----------------------------------------------------------


def rebooked_references(entries: list[Entry]) -> set[str]:
    """The references of appointments that a later appointment names as its previous one."""
    previous = set()
    for entry in entries:
        if entry.type != "Appointment":
            continue
        for extension in entry.data.get("extension", []):
            if extension.get("url") == PREVIOUS_APPOINTMENT:
                reference = extension.get("valueReference", {}).get("reference")
                if reference:
                    previous.add(reference)
    return previous


def _appointment(entry: Entry, builder: Builder, rebooked: set[str]) -> None:
    status = str(entry.data.get("status"))
    rule = builder.mapping.document.appointment_status.get(status)
    if rule is None:
        known = ", ".join(f"`{s}`" for s in builder.mapping.document.appointment_status)
        builder.error(
            entry, entry.at("status"), f"status `{status}` is not in the mapping (it maps {known})"
        )
        return
    if rule.skip is not None:
        builder.note(entry, entry.at("status"), rule.skip)
        return
    outcome = rule.outcome.value if rule.outcome else None
    if rule.by_cancellation_reason:
        sides = {
            builder.mapping.cancellation.get((system, code))
            for system, code, _ in _codings(entry, "cancelationReason")
        } - {None}
        is_rebooked = entry.name in rebooked or (entry.full_url or "") in rebooked
        if len(sides) != 1:
            found = _describe_codes(entry, "cancelationReason")
            why = "both sides" if len(sides) > 1 else f"{found}, which the mapping does not place"
            builder.error(
                entry,
                entry.at("cancelationReason"),
                f"cancelled, but who cancelled is unknown ({why})"
                + ("; it was rebooked" if is_rebooked else ""),
            )
            return
        side = sides.pop()
        if side is Side.SERVICE:
            outcome = "cancelled_by_service"
        else:
            outcome = "rearranged_by_family" if is_rebooked else "cancelled_by_family"
    when = _when(entry, builder, ("start",))
    if when is None:
        return
    fields: dict[str, Any] = {"type": "appointment", "outcome": outcome}
    setting = _setting(entry)
    if setting:
        fields["setting"] = setting
    adult_no_show(entry, builder, when, fields)
    builder.event(entry, when, fields)


def _setting(entry: Entry) -> str | None:
    for concept in entry.data.get("serviceType", []):
        if concept.get("text"):
            return str(concept["text"])
    return None


def _encounter(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
    """A finished Encounter as FHIR means it: `class` gives the kind of contact, `type` its
    outcome (code rules may be limited to some classes), `reasonCode` is only why it was."""
    status = entry.data.get("status")
    if status not in _DONE["Encounter"]:
        builder.note(
            entry,
            entry.at("status"),
            f"an encounter with status `{status}` has not finished, so it is not yet a contact",
        )
        return
    klass = entry.data.get("class", {})
    code = klass.get("code")
    rule = builder.mapping.classes.get((klass.get("system", ""), code or ""))
    if rule is None:
        builder.note(
            entry,
            entry.at("class"),
            f"class `{code}` is not a home visit, call or appointment in the mapping",
        )
        return
    if rule.event == "appointment" and entry.data.get("appointment"):
        builder.note(entry, entry.at("appointment"), "its Appointment carries the contact")
        return
    fields: dict[str, Any] = {"type": rule.event}
    for matched, value, _where in _matches(entry, builder, Resource.ENCOUNTER, "type", klass=code):
        fields.update(matched.event or {})
        if matched.code_as:
            fields[matched.code_as] = value
    if "outcome" not in fields and rule.finished is not None:
        fields["outcome"] = rule.finished
        builder.note(entry, entry.at("type"), f"no outcome code: finished, so `{rule.finished}`")
    if "outcome" not in fields:
        kind = rule.event.replace("_", " ")
        message = f"a {kind} with no outcome the mapping knows in `type` ({_codes(entry)})"
        builder.error(entry, entry.at("type"), message)
        return
    when = _when(entry, builder, ("period", "start"))
    if when is not None:
        adult_no_show(entry, builder, when, fields)
        builder.event(entry, when, fields)


def _codes(entry: Entry) -> str:
    found = _describe_codes(entry, "type")
    reasons = _describe_codes(entry, "reasonCode")
    return found + ("" if reasons == "no coding" else f"; `reasonCode` {reasons} is a reason")


def adult_no_show(entry: Entry, builder: Builder, when: datetime, fields: dict[str, Any]) -> None:
    """Note a missed appointment of a patient who was an adult at the time: their own."""
    if fields.get("outcome") != "not_brought" or builder.birth_date is None:
        return
    born = builder.birth_date
    age = when.year - born.year - ((when.month, when.day) < (born.month, born.day))
    if age >= 18:
        builder.note(
            entry,
            entry.at(),
            f"the patient was {age} at the time: an adult's own missed appointment "
            "(did not attend), recorded as `not_brought` for the contract",
        )


def _coded_event(
    entry: Entry, builder: Builder, resource: Resource, element: str, *times: tuple[str, ...]
) -> None:
    events = [
        (r, c) for r, c, _ in _matches(entry, builder, resource, element) if r.event is not None
    ]
    if not events:
        builder.note(
            entry,
            entry.at(element),
            f"not a contact: no code the mapping knows ({_describe_codes(entry, element)})",
        )
        return
    _record_event(entry, builder, *events[0], *times)


def _record_event(
    entry: Entry, builder: Builder, rule: CodeRule, code: str, *times: tuple[str, ...]
) -> None:
    """The event a matched rule makes, at the first time found at `times`."""
    fields = dict(rule.event or {})
    if rule.code_as:
        fields[rule.code_as] = code
    when = _when(entry, builder, *times)
    if when is not None:
        builder.event(entry, when, fields)


def _communication(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
    if entry.data.get("status") not in _DONE["Communication"]:
        builder.note(entry, entry.at("status"), "not sent (status is not `completed`)")
        return
    _coded_event(entry, builder, Resource.COMMUNICATION, "medium", ("sent",))


def _task(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
    if entry.data.get("status") not in _DONE["Task"]:
        builder.note(entry, entry.at("status"), "not done (status is not `completed`)")
        return
    _coded_event(
        entry, builder, Resource.TASK, "code", ("executionPeriod", "end"), ("lastModified",)
    )


def _service_request(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
    if entry.data.get("status") == "draft":
        builder.note(entry, entry.at("status"), "a draft request was not made")
        return
    _coded_event(entry, builder, Resource.SERVICE_REQUEST, "code", ("authoredOn",))


def _flag(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
    found = _matches(entry, builder, Resource.FLAG, "code", "category")
    if not found:
        codes = _describe_codes(entry, "code", "category")
        builder.note(entry, entry.at("code"), f"a flag the mapping does not use ({codes})")
        return
    rule, code, _where = found[0]
    if rule.event is not None:
        _record_event(entry, builder, rule, code, ("period", "start"))
        return
    _set_facts(entry, builder, found, "active")


def _status(entry: Entry) -> tuple[str | None, str]:
    """A resource's status and where it is: `clinicalStatus` for a Condition."""
    if entry.type != "Condition":
        return entry.data.get("status"), entry.at("status")
    codes = [c.get("code") for c in entry.data.get("clinicalStatus", {}).get("coding", [])]
    return (codes[0] if codes else None), entry.at("clinicalStatus")


def _set_facts(
    entry: Entry, builder: Builder, found: list[tuple[CodeRule, str, str]], active: str
) -> None:
    """The case fields `set` rules give, from a resource that holds today (status `active`)."""
    status, where_status = _status(entry)
    if status != active:
        builder.note(entry, where_status, f"status `{status}` says nothing about today")
        return
    for rule, code, where in found:
        if rule.set is None:
            continue
        fields = dict(rule.set)
        if rule.code_as:
            fields[rule.code_as] = code
        for name, value in fields.items():
            builder.fact(entry, where, name, value, weak=rule.weak)
        if rule.weak or any(name.startswith("child.") for name in fields):
            shown = ", ".join(f"`{k}: {v}`" for k, v in fields.items())
            builder.note(entry, where, f"{shown} from `{code}`: {rule.source}")


def _care_record(resource: Resource, *elements: str) -> Callable[[Entry, Builder, set[str]], None]:
    """A resource whose codes may say the child's plan or another case fact (CP-IS puts
    the plan on CarePlan and CareTeam `category`)."""

    def read(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
        found = _matches(entry, builder, resource, *elements)
        if not found:
            codes = _describe_codes(entry, *elements)
            builder.note(entry, entry.at(elements[0]), f"a fact the mapping does not use ({codes})")
            return
        _set_facts(entry, builder, found, "active")

    return read


def _observation(entry: Entry, builder: Builder, _rebooked: set[str]) -> None:
    found = _matches(entry, builder, Resource.OBSERVATION, "code")
    if not found:
        builder.note(entry, entry.at("code"), "an observation the mapping does not use")
        return
    if entry.data.get("status") not in _DONE["Observation"]:
        builder.note(entry, entry.at("status"), "not a final observation")
        return
    rule, _code, _where = found[0]
    value, where = _value(entry)
    if value is None:
        builder.error(entry, entry.at("value[x]"), "no value")
        return
    if rule.values is not None:
        if value not in rule.values:
            builder.error(entry, where, f"value `{value}` is not in the mapping's `values`")
            return
        value = rule.values[value]
    assert rule.value_to is not None
    builder.fact(entry, where, rule.value_to, value)


# The resource types a contact history is read from, and the reader of each.
READERS: dict[str, Callable[[Entry, Builder, set[str]], None]] = {
    "Appointment": _appointment,
    "Encounter": _encounter,
    "Flag": _flag,
    "ServiceRequest": _service_request,
    "Communication": _communication,
    "Task": _task,
    "Observation": _observation,
    "CarePlan": _care_record(Resource.CARE_PLAN, "category"),
    "CareTeam": _care_record(Resource.CARE_TEAM, "category"),
    "EpisodeOfCare": _care_record(Resource.EPISODE_OF_CARE, "type"),
    "Condition": _care_record(Resource.CONDITION, "code", "category"),
}


def _value(entry: Entry) -> tuple[Any, str]:
    data = entry.data
    if "valueCodeableConcept" in data:
        concept = data["valueCodeableConcept"]
        for index, coding in enumerate(concept.get("coding", [])):
            if coding.get("code"):
                return coding["code"], entry.at("valueCodeableConcept", "coding", index)
        return concept.get("text"), entry.at("valueCodeableConcept", "text")
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in data:
            return data[key], entry.at(key)
    return None, entry.at()

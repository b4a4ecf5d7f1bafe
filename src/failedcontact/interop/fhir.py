"""FHIR R4 in and out: a child's bundle to a `Case`, required actions to FHIR Tasks.

Resources are validated with the `fhir.resources` models (its R4B package: R4B changed
none of the elements read here) and mapped through a mapping file (`interop.mapping`);
what cannot be mapped is reported with its resource and location, and what is skipped on
purpose is noted with the reason. Needs the `fhir` extra.

This module reads a bundle into a case (the child, and which resources are about them);
`fhir_entries` reads and validates the entries, `fhir_resources` holds one reader per
resource type and `fhir_tasks` writes required actions as Tasks. Everything public is
imported from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
from pydantic import ValidationError

from ..errors import CaseIssue, UsageError
from ..model.case import Case
from ..model.case_input import case_issues
from .fhir_entries import OPTIONAL, Builder, Entry, instant, read_entries
from .fhir_resources import PREVIOUS_APPOINTMENT, READERS, rebooked_references
from .fhir_tasks import ACTION_SYSTEM, TASK_IDENTIFIER, task_bundle
from .mapped import Finding, FindingKind, MappedCase
from .mapping import FhirMapping, load_mapping
from .nhs_number import NHS_NUMBER, nhs_number_problem, normal_nhs_number

__all__ = [
    "ACTION_SYSTEM",
    "DEFAULT_MAPPING",
    "PREVIOUS_APPOINTMENT",
    "TASK_IDENTIFIER",
    "Finding",
    "FindingKind",
    "MappedCase",
    "bundle_to_case",
    "map_bundle",
    "task_bundle",
]

DEFAULT_MAPPING = "fhir_uk_core"

_NOT_RECORDS = {"entered-in-error"}


def map_bundle(
    bundle: Mapping[str, Any] | str | bytes,
    mapping: FhirMapping | str | None = None,
    *,
    patient: str | None = None,
) -> MappedCase:
    """Map a FHIR R4 Bundle for one child to a case; never raises for bad bundle content.

    `patient` picks the child's Patient id when the bundle holds more than one Patient.
    """
    compiled = _mapping(mapping)
    builder = Builder(compiled)
    data = _bundle(bundle, builder)
    if data is None:
        return _result(builder, None)
    entries = read_entries(data, builder)
    child = _child(entries, builder, patient)
    if child is None:
        return _result(builder, None)
    builder.case_id = _case_id(child, builder)
    builder.patient = child.name
    case: dict[str, Any] = {"case_id": builder.case_id}
    for name, value in compiled.document.defaults.items():
        _put(case, name, value)
    _patient(child, builder, case)
    _read_history(entries, child, builder)
    for name, (value, _source) in builder.settled().items():
        _put(case, name, value)
    if builder.flags:
        case["flags"] = sorted(builder.flags | set(case.get("flags", ())))
    builder.events.sort(key=lambda item: (item[0], item[1]))
    case["events"] = [{"at": when.isoformat(), **fields} for when, _, fields, _ in builder.events]
    sources = tuple(source for *_, source in builder.events)
    try:
        built = Case.model_validate(case)
    except ValidationError as error:
        for issue in case_issues(error):
            _place(issue, sources, builder)
        return _result(builder, None, sources)
    return _result(builder, built, sources)


def _bundle(bundle: Mapping[str, Any] | str | bytes, builder: Builder) -> Mapping[str, Any] | None:
    """The bundle as JSON data, or None with the reason noted when it is not a FHIR Bundle."""
    data: Any = bundle
    if isinstance(bundle, str | bytes):
        try:
            data = orjson.loads(bundle)
        except orjson.JSONDecodeError as error:
            builder.error(None, "Bundle", f"not JSON: {error}")
            return None
    if isinstance(data, Mapping) and data.get("resourceType") == "Bundle":
        return data
    if isinstance(data, Mapping):
        kind = data.get("resourceType")
        got = f"a `{kind}`" if kind else "a JSON object with no `resourceType`"
    else:
        got = f"a JSON {type(data).__name__}"
    builder.error(None, "Bundle", f"expected a FHIR Bundle (`resourceType: Bundle`), got {got}")
    return None


def _read_history(entries: list[Entry], child: Entry, builder: Builder) -> None:
    """Read each resource about the child into events and facts; note why any other is not."""
    refs = _references_to(child)
    rebooked = rebooked_references(entries)
    for entry in entries:
        if entry is child or entry.type in ("Patient", "RelatedPerson"):
            if entry is not child:
                builder.note(entry, entry.at(), "another person, not the child")
            continue
        reader = READERS.get(entry.type)
        if reader is None or (entry.type in OPTIONAL and not builder.mapping.reads(entry.type)):
            builder.note(entry, entry.at(), f"a `{entry.type}` is not part of a contact history")
            continue
        subject = _subject(entry, refs, builder.nhs_number)
        if subject is not None:
            builder.note(entry, entry.at(), f"about `{subject}`, not the child")
            continue
        if entry.data.get("status") in _NOT_RECORDS:
            builder.note(entry, entry.at("status"), "entered in error")
            continue
        reader(entry, builder, rebooked)


def bundle_to_case(
    bundle: Mapping[str, Any] | str | bytes,
    mapping: FhirMapping | str | None = None,
    *,
    patient: str | None = None,
) -> Case:
    """The case a bundle maps to; raise `CaseError` naming each resource that cannot be mapped."""
    return map_bundle(bundle, mapping, patient=patient).raise_for_errors()


def _mapping(mapping: FhirMapping | str | None) -> FhirMapping:
    loaded = (
        mapping if isinstance(mapping, FhirMapping) else load_mapping(mapping or DEFAULT_MAPPING)
    )
    if not isinstance(loaded, FhirMapping):
        raise UsageError(f"mapping `{loaded.id}` is a table mapping, not a FHIR mapping")
    return loaded


def _result(builder: Builder, case: Case | None, sources: tuple[str, ...] = ()) -> MappedCase:
    return MappedCase(
        case if not builder.errors else None,
        sources if case else (),
        tuple(builder.errors),
        tuple(builder.notes),
        builder.case_id,
        builder.patient,
    )


def _place(issue: CaseIssue, sources: tuple[str, ...], builder: Builder) -> None:
    match = re.match(r"events\[(\d+)\]", issue.path)
    where = sources[int(match.group(1))] if match else "Patient"
    builder.errors.append(
        Finding(
            FindingKind.ERROR, where, issue.path, f"the mapped case is invalid: {issue.message}"
        )
    )


# --- the child -------------------------------------------------------------------------------


def _child(entries: list[Entry], builder: Builder, wanted: str | None) -> Entry | None:
    patients = [e for e in entries if e.type == "Patient"]
    if wanted is not None:
        chosen = [e for e in patients if e.id == wanted]
        if not chosen:
            ids = ", ".join(f"`{e.id}`" for e in patients) or "none"
            builder.error(None, "Bundle.entry", f"no Patient `{wanted}` (Patients: {ids})")
            return None
        return chosen[0]
    if len(patients) != 1:
        builder.error(
            None,
            "Bundle.entry",
            f"expected one Patient (the child), found {len(patients)}; name the child's Patient id",
        )
        return None
    return patients[0]


def _references_to(child: Entry) -> set[str]:
    refs = {child.name}
    if child.full_url:
        refs.add(child.full_url)
    return refs


def _matches_child(reference: str, refs: set[str]) -> bool:
    return reference in refs or any(reference.endswith("/" + r) for r in refs if "/" in r)


_PEOPLE = ("Patient/", "RelatedPerson/", "Person/")


def _who(holder: Any, refs: set[str], nhs_number: str | None) -> str | None:
    """Who a Reference names, or None when it is the child: by reference, or by the child's
    own NHS number when it names them only by an identifier (as NHS APIs send them)."""
    if not isinstance(holder, dict):
        return None
    reference = holder.get("reference")
    if isinstance(reference, str):
        return None if _matches_child(reference, refs) else reference
    identifier = holder.get("identifier")
    if isinstance(identifier, dict):
        value = normal_nhs_number(str(identifier.get("value", "")))
        if identifier.get("system") == NHS_NUMBER and value == nhs_number:
            return None
        return f"{holder.get('type') or 'someone'} with identifier `{identifier.get('value')}`"
    return None


def _subject(entry: Entry, refs: set[str], nhs_number: str | None) -> str | None:
    """The other person a resource is about, or None when it is about the child (or no one)."""
    data = entry.data
    if entry.type != "Appointment":
        holder = data.get("for") if entry.type == "Task" else data.get("subject")
        return _who(holder, refs, nhs_number)
    others = []
    for participant in data.get("participant", []):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if not isinstance(actor, dict) or not _is_person(actor, refs):
            continue  # a practitioner, a location, a service: not whose contact it is
        other = _who(actor, refs, nhs_number)
        if other is None:
            return None
        others.append(other)
    return others[0] if others else None


def _is_person(actor: dict[str, Any], refs: set[str]) -> bool:
    reference = actor.get("reference")
    if isinstance(reference, str):
        return any(kind in reference for kind in _PEOPLE) or _matches_child(reference, refs)
    if actor.get("type") in ("Patient", "RelatedPerson", "Person"):
        return True
    identifier = actor.get("identifier")
    return isinstance(identifier, dict) and identifier.get("system") == NHS_NUMBER


def _case_id(child: Entry, builder: Builder) -> str:
    rule = builder.mapping.document.case_id
    for index, identifier in enumerate(child.data.get("identifier", [])):
        if identifier.get("system") == NHS_NUMBER and identifier.get("value"):
            number = normal_nhs_number(str(identifier["value"]))
            if nhs_number_problem(number) is None:
                builder.nhs_number = number
            else:
                where = child.at("identifier", index, "value")
                builder.error(
                    child, where, f"`{identifier['value']}`: {nhs_number_problem(number)}"
                )
    systems = [s for s in (rule.identifier_system, *rule.other_systems) if s]
    for system in systems:
        if system == NHS_NUMBER and builder.nhs_number:
            return builder.nhs_number
        for identifier in child.data.get("identifier", []):
            if (
                system != NHS_NUMBER
                and identifier.get("system") == system
                and identifier.get("value")
            ):
                return str(identifier["value"])
    if systems:
        shown = ", ".join(f"`{s}`" for s in systems)
        builder.note(
            child,
            child.at("identifier"),
            f"no identifier in {shown}: the case id is the Patient's id",
        )
    return child.id


def _patient(child: Entry, builder: Builder, case: dict[str, Any]) -> None:
    birth = child.data.get("birthDate")
    if isinstance(birth, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth):
            _put(case, "child.date_of_birth", birth)
            builder.birth_date = date.fromisoformat(birth)
        else:
            builder.error(child, child.at("birthDate"), f"`{birth}` is not a whole date of birth")
    homes = [
        (index, address)
        for index, address in enumerate(child.data.get("address", []))
        if address.get("use") in (None, "home", "temp") and address.get("type") != "postal"
    ]
    dated = sorted(
        (start, index)
        for index, address in homes
        if (start := instant(address.get("period", {}).get("start"))) is not None
    )
    for start, _ in dated[1:]:
        builder.event(child, start, {"type": "address_change"})
    if dated:  # the home with the latest start is the current one
        latest = dated[-1][1]
        current = [(latest, child.data["address"][latest])]
    else:
        current = [a for a in homes if not a[1].get("period", {}).get("end")]
    if current:
        _local_authority(child, builder, *current[-1])


def _local_authority(child: Entry, builder: Builder, index: int, address: dict[str, Any]) -> None:
    """The local authority from the home address as UK Core carries it: a postcode in the
    mapping's `local_authority_postcodes`, else the town (`city`), else `district` (often a
    county in UK Core, which is not always the authority: a city inside a county may be
    its own)."""
    document = builder.mapping.document
    tried = []
    postcode = "".join(str(address.get("postalCode", "")).upper().split())
    for prefix in sorted(document.local_authority_postcodes, key=len, reverse=True):
        if postcode and postcode.startswith("".join(prefix.upper().split())):
            where = child.at("address", index, "postalCode")
            builder.fact(child, where, "household.local_authority",
                         document.local_authority_postcodes[prefix])  # fmt: skip
            return
    if postcode:
        tried.append(f"postalCode `{address['postalCode']}`")
    for element in ("city", "district"):
        value = address.get(element)
        if not isinstance(value, str) or not value.strip():
            continue
        key = " ".join(value.lower().split())
        if key in document.local_authorities:
            where = child.at("address", index, element)
            builder.fact(child, where, "household.local_authority", document.local_authorities[key])
            return
        tried.append(f"{element} `{value}`")
    if tried:
        message = (
            f"no local authority for {', '.join(tried)} in the mapping's "
            "`local_authority_postcodes` or `local_authorities`"
        )
        builder.error(child, child.at("address", index), message)


def _put(case: dict[str, Any], name: str, value: Any) -> None:
    if "." in name:
        part, key = name.split(".", 1)
        case.setdefault(part, {})[key] = value
    elif name == "flags":
        case["flags"] = sorted(
            set(case.get("flags", ())) | set([value] if isinstance(value, str) else value)
        )
    else:
        case[name] = value

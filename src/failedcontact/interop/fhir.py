"""FHIR R4 in and out: a child's bundle to a `Case`, required actions to FHIR Tasks.

Resources are validated with the `fhir.resources` models (its R4B package: R4B changed
none of the elements read here) and mapped through a mapping file (failedcontact.mapping);
what cannot be mapped is reported with its resource and location, and what is skipped on
purpose is noted with the reason. Needs the `fhir` extra.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import ValidationError

from ..errors import CaseError, CaseIssue, UsageError
from ..model.assessment import Assessment
from ..model.case import UK, Case, as_uk_instant
from ..model.case_input import case_issues
from .mapping import CodeRule, FhirMapping, Resource, Side, load_mapping

__all__ = ["Finding", "FindingKind", "MappedCase", "bundle_to_case", "map_bundle", "task_bundle"]

PREVIOUS_APPOINTMENT = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.previousAppointment"
)
ACTION_SYSTEM = "https://fhir.failedcontact.org/CodeSystem/action"
TASK_IDENTIFIER = "https://fhir.failedcontact.org/Id/task"
DEFAULT_MAPPING = "fhir_uk_core"

# A dateTime with a time and no offset: FHIR requires an offset, case systems often omit it.
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_READ = frozenset(
    {
        "Patient",
        "Appointment",
        "Encounter",
        "Flag",
        "ServiceRequest",
        "Communication",
        "Task",
        "Observation",
    }
)
_DONE = {
    "Encounter": {"finished"},
    "Communication": {"completed"},
    "Task": {"completed"},
    "Observation": {"final", "amended", "corrected"},
}
_NOT_RECORDS = {"entered-in-error"}


class FindingKind(StrEnum):
    """An unmappable resource (an error) or one skipped on purpose (a note)."""

    ERROR = "error"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something said about one resource: where it is and what happened to it."""

    kind: FindingKind
    resource: str  # `Appointment/a1`
    location: str  # `Bundle.entry[3].resource.cancelationReason`
    message: str

    def render(self) -> str:
        """`error: Appointment/a1 (Bundle.entry[3].resource.status): message`."""
        return f"{self.kind}: {self.resource} ({self.location}): {self.message}"


@dataclass(frozen=True, slots=True)
class MappedCase:
    """A case mapped from a source, with where each event came from and what was not used."""

    case: Case | None
    sources: tuple[str, ...]  # one per event of `case`: `Appointment/a1` or `line 7`
    errors: tuple[Finding, ...]
    notes: tuple[Finding, ...]
    case_id: str | None = None  # known even when the case could not be mapped, if readable
    patient: str | None = None  # the child's Patient reference, for FHIR written back

    def raise_for_errors(self) -> Case:
        """The case, or `CaseError` naming every resource that could not be mapped."""
        if self.errors or self.case is None:
            raise CaseError(
                [CaseIssue(e.location, f"{e.resource}: {e.message}") for e in self.errors]
            )
        return self.case


@dataclass
class _Entry:
    index: int
    type: str
    id: str
    full_url: str | None
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.type}/{self.id}"

    def at(self, *path: str | int) -> str:
        tail = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        return f"Bundle.entry[{self.index}].resource{tail}"


@dataclass
class _Builder:
    mapping: FhirMapping
    errors: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    events: list[tuple[datetime, int, dict[str, Any], str]] = field(default_factory=list)
    facts: dict[str, tuple[Any, str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    case_id: str | None = None
    patient: str | None = None

    def error(self, entry: _Entry | None, location: str, message: str) -> None:
        name = entry.name if entry else "Bundle"
        self.errors.append(Finding(FindingKind.ERROR, name, location, message))

    def note(self, entry: _Entry | None, location: str, message: str) -> None:
        name = entry.name if entry else "Bundle"
        self.notes.append(Finding(FindingKind.NOTE, name, location, message))

    def event(self, entry: _Entry, when: datetime, fields: dict[str, Any]) -> None:
        self.events.append((when, len(self.events), fields, entry.name))

    def fact(self, entry: _Entry, location: str, name: str, value: Any) -> None:
        if name == "flags":
            self.flags.update([value] if isinstance(value, str) else value)
            return
        held = self.facts.get(name)
        if held is not None and held[0] != value:
            self.error(entry, location, f"`{name}` is `{value}` here but `{held[0]}` in {held[1]}")
            return
        self.facts[name] = (value, entry.name)


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
    builder = _Builder(compiled)
    data = _bundle(bundle, builder)
    if data is None:
        return _result(builder, None)
    entries = _entries(data, builder)
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
    for name, (value, _source) in builder.facts.items():
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


def _bundle(bundle: Mapping[str, Any] | str | bytes, builder: _Builder) -> Mapping[str, Any] | None:
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


def _read_history(entries: list[_Entry], child: _Entry, builder: _Builder) -> None:
    """Read each resource about the child into events and facts; note why any other is not."""
    refs = _references_to(child)
    rebooked = _rebooked(entries)
    for entry in entries:
        if entry is child or entry.type == "Patient":
            if entry is not child:
                builder.note(entry, entry.at(), "another person, not the child")
            continue
        reader = _READERS.get(entry.type)
        if reader is None:
            builder.note(entry, entry.at(), f"a `{entry.type}` is not part of a contact history")
            continue
        subject = _subject(entry, refs)
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


def _result(builder: _Builder, case: Case | None, sources: tuple[str, ...] = ()) -> MappedCase:
    return MappedCase(
        case if not builder.errors else None,
        sources if case else (),
        tuple(builder.errors),
        tuple(builder.notes),
        builder.case_id,
        builder.patient,
    )


def _place(issue: CaseIssue, sources: tuple[str, ...], builder: _Builder) -> None:
    match = re.match(r"events\[(\d+)\]", issue.path)
    where = sources[int(match.group(1))] if match else "Patient"
    builder.errors.append(
        Finding(
            FindingKind.ERROR, where, issue.path, f"the mapped case is invalid: {issue.message}"
        )
    )


# --- reading the bundle ---------------------------------------------------------------------


def _entries(bundle: Mapping[str, Any], builder: _Builder) -> list[_Entry]:
    from fhir.resources.R4B import get_fhir_model_class

    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        builder.error(None, "Bundle.entry", "expected a list of entries")
        return []
    kept: dict[tuple[str, str], _Entry] = {}
    for index, item in enumerate(raw):
        resource = item.get("resource") if isinstance(item, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            builder.error(None, f"Bundle.entry[{index}]", "an entry with no resource")
            continue
        kind = resource["resourceType"]
        entry = _Entry(
            index, kind, str(resource.get("id") or f"#{index}"), item.get("fullUrl"), dict(resource)
        )
        if kind not in _READ:
            kept.setdefault((kind, f"#{index}"), entry)
            continue
        errors_before = len(builder.errors)
        entry.data = _with_offsets(entry, entry.data, (), builder)
        if len(builder.errors) > errors_before:
            continue  # a time that names no instant: already reported where it is
        try:
            get_fhir_model_class(kind).model_validate(entry.data)
        except ValidationError as error:
            for problem in error.errors(include_url=False)[:5]:
                location = entry.at(*[p for p in problem["loc"] if isinstance(p, str | int)])
                builder.error(entry, location, f"not valid FHIR R4: {problem['msg']}")
            continue
        key = (kind, entry.id)
        held = kept.get(key)
        if held is None:
            kept[key] = entry
        elif held.data == entry.data:
            builder.note(entry, entry.at(), f"the same resource as entry {held.index}; read once")
        else:
            newer = _newer(held, entry)
            if newer is None:
                builder.error(
                    entry,
                    entry.at(),
                    f"two different versions of {entry.name} "
                    f"(entries {held.index} and {index}) with no `meta.lastUpdated` "
                    "to tell which is current",
                )
                kept.pop(key)
                continue
            older = entry if newer is held else held
            builder.note(
                older,
                older.at("meta", "lastUpdated"),
                f"an older version of {entry.name}; the newer one is read",
            )
            kept[key] = newer
    return sorted(kept.values(), key=lambda entry: entry.index)


def _newer(first: _Entry, second: _Entry) -> _Entry | None:
    stamps = [_instant(e.data.get("meta", {}).get("lastUpdated")) for e in (first, second)]
    if stamps[0] is None or stamps[1] is None or stamps[0] == stamps[1]:
        return None
    return first if stamps[0] > stamps[1] else second


def _with_offsets(entry: _Entry, node: Any, path: tuple[str | int, ...], builder: _Builder) -> Any:
    """Give every time without an offset its UK offset, as the contract reads such times."""
    if isinstance(node, dict):
        # JSON null is not FHIR; the models read it as absent, and so does everything here
        return {
            k: _with_offsets(entry, v, (*path, k), builder)
            for k, v in node.items()
            if v is not None
        }
    if isinstance(node, list):
        return [_with_offsets(entry, v, (*path, i), builder) for i, v in enumerate(node)]
    if isinstance(node, str) and _NAIVE.match(node):
        try:
            aware = as_uk_instant(datetime.fromisoformat(node))
        except ValueError as error:
            builder.error(entry, entry.at(*path), str(error))
            return node
        builder.note(entry, entry.at(*path), f"`{node}` has no offset: read as UK local time")
        return aware.isoformat()
    return node


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def _when(entry: _Entry, builder: _Builder, *paths: tuple[str | int, ...]) -> datetime | None:
    """The first time found at `paths`; a date alone is read as 00:00 UK local time."""
    for path in paths:
        node: Any = entry.data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            stamp = _instant(node)
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


def _codings(entry: _Entry, *elements: str) -> Iterator[tuple[str, str, str]]:
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
    entry: _Entry, builder: _Builder, resource: Resource, *elements: str
) -> list[tuple[CodeRule, str, str]]:
    found = []
    for system, code, where in _codings(entry, *elements):
        rule = builder.mapping.rule(resource, system, code)
        if rule is not None:
            found.append((rule, code, where))
    return found


def _describe_codes(entry: _Entry, *elements: str) -> str:
    codes = [f"{system}|{code}" for system, code, _ in _codings(entry, *elements)]
    return ", ".join(f"`{c}`" for c in codes) if codes else "no coding"


# --- the child -------------------------------------------------------------------------------


def _child(entries: list[_Entry], builder: _Builder, wanted: str | None) -> _Entry | None:
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


def _references_to(child: _Entry) -> set[str]:
    refs = {child.name}
    if child.full_url:
        refs.add(child.full_url)
    return refs


def _matches_child(reference: str, refs: set[str]) -> bool:
    return reference in refs or any(reference.endswith("/" + r) for r in refs if "/" in r)


def _subject(entry: _Entry, refs: set[str]) -> str | None:
    """The other person a resource is about, or None when it is about the child (or no one)."""
    data = entry.data
    if entry.type == "Appointment":
        people = [
            p.get("actor", {}).get("reference", "")
            for p in data.get("participant", [])
            if isinstance(p, dict)
        ]
        people = [r for r in people if "Patient/" in r or r in refs]
        if not people or any(_matches_child(r, refs) for r in people):
            return None
        return str(people[0])
    holder = data.get("for") if entry.type == "Task" else data.get("subject")
    reference = holder.get("reference") if isinstance(holder, dict) else None
    if not isinstance(reference, str) or _matches_child(reference, refs):
        return None
    return str(reference)


def _case_id(child: _Entry, builder: _Builder) -> str:
    system = builder.mapping.document.case_id.identifier_system
    if system:
        for identifier in child.data.get("identifier", []):
            if identifier.get("system") == system and identifier.get("value"):
                return str(identifier["value"])
        builder.note(
            child,
            child.at("identifier"),
            f"no identifier in `{system}`: the case id is the Patient's id",
        )
    return child.id


def _patient(child: _Entry, builder: _Builder, case: dict[str, Any]) -> None:
    birth = child.data.get("birthDate")
    if isinstance(birth, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth):
            _put(case, "child.date_of_birth", birth)
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
        if (start := _instant(address.get("period", {}).get("start"))) is not None
    )
    for start, _ in dated[1:]:
        builder.event(child, start, {"type": "address_change"})
    if dated:  # the home with the latest start is the current one
        latest = dated[-1][1]
        current = [(latest, child.data["address"][latest])]
    else:
        current = [a for a in homes if not a[1].get("period", {}).get("end")]
    if current:
        index, address = current[-1]
        district = address.get("district")
        if isinstance(district, str) and district.strip():
            table = builder.mapping.document.local_authorities
            key = " ".join(district.lower().split())
            if key in table:
                builder.fact(
                    child,
                    child.at("address", index, "district"),
                    "household.local_authority",
                    table[key],
                )
            else:
                where = child.at("address", index, "district")
                message = f"district `{district}` is not in the mapping's `local_authorities`"
                builder.error(child, where, message)


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


# --- one reader per resource type -----------------------------------------------------------


def _rebooked(entries: list[_Entry]) -> set[str]:
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


def _appointment(entry: _Entry, builder: _Builder, rebooked: set[str]) -> None:
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
    builder.event(entry, when, fields)


def _setting(entry: _Entry) -> str | None:
    for concept in entry.data.get("serviceType", []):
        if concept.get("text"):
            return str(concept["text"])
    return None


def _encounter(entry: _Entry, builder: _Builder, _rebooked: set[str]) -> None:
    status = entry.data.get("status")
    if status not in _DONE["Encounter"]:
        builder.note(
            entry,
            entry.at("status"),
            f"an encounter with status `{status}` has not finished, so it is not yet a contact",
        )
        return
    klass = entry.data.get("class", {})
    event_type = builder.mapping.classes.get((klass.get("system", ""), klass.get("code", "")))
    if event_type is None:
        builder.note(
            entry,
            entry.at("class"),
            f"class `{klass.get('code')}` is not a home visit, call or appointment in the mapping",
        )
        return
    if event_type == "appointment" and entry.data.get("appointment"):
        builder.note(entry, entry.at("appointment"), "its Appointment carries the contact")
        return
    fields: dict[str, Any] = {"type": event_type}
    for rule, code, _where in _matches(entry, builder, Resource.ENCOUNTER, "reasonCode", "type"):
        fields.update(rule.event or {})
        if rule.code_as:
            fields[rule.code_as] = code
    if "outcome" not in fields:
        codes = _describe_codes(entry, "reasonCode", "type")
        kind = event_type.replace("_", " ")
        message = f"a {kind} with no outcome the mapping knows ({codes})"
        builder.error(entry, entry.at("reasonCode"), message)
        return
    when = _when(entry, builder, ("period", "start"))
    if when is not None:
        builder.event(entry, when, fields)


def _coded_event(
    entry: _Entry, builder: _Builder, resource: Resource, element: str, *times: tuple[str, ...]
) -> None:
    events = [
        (r, c) for r, c, _ in _matches(entry, builder, resource, element) if r.event is not None
    ]
    if not events:
        builder.error(
            entry,
            entry.at(element),
            f"no code the mapping knows ({_describe_codes(entry, element)})",
        )
        return
    _record_event(entry, builder, *events[0], *times)


def _record_event(
    entry: _Entry, builder: _Builder, rule: CodeRule, code: str, *times: tuple[str, ...]
) -> None:
    """The event a matched rule makes, at the first time found at `times`."""
    fields = dict(rule.event or {})
    if rule.code_as:
        fields[rule.code_as] = code
    when = _when(entry, builder, *times)
    if when is not None:
        builder.event(entry, when, fields)


def _communication(entry: _Entry, builder: _Builder, _rebooked: set[str]) -> None:
    if entry.data.get("status") not in _DONE["Communication"]:
        builder.note(entry, entry.at("status"), "not sent (status is not `completed`)")
        return
    _coded_event(entry, builder, Resource.COMMUNICATION, "medium", ("sent",))


def _task(entry: _Entry, builder: _Builder, _rebooked: set[str]) -> None:
    if entry.data.get("status") not in _DONE["Task"]:
        builder.note(entry, entry.at("status"), "not done (status is not `completed`)")
        return
    _coded_event(
        entry, builder, Resource.TASK, "code", ("executionPeriod", "end"), ("lastModified",)
    )


def _service_request(entry: _Entry, builder: _Builder, _rebooked: set[str]) -> None:
    if entry.data.get("status") == "draft":
        builder.note(entry, entry.at("status"), "a draft request was not made")
        return
    _coded_event(entry, builder, Resource.SERVICE_REQUEST, "code", ("authoredOn",))


def _flag(entry: _Entry, builder: _Builder, _rebooked: set[str]) -> None:
    found = _matches(entry, builder, Resource.FLAG, "code")
    if not found:
        builder.error(
            entry, entry.at("code"), f"no code the mapping knows ({_describe_codes(entry, 'code')})"
        )
        return
    rule, code, where = found[0]
    if rule.event is not None:
        _record_event(entry, builder, rule, code, ("period", "start"))
        return
    if entry.data.get("status") != "active":
        builder.note(entry, entry.at("status"), "an inactive flag says nothing about today")
        return
    for name, value in (rule.set or {}).items():
        builder.fact(entry, where, name, value)
    if rule.code_as:
        builder.fact(entry, where, rule.code_as, code)


def _observation(entry: _Entry, builder: _Builder, _rebooked: set[str]) -> None:
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
_READERS: dict[str, Callable[[_Entry, _Builder, set[str]], None]] = {
    "Appointment": _appointment,
    "Encounter": _encounter,
    "Flag": _flag,
    "ServiceRequest": _service_request,
    "Communication": _communication,
    "Task": _task,
    "Observation": _observation,
}


def _value(entry: _Entry) -> tuple[Any, str]:
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


# --- FHIR out ---------------------------------------------------------------------------------

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
        task: dict[str, Any] = {
            "resourceType": "Task",
            "id": _task_id(assessment.case_id, action.id),
            "identifier": [
                {"system": TASK_IDENTIFIER, "value": f"{assessment.case_id}/{action.id}"}
            ],
            "status": _TASK_STATUS[document["status"]],
            "businessStatus": {"text": document["status"]},
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
            task["note"] = [{"text": f"{c['name']}: {c['phone']}"} for c in contacts]
        entries.append({"fullUrl": f"urn:uuid:{task['id']}", "resource": task})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    Bundle.model_validate(bundle)
    return bundle


def _priority(action: Mapping[str, Any]) -> str:
    if action.get("category") == "emergency":
        return "stat"
    if action["status"] == "overdue" or action.get("category") == "referral":
        return "urgent"
    return "routine"


def _task_id(case_id: str, action_id: str) -> str:
    """A FHIR id (letters, digits, `-` and `.`, at most 64) from the case and action ids."""
    raw = re.sub(r"[^A-Za-z0-9.-]", "-", f"{case_id}-{action_id}")
    if len(raw) <= 64:
        return raw
    import hashlib

    return raw[:47] + "-" + hashlib.sha256(raw.encode()).hexdigest()[:16]

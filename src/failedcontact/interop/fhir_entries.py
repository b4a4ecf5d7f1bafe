"""A FHIR bundle's entries, read for `interop.fhir`: validated, deduplicated, UK times.

`Entry` is one resource where the bundle holds it; `Builder` gathers what mapping the
bundle's resources finds (events, facts, errors and notes) until the case is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from ..model.case import as_uk_instant
from .mapped import Finding, FindingKind
from .mapping import FhirMapping

__all__ = ["OPTIONAL", "Builder", "Entry", "instant", "read_entries"]

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
        "CarePlan",
        "CareTeam",
    }
)
# Read only when the mapping has rules for them: elsewhere not part of a contact history.
OPTIONAL = frozenset({"EpisodeOfCare", "Condition"})


@dataclass
class Entry:
    """One resource of the bundle: its place, type, id and (time-normalised) data."""

    index: int
    type: str
    id: str
    full_url: str | None
    data: dict[str, Any]

    @property
    def name(self) -> str:
        """`Appointment/a1`."""
        return f"{self.type}/{self.id}"

    def at(self, *path: str | int) -> str:
        """The FHIRPath-like location of `path` in this resource."""
        tail = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        return f"Bundle.entry[{self.index}].resource{tail}"


@dataclass
class Builder:
    """What mapping a bundle has found so far: events, facts, flags, errors and notes."""

    mapping: FhirMapping
    errors: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    events: list[tuple[datetime, int, dict[str, Any], str]] = field(default_factory=list)
    facts: dict[str, tuple[Any, str]] = field(default_factory=dict)
    weak: dict[str, tuple[Any, Entry, str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    case_id: str | None = None
    patient: str | None = None
    nhs_number: str | None = None
    birth_date: date | None = None

    def settled(self) -> dict[str, tuple[Any, str]]:
        """Every case field found: the weak ones where nothing else set the field (a weak
        one that gives way is noted, so the reader sees both)."""
        for name, (value, entry, location) in self.weak.items():
            held = self.facts.get(name)
            if held is not None and held[0] != value:
                message = f"`{name}: {value}` gives way to `{held[0]}` from {held[1]}"
                self.note(entry, location, message)
        weak = {name: (value, entry.name) for name, (value, entry, _) in self.weak.items()}
        return {**weak, **self.facts}

    def error(self, entry: Entry | None, location: str, message: str) -> None:
        name = entry.name if entry else "Bundle"
        self.errors.append(Finding(FindingKind.ERROR, name, location, message))

    def note(self, entry: Entry | None, location: str, message: str) -> None:
        name = entry.name if entry else "Bundle"
        self.notes.append(Finding(FindingKind.NOTE, name, location, message))

    def event(self, entry: Entry, when: datetime, fields: dict[str, Any]) -> None:
        self.events.append((when, len(self.events), fields, entry.name))

    def fact(self, entry: Entry, location: str, name: str, value: Any, weak: bool = False) -> None:
        """Record a case field; a `weak` one stands only if no other resource sets it."""
        if name == "flags":
            self.flags.update([value] if isinstance(value, str) else value)
            return
        if weak:
            self.weak.setdefault(name, (value, entry, location))
            return
        held = self.facts.get(name)
        if held is not None and held[0] != value:
            self.error(entry, location, f"`{name}` is `{value}` here but `{held[0]}` in {held[1]}")
            return
        self.facts[name] = (value, entry.name)


def read_entries(bundle: Mapping[str, Any], builder: Builder) -> list[Entry]:
    """The bundle's entries in order, each resource read once: the types the mapping reads
    are validated against FHIR R4 and their offset-less times given the UK offset."""
    from fhir.resources.R4B import get_fhir_model_class

    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        builder.error(None, "Bundle.entry", "expected a list of entries")
        return []
    kept: dict[tuple[str, str], Entry] = {}
    for index, item in enumerate(raw):
        resource = item.get("resource") if isinstance(item, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            builder.error(None, f"Bundle.entry[{index}]", "an entry with no resource")
            continue
        kind = resource["resourceType"]
        entry = Entry(
            index, kind, str(resource.get("id") or f"#{index}"), item.get("fullUrl"), dict(resource)
        )
        if kind not in _READ and not (kind in OPTIONAL and builder.mapping.reads(kind)):
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
        _keep(kept, entry, builder)
    return sorted(kept.values(), key=lambda entry: entry.index)


def _keep(kept: dict[tuple[str, str], Entry], entry: Entry, builder: Builder) -> None:
    """Keep one version of each resource: the same one twice is read once, the newer of two
    different versions is read, and two undated versions are an error."""
    key = (entry.type, entry.id)
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
                f"(entries {held.index} and {entry.index}) with no `meta.lastUpdated` "
                "to tell which is current",
            )
            kept.pop(key)
            return
        older = entry if newer is held else held
        builder.note(
            older,
            older.at("meta", "lastUpdated"),
            f"an older version of {entry.name}; the newer one is read",
        )
        kept[key] = newer


def _newer(first: Entry, second: Entry) -> Entry | None:
    stamps = [instant(e.data.get("meta", {}).get("lastUpdated")) for e in (first, second)]
    if stamps[0] is None or stamps[1] is None or stamps[0] == stamps[1]:
        return None
    return first if stamps[0] > stamps[1] else second


def _with_offsets(entry: Entry, node: Any, path: tuple[str | int, ...], builder: Builder) -> Any:
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


def instant(value: Any) -> datetime | None:
    """A dateTime with an offset as an aware datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None

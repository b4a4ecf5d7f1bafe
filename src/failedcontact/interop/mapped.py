"""What mapping a source gives: the case, where each event came from, and what was said.

A FHIR bundle (`interop.fhir`) and a table export (`interop.tables`) are mapped through a
mapping file (`interop.mapping`) to the same records: a `MappedCase` per case, with a
`Finding` for every resource or row that could not be mapped (an error) or was skipped on
purpose (a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..errors import CaseError, CaseIssue
from ..model.case import Case

__all__ = ["Finding", "FindingKind", "MappedCase"]


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

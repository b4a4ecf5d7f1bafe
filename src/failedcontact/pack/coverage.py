"""Guidance coverage: which parts of a pack encode each section of its source document."""

from __future__ import annotations

from ..codes import Code
from ..errors import Diagnostic, Severity
from ..source.reader import Located
from .document import PackDocument
from .references import cited_sections


def coverage(doc: PackDocument) -> dict[str, list[str]]:
    """For each section id, the pack parts citing it, in document order."""
    found: dict[str, list[str]] = {section.id: [] for section in doc.source.sections}
    for part, section in cited_sections(doc):
        if section in found and part not in found[section]:
            found[section].append(part)
    return found


def check_coverage(source: Located, doc: PackDocument) -> list[Diagnostic]:
    """A warning for each section that nothing cites and that has no not-actionable reason."""
    covered = coverage(doc)
    problems = []
    for index, section in enumerate(doc.source.sections):
        if not covered[section.id] and not section.not_actionable:
            line, column = source.where(("source", "sections", index))
            problems.append(
                Diagnostic(
                    Code.PACK_UNCOVERED_SECTION,
                    f"section `{section.id}` ({section.title}) is encoded by no rule and has "
                    "no `not_actionable` reason",
                    source.file,
                    line,
                    column,
                    "cite it from the rules that encode it, or say why it is not actionable",
                    Severity.WARNING,
                )
            )
    return problems

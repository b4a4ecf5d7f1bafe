"""The pack pipeline as named stages: read, schema, references, compile, analysis.

Loading a pack and `failedcontact check` run the same stages, so they agree on what is an
error: a pack with any error-severity diagnostic does not load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..errors import Diagnostic, Severity
from ..limits import MAX_PACK_BYTES
from .analysis import analyse
from .compiler import CompiledPack, compile_pack
from .coverage import check_coverage
from .document import PackDocument
from .reader import read_yaml
from .references import check_references
from .schema import validate_document


class Stage(StrEnum):
    """The pipeline's stages, in the order they run."""

    READ = "read"
    SCHEMA = "schema"
    REFERENCES = "references"
    COMPILE = "compile"
    ANALYSIS = "analysis"


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """The compiled pack (None when any stage found an error) and every diagnostic."""

    compiled: CompiledPack | None
    diagnostics: tuple[Diagnostic, ...]
    reached: Stage

    @property
    def errors(self) -> list[Diagnostic]:
        """The error-severity diagnostics: any one of them stops the pack loading."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


def run_pipeline(text: str, file: str) -> PipelineResult:
    """Run every stage on pack text and collect what each one finds."""
    located = read_yaml(text, file)
    if isinstance(located, Diagnostic):
        # nothing after an unreadable file can be located
        return PipelineResult(None, (located,), Stage.READ)
    document = validate_document(located)
    if not isinstance(document, PackDocument):
        return PipelineResult(None, tuple(document), Stage.SCHEMA)
    problems = check_references(located, document)
    warnings = check_coverage(located, document)
    digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    compiled = compile_pack(located, document, digest)
    if isinstance(compiled, list):
        # the reference check already reports a bad calendar, more precisely located
        reported = {d.code for d in problems}
        errors = problems + [
            d for d in compiled if d.code not in reported or d.code != "pack.calendar"
        ]
        return PipelineResult(None, tuple(errors + warnings), Stage.COMPILE)
    if problems:
        return PipelineResult(None, tuple(problems + warnings), Stage.REFERENCES)
    findings, _ = analyse(compiled, located)
    found = tuple(warnings + findings)
    if any(d.severity is Severity.ERROR for d in found):
        return PipelineResult(None, found, Stage.ANALYSIS)
    return PipelineResult(compiled, found, Stage.ANALYSIS)


def read_pack_text(path: Path, shown_as: str | None = None) -> str | Diagnostic:
    """A pack file's text: a regular file, within the size limit, in UTF-8."""
    where = shown_as or str(path)
    try:
        if not path.is_file():  # a FIFO or device would block or never end
            return Diagnostic("pack.not-found", f"`{where}` is not a regular file", where, 1, 1)
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            return Diagnostic("pack.too-large", f"`{where}` is {size:,} bytes; a pack may "
                              f"have at most {MAX_PACK_BYTES:,}", where, 1, 1)  # fmt: skip
        raw = path.read_bytes()
    except OSError as error:
        return Diagnostic("pack.not-found", f"cannot read `{where}`: {error.strerror}", where, 1, 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Diagnostic("pack.not-a-pack", f"`{where}` is not UTF-8 text (byte "
                          f"{error.start + 1}), so it is not a pack", where, 1, 1)  # fmt: skip


def run_file(path: Path, shown_as: str | None = None) -> PipelineResult:
    """The pack file at `path` through every stage."""
    text = read_pack_text(path, shown_as)
    if isinstance(text, Diagnostic):
        return PipelineResult(None, (text,), Stage.READ)
    return run_pipeline(text, shown_as or str(path))

"""The pack pipeline as named stages: read, schema, references, compile, analysis.

Loading a pack and `failedcontact check` run the same stages, so they agree on what is an
error: a pack with any error-severity diagnostic does not load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..codes import Code
from ..errors import Diagnostic, Severity
from ..limits import MAX_PACK_BYTES
from ..source.reader import Located, read_yaml
from ..source.reader import Path as DataPath
from .analysis import analyse
from .compiler import CompiledPack, compile_pack
from .coverage import check_coverage
from .document import PackDocument
from .references import NOTHING_DROPPED, Dropped, check_references
from .schema import invalid_paths, validate_document


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
        later = _without_invalid_parts(located)
        return PipelineResult(None, tuple(document) + later, Stage.SCHEMA)
    return _after_schema(text, located, document)


def _after_schema(
    text: str, located: Located, document: PackDocument, dropped: Dropped = NOTHING_DROPPED
) -> PipelineResult:
    problems = check_references(located, document, dropped)
    warnings = check_coverage(located, document)
    digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    compiled = compile_pack(located, document, digest, dropped)
    if isinstance(compiled, list):
        # the reference check already reports a bad calendar, more precisely located
        reported = {d.code for d in problems}
        errors = problems + [
            d for d in compiled if d.code not in reported or d.code != Code.PACK_CALENDAR
        ]
        return PipelineResult(None, tuple(errors + warnings), Stage.COMPILE)
    if problems:
        findings = list(_analysis_without(located, problems, dropped))
        return PipelineResult(None, tuple(problems + warnings + findings), Stage.REFERENCES)
    findings, _ = analyse(compiled, located)
    found = tuple(warnings + findings)
    if any(d.severity is Severity.ERROR for d in found):
        return PipelineResult(None, found, Stage.ANALYSIS)
    return PipelineResult(compiled, found, Stage.ANALYSIS)


# The parts of a pack the later stages can do without: a schema problem inside one of them
# drops that part, so one run reports the other stages' problems too.
_PARTS: tuple[tuple[str | int, ...], ...] = (
    ("rules",),
    ("duties",),
    ("patterns",),
    ("risk", "rules"),
    ("closure", "requires"),
    ("actions",),
    ("contacts",),
    ("flags",),
    ("source", "sections"),
)


def _part_of(path: DataPath) -> DataPath | None:
    for container in _PARTS:
        if path[: len(container)] == container and len(path) > len(container):
            return path[: len(container) + 1]
    return None


def _without_invalid_parts(located: Located) -> tuple[Diagnostic, ...]:
    """The later stages' errors on the pack less the parts with schema problems.

    What a dropped part defines (an action, a flag, a section...) still counts as defined,
    by kind, so a reference to it (a rule requiring a dropped action) is no error: the
    schema problem already explains it. Warnings are left out: a dropped rule leaves its
    section uncited. Nothing is reported when a problem is outside every part.
    """
    parts = {_part_of(path) for path in invalid_paths(located)}
    if not parts or None in parts:
        return ()
    dropped = {part for part in parts if part is not None}
    pruned = _prune(located, dropped)
    document = validate_document(pruned)
    if not isinstance(document, PackDocument):
        return ()
    return tuple(_after_schema("", pruned, document, _defined_by(located, dropped)).errors)


# What each kind of part defines for others to name: a mapping's parts by their key, a
# list's by their `id`. Rules, duties, risk rules and closure conditions are named by none.
_DEFINED_BY_KEY: dict[DataPath, str] = {
    ("actions",): "actions",
    ("contacts",): "contacts",
    ("flags",): "flags",
}
_DEFINED_BY_ID: dict[DataPath, str] = {
    ("patterns",): "patterns",
    ("source", "sections"): "sections",
}


def _defined_by(located: Located, parts: set[DataPath]) -> Dropped:
    """The names the dropped `parts` define, by kind."""
    names: dict[str, set[str]] = {}
    for part in parts:
        container = part[:-1]
        name: object = part[-1]
        kind = _DEFINED_BY_KEY.get(container)
        if container in _DEFINED_BY_ID:
            item = _at(located.data, part)
            name = item.get("id") if isinstance(item, dict) else None
            kind = _DEFINED_BY_ID[container]
        if kind is not None and isinstance(name, str):
            names.setdefault(kind, set()).add(name)
    return Dropped(**{kind: frozenset(found) for kind, found in names.items()})


def _analysis_without(
    located: Located, problems: list[Diagnostic], dropped: Dropped
) -> tuple[Diagnostic, ...]:
    """The analysis's errors on the pack less the parts with reference problems.

    Nothing when a problem is outside every part (a failed contact outcome, the calendar):
    the analysis needs those to be sound. A part with a broken reference is not judged (an
    unknown trigger would make its rule "never fire").
    """
    parts = {_part_at(located, d) for d in problems}
    if None in parts:
        return ()
    pruned = _prune(located, {part for part in parts if part is not None})
    document = validate_document(pruned)
    if not isinstance(document, PackDocument) or check_references(pruned, document, dropped):
        return ()
    compiled = compile_pack(pruned, document, "", dropped)
    if isinstance(compiled, list):
        return ()
    findings, _ = analyse(compiled, pruned)
    return tuple(f for f in findings if f.severity is Severity.ERROR)


def _part_at(located: Located, diagnostic: Diagnostic) -> DataPath | None:
    """The part (a rule, an action...) holding the node a diagnostic is reported at."""
    spot = (diagnostic.line, diagnostic.column)
    for table in (located.values, located.keys):
        for path, where in table.items():
            if where == spot and (part := _part_of(path)) is not None:
                return part
    return None


def _at(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _prune(located: Located, dropped: set[DataPath]) -> Located:
    """The located data without the `dropped` parts; locations still point at the file."""
    by_container: dict[DataPath, set[str | int]] = {}
    for part in dropped:
        by_container.setdefault(part[:-1], set()).add(part[-1])

    def moved(path: DataPath) -> DataPath | None:
        result: list[str | int] = []
        for depth, component in enumerate(path):
            gone = by_container.get(path[:depth])
            if gone is not None:
                if component in gone:
                    return None
                if isinstance(component, int):
                    component -= sum(1 for g in gone if isinstance(g, int) and g < component)
            result.append(component)
        return tuple(result)

    def rebuild(node: Any, path: DataPath) -> Any:
        gone = by_container.get(path, set())
        if isinstance(node, dict):
            return {k: rebuild(v, (*path, k)) for k, v in node.items() if k not in gone}
        if isinstance(node, list):
            return [rebuild(v, (*path, i)) for i, v in enumerate(node) if i not in gone]
        return node

    def remap(table: Mapping[DataPath, tuple[int, int]]) -> dict[DataPath, tuple[int, int]]:
        return {new: spot for old, spot in table.items() if (new := moved(old)) is not None}

    return Located(
        located.file, rebuild(located.data, ()), remap(located.keys), remap(located.values)
    )


def read_pack_text(path: Path, shown_as: str | None = None) -> str | Diagnostic:
    """A pack file's text: a regular file, within the size limit, in UTF-8."""
    where = shown_as or str(path)
    try:
        if not path.is_file():  # a FIFO or device would block or never end
            return Diagnostic(Code.PACK_NOT_FOUND, f"`{where}` is not a regular file", where, 1, 1)
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            return Diagnostic(Code.PACK_TOO_LARGE, f"`{where}` is {size:,} bytes; a pack may "
                              f"have at most {MAX_PACK_BYTES:,}", where, 1, 1)  # fmt: skip
        raw = path.read_bytes()
    except OSError as error:
        return Diagnostic(
            Code.PACK_NOT_FOUND, f"cannot read `{where}`: {error.strerror}", where, 1, 1
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Diagnostic(Code.PACK_NOT_A_PACK, f"`{where}` is not UTF-8 text (byte "
                          f"{error.start + 1}), so it is not a pack", where, 1, 1)  # fmt: skip


def run_file(path: Path, shown_as: str | None = None) -> PipelineResult:
    """The pack file at `path` through every stage."""
    text = read_pack_text(path, shown_as)
    if isinstance(text, Diagnostic):
        return PipelineResult(None, (text,), Stage.READ)
    return run_pipeline(text, shown_as or str(path))

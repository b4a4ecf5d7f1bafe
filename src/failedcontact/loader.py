"""Load a pack through the pipeline: read YAML, validate the schema, check references, compile."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from .assessment import Assessment
from .calendar import WorkingCalendar
from .case import Case, as_uk_instant
from .engine import assess, assess_to_json
from .errors import (
    CaseError,
    CaseIssue,
    Diagnostic,
    PackError,
    Severity,
    UnknownPackError,
    did_you_mean,
)
from .limits import MAX_PACK_BYTES
from .pack.analysis import analyse
from .pack.compiler import CompiledPack, compile_pack
from .pack.coverage import check_coverage
from .pack.document import PackDocument
from .pack.reader import read_yaml
from .pack.references import check_references
from .pack.schema import validate_document
from .vocabulary import EventType


def bundled_dir() -> Path:
    """The folder of bundled packs: inside the installed package, or the source tree's."""
    installed = Path(str(resources.files("failedcontact"))) / "_bundled" / "policies"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "policies"


def bundled_ids() -> list[str]:
    """The ids of the bundled packs, sorted."""
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def _resolve(name: str | Path) -> Path:
    text = str(name)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise UnknownPackError(
                [Diagnostic("pack.not-found", f"no pack file `{text}`", text, 1, 1)]
            )
        return path
    path = bundled_dir() / f"{text}.yaml"
    if not path.is_file():
        known = bundled_ids()
        raise UnknownPackError(
            [
                Diagnostic(
                    "pack.unknown",
                    f"unknown pack `{text}`",
                    text,
                    1,
                    1,
                    did_you_mean(text, known) or f"bundled packs: {', '.join(known)}",
                )
            ]
        )
    return path


def analyse_text(
    text: str, file: str, deep: bool = False
) -> tuple[CompiledPack | None, list[Diagnostic]]:
    """Run every stage on pack text: the compiled pack (None on any error) and every finding.

    `deep` adds the static analysis (`failedcontact check`); loading a pack skips it.
    """
    located = read_yaml(text, file)
    if isinstance(located, Diagnostic):
        return None, [located]
    document = validate_document(located)
    if not isinstance(document, PackDocument):
        return None, document
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
        return None, errors + warnings
    if problems:
        return None, problems + warnings
    if deep:
        findings, _ = analyse(compiled, located)
        warnings = warnings + findings
    return compiled, warnings


def compile_text(text: str, file: str) -> CompiledPack | list[Diagnostic]:
    """Run every stage on pack text; return the compiled pack or the errors found."""
    compiled, found = analyse_text(text, file)
    if compiled is None:
        return [d for d in found if d.severity is Severity.ERROR]
    return compiled


def inspect_file(path: str | Path) -> tuple[CompiledPack | None, list[Diagnostic]]:
    """The pack file at `path` through every stage and the analysis: pack and findings."""
    path = Path(path)
    text = read_pack_text(path)
    if isinstance(text, Diagnostic):
        return None, [text]
    return analyse_text(text, str(path), deep=True)


def read_pack_text(path: Path) -> str | Diagnostic:
    """A pack file's text: a regular file, within the size limit, in UTF-8."""
    where = str(path)
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


def check_file(path: str | Path) -> list[Diagnostic]:
    """Every diagnostic for the pack file at `path` (an empty list when it is clean)."""
    return inspect_file(path)[1]


@dataclass(frozen=True, slots=True, eq=False)
class Pack:
    """A loaded, compiled policy pack: assess cases with it as often as you like."""

    compiled: CompiledPack

    @property
    def id(self) -> str:
        """The pack id (the pack file's name)."""
        return self.compiled.document.id

    @property
    def version(self) -> str:
        """The pack's semantic version."""
        return self.compiled.document.version

    @property
    def digest(self) -> str:
        """`sha256:` of the pack file's bytes."""
        return self.compiled.digest

    @property
    def document(self) -> PackDocument:
        """The validated pack document."""
        return self.compiled.document

    def assess(
        self,
        case: Case | dict[str, Any],
        as_of: datetime,
        calendar: WorkingCalendar | None = None,
        backend: Literal["native", "durable"] = "native",
    ) -> Assessment:
        """Assess one case as it stood at `as_of` (a naive `as_of` is UK local time).

        `backend="durable"` matches rules with durable-rules instead (the optional extra):
        slower, and meant as an independent cross-check of the native matcher.
        """
        if not isinstance(case, Case):
            case = parse_case(case)
        if backend == "durable":
            from .durable import match

            return assess(self.compiled, case, _as_of(as_of), calendar, match)
        if backend != "native":
            raise ValueError(f"unknown backend `{backend}`; expected `native` or `durable`")
        return assess(self.compiled, case, _as_of(as_of), calendar)

    def assess_json(self, text: str | bytes, as_of: datetime) -> bytes:
        """JSON case text in, the assessment's JSON text (UTF-8 bytes) out."""
        return assess_to_json(self.compiled, parse_case(text), _as_of(as_of))


def _as_of(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise CaseError([CaseIssue("as_of", f"expected a datetime, got `{value!r}`")])
    try:
        instant = as_uk_instant(value)
    except ValueError as error:
        raise CaseError([CaseIssue("as_of", str(error))]) from None
    offset = instant.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        # RFC 3339 offsets are whole minutes: an offset with seconds (some zones before
        # the 1970s-80s) is echoed as the same instant in UTC, identically on both paths.
        return instant.astimezone(UTC)
    return instant


def parse_case(data: str | bytes | dict[str, Any] | Any) -> Case:
    """Validate case input (JSON text or plain data) and raise `CaseError` naming each field."""
    try:
        if isinstance(data, str | bytes):
            return Case.model_validate_json(data)
        return Case.model_validate(data)
    except ValidationError as error:
        raise CaseError(case_issues(error)) from None


_EVENT_TAGS = frozenset(event_type.value for event_type in EventType)


def case_issues(error: ValidationError) -> list[CaseIssue]:
    """Turn pydantic errors into field paths such as `events[3].outcome`."""
    issues = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        # A discriminated union puts the event type in the location: drop it.
        if len(loc) >= 3 and loc[0] == "events" and loc[2] in _EVENT_TAGS:
            del loc[2]
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        kind = item["type"]
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "union_tag_invalid":
            message = (
                "unknown event type `"
                + str(item.get("ctx", {}).get("tag"))
                + "`; expected one of "
                + ", ".join(f"`{t}`" for t in sorted(_EVENT_TAGS))
            )
        elif kind == "union_tag_not_found":
            message = "event has no `type`"
        else:
            message = item["msg"][0].lower() + item["msg"][1:]
            given = item.get("input")
            if kind != "json_invalid" and given is not None and not isinstance(given, dict | list):
                message += f" (got `{given}`)"
        issues.append(CaseIssue(path, message))
    return issues


def load_pack(name: str | Path) -> Pack:
    """Load a bundled pack by id, or a pack file by path; raise `PackError` with every problem."""
    path = _resolve(name)
    text = read_pack_text(path)
    if isinstance(text, Diagnostic):
        raise PackError([text])
    result = compile_text(text, _display(path))
    if isinstance(result, list):
        raise PackError(result)
    return Pack(result)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

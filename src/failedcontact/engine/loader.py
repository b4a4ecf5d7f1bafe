"""The `Pack` facade and `load_pack`: a pack file or text through the pipeline, ready to assess."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..errors import Diagnostic, PackError, UsageError
from ..model.assessment import Assessment
from ..model.calendar import WorkingCalendar
from ..model.case import Case
from ..model.case_input import as_of_instant, parse_case
from ..pack.compiler import CompiledPack
from ..pack.document import PackDocument
from ..pack.pipeline import run_file, run_pipeline
from ..source.locate import PackSource, resolve_pack
from .evaluate import assess, assess_to_json


@dataclass(frozen=True, slots=True, eq=False)
class Pack:
    """A loaded, compiled policy pack: assess cases with it as often as you like."""

    compiled: CompiledPack
    source: PackSource | None = None

    def __repr__(self) -> str:
        # the compiled pack is hundreds of thousands of characters: name the release instead
        where = f", path={str(self.source.path)!r}" if self.source is not None else ""
        return f"Pack(id={self.id!r}, version={self.version!r}, digest={self.digest!r}{where})"

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

            return assess(self.compiled, case, as_of_instant(as_of), calendar, match)
        if backend != "native":
            raise UsageError(f"unknown backend `{backend}`; expected `native` or `durable`")
        return assess(self.compiled, case, as_of_instant(as_of), calendar)

    def assess_json(self, text: str | bytes, as_of: datetime) -> bytes:
        """JSON case text in, the assessment's JSON text (UTF-8 bytes) out."""
        return assess_to_json(self.compiled, parse_case(text), as_of_instant(as_of))


def load_pack(
    name: str | Path | None = None,
    *,
    text: str | None = None,
    file: str = "<string>",
    near: str | Path | None = None,
) -> Pack:
    """Load a pack and raise `PackError` with every problem found.

    `name` is a pack file's path or a pack id. An id means `<id>.yaml` in the `policies`
    folder at or above `near` when `near` is given and there is one (the command line passes
    the current folder), else the bundled pack. Or pass the pack's YAML as `text`, with
    `file` as the name its diagnostics give.
    """
    if (name is None) == (text is None):
        raise UsageError("load_pack takes a pack name or path, or `text=`, but not both")
    if text is not None:
        result = run_pipeline(text, file)
        source = None
    else:
        assert name is not None
        source = resolve_pack(name, Path(near) if near is not None else None)
        result = run_file(source.path, _display(source.path))
    if result.compiled is None:
        raise PackError(result.errors)
    return Pack(result.compiled, source)


def check_file(path: str | Path) -> list[Diagnostic]:
    """Every diagnostic for the pack file at `path` (an empty list when it is clean)."""
    return list(run_file(Path(path)).diagnostics)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

"""`diff`, `packs`, `schema` and `check`: what the packs say, and whether they are sound."""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.table import Table

from ..engine.loader import load_pack
from ..errors import Diagnostic, PackError, Severity, did_you_mean, literal, one_of
from ..interop.mapping import check_mapping, mapping_schema
from ..model.assessment import Assessment
from ..model.case import Case
from ..pack.analysis import inexact
from ..pack.coverage import coverage
from ..pack.document import PackDocument
from ..pack.pipeline import run_file
from ..source.locate import Origin, bundled_ids, resolve_pack, working_tree
from ..testing.scenario_model import ScenarioFile
from ..views.diagnostics import render_all
from ..views.diff import diff_packs
from ._app import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PACK,
    EXIT_USAGE,
    CheckFormat,
    FormatOption,
    app,
    console,
    err,
    fail,
    pack_or_exit,
    shown,
)


@app.command("diff")
def diff_command(
    left: Annotated[str, typer.Argument(help="A bundled pack id or pack file.")],
    right: Annotated[str, typer.Argument(help="Another bundled pack id or pack file.")],
    output: FormatOption = CheckFormat.TEXT,
) -> None:
    """Show what really differs between two packs (wording and citations are ignored).

    Exits 1 when they differ and 0 when they do not, like diff(1).
    """
    a, b = pack_or_exit(left), pack_or_exit(right)
    found = diff_packs(a.compiled, b.compiled)
    if output is CheckFormat.JSON:
        rows = [{"category": d.category, "subject": d.subject, "left": d.left,
                 "right": d.right} for d in found]  # fmt: skip
        sys.stdout.write(json.dumps({"left": left, "right": right, "differences": rows},
                                    indent=2) + "\n")  # fmt: skip
        raise typer.Exit(EXIT_FAILED if found else EXIT_OK)
    out = console()
    for side, pack in (("left", a), ("right", b)):
        document = pack.document
        out.print(f"{side}: {document.id} {document.version} - {document.area} "
                  f"(source {document.source.issued or 'undated'})", markup=False)  # fmt: skip
    if not found:
        out.print("No differences in what a practitioner would do.")
        return
    table = Table(title=f"{len(found)} difference(s)", expand=True, show_lines=True)
    table.add_column("area of difference", no_wrap=True)
    table.add_column("what")
    table.add_column(a.id if a.id != b.id else left)
    table.add_column(b.id if a.id != b.id else right)
    for difference in found:
        table.add_row(difference.category, difference.subject, difference.left, difference.right)
    out.print(table)
    raise typer.Exit(EXIT_FAILED)


class PacksFormat(StrEnum):
    """How `packs` lists the packs."""

    TABLE = "table"
    JSON = "json"


@app.command()
def packs(
    output: Annotated[
        PacksFormat,
        typer.Option("--format", "-f", help="`table` for a person, `json` for a program."),
    ] = PacksFormat.TABLE,
) -> None:
    """List the packs: the working tree's (`policies/*.yaml`) and the bundled ones."""
    tree = working_tree(Path.cwd())
    ids = sorted(set(bundled_ids()) | ({p.stem for p in tree.glob("*.yaml")} if tree else set()))
    rows = [_pack_row(pack_id) for pack_id in ids]
    if output is PacksFormat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    else:
        table = Table(title="Packs (an id means the working tree's file when there is one)")
        for column in ("id", "area", "version", "source issued", "source", "file"):
            table.add_column(column)
        for row in rows:
            if "error" in row:
                table.add_row(str(row["id"]), "invalid: run `failedcontact check`", "", "", "", "")
                continue
            source: Any = row["source"]
            table.add_row(str(row["id"]), str(row["area"]), str(row["version"]),
                          source["issued"] or "undated", source["title"],
                          f"{row['file']} ({row['origin']})")  # fmt: skip
        console().print(table)
    if any("error" in row for row in rows):
        raise typer.Exit(EXIT_PACK)


def _pack_row(pack_id: str) -> dict[str, Any]:
    """A pack as `packs` lists it, or its id and why it does not load."""
    try:
        loaded = load_pack(pack_id, near=Path.cwd())
    except PackError as error:
        return {"id": pack_id, "error": str(error)}
    document = loaded.document
    assert loaded.source is not None
    return {
        "id": pack_id, "area": document.area, "version": document.version,
        "digest": loaded.digest, "source": {"title": document.source.title,
                                            "issued": document.source.issued},
        "file": shown(loaded.source.path), "origin": loaded.source.origin.value,
    }  # fmt: skip


class SchemaName(StrEnum):
    """Which JSON Schema to print."""

    CASE = "case"
    ASSESSMENT = "assessment"
    PACK = "pack"
    SCENARIO = "scenario"
    MAPPING = "mapping"
    OPENAPI = "openapi"


@app.command()
def schema(
    which: Annotated[str, typer.Argument(metavar="NAME", help="case, assessment, pack, "
                                         "scenario, mapping or openapi")],
) -> None:  # fmt: skip
    """Print a JSON Schema (case input, assessment output, pack, scenario or mapping file), or
    the service's OpenAPI 3.1 document."""
    names = [n.value for n in SchemaName]
    if which not in names:
        hint = did_you_mean(which, names) or f"expected one of {one_of(names)}"
        raise fail(EXIT_USAGE, f"error: unknown schema `{which}`\n  help: {hint}")
    name = SchemaName(which)
    if name is SchemaName.OPENAPI:
        try:
            from ..service.app import openapi_document
        except ImportError:
            raise fail(EXIT_USAGE, "error: the OpenAPI document needs the `service` extra: "
                       "pip install 'failedcontact[service]'") from None  # fmt: skip
        document = openapi_document()
    elif name is SchemaName.CASE:
        document = Case.model_json_schema()
    elif name is SchemaName.ASSESSMENT:
        document = Assessment.model_json_schema(mode="serialization")
    elif name is SchemaName.SCENARIO:
        document = ScenarioFile.model_json_schema()
    elif name is SchemaName.MAPPING:
        document = mapping_schema()
    else:
        document = PackDocument.model_json_schema()
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@app.command()
def check(
    pack_files: Annotated[
        list[str], typer.Argument(help="Pack files, bundled pack ids or mapping files.")
    ],
    output: FormatOption = CheckFormat.TEXT,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Check packs or mapping files through every stage, reporting every problem; exit 3 if any."""
    found: list[Diagnostic] = []
    report: list[dict[str, object]] = []
    out = console(soft_wrap=True)
    for item in pack_files:
        checked = _check_mapping_file(item) if _is_mapping_file(item) else _check_pack(item)
        found.extend(checked.diagnostics)
        report.append(checked.report)
        if output is CheckFormat.TEXT:
            if checked.diagnostics:  # in line order, each line quoted with a caret
                err.print(literal(render_all(checked.diagnostics, _text_of)), markup=False)
            out.print(f"{item}: {checked.summary}")
    if output is CheckFormat.JSON:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    failing = [d for d in found if strict or d.severity is Severity.ERROR]
    if failing:
        raise typer.Exit(EXIT_PACK)


def _text_of(file: str) -> str | None:
    """A diagnostic's file read again to quote its line; None when it cannot be."""
    path = Path(file)
    try:
        if not path.is_file():  # a FIFO would block: only a regular file is read again
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


class _Checked(NamedTuple):
    """What `check` found in one file: for the exit status, the JSON report and the text."""

    diagnostics: list[Diagnostic]
    report: dict[str, object]
    summary: str


def _check_pack(item: str) -> _Checked:
    try:
        source = resolve_pack(item, near=Path.cwd())
    except PackError as error:
        diagnostics: list[Diagnostic] = list(error.diagnostics)
        compiled = None
    else:
        if source.origin is not Origin.FILE:
            err.print(literal(f"{item}: {source.describe()}"), style="dim")
        result = run_file(source.path, shown(source.path))
        diagnostics, compiled = list(result.diagnostics), result.compiled
    document = compiled.document if compiled is not None else None
    sections = _section_coverage(document) if document is not None else None
    partial = inexact(compiled) if compiled is not None else []
    report: dict[str, object] = {"pack": item, "diagnostics": [d.as_dict() for d in diagnostics],
                                 "coverage": sections, "analysis_inexact": partial}  # fmt: skip
    return _Checked(diagnostics, report, _pack_summary(diagnostics, sections, partial))


def _pack_summary(
    diagnostics: list[Diagnostic], sections: dict[str, list[str] | None] | None, partial: list[str]
) -> str:
    """`check`'s line for a pack: its problems, what its sections cover, how exact it is."""
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    summary = "ok" if not diagnostics else f"{errors} error(s), {warnings} warning(s)"
    if sections is not None:
        encoded = sum(1 for parts in sections.values() if parts)
        reasoned = sum(1 for parts in sections.values() if parts is None)
        summary += (
            f"; {encoded + reasoned}/{len(sections)} sections covered "
            f"({encoded} encoded, {reasoned} not actionable)"
        )
        summary += (
            f"; analysis exact except {len(partial)} rule(s) with `count`, treated as unknown"
            if partial
            else "; analysis exact"
        )
    return summary


def _is_mapping_file(item: str) -> bool:
    """A YAML file whose top level starts a mapping file (`mapping: fhir` or `table`)."""
    path = Path(item)
    if not path.is_file():
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return False
    return re.search(r"^mapping:", head, re.MULTILINE) is not None


def _check_mapping_file(item: str) -> _Checked:
    result = check_mapping(shown(Path(item)))
    diagnostics = result if isinstance(result, list) else []
    report: dict[str, object] = {"mapping": item, "diagnostics": [d.as_dict() for d in diagnostics]}
    return _Checked(diagnostics, report, f"{len(diagnostics)} error(s)" if diagnostics else "ok")


def _section_coverage(document: PackDocument) -> dict[str, list[str] | None]:
    """Each section's citing parts (None: not actionable, with its reason)."""
    cited = coverage(document)
    return {
        s.id: (cited[s.id] or None) if s.not_actionable else cited[s.id]
        for s in document.source.sections
    }

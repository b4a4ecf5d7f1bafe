"""`replay`: assess a decision log's decisions again and say which answers changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..errors import literal
from ..runs.releases import load_shelf
from ..runs.replay import ReplayReport, Skipped, index_cases
from ..runs.replay import replay as replay_log
from ..source.locate import bundled_dir, working_tree
from ._app import EXIT_FAILED, EXIT_INPUT, EXIT_PACK, CheckFormat, app, console, err, fail

_SHOWN = 10  # lines not replayed, and chain breaks, listed in text (json lists every one)


@app.command()
def replay(
    log: Annotated[Path, typer.Argument(help="A decision log (JSONL) from `assess "
                                        "--decision-log` or `serve`.")],
    cases: Annotated[
        Path | None,
        typer.Option("--cases", help="JSONL cases, matched to decisions by the SHA-256 of "
                     "their canonical JSON (needed where the log holds no case, or a masked one)."),
    ] = None,
    packs_folder: Annotated[
        Path | None,
        typer.Option("--packs", help="Folder of pack releases (default: the `policies` folder "
                     "of the working tree, else the bundled packs)."),
    ] = None,
    output: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="`text` for a person, `json` for a program."),
    ] = CheckFormat.TEXT,
) -> None:  # fmt: skip
    """Assess every logged decision again and report each answer that differs, with why.

    Exit status 0 when every decision was replayed and gave the same answer byte for byte
    and the log's chain shows no line deleted or moved; 1 when any differs, could not be
    replayed, or follows deleted or moved lines (each is listed).
    """
    folder = packs_folder or working_tree(Path.cwd()) or bundled_dir()
    loaded = load_shelf(folder)
    if loaded.shelf is None:
        for diagnostic in loaded.diagnostics:
            err.print(literal(diagnostic.render()), markup=False)
        raise fail(EXIT_PACK, f"error: the packs in `{folder}` cannot be loaded")
    cases_by_digest: dict[str, Any] = {}
    bad_cases: list[Skipped] = []
    if cases is not None:
        cases_by_digest, bad_cases = index_cases(_lines_of(cases))
    report = replay_log(_lines_of(log), loaded.shelf, cases_by_digest)
    out = console(soft_wrap=True)
    skipped = [*bad_cases, *report.skipped]
    if output is CheckFormat.JSON:
        document = report.as_dict() | {
            "skipped": len(skipped),
            "skipped_lines": [{"line": s.line, "why": s.why} for s in skipped],
        }
        out.print_json(data=document)
    else:
        _print_text(out, report, skipped, folder)
    if report.differences or skipped or report.breaks:
        raise typer.Exit(EXIT_FAILED)


def _print_text(out: Console, report: ReplayReport, skipped: list[Skipped], folder: Path) -> None:
    """Each difference, line not replayed and chain break (the first few), and a summary."""
    for difference in report.differences:
        out.print(literal(
            f"line {difference.line} (request {difference.request_id}): "
            f"{difference.pack} -> {difference.replayed_with}: differs\n  "
            + "\n  ".join(difference.reasons)), markup=False, soft_wrap=True)  # fmt: skip
    _print_some(out, [f"line {s.line}: not replayed: {s.why}" for s in skipped],
                "not replayed")  # fmt: skip
    _print_some(out, [f"line {b.line}: chain: {b.why}" for b in report.breaks],
                "chain break(s)")  # fmt: skip
    out.print(
        f"replayed {report.decisions:,} decision(s) with the packs in {folder}: "
        f"{report.same:,} same, {len(report.differences):,} differ, "
        f"{len(skipped):,} not replayed; chain: {report.chained:,} chained, "
        f"{report.unchained:,} unchained, {len(report.breaks):,} break(s)",
        markup=False,
    )


def _print_some(out: Console, lines: list[str], more: str) -> None:
    """The first `_SHOWN` lines, and how many more `--format json` lists."""
    for line in lines[:_SHOWN]:
        out.print(literal(line), markup=False)
    if len(lines) > _SHOWN:
        out.print(f"... and {len(lines) - _SHOWN:,} more {more} (--format json lists every "
                  "one)", markup=False)  # fmt: skip


def _lines_of(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as stream:
            yield from stream
    except OSError as error:
        raise fail(EXIT_INPUT, f"error: cannot read `{path}`: {error.strerror}") from None

"""`handbook`: the pack as a readable procedure a safeguarding partnership can sign off."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..engine.loader import Pack
from ..errors import CaseError, ScenarioFileError
from ..model.case_input import parse_case
from ..testing.scenarios import discover, load_scenarios
from ..views.handbook import build_handbook, render_handbook_html, render_handbook_markdown
from ._app import EXIT_INPUT, app, fail, note, pack_or_exit, shown, writing

_PACK_HELP = "A pack id (the working tree's `policies/<id>.yaml`, else the bundled pack) or a path."


class HandbookFormat(StrEnum):
    """What `handbook` writes."""

    HTML = "html"
    MARKDOWN = "markdown"


def scenario_proofs(pack: Pack, files: Iterable[Path]) -> dict[str, list[str]]:
    """For each rule, duty and pattern id, the names of the scenarios in `files` that fire it.

    Only scenarios of this pack (by id) with a case count; a file that does not load is
    skipped here (`failedcontact test` reports it).
    """
    proofs: dict[str, list[str]] = {}
    for file in files:
        try:
            scenarios = load_scenarios(file)
        except ScenarioFileError:
            continue
        for scenario in scenarios:
            if Path(scenario.pack).stem != pack.id or scenario.case is None:
                continue
            assert scenario.as_of is not None  # the model requires it with a case
            try:
                assessment = pack.assess(parse_case(scenario.case), scenario.as_of)
            except CaseError:
                continue
            for step in assessment.trace:
                names = proofs.setdefault(step.id, []) if step.step in ("rule", "pattern") else []
                if step.step in ("rule", "pattern") and scenario.name not in names:
                    names.append(scenario.name)
    return proofs


def scenario_folder(pack: Pack) -> Path | None:
    """`policies/tests/<id>/` beside the pack's file, when there is one."""
    if pack.source is None:
        return None
    folder = pack.source.path.parent / "tests" / pack.id
    return folder if folder.is_dir() else None


@app.command("handbook")
def handbook_command(
    pack: Annotated[str, typer.Argument(metavar="PACK", help=_PACK_HELP)],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write.")
    ],
    output_format: Annotated[
        HandbookFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="`html` or `markdown` (default: from the file's "
            "name: `.md` is Markdown, anything else HTML).",
        ),
    ] = None,
    scenarios: Annotated[
        Path | None,
        typer.Option(
            "--scenarios",
            metavar="FOLDER",
            help="The scenarios that prove the "
            "rules (default: `policies/tests/<id>/` beside the pack).",
        ),
    ] = None,
) -> None:
    """Write the pack as a handbook a partnership board can check against its guidance."""
    loaded = pack_or_exit(pack)
    folder = scenarios if scenarios is not None else scenario_folder(loaded)
    if folder is not None and not folder.exists():
        raise fail(EXIT_INPUT, f"error: no scenario folder `{folder}`")
    proofs = scenario_proofs(loaded, discover(folder)) if folder is not None else {}
    book = build_handbook(loaded.compiled, proofs)
    chosen = output_format or (
        HandbookFormat.MARKDOWN
        if output.suffix.lower() in (".md", ".markdown")
        else HandbookFormat.HTML
    )
    text = (
        render_handbook_markdown(book)
        if chosen is HandbookFormat.MARKDOWN
        else (render_handbook_html(book))
    )
    with writing():
        output.write_text(text, encoding="utf-8")
    uncovered = len(book.uncovered)
    note(
        f"wrote {shown(output)}: {len(book.chapters)} sections, {uncovered} not covered by any rule"
    )

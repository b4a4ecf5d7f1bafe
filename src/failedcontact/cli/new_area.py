"""`new-area`: start a new area's pack and scenarios, from an existing pack or from prompts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import PackError, UsageError
from ..source.locate import resolve_pack, working_tree
from ..source.new_area import Answers, NewArea, area_name, check_new_id, from_answers, from_pack
from ._app import EXIT_PACK, EXIT_USAGE, app, err, fail, note, shown


def _ask_sections() -> tuple[tuple[str, str], ...]:
    err.print(
        "List the guidance's sections in order, one a line as `<id> <title>` (for example "
        "`6a Universal services`); an empty line ends the list.",
        markup=False,
    )
    sections: list[tuple[str, str]] = []
    while True:
        line = typer.prompt("section", default="", show_default=False).strip()
        if not line:
            if sections:
                return tuple(sections)
            err.print("a pack needs at least one section", markup=False)
            continue
        section_id, _, title = line.partition(" ")
        sections.append((section_id, title.strip() or section_id))


def on_terminal() -> bool:
    """True when a person can answer prompts: standard input is a terminal."""
    return sys.stdin.isatty()


def _prompted(new_id: str) -> NewArea:
    if not on_terminal():
        raise fail(EXIT_USAGE, "error: give `--from PACK` to copy a pack, or run `new-area` "
                   "on a terminal to answer its questions (for example "
                   f"`failedcontact new-area {new_id} --from <closest_area>`)")  # fmt: skip
    area = typer.prompt("The area's name", default=area_name(new_id))
    guidance = typer.prompt("The guidance document's title")
    return from_answers(new_id, Answers(area, guidance, _ask_sections()))


@app.command("new-area")
def new_area_command(
    new_id: Annotated[str, typer.Argument(metavar="NEW_ID", help="The new pack's id, lower-case "
                                          "with underscores, such as `west_shire`.")],
    source: Annotated[
        str | None,
        typer.Option("--from", metavar="PACK", help="Copy this pack (an id or a path) and its "
                     "scenarios; without it, the command asks its questions on a terminal."),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option("--area", metavar="NAME", help="The area's name (default: from the id, "
                     "`west_shire` reads `West Shire`)."),
    ] = None,
    policies: Annotated[
        Path | None,
        typer.Option("--policies", metavar="FOLDER", help="Where to write (default: the "
                     "working tree's `policies` folder, else `./policies`)."),
    ] = None,
) -> None:  # fmt: skip
    """Start a new area: a pack that passes `check`, and its scenarios, ready to fill in."""
    try:
        check_new_id(new_id)
        if source is None:
            made = _prompted(new_id)
        else:
            made = from_pack(resolve_pack(source, Path.cwd()).path, new_id, area)
        folder = policies or working_tree(Path.cwd()) or Path("policies")
        written = made.write(folder)
    except UsageError as error:
        raise fail(EXIT_USAGE, f"error: {error}") from None
    except PackError as error:
        raise fail(EXIT_PACK, f"error: {error}") from None
    for path in written:
        note(f"wrote {shown(path)}")
    note(f"next: fill in each TODO, then `failedcontact check {shown(written[0])}` and "
              f"`failedcontact test {shown(written[0].parent / 'tests' / new_id)}`",
    )  # fmt: skip

"""`fmt`: lay out pack and scenario YAML in the project's style."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import PackError
from ..source.fmt import format_text
from ._app import EXIT_FAILED, EXIT_INPUT, EXIT_PACK, app, console, fail


@app.command("fmt")
def fmt_command(
    paths: Annotated[list[Path], typer.Argument(help="Pack or scenario YAML files.")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    show_diff: Annotated[
        bool,
        typer.Option("--diff", help="Change nothing; print a unified diff of what would change "
                     "and exit 1 if anything would."),
    ] = False,
) -> None:  # fmt: skip
    """Lay out YAML files in the project's style, keeping every comment."""
    changed = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
            raise fail(EXIT_INPUT, f"error: cannot read `{path}`: {why}") from None
        try:
            formatted = format_text(text, str(path))
        except PackError as error:
            raise fail(EXIT_PACK, f"error: {error}") from None
        if formatted == text:
            continue
        changed.append(path)
        if show_diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                f"{path} (as written)", f"{path} (formatted)"))  # fmt: skip
        elif not check_only:
            path.write_text(formatted, encoding="utf-8")
    if not show_diff:
        verb = "would reformat" if check_only else "reformatted"
        for path in changed:
            console().print(f"{verb} {path}", markup=False)
    if (check_only or show_diff) and changed:
        raise typer.Exit(EXIT_FAILED)

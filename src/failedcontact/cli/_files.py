"""Why an input path cannot be read, in the words every command uses."""

from __future__ import annotations

from pathlib import Path


def not_a_file(what: str, path: str) -> str:
    """`error: no case file `x.json``, or why the path that is there is not a file."""
    given = Path(path)
    if not given.exists():
        return f"error: no {what} `{path}`"
    if given.is_dir():
        return f"error: `{path}` is a folder, not a {what}"
    return f"error: `{path}` is not a regular file (a pipe or a device): give a {what}"

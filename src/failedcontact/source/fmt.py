"""Normalise a pack's layout without losing its comments (ruamel.yaml round trip)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from ..codes import Code
from ..errors import Diagnostic, PackError, lowercase_first
from .reader import refuse_non_plain


def _null(representer: RoundTripRepresenter, data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def layout() -> YAML:
    """A round-trip YAML writer in the project's style."""
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap a policy lead's long titles
    yaml.preserve_quotes = True
    yaml.representer.add_representer(type(None), _null)
    return yaml


def format_text(text: str, file: str = "<pack>") -> str:
    """The text laid out in the project's style: 2-space mappings, `- ` lists indented 2.

    Refuses (rather than loses) a comment the round trip would drop, such as one inside a
    `{...}` or `[...]` collection, and data the reader would refuse (tags, deep nesting).
    """
    yaml = layout()
    try:
        refused = refuse_non_plain(yaml.parse(text), file)
        if refused is not None:
            raise PackError([refused])
        document = yaml.load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PackError(
            [
                Diagnostic(
                    Code.PACK_YAML, lowercase_first(str(error).splitlines()[0]), file, line, column
                )
            ]
        ) from None
    out = io.StringIO()
    yaml.dump(document, out)
    formatted = out.getvalue()
    for number, line in enumerate(text.splitlines(), start=1):
        comment = _comment(line)
        if comment and comment not in formatted:
            raise PackError([Diagnostic(
                Code.PACK_FMT_COMMENT,
                f"formatting would drop the comment `{comment}`",
                file, number, line.index(comment) + 1,
                "a comment inside `{...}` or `[...]` cannot be kept: move it to a line of its "
                "own, or write the collection in block style",
            )])  # fmt: skip
    return formatted


def _comment(line: str) -> str | None:
    """The comment on a line (`# ...` after a space, or the whole line), else None."""
    stripped = line.lstrip()
    if stripped.startswith("#"):
        return stripped.rstrip()
    at = line.find(" #")
    return line[at + 1 :].rstrip() if at >= 0 else None

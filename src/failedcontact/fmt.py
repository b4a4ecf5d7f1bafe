"""Normalise a pack's layout without losing its comments (ruamel.yaml round trip)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from .errors import Diagnostic, PackError


def _null(representer: RoundTripRepresenter, data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap a policy lead's long titles
    yaml.preserve_quotes = True
    yaml.representer.add_representer(type(None), _null)
    return yaml


def format_text(text: str, file: str = "<pack>") -> str:
    """The text laid out in the project's style: 2-space mappings, `- ` lists indented 2."""
    yaml = _yaml()
    try:
        document = yaml.load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PackError(
            [Diagnostic("pack.yaml", str(error).splitlines()[0].lower(), file, line, column)]
        ) from None
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()

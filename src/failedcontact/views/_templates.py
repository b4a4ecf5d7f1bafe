"""The Jinja environment of the HTML and Markdown views: autoescape on for every `.html.j2`
template, so no pack or case text reaches a page unescaped (issue 31)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    """The one environment: templates in `views/templates`, undefined names an error."""
    return Environment(
        loader=PackageLoader("failedcontact.views", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

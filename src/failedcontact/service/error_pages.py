"""`GET /errors` and `GET /errors/{code}`: the pages a problem's `type` URL points at.

A problem document's `type` is `<base URL>errors/<code>`, and the service serves that page
itself, so the link resolves wherever the service runs (no documentation site needed). The
text is the code catalogue's (`codes.Code`), the same as docs/errors.md.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from ..codes import Code
from .openapi import PROBLEM_CONTENT
from .problems import Problem

_CODES = {str(code): code for code in Code}
_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}}
}


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>\n"
    )


def error_page_routes(app: FastAPI) -> None:
    """The catalogue of codes, and one page per code; open, since they hold no case data."""

    @app.get(
        "/errors",
        operation_id="list_error_codes",
        summary="Every problem and diagnostic code",
        openapi_extra={"security": []},
        response_class=HTMLResponse,
        responses=_HTML,
    )
    async def error_index() -> HTMLResponse:
        rows = "".join(
            f'<tr><td><a href="errors/{escape(c)}" id="{escape(c)}"><code>{escape(c)}</code>'
            f"</a></td><td>{escape(c.meaning)}</td></tr>"
            for c in Code
        )
        table = f"<table><tr><th>code</th><th>meaning</th></tr>{rows}</table>"
        return HTMLResponse(_page("failedcontact codes", f"<h1>Codes</h1>{table}"))

    @app.get(
        "/errors/{code}",
        operation_id="get_error_code",
        summary="What one problem or diagnostic code means",
        openapi_extra={"security": []},
        response_class=HTMLResponse,
        responses={**_HTML, 404: {"description": "No such code.", **PROBLEM_CONTENT}},
    )
    async def error_page(code: str) -> HTMLResponse:
        found = _CODES.get(code)
        if found is None:
            raise Problem(
                404, Code.SERVICE_NOT_FOUND, "No such code", f"no code `{code}`; see /errors"
            )
        body = f"<h1><code>{escape(found)}</code></h1><p>{escape(found.meaning)}</p>"
        return HTMLResponse(_page(f"failedcontact: {found}", body))

"""`POST /v1/admin/reload`: load the packs folder again."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from ..codes import Code
from .context import Service
from .openapi import AUTH_PROBLEMS, PROBLEM_CONTENT
from .problems import Problem


def reload_route(app: FastAPI, service: Service) -> None:
    """`POST /v1/admin/reload`: load the packs folder again (admin tokens only)."""
    shelves = service.shelves

    @app.post(
        "/v1/admin/reload",
        operation_id="reload_packs",
        summary="Load the packs folder again",
        description="Loads every pack file; if any fails, nothing changes and the "
        "diagnostics come back (422). Requests already running finish on the packs "
        "they started with.",
        responses={
            422: {"description": "A pack failed; the old packs still serve.", **PROBLEM_CONTENT},
            403: {"description": "Not an admin token.", **PROBLEM_CONTENT},
            **AUTH_PROBLEMS,
        },
    )
    async def reload(request: Request) -> dict[str, Any]:
        service.authorise(request, admin=True)
        shelf, problems = await run_in_threadpool(shelves.reload)
        if shelf is None:
            raise Problem(
                422,
                Code.SERVICE_RELOAD_REFUSED,
                "Reload refused",
                f"{len(problems)} problem(s); the packs served are unchanged",
                diagnostics=[d.as_dict() for d in problems],
            )
        return {"reloaded": [{"id": p.id, "version": p.version, "digest": p.digest} for p in shelf]}

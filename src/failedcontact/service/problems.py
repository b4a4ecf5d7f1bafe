"""Errors as RFC 9457 problem documents: the `Problem` exception, and the handlers that make
every error the app answers one."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..codes import Code
from .metrics import Metrics

PROBLEM = "application/problem+json"


class Problem(Exception):
    """An RFC 9457 problem: raised anywhere in a request, rendered as `application/problem+json`."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.headers = headers or {}
        self.status, self.code, self.title, self.detail, self.extra = (
            status,
            code,
            title,
            detail,
            extra,
        )

    def document(self, request_id: str, base: str = "/") -> dict[str, Any]:
        """The problem document; its `type` is the service's own page for the code, under
        `base` (the request's base URL, so it resolves wherever the service is reached)."""
        return {
            "type": f"{base}errors/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": f"urn:request:{request_id}",
            "code": self.code,
            "request_id": request_id,
            **self.extra,
        }


def problem_response(
    problem: Problem, request_id: str, metrics: Metrics, base: str = "/"
) -> Response:
    """The problem as an `application/problem+json` response, counted by its code."""
    metrics.errors.labels(problem.code).inc()
    document = orjson.dumps(problem.document(request_id, base))
    response = Response(document, problem.status, media_type=PROBLEM)
    response.headers.update(problem.headers)
    return response


def _answer(problem: Problem, request: Request, metrics: Metrics) -> Response:
    return problem_response(problem, request.state.request_id, metrics, str(request.base_url))


def answer_errors(app: FastAPI, metrics: Metrics) -> None:
    """Every error the app answers is a problem document, counted by its code."""

    @app.exception_handler(Problem)
    async def _on_problem(request: Request, problem: Problem) -> Response:
        return _answer(problem, request, metrics)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: Code.SERVICE_NOT_FOUND, 405: Code.SERVICE_METHOD}.get(
            error.status_code, Code.SERVICE_BAD_REQUEST
        )
        # such as a 405's `Allow`
        headers = dict(error.headers or {})
        return _answer(
            Problem(error.status_code, code, str(error.detail), str(error.detail), headers),
            request,
            metrics,
        )

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, error: RequestValidationError) -> Response:
        errors = [
            {
                "path": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": str(e["msg"]).lower(),
            }
            for e in error.errors()
        ]
        problem = Problem(
            422,
            Code.SERVICE_BAD_REQUEST,
            "Invalid request",
            "; ".join(f"{e['path']}: {e['message']}" for e in errors),
            errors=errors,
        )
        return _answer(problem, request, metrics)

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

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.extra = (
            status,
            code,
            title,
            detail,
            extra,
        )

    def document(self, request_id: str) -> dict[str, Any]:
        """The problem document."""
        return {
            "type": f"https://failedcontact.readthedocs.io/errors/#{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": f"urn:request:{request_id}",
            "code": self.code,
            "request_id": request_id,
            **self.extra,
        }


def problem_response(problem: Problem, request_id: str, metrics: Metrics) -> Response:
    """The problem as an `application/problem+json` response, counted by its code."""
    metrics.errors.labels(problem.code).inc()
    return Response(orjson.dumps(problem.document(request_id)), problem.status, media_type=PROBLEM)


def answer_errors(app: FastAPI, metrics: Metrics) -> None:
    """Every error the app answers is a problem document, counted by its code."""

    @app.exception_handler(Problem)
    async def _on_problem(request: Request, problem: Problem) -> Response:
        return problem_response(problem, request.state.request_id, metrics)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: Code.SERVICE_NOT_FOUND, 405: Code.SERVICE_METHOD}.get(
            error.status_code, Code.SERVICE_BAD_REQUEST
        )
        problem = Problem(error.status_code, code, str(error.detail), str(error.detail))
        response = problem_response(problem, request.state.request_id, metrics)
        response.headers.update(error.headers or {})  # such as a 405's `Allow`
        return response

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
        return problem_response(problem, request.state.request_id, metrics)

"""`POST /v1/assess` and `POST /v1/assess:batch`: cases in, assessments out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..codes import Code
from ..engine.evaluate import evaluate
from ..engine.loader import Pack
from ..errors import CaseError
from ..limits import MAX_CASE_BYTES
from ..model.case import UK_DATE_TIME_SCHEMA
from ..model.case_input import parse_as_of_text, parse_case
from ..runs.batch import DecisionLogging, assess_line
from ..runs.decision_log import decision_line
from .context import Service
from .ndjson import NDJSON, DuplexStream, line_groups
from .openapi import ASSESSMENT, AUTH_PROBLEMS, CASE_BODY, PROBLEM_CONTENT, ndjson_content
from .problems import Problem
from .shelves import find_release

_THREAD_ABOVE = 256 * 1024  # bodies above this are assessed off the event loop
_PackParam = Annotated[
    str, Query(min_length=1, description="The pack id, as `GET /v1/packs` lists them.")
]
_VersionParam = Annotated[
    str | None,
    Query(min_length=1, description="Pin a release of the pack (default: its highest version)."),
]
_AsOfParam = Annotated[
    str | None,
    Query(
        description="The instant to assess at, ISO 8601 (a time without an offset is UK "
        "local time); default: the server's clock. The assessment's `as_of` says which.",
        # not `format: date-time`: that needs an offset, and one without is UK local time
        json_schema_extra={"pattern": UK_DATE_TIME_SCHEMA["pattern"]},
    ),
]
_BATCH_IN = '{"case_id": "C-1"}\n{"case_id": "C-2", "flags": ["no_such_flag"]}\n'
_BATCH_OUT = (
    '{"contract": "1.1", "case_id": "C-1", "...": "..."}\n'
    '{"line": 2, "case_id": "C-2", "errors": [{"path": "flags[0]", "message": "..."}]}\n'
)
_UNKNOWN_RELEASE: dict[str, Any] = {"description": "Unknown pack or version.", **PROBLEM_CONTENT}


@dataclass(frozen=True, slots=True)
class _Start:
    """A request's pack release and `as_of`, fixed as it starts: whatever a reload does
    meanwhile, the request keeps this release to its end."""

    release: Pack
    as_of: datetime
    request_id: str


def assess_routes(app: FastAPI, service: Service) -> None:
    """Both assess routes, which start alike: authorised, with a release and an `as_of`."""

    # one dependency, so both routes take their query parameters from this one signature;
    # async, since FastAPI would run a plain function in a thread
    async def start(
        request: Request,
        pack: _PackParam,
        version: _VersionParam = None,
        as_of: _AsOfParam = None,
    ) -> _Start:
        service.authorise(request)
        chosen = find_release(service.shelves.current, pack, version)
        return _Start(chosen, _parse_as_of(as_of), request.state.request_id)

    started = Depends(start)
    _assess_route(app, service, started)
    _batch_route(app, service, started)


def _assess_route(app: FastAPI, service: Service, started: Any) -> None:
    """`POST /v1/assess`: one case in, its assessment out."""

    @app.post(
        "/v1/assess",
        operation_id="assess_case",
        summary="Assess one case",
        description="One case (the contract's case JSON) in; its assessment out. `as_of` "
        "defaults to the server's clock; the assessment's `as_of` says which was used.",
        openapi_extra={"requestBody": CASE_BODY},
        responses={
            200: {"description": "The assessment.", **ASSESSMENT},
            404: _UNKNOWN_RELEASE,
            413: {"description": "The body is over the limit.", **PROBLEM_CONTENT},
            422: {"description": "Invalid case or parameter.", **PROBLEM_CONTENT},
            **AUTH_PROBLEMS,
        },
        response_class=Response,
    )
    async def assess(request: Request, start: _Start = started) -> Response:
        body = await _body(request, service.settings.max_body_bytes)
        release, as_of, request_id = start.release, start.as_of, start.request_id
        if len(body) > _THREAD_ABOVE:
            out = await run_in_threadpool(_assess_one, service, release, body, as_of, request_id)
        else:
            out = _assess_one(service, release, body, as_of, request_id)
        return Response(out, media_type="application/json")


def _batch_route(app: FastAPI, service: Service, started: Any) -> None:
    """`POST /v1/assess:batch`: NDJSON in and out, streamed."""

    @app.post(
        "/v1/assess:batch",
        operation_id="assess_batch",
        summary="Assess a stream of cases",
        description="NDJSON in (a case a line), NDJSON out, streamed: one output line per "
        'input line, in order; a bad line gets an error record `{"line", "case_id", '
        '"errors"}` in its place. A line over the case size limit is such an error.',
        openapi_extra={
            "requestBody": {"content": ndjson_content("Case", _BATCH_IN), "required": True}
        },
        responses={
            200: {
                "description": "One line per input line, in order, streamed.",
                "content": ndjson_content("BatchLine", _BATCH_OUT),
            },
            404: _UNKNOWN_RELEASE,
            422: {"description": "Invalid parameter.", **PROBLEM_CONTENT},
            **AUTH_PROBLEMS,
        },
        response_class=StreamingResponse,
    )
    async def assess_batch(request: Request, start: _Start = started) -> StreamingResponse:
        decision_logging = (
            DecisionLogging(service.settings.log_options, start.request_id)
            if service.decisions
            else None
        )

        async def produce() -> AsyncIterator[bytes]:
            async for group in line_groups(request.stream(), MAX_CASE_BYTES):
                yield await run_in_threadpool(
                    _assess_lines, service, start.release, start.as_of, decision_logging, group
                )

        return DuplexStream(produce(), media_type=NDJSON)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, or a 413 problem as soon as it is over the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        Code.SERVICE_TOO_LARGE,
        "Body too large",
        f"the body is over the limit of {limit:,} bytes",
    )


def _parse_as_of(text: str | None) -> datetime:
    try:
        return parse_as_of_text(text)
    except ValueError as error:
        raise Problem(
            422,
            Code.CASE_INVALID,
            "Invalid as_of",
            f"`as_of` is not an ISO 8601 instant: {error}",
            errors=[{"path": "as_of", "message": str(error)}],
        ) from None


def _assess_one(
    service: Service, pack: Pack, body: bytes, as_of: datetime, request_id: str
) -> bytes:
    """One case's JSON in, its assessment's JSON out, logged and counted."""
    try:
        # The pack's own check (flags it declares, its action ids) also raises CaseError.
        plain = evaluate(pack.compiled, parse_case(body), as_of)
    except CaseError as error:
        raise _case_problem(error) from None
    if service.decisions is not None:
        data = orjson.loads(body)
        service.decisions.write(
            decision_line(plain, data, service.settings.log_options, request_id)
        )
    service.metrics.assessments.labels(pack.id, pack.version, plain["risk_tier"]).inc()
    return orjson.dumps(plain)


def _case_problem(error: CaseError) -> Problem:
    return Problem(
        422,
        Code.CASE_INVALID,
        "Invalid case",
        "; ".join(issue.render() for issue in error.issues),
        errors=[{"path": i.path, "message": i.message} for i in error.issues],
    )


def _assess_lines(
    service: Service,
    release: Pack,
    as_of: datetime,
    decision_logging: DecisionLogging | None,
    lines: list[tuple[int, bytes | None]],
) -> bytes:
    """Numbered NDJSON lines in; one output line each (an assessment or an error record)."""
    out = []
    for number, raw in lines:
        result, _, decision = assess_line(release, number, raw, as_of, decision_logging)
        if decision is not None and service.decisions is not None:
            service.decisions.write(decision)  # logged before the client can see the answer
        tier = _tier_of(result)
        if tier is not None:
            service.metrics.assessments.labels(release.id, release.version, tier).inc()
        out.append(result + b"\n")
    return b"".join(out)


_TIER = re.compile(rb'^\{"contract":.*?"risk_tier":"(\w+)"')


def _tier_of(line: bytes) -> str | None:
    # an assessment line starts `{"contract":...` and has its tier early; an error record not
    found = _TIER.match(line)
    return found.group(1).decode() if found else None

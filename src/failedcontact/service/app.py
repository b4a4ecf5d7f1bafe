"""The HTTP service (`failedcontact serve`, the `service` extra): assess cases over HTTP.

One app serves a shelf of pack releases (`releases.Shelf`). Each request takes the shelf as it
stands when the request starts and keeps it to the end, so a reload (which builds a new shelf
and swaps it in whole) never answers a request from a half-loaded pack. Errors are RFC 9457
problem documents with the CLI's field paths and codes. Nothing of a case is ever logged:
the server logs request ids, routes, statuses and durations.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import ENGINE_VERSIONS, __version__
from ..engine.evaluate import evaluate
from ..engine.loader import Pack
from ..errors import CaseError, Diagnostic, PackError
from ..limits import MAX_CASE_BYTES
from ..model.assessment import Assessment
from ..model.case import Case
from ..model.case_input import parse_as_of_text, parse_case
from ..pack.document import PackDocument
from ..runs.batch import DecisionLogging, assess_line
from ..runs.decision_log import DecisionLog, LogOptions, decision_line, new_request_id
from ..runs.releases import Shelf, load_shelf

log = logging.getLogger("failedcontact.service")

PROBLEM = "application/problem+json"
NDJSON = "application/x-ndjson"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:#-]{1,128}$")
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
        json_schema_extra={"format": "date-time"},
    ),
]
_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "case": Case.model_json_schema,
    "assessment": lambda: Assessment.model_json_schema(mode="serialization"),
    "pack": PackDocument.model_json_schema,
}


@dataclass(frozen=True, slots=True)
class Settings:
    """How a service runs: its packs, who may call it, its limits and its decision log."""

    packs: Path
    tokens: tuple[str, ...] = ()
    admin_tokens: tuple[str, ...] = ()
    allow_unauthenticated: bool = False
    max_body_bytes: int = 4 * 1024 * 1024
    decision_log: Path | None = None
    log_options: LogOptions = field(default_factory=LogOptions)
    log_sync: bool = False

    def as_environment(self) -> dict[str, str]:
        """The settings as one environment variable, for worker processes to read back."""
        return {
            "FAILEDCONTACT_SERVICE": orjson.dumps(
                {
                    "packs": str(self.packs),
                    "tokens": list(self.tokens),
                    "admin_tokens": list(self.admin_tokens),
                    "allow_unauthenticated": self.allow_unauthenticated,
                    "max_body_bytes": self.max_body_bytes,
                    "decision_log": str(self.decision_log) if self.decision_log else None,
                    "log_case": self.log_options.include_case,
                    "log_mask": list(self.log_options.mask),
                    "log_sync": self.log_sync,
                }
            ).decode()
        }


def settings_from_environment() -> Settings:
    """The settings `as_environment` wrote."""
    data = orjson.loads(os.environ["FAILEDCONTACT_SERVICE"])
    return Settings(
        packs=Path(data["packs"]),
        tokens=tuple(data["tokens"]),
        admin_tokens=tuple(data["admin_tokens"]),
        allow_unauthenticated=data["allow_unauthenticated"],
        max_body_bytes=data["max_body_bytes"],
        decision_log=Path(data["decision_log"]) if data["decision_log"] else None,
        log_options=LogOptions(data["log_case"], tuple(data["log_mask"])),
        log_sync=data["log_sync"],
    )


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


class ShelfHolder:
    """The shelf being served; `reload` builds a new one and swaps it in whole, or keeps the old."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        loaded = load_shelf(folder)
        if loaded.shelf is None:
            raise PackError(loaded.diagnostics)
        self.current: Shelf = loaded.shelf
        self.loaded_at = datetime.now(UTC)

    def reload(self) -> tuple[Shelf | None, tuple[Diagnostic, ...]]:
        """Load the folder again; on success swap the shelf in, else keep serving the old one."""
        with self._lock:
            loaded = load_shelf(self.folder)
            if loaded.shelf is None:
                log.warning(
                    "reload refused: %d problem(s); still serving the old packs",
                    len(loaded.diagnostics),
                )
                return None, loaded.diagnostics
            self.current = loaded.shelf  # one reference assignment: atomic for readers
            self.loaded_at = datetime.now(UTC)
            log.info("reloaded %d pack release(s) from %s", len(loaded.shelf), self.folder)
            return loaded.shelf, ()


@dataclass(frozen=True, slots=True)
class _Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    errors: Counter
    assessments: Counter

    @classmethod
    def create(cls) -> _Metrics:
        registry = CollectorRegistry()  # the app's own: no process-global metric state
        return cls(
            registry,
            Counter(
                "failedcontact_requests",
                "HTTP requests.",
                ["route", "method", "status"],
                registry=registry,
            ),
            Histogram(
                "failedcontact_request_seconds",
                "Time to answer a request.",
                ["route"],
                registry=registry,
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ),
            Counter(
                "failedcontact_errors", "Problems answered, by code.", ["code"], registry=registry
            ),
            Counter(
                "failedcontact_assessments",
                "Assessments made.",
                ["pack", "version", "risk_tier"],
                registry=registry,
            ),
        )


def _token_matches(given: str, tokens: Iterable[str]) -> bool:
    # every token is compared, in constant time each, so timing tells nothing about which
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given.encode(), token.encode())
    return matched


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _parse_as_of(text: str | None) -> datetime:
    try:
        return parse_as_of_text(text)
    except ValueError as error:
        raise Problem(
            422,
            "case.invalid",
            "Invalid as_of",
            f"`as_of` is not an ISO 8601 instant: {error}",
            errors=[{"path": "as_of", "message": str(error)}],
        ) from None


def _case_problem(error: CaseError) -> Problem:
    return Problem(
        422,
        "case.invalid",
        "Invalid case",
        "; ".join(issue.render() for issue in error.issues),
        errors=[{"path": i.path, "message": i.message} for i in error.issues],
    )


@dataclass(frozen=True, slots=True)
class _Service:
    """What every route of one app shares: its settings, packs, metrics and decision log."""

    settings: Settings
    shelves: ShelfHolder
    metrics: _Metrics
    decisions: DecisionLog | None

    def authorise(self, request: Request, admin: bool = False) -> None:
        """Raise a 401 or 403 problem unless the request's bearer token may do this."""
        settings = self.settings
        if admin:
            if not settings.admin_tokens and settings.allow_unauthenticated:
                return
            token = _bearer(request)
            if token is None:
                raise Problem(
                    401, "service.unauthorized", "Unauthorized", "an admin bearer token is required"
                )
            if not _token_matches(token, settings.admin_tokens):
                raise Problem(
                    403, "service.forbidden", "Forbidden", "this token may not reload packs"
                )
            return
        if settings.allow_unauthenticated and not settings.tokens:
            return
        token = _bearer(request)
        if token is None or not _token_matches(token, settings.tokens + settings.admin_tokens):
            raise Problem(
                401,
                "service.unauthorized",
                "Unauthorized",
                "a valid `Authorization: Bearer <token>` header is required",
            )

    async def body(self, request: Request) -> bytes:
        """The request body, or a 413 problem as soon as it is over the limit."""
        limit = self.settings.max_body_bytes
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

    def begin(
        self, request: Request, pack: str, version: str | None, as_of: str | None
    ) -> tuple[Pack, datetime, str]:
        """Authorise, and fix this request's pack release and `as_of` (whatever a reload does
        meanwhile, the request keeps this release to its end)."""
        self.authorise(request)
        release = _release(self.shelves.current, pack, version)
        return release, _parse_as_of(as_of), request.state.request_id

    def assess(self, pack: Pack, body: bytes, as_of: datetime, request_id: str) -> bytes:
        """One case's JSON in, its assessment's JSON out, logged and counted."""
        try:
            # The pack's own check (flags it declares, its action ids) also raises CaseError.
            plain = evaluate(pack.compiled, parse_case(body), as_of)
        except CaseError as error:
            raise _case_problem(error) from None
        if self.decisions is not None:
            data = orjson.loads(body)
            self.decisions.write(decision_line(plain, data, self.settings.log_options, request_id))
        self.metrics.assessments.labels(pack.id, pack.version, plain["risk_tier"]).inc()
        return orjson.dumps(plain)

    def assess_lines(
        self,
        release: Pack,
        as_of: datetime,
        decision_logging: DecisionLogging | None,
        lines: list[tuple[int, bytes | None]],
    ) -> bytes:
        """Numbered NDJSON lines in; one output line each (an assessment or an error record)."""
        out = []
        for number, raw in lines:
            result, _, decision = assess_line(release, number, raw, as_of, decision_logging)
            if decision is not None and self.decisions is not None:
                self.decisions.write(decision)  # logged before the client can see the answer
            tier = _tier_of(result)
            if tier is not None:
                self.metrics.assessments.labels(release.id, release.version, tier).inc()
            out.append(result + b"\n")
        return b"".join(out)


def _release(shelf: Shelf, pack_id: str, version: str | None) -> Pack:
    # a missing or empty `pack` never gets here: the query parameter is validated first
    try:
        return shelf.get(pack_id, version)
    except LookupError as error:
        raise Problem(404, "pack.unknown", "Unknown pack", str(error)) from None


def create_app(settings: Settings, holder: ShelfHolder | None = None) -> FastAPI:
    """The service's ASGI app; raises `PackError` when the packs do not load."""
    if not settings.tokens and not settings.allow_unauthenticated:
        raise ValueError(
            "no tokens: give --tokens-file or FAILEDCONTACT_TOKENS, or --allow-unauthenticated"
        )
    shelves = holder or ShelfHolder(settings.packs)
    decisions = (
        DecisionLog(settings.decision_log, sync=settings.log_sync)
        if settings.decision_log is not None
        else None
    )
    service = _Service(settings, shelves, _Metrics.create(), decisions)
    app = FastAPI(
        title="failedcontact",
        version=__version__,
        summary="Failed-contact safeguarding guidance as policy packs: assess a child's "
        "contact history.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.shelves = shelves
    app.state.settings = settings
    app.add_middleware(_Observe, metrics=service.metrics)
    _answer_errors(app, service.metrics)
    _assess_route(app, service)
    _batch_route(app, service)
    _pack_routes(app, service)
    _reload_route(app, service)
    _health_routes(app, service)
    _document_openapi(app)
    return app


def _answer_errors(app: FastAPI, metrics: _Metrics) -> None:
    """Every error the app answers is a problem document, counted by its code."""

    @app.exception_handler(Problem)
    async def _on_problem(request: Request, problem: Problem) -> Response:
        return problem_response(problem, request.state.request_id, metrics)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "service.not-found", 405: "service.method"}.get(
            error.status_code, "service.bad-request"
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
            "service.bad-request",
            "Invalid request",
            "; ".join(f"{e['path']}: {e['message']}" for e in errors),
            errors=errors,
        )
        return problem_response(problem, request.state.request_id, metrics)


_CASE_BODY: dict[str, Any] = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
    "required": True,
}
_ASSESSMENT: dict[str, Any] = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Assessment"}}}
}
_PROBLEM: dict[str, Any] = {
    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
_AUTH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token.", **_PROBLEM}
}


def _assess_route(app: FastAPI, service: _Service) -> None:
    """`POST /v1/assess`: one case in, its assessment out."""

    @app.post(
        "/v1/assess",
        summary="Assess one case",
        description="One case (the contract's case JSON) in; its assessment out. `as_of` "
        "defaults to the server's clock; the assessment's `as_of` says which was used.",
        openapi_extra={"requestBody": _CASE_BODY},
        responses={
            200: {"description": "The assessment.", **_ASSESSMENT},
            404: {"description": "Unknown pack or version.", **_PROBLEM},
            413: {"description": "The body is over the limit.", **_PROBLEM},
            422: {"description": "Invalid case or parameter.", **_PROBLEM},
            **_AUTH_PROBLEMS,
        },
        response_class=Response,
    )
    async def assess(
        request: Request,
        pack: _PackParam,
        version: _VersionParam = None,
        as_of: _AsOfParam = None,
    ) -> Response:
        release, when, request_id = service.begin(request, pack, version, as_of)
        body = await service.body(request)
        if len(body) > _THREAD_ABOVE:
            out = await run_in_threadpool(service.assess, release, body, when, request_id)
        else:
            out = service.assess(release, body, when, request_id)
        return Response(out, media_type="application/json")


def _batch_route(app: FastAPI, service: _Service) -> None:
    """`POST /v1/assess:batch`: NDJSON in and out, streamed."""

    @app.post(
        "/v1/assess:batch",
        summary="Assess a stream of cases",
        description="NDJSON in (a case a line), NDJSON out, streamed: one output line per "
        'input line, in order; a bad line gets an error record `{"line", "case_id", '
        '"errors"}` in its place. A line over the case size limit is such an error.',
        openapi_extra={
            "requestBody": {"content": {NDJSON: {"schema": {"type": "string"}}}, "required": True}
        },
        responses={
            200: {
                "description": "One line per input line.",
                "content": {NDJSON: {"schema": {"type": "string"}}},
            },
            404: {"description": "Unknown pack or version.", **_PROBLEM},
            422: {"description": "Invalid parameter.", **_PROBLEM},
            **_AUTH_PROBLEMS,
        },
        response_class=StreamingResponse,
    )
    async def assess_batch(
        request: Request,
        pack: _PackParam,
        version: _VersionParam = None,
        as_of: _AsOfParam = None,
    ) -> StreamingResponse:
        release, when, request_id = service.begin(request, pack, version, as_of)
        decision_logging = (
            DecisionLogging(service.settings.log_options, request_id) if service.decisions else None
        )

        async def produce() -> AsyncIterator[bytes]:
            async for group in _line_groups(request.stream(), MAX_CASE_BYTES):
                yield await run_in_threadpool(
                    service.assess_lines, release, when, decision_logging, group
                )

        return _DuplexStream(produce(), media_type=NDJSON)


def _pack_routes(app: FastAPI, service: _Service) -> None:
    """The packs served, one pack's releases and the JSON Schemas."""
    shelves = service.shelves

    @app.get("/v1/packs", summary="The packs served", responses={**_AUTH_PROBLEMS})
    async def packs(request: Request) -> dict[str, Any]:
        service.authorise(request)
        shelf = shelves.current
        return {
            "packs": [
                {
                    "id": pack_id,
                    "default_version": shelf.versions(pack_id)[-1],
                    "versions": [
                        {"version": v, "digest": shelf.get(pack_id, v).digest}
                        for v in shelf.versions(pack_id)
                    ],
                }
                for pack_id in shelf.ids()
            ],
            "loaded_at": shelves.loaded_at.isoformat(),
        }

    @app.get(
        "/v1/packs/{pack_id}",
        summary="One pack's releases",
        responses={404: {"description": "Unknown pack.", **_PROBLEM}, **_AUTH_PROBLEMS},
    )
    async def pack_detail(request: Request, pack_id: str) -> dict[str, Any]:
        service.authorise(request)
        shelf = shelves.current
        _release(shelf, pack_id, None)
        return {
            "id": pack_id,
            "default_version": shelf.versions(pack_id)[-1],
            "versions": [_describe(shelf.get(pack_id, v)) for v in shelf.versions(pack_id)],
        }

    @app.get(
        "/v1/schemas/{name}",
        summary="A JSON Schema: case, assessment or pack",
        responses={404: {"description": "No such schema.", **_PROBLEM}, **_AUTH_PROBLEMS},
    )
    async def schema(request: Request, name: str) -> dict[str, Any]:
        service.authorise(request)
        if name not in _SCHEMAS:
            raise Problem(
                404,
                "service.not-found",
                "No such schema",
                f"no schema `{name}`; there are `case`, `assessment` and `pack`",
            )
        return _SCHEMAS[name]()


def _reload_route(app: FastAPI, service: _Service) -> None:
    """`POST /v1/admin/reload`: load the packs folder again (admin tokens only)."""
    shelves = service.shelves

    @app.post(
        "/v1/admin/reload",
        summary="Load the packs folder again",
        description="Loads every pack file; if any fails, nothing changes and the "
        "diagnostics come back (422). Requests already running finish on the packs "
        "they started with.",
        responses={
            422: {"description": "A pack failed; the old packs still serve.", **_PROBLEM},
            403: {"description": "Not an admin token.", **_PROBLEM},
            **_AUTH_PROBLEMS,
        },
    )
    async def reload(request: Request) -> dict[str, Any]:
        service.authorise(request, admin=True)
        shelf, problems = await run_in_threadpool(shelves.reload)
        if shelf is None:
            raise Problem(
                422,
                "service.reload-refused",
                "Reload refused",
                f"{len(problems)} problem(s); the packs served are unchanged",
                diagnostics=[d.as_dict() for d in problems],
            )
        return {"reloaded": [{"id": p.id, "version": p.version, "digest": p.digest} for p in shelf]}


def _health_routes(app: FastAPI, service: _Service) -> None:
    """Liveness, readiness and Prometheus metrics: open, since none of them holds case data."""

    @app.get("/healthz", openapi_extra={"security": []}, summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        openapi_extra={"security": []},
        summary="Packs are loaded and the service can assess",
    )
    async def readyz() -> dict[str, Any]:
        return {"status": "ready", "releases": len(service.shelves.current), **ENGINE_VERSIONS}

    @app.get(
        "/metrics",
        openapi_extra={"security": []},  # open: no case data
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _document_openapi(app: FastAPI) -> None:
    """Add the contract's Case, Assessment and Problem schemas and bearer auth to OpenAPI."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = original()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            ref = "#/components/schemas/{model}"
            for name, generated in (
                ("Case", Case.model_json_schema(ref_template=ref)),
                (
                    "Assessment",
                    Assessment.model_json_schema(mode="serialization", ref_template=ref),
                ),
            ):
                components.update(generated.pop("$defs", {}))
                components[name] = generated
            components["Problem"] = _PROBLEM_SCHEMA
            document["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            document["security"] = [{"bearer": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; `code` is the stable diagnostic code.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "diagnostics": {"type": "array", "items": {"type": "object"}},
    },
}


def problem_response(problem: Problem, request_id: str, metrics: _Metrics) -> Response:
    """The problem as an `application/problem+json` response, counted by its code."""
    metrics.errors.labels(problem.code).inc()
    return Response(orjson.dumps(problem.document(request_id)), problem.status, media_type=PROBLEM)


class _Observe:
    """ASGI middleware: a request id on every request and response, the request metrics, a
    log line without case content, and a problem document for any unexpected failure.

    Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which cuts a request body short
    once a streamed response has begun (the batch endpoint reads while it answers).
    """

    def __init__(self, app: Any, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Any) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            # the message may quote the case: only the type and the request id are logged
            log.error("%s internal error: %s", request_id, type(error).__name__)
            if not started:
                problem = Problem(
                    500,
                    "service.internal",
                    "Internal error",
                    "the service failed; the request id is in the server's log",
                )
                response = problem_response(problem, request_id, self.metrics)
                await response(scope, receive, send_with_id)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            seconds = time.perf_counter() - start
            self.metrics.requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.latency.labels(path).observe(seconds)
            log.info(
                "%s %s %s %s %.1fms", request_id, scope["method"], path, status, seconds * 1000
            )


class _DuplexStream(StreamingResponse):
    """A streamed response that reads its request body while it answers.

    Starlette's `StreamingResponse` also waits on `receive` for a disconnect, and so takes
    the request body's messages from under a generator that is still reading them.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.body_iterator:
            data = chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "service.too-large", "Body too large", f"the body is over the limit of {limit:,} bytes"
    )


_TIER = re.compile(rb'^\{"contract":.*?"risk_tier":"(\w+)"')


def _tier_of(line: bytes) -> str | None:
    # an assessment line starts `{"contract":...` and has its tier early; an error record not
    found = _TIER.match(line)
    return found.group(1).decode() if found else None


def _describe(pack: Any) -> dict[str, Any]:
    document: PackDocument = pack.document
    source = document.source
    return {
        "version": pack.version,
        "digest": pack.digest,
        "title": document.title,
        "source": {"title": source.title, "issued": source.issued, "version": source.version},
        "sections": [{"id": s.id, "title": s.title} for s in source.sections],
    }


async def _line_groups(
    chunks: AsyncIterator[bytes], limit: int, group: int = 64
) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """NDJSON lines from a byte stream, numbered, in groups; a line over `limit` is None."""
    pending = bytearray()
    number = 0
    batch: list[tuple[int, bytes | None]] = []
    oversized = False
    async for chunk in chunks:
        pending += chunk
        while True:
            end = pending.find(b"\n")
            if end < 0:
                if len(pending) > limit:
                    oversized, pending = True, bytearray()
                break
            number += 1
            line = bytes(pending[:end])
            del pending[: end + 1]
            batch.append((number, None if oversized or len(line) > limit else line))
            oversized = False
            if len(batch) >= group:
                yield batch
                batch = []
        if batch:  # what has come so far goes at once: the client sees it while it sends
            yield batch
            batch = []
    if pending.strip() or oversized:
        number += 1
        batch.append((number, None if oversized else bytes(pending)))
    if batch:
        yield batch


def openapi_document() -> dict[str, Any]:
    """The service's OpenAPI 3.1 document (the same whatever packs are served)."""
    from ..source.locate import bundled_dir

    settings = Settings(packs=bundled_dir(), allow_unauthenticated=True)
    return create_app(settings).openapi()


def app_from_environment() -> FastAPI:
    """The app for a uvicorn worker process, from the settings `serve` put in the environment."""
    return create_app(settings_from_environment())


def install_sighup(holder: ShelfHolder) -> None:
    """SIGHUP reloads the packs in a thread (one process); the old shelf serves meanwhile."""

    def handle(signum: int, frame: object) -> None:
        threading.Thread(target=holder.reload, name="reload", daemon=True).start()

    signal.signal(signal.SIGHUP, handle)

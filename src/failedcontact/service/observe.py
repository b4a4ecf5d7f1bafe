"""The middleware around every request: its id, its metrics and log line, and a problem
document for any unexpected failure."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.requests import Request

from ..codes import Code
from ..runs.decision_log import new_request_id
from .guard import timed_receive
from .metrics import Metrics
from .problems import Problem, problem_response

log = logging.getLogger("failedcontact.service")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:#-]{1,128}$")


class Observe:
    """ASGI middleware: a request id on every request and response, the request metrics, a
    log line without case content, and a problem document for any unexpected failure.

    Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which cuts a request body short
    once a streamed response has begun (the batch endpoint reads while it answers).
    """

    def __init__(self, app: Any, metrics: Metrics, body_timeout: float) -> None:
        self.app = app
        self.metrics = metrics
        self.body_timeout = body_timeout

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
            await self.app(scope, timed_receive(receive, self.body_timeout), send_with_id)
        except Problem as late:  # a body timeout once the (streamed) answer has begun
            log.warning("%s cut off: %s", request_id, late.code)
        except Exception as error:
            # the message may quote the case: only the type and the request id are logged
            log.error("%s internal error: %s", request_id, type(error).__name__)
            if not started:
                problem = Problem(
                    500,
                    Code.SERVICE_INTERNAL,
                    "Internal error",
                    "the service failed; the request id is in the server's log",
                )
                base = str(Request(scope).base_url)
                response = problem_response(problem, request_id, self.metrics, base)
                await response(scope, receive, send_with_id)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            seconds = time.perf_counter() - start
            self.metrics.requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.latency.labels(path).observe(seconds)
            log.info(
                "%s %s %s %s %.1fms", request_id, scope["method"], path, status, seconds * 1000
            )

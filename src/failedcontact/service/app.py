"""The HTTP service (`failedcontact serve`, the `service` extra): assess cases over HTTP.

One app serves a shelf of pack releases (`releases.Shelf`). Each request takes the shelf as it
stands when the request starts and keeps it to the end, so a reload (which builds a new shelf
and swaps it in whole) never answers a request from a half-loaded pack. Errors are RFC 9457
problem documents with the CLI's field paths and codes. Nothing of a case is ever logged:
the server logs request ids, routes, statuses and durations.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from fastapi import FastAPI

from .._version import __version__
from ..runs.decision_log import DecisionLog
from .assess import assess_routes
from .auth import check_tokens
from .context import Service
from .error_pages import error_page_routes
from .health import health_routes
from .logs import configure_logging
from .metrics import Metrics
from .observe import Observe
from .openapi import document_openapi
from .packs import pack_routes
from .problems import answer_errors
from .reload import reload_route
from .settings import Settings, settings_from_environment
from .shelves import ShelfHolder

__all__ = [
    "Settings",
    "ShelfHolder",
    "app_from_environment",
    "create_app",
    "install_sighup",
    "openapi_document",
]


def create_app(settings: Settings, holder: ShelfHolder | None = None) -> FastAPI:
    """The service's ASGI app; raises `PackError` when the packs do not load."""
    if not settings.tokens and not settings.allow_unauthenticated:
        raise ValueError(
            "no tokens: give --tokens-file or FAILEDCONTACT_TOKENS, or --allow-unauthenticated"
        )
    check_tokens(settings.tokens + settings.admin_tokens)
    shelves = holder or ShelfHolder(settings.packs)
    decisions = (
        DecisionLog(settings.decision_log, sync=settings.log_sync)
        if settings.decision_log is not None
        else None
    )
    service = Service(settings, shelves, Metrics.create(), decisions)
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
    app.add_middleware(Observe, metrics=service.metrics, body_timeout=settings.body_timeout)
    answer_errors(app, service.metrics)
    assess_routes(app, service)
    pack_routes(app, service)
    reload_route(app, service)
    health_routes(app, service)
    error_page_routes(app)
    document_openapi(app)
    return app


def openapi_document() -> dict[str, Any]:
    """The service's OpenAPI 3.1 document (the same whatever packs are served)."""
    from ..source.locate import bundled_dir

    settings = Settings(packs=bundled_dir(), allow_unauthenticated=True)
    return create_app(settings).openapi()


def app_from_environment() -> FastAPI:
    """The app for a uvicorn worker process, from the settings `serve` put in the environment."""
    settings = settings_from_environment()
    configure_logging(settings.log_json)  # a worker is a fresh process: its own handler
    return create_app(settings)


def install_sighup(holder: ShelfHolder) -> None:
    """SIGHUP reloads the packs in a thread (one process); the old shelf serves meanwhile."""

    def handle(signum: int, frame: object) -> None:
        threading.Thread(target=holder.reload, name="reload", daemon=True).start()

    signal.signal(signal.SIGHUP, handle)

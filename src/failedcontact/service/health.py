"""Liveness, readiness and Prometheus metrics: open, since none of them holds case data."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .._version import ENGINE_VERSIONS
from .context import Service


def health_routes(app: FastAPI, service: Service) -> None:
    """`GET /healthz`, `GET /readyz` and `GET /metrics`."""

    @app.get(
        "/healthz",
        operation_id="healthz",
        openapi_extra={"security": []},
        summary="The process is up",
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        operation_id="readyz",
        openapi_extra={"security": []},
        summary="Packs are loaded and the service can assess",
    )
    async def readyz() -> dict[str, Any]:
        return {"status": "ready", "releases": len(service.shelves.current), **ENGINE_VERSIONS}

    @app.get(
        "/metrics",
        operation_id="metrics",
        openapi_extra={"security": []},  # open: no case data
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""`GET /v1/packs`, `GET /v1/packs/{pack_id}` and `GET /v1/schemas/{name}`: what is served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from ..codes import Code
from ..engine.loader import Pack
from ..model.assessment import Assessment
from ..model.case import Case
from ..pack.document import PackDocument
from .context import Service
from .openapi import AUTH_PROBLEMS, PROBLEM_CONTENT
from .problems import Problem
from .shelves import find_release

_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "case": Case.model_json_schema,
    "assessment": lambda: Assessment.model_json_schema(mode="serialization"),
    "pack": PackDocument.model_json_schema,
}


def pack_routes(app: FastAPI, service: Service) -> None:
    """The packs served, one pack's releases and the JSON Schemas."""
    shelves = service.shelves

    @app.get(
        "/v1/packs",
        operation_id="list_packs",
        summary="The packs served",
        responses={**AUTH_PROBLEMS},
    )
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
        operation_id="get_pack",
        summary="One pack's releases",
        responses={404: {"description": "Unknown pack.", **PROBLEM_CONTENT}, **AUTH_PROBLEMS},
    )
    async def pack_detail(request: Request, pack_id: str) -> dict[str, Any]:
        service.authorise(request)
        shelf = shelves.current
        find_release(shelf, pack_id, None)
        return {
            "id": pack_id,
            "default_version": shelf.versions(pack_id)[-1],
            "versions": [_describe(shelf.get(pack_id, v)) for v in shelf.versions(pack_id)],
        }

    @app.get(
        "/v1/schemas/{name}",
        operation_id="get_schema",
        summary="A JSON Schema: case, assessment or pack",
        responses={404: {"description": "No such schema.", **PROBLEM_CONTENT}, **AUTH_PROBLEMS},
    )
    async def schema(request: Request, name: str) -> dict[str, Any]:
        service.authorise(request)
        if name not in _SCHEMAS:
            raise Problem(
                404,
                Code.SERVICE_NOT_FOUND,
                "No such schema",
                f"no schema `{name}`; there are `case`, `assessment` and `pack`",
            )
        return _SCHEMAS[name]()


def _describe(pack: Pack) -> dict[str, Any]:
    document: PackDocument = pack.document
    source = document.source
    return {
        "version": pack.version,
        "digest": pack.digest,
        "title": document.title,
        "source": {"title": source.title, "issued": source.issued, "version": source.version},
        "sections": [{"id": s.id, "title": s.title} for s in source.sections],
    }

"""What the OpenAPI document says beyond what FastAPI reads from the routes: the contract's
schemas, the Problem schema, bearer auth, and the response fragments the routes share."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ..model.assessment import Assessment
from ..model.case import Case
from .problems import PROBLEM

CASE_BODY: dict[str, Any] = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
    "required": True,
}
ASSESSMENT: dict[str, Any] = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Assessment"}}}
}
PROBLEM_CONTENT: dict[str, Any] = {
    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
AUTH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token.", **PROBLEM_CONTENT}
}

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


def document_openapi(app: FastAPI) -> None:
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

"""What the OpenAPI document says beyond what FastAPI reads from the routes: the contract's
schemas, the Problem schema, bearer auth, and the response fragments the routes share."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ..model.assessment import Assessment
from ..model.case import Case
from .ndjson import NDJSON
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


_LINE_ERROR_SCHEMA: dict[str, Any] = {
    "title": "BatchLineError",
    "description": "A batch line the service could not assess, in that line's place.",
    "type": "object",
    "required": ["line", "errors"],
    "additionalProperties": False,
    "properties": {
        "line": {"type": "integer", "minimum": 1, "description": "The input line's number."},
        "case_id": {"type": "string", "description": "When the line's `case_id` is readable."},
        "errors": _PROBLEM_SCHEMA["properties"]["errors"],
    },
}
_BATCH_LINE_SCHEMA: dict[str, Any] = {
    "title": "BatchLine",
    "description": "One line of a batch answer: an assessment or a line error.",
    "oneOf": [
        {"$ref": "#/components/schemas/Assessment"},
        {"$ref": "#/components/schemas/BatchLineError"},
    ],
}
_NDJSON_NOTE = (
    "NDJSON (`{media}`): UTF-8 text, one JSON document per line, each line ending in `\\n`; "
    "every line is a `{item}` (`#/components/schemas/{item}`)."
)


def ndjson_content(item: str, example: str) -> dict[str, Any]:
    """An NDJSON body whose every line is the component schema `item`.

    OpenAPI 3.1 has no schema for a sequence of documents: the body is a string, the line
    schema is named in the description and in `x-item-schema` (OpenAPI 3.2's `itemSchema`),
    so a generator that reads only 3.1 still gets a usable raw-body operation.
    """
    return {
        NDJSON: {
            "schema": {
                "type": "string",
                "format": "binary",  # raw bytes to a generator: a file body, a bytes answer
                "description": _NDJSON_NOTE.format(media=NDJSON, item=item),
            },
            "x-item-schema": {"$ref": f"#/components/schemas/{item}"},
            "example": example,
        }
    }


def _problems_everywhere(document: dict[str, Any]) -> None:
    """Every 4xx and 5xx of every operation is a problem document, and every one may be 500."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "500", {"description": "The service failed; see its log by request id."}
            )
            for status, response in responses.items():
                if int(status) >= 400:
                    response["content"] = PROBLEM_CONTENT["content"]
                    if status == "422" and response.get("description") == "Validation Error":
                        response["description"] = "Invalid parameter."
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


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
            components["BatchLineError"] = _LINE_ERROR_SCHEMA
            components["BatchLine"] = _BATCH_LINE_SCHEMA
            _problems_everywhere(document)
            document["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            document["security"] = [{"bearer": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

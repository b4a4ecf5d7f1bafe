"""The OpenAPI document says what the service does: operation ids, problems, the batch."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from failedcontact.codes import Code
from failedcontact.service.app import Settings, create_app, openapi_document
from failedcontact.source.locate import bundled_dir

from .conftest import ROOT

TOKEN = "openapi-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(packs=bundled_dir(), tokens=(TOKEN,))))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_has_an_explicit_operation_id(document: dict[str, Any]) -> None:
    ids = {f"{m} {p}": op["operationId"] for p, m, op in _operations(document)}
    assert ids == {
        "post /v1/assess": "assess_case",
        "post /v1/assess:batch": "assess_batch",
        "get /v1/packs": "list_packs",
        "get /v1/packs/{pack_id}": "get_pack",
        "get /v1/schemas/{name}": "get_schema",
        "post /v1/admin/reload": "reload_packs",
        "get /healthz": "healthz",
        "get /readyz": "readyz",
        "get /metrics": "metrics",
        "get /errors": "list_error_codes",
        "get /errors/{code}": "get_error_code",
    }


def test_every_4xx_and_5xx_is_a_problem_document(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        assert "500" in errors, (method, path)
        for status, response in errors.items():
            assert list(response["content"]) == [PROBLEM], (method, path, status)
            schema = response["content"][PROBLEM]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in json.dumps(document)


def test_the_routes_with_parameters_declare_their_422_as_a_problem(
    document: dict[str, Any], client: TestClient
) -> None:
    for path in ("/v1/packs/{pack_id}", "/v1/schemas/{name}"):
        assert "404" in document["paths"][path]["get"]["responses"]
    answer = client.get("/v1/packs/no_such_pack", headers=AUTH)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM


def test_the_ndjson_batch_is_described_line_by_line(document: dict[str, Any]) -> None:
    batch = document["paths"]["/v1/assess:batch"]["post"]
    body = batch["requestBody"]["content"]["application/x-ndjson"]
    answer = batch["responses"]["200"]["content"]["application/x-ndjson"]
    assert body["x-item-schema"] == {"$ref": "#/components/schemas/Case"}
    assert answer["x-item-schema"] == {"$ref": "#/components/schemas/BatchLine"}
    assert body["schema"]["type"] == "string" and "Case" in body["schema"]["description"]
    schemas = document["components"]["schemas"]
    line = schemas["BatchLine"]["oneOf"]
    assert {"$ref": "#/components/schemas/Assessment"} in line
    assert set(schemas["BatchLineError"]["required"]) == {"line", "errors"}
    for example in (body["example"], answer["example"]):
        assert example.endswith("\n") and all(json.loads(t) for t in example.splitlines())


def test_a_problem_type_resolves_to_a_page_the_service_serves(client: TestClient) -> None:
    problem = client.get("/v1/packs/no_such_pack", headers=AUTH).json()
    assert problem["type"] == f"http://testserver/errors/{problem['code']}"
    page = client.get(problem["type"])  # open: no token needed to read what a code means
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    meaning = next(c.meaning for c in Code if c == problem["code"])
    assert meaning in page.text
    assert client.get("/errors/no.such-code").headers["content-type"] == PROBLEM


def test_every_code_has_a_page_and_the_index_links_them_all(client: TestClient) -> None:
    index = client.get("/errors").text
    for code in Code:
        assert f'href="errors/{code}"' in index
        assert client.get(f"/errors/{code}").status_code == 200


def test_problem_types_in_the_docs_are_the_services_own(document: dict[str, Any]) -> None:
    text = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    assert "readthedocs" not in text
    assert "readthedocs" not in json.dumps(document)


def test_the_as_of_parameter_allows_uk_local_time(document: dict[str, Any]) -> None:
    import re

    for path in ("/v1/assess", "/v1/assess:batch"):
        (as_of,) = [
            p for p in document["paths"][path]["post"]["parameters"] if p["name"] == "as_of"
        ]
        text = json.dumps(as_of["schema"])
        assert "date-time" not in text  # RFC 3339 needs an offset; the service does not
        (pattern,) = re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', text)
        assert re.fullmatch(json.loads(f'"{pattern}"'), "2026-11-25T09:00:00")

"""schemathesis against the service's OpenAPI document, in process: every endpoint, no 500s,
every response as the document says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from failedcontact.service.app import Settings, create_app  # noqa: E402

from .conftest import ROOT  # noqa: E402

ADMIN = "admin-for-schemathesis"
_FOLDER = Path(__file__).resolve().parent / "data" / "service_packs"


def _app() -> object:
    # one small pack, so that the reload endpoint is quick to call many times
    if not (_FOLDER / "north_lincs.yaml").exists():
        _FOLDER.mkdir(exist_ok=True)
        shutil.copy(ROOT / "policies" / "north_lincs.yaml", _FOLDER / "north_lincs.yaml")
    return create_app(Settings(packs=_FOLDER, tokens=("t",), admin_tokens=(ADMIN,)))


@schemathesis.serializer("application/x-ndjson")  # type: ignore[untyped-decorator]
def _ndjson(context: object, value: object) -> bytes:
    # the batch body is documented as text: a case a line
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(0)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(deadline=None, suppress_health_check=list(HealthCheck))  # examples: the profile
def test_every_endpoint_answers_as_documented(case: object) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"})  # type: ignore[attr-defined]

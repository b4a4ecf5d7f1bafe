"""A client generated from schemas/openapi.json by openapi-python-client, exercised against
the live service on 127.0.0.1: one case, the NDJSON batch, a problem and its page.

openapi-python-client pins typer below the version failedcontact needs, so it cannot share
the test extra's environment: install it on its own (`pipx install openapi-python-client`)
and the test finds it on PATH, or set FAILEDCONTACT_CLIENT_GENERATOR to the command.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
import uvicorn

import failedcontact as fc
from failedcontact.service.app import Settings, create_app
from failedcontact.source.locate import bundled_dir

from .conftest import ROOT

TOKEN = "client-token"
AS_OF = "2026-11-25T09:00:00+00:00"
EXAMPLE = ROOT / "examples" / "second_no_access.json"
_CONFIG = """\
project_name_override: failedcontact-client
package_name_override: failedcontact_client
post_hooks: []
content_type_overrides:
  application/x-ndjson: application/octet-stream
"""


def _generator() -> str | None:
    given = os.environ.get("FAILEDCONTACT_CLIENT_GENERATOR")
    if given:
        return given
    beside = Path(sys.executable).parent / "openapi-python-client"
    return str(beside) if beside.exists() else shutil.which("openapi-python-client")


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    command = _generator()
    if command is None:
        pytest.skip("openapi-python-client is not installed (see this module's docstring)")
    work = tmp_path_factory.mktemp("client")
    (work / "config.yaml").write_text(_CONFIG, encoding="utf-8")
    subprocess.run(
        [command, "generate", "--path", str(ROOT / "schemas" / "openapi.json"), "--config",
         str(work / "config.yaml"), "--meta", "none", "--output-path",
         str(work / "failedcontact_client")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module("failedcontact_client")
    finally:
        sys.path.remove(str(work))
        for name in [n for n in sys.modules if n.startswith("failedcontact_client")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    app = create_app(Settings(packs=bundled_dir(), tokens=(TOKEN,)))
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()


def _module(package: Any, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_the_generated_client_assesses_one_case(client_package: Any, live_url: str) -> None:
    api = _module(client_package, "api.default.assess_case")
    models = _module(client_package, "models")
    client = client_package.AuthenticatedClient(base_url=live_url, token=TOKEN)
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    answer = api.sync_detailed(
        client=client, body=models.Case.from_dict(case), pack="north_lincs", as_of=AS_OF
    )
    assert answer.status_code == 200
    want = fc.load_pack("north_lincs").assess_json(
        EXAMPLE.read_bytes(), datetime.fromisoformat(AS_OF)
    )
    assert answer.content == want  # the library's bytes, through the generated client
    assessment = answer.parsed
    assert isinstance(assessment, models.Assessment)
    assert isinstance(assessment.as_of, datetime)  # format: date-time, typed as one
    assert assessment.as_of == datetime.fromisoformat(AS_OF)


def test_the_generated_client_streams_a_batch(client_package: Any, live_url: str) -> None:
    api = _module(client_package, "api.default.assess_batch")
    types = _module(client_package, "types")
    client = client_package.AuthenticatedClient(base_url=live_url, token=TOKEN)
    good = json.dumps(json.loads(EXAMPLE.read_text(encoding="utf-8"))).encode()
    body = good + b"\n" + b'{"case_id": "BAD", "events": [{"type": "call"}]}\n'
    answer = api.sync_detailed(
        client=client, body=types.File(payload=BytesIO(body)), pack="north_lincs", as_of=AS_OF
    )
    assert answer.status_code == 200
    lines = answer.parsed.payload.read().splitlines()
    assert len(lines) == 2
    assert "contract" in json.loads(lines[0])  # an assessment, not an error record
    error = json.loads(lines[1])
    assert error["line"] == 2 and error["case_id"] == "BAD" and error["errors"]


def test_the_generated_client_reads_problems_and_their_pages(
    client_package: Any, live_url: str
) -> None:
    get_pack = _module(client_package, "api.default.get_pack")
    get_code = _module(client_package, "api.default.get_error_code")
    models = _module(client_package, "models")
    client = client_package.AuthenticatedClient(base_url=live_url, token=TOKEN)
    problem = get_pack.sync("no_such_pack", client=client)
    assert isinstance(problem, models.Problem)
    assert problem.code == "pack.unknown"
    assert problem.type_.startswith(live_url)
    page = get_code.sync_detailed(problem.code, client=client)
    assert page.status_code == 200 and b"pack.unknown" in page.content

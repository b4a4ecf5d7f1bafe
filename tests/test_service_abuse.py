"""The service under abuse (issue 33): admin never open, RFC 6750 bearer parsing, time and
connection limits, a rate-limited log, and the batch's whitespace tail as the CLI reads it.

The live tests run a real uvicorn server on 127.0.0.1 under a low open-file limit, each
bounded in time.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pytest

import failedcontact as fc

pytest.importorskip("fastapi")
import httpx
from fastapi.testclient import TestClient

from failedcontact.runs.batch import assess_line
from failedcontact.service.app import Settings, create_app
from failedcontact.service.logs import RepeatLimit
from failedcontact.source.locate import bundled_dir

from .conftest import ROOT

# The fault-injection suite (a real server flooded under a low open-file limit): CI runs
# it in its whole-suite pass (`-m "slow or not slow"`), bounded in time; the default run
# stays quick.
pytestmark = pytest.mark.slow

TOKEN, ADMIN = "abuse-token", "abuse-admin"
EXAMPLE = (ROOT / "examples" / "second_no_access.json").read_bytes()
AS_OF = "2026-11-25T09:00:00+00:00"


def _client(**settings: object) -> TestClient:
    return TestClient(create_app(Settings(packs=bundled_dir(), **settings)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "settings",
    [
        {"allow_unauthenticated": True, "tokens": (TOKEN,)},
        {"allow_unauthenticated": True},
        {"tokens": (TOKEN,)},
    ],
    ids=["unauthenticated-with-tokens", "unauthenticated-only", "tokens-without-admin"],
)
def test_admin_is_never_open_without_an_admin_token(settings: dict[str, object]) -> None:
    client = _client(**settings)
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        answer = client.post("/v1/admin/reload", headers=headers)
        assert answer.status_code == 403, (headers, answer.text)
        assert answer.json()["code"] == "service.forbidden"
        assert "no admin tokens" in answer.json()["detail"]


def test_an_admin_token_still_reloads() -> None:
    client = _client(tokens=(TOKEN,), admin_tokens=(ADMIN,))
    assert client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}).is_success
    answer = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("header", "status", "challenge"),
    [
        (f"Bearer {TOKEN}", 200, None),
        (f"bearer {TOKEN}", 200, None),  # the scheme is case-insensitive
        (f"BEARER   {TOKEN}", 200, None),  # 1*SP
        (None, 401, 'Bearer realm="failedcontact"'),
        ("Basic dXNlcjpwYXNz", 401, 'Bearer realm="failedcontact"'),
        ("Bearer wrong-token", 401, 'Bearer realm="failedcontact", error="invalid_token"'),
        (f"Bearer {TOKEN} extra", 400, 'error="invalid_request"'),
        (f"Bearer\t{TOKEN}", 400, 'error="invalid_request"'),
        (f"Bearer {TOKEN},", 400, 'error="invalid_request"'),
        (f"Bearer {TOKEN}=x", 400, 'error="invalid_request"'),
        ("Bearer", 400, 'error="invalid_request"'),
        (f"Bearer{TOKEN}", 401, 'Bearer realm="failedcontact"'),  # another scheme's name
    ],
)
def test_the_bearer_header_is_read_as_rfc_6750_says(
    header: str | None, status: int, challenge: str | None
) -> None:
    client = _client(tokens=(TOKEN,))
    headers = {"Authorization": header} if header is not None else {}
    answer = client.post(
        "/v1/assess", params={"pack": "north_lincs", "as_of": AS_OF}, content=EXAMPLE,
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == status, answer.text
    if challenge is None:
        assert "www-authenticate" not in answer.headers
    else:
        assert challenge in answer.headers["www-authenticate"]
        assert answer.headers["content-type"] == "application/problem+json"


def test_two_authorization_headers_are_malformed() -> None:
    client = _client(tokens=(TOKEN,))
    headers = [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")]
    answer = client.get("/v1/packs", headers=headers)
    assert answer.status_code == 400


def test_a_token_no_client_could_send_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="token 2 is not a bearer token"):
        create_app(Settings(packs=bundled_dir(), tokens=("good", "has space")))


def test_a_whitespace_only_tail_is_answered_like_the_cli() -> None:
    client = _client(tokens=(TOKEN,))
    body = EXAMPLE.replace(b"\n", b" ") + b"\n  \t"
    answer = client.post(
        "/v1/assess:batch", params={"pack": "north_lincs", "as_of": AS_OF}, content=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )  # fmt: skip
    lines = answer.content.splitlines()
    assert len(lines) == 2
    pack = fc.load_pack("north_lincs")
    want, _, _ = assess_line(pack, 2, b"  \t", datetime.fromisoformat(AS_OF))
    assert lines[1] == want
    assert orjson.loads(lines[1])["line"] == 2


def test_repeated_log_messages_are_limited_and_counted() -> None:
    records: list[logging.LogRecord] = []
    limit = RepeatLimit(burst=3, window=60)
    logger = logging.getLogger("test.repeat")
    for n in range(1000):
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "accept failed %d",
                                   (n,), None)  # fmt: skip
        if limit.filter(record):
            records.append(record)
    assert len(records) == 3
    limit.window = 0  # the window passes: the next one says how many were dropped
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "accept failed %d",
                               (0,), None)  # fmt: skip
    assert limit.filter(record)
    assert "997 like this suppressed" in record.getMessage()


def test_the_documented_systemd_unit_raises_the_open_file_limit() -> None:
    text = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    unit = text.split("# /etc/systemd/system/failedcontact.service", 1)[1].split("```", 1)[0]
    found = re.search(r"^LimitNOFILE=(\d+)$", unit, re.MULTILINE)
    assert found is not None and int(found.group(1)) >= 65536
    assert unit.index("LimitNOFILE") > unit.index("[Service]")


# ---- a live server under a low open-file limit -------------------------------------------

_SERVE = """
import sys
from pathlib import Path
from failedcontact.service.app import Settings
from failedcontact.service.serving import run
settings = Settings(packs=Path(sys.argv[1]), tokens=("abuse-token",), header_timeout=1.0,
                    body_timeout=1.0, max_connections=60)
run(settings, "127.0.0.1", int(sys.argv[2]))
"""
_FILES = 512  # the server's open-file limit, soft and hard: it cannot raise it


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_FILES, _FILES))


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "north_lincs.yaml").write_bytes((ROOT / "policies" / "north_lincs.yaml").read_bytes())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(folder), str(port)], stdout=sink, stderr=sink,
            env=env, preexec_fn=_low_file_limit,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).is_success:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        yield url, port, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _assess(url: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/assess", params={"pack": "north_lincs", "as_of": AS_OF}, content=EXAMPLE,
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10,
    )  # fmt: skip


def test_an_idle_flood_does_not_starve_callers_or_fill_the_log(
    live: tuple[str, int, Path],
) -> None:
    url, port, log = live
    idle = []
    started = time.monotonic()
    for _ in range(_FILES + 100):  # more idle connections than the server has file descriptors
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        idle[-1].sendall(b"GET /healthz HTTP/1.1\r\n")  # a head begun, never finished
    assert _assess(url).status_code == 200
    assert httpx.get(f"{url}/healthz", timeout=10).is_success
    for connection in idle:
        connection.close()
    assert time.monotonic() - started < 60
    size = log.stat().st_size
    assert size < 20_000, log.read_text(errors="replace")[-2000:]
    # On a busy machine an accept can still meet a full descriptor table for a moment
    # before the cap closes an idle connection: then said at most as often as the log's
    # rate limit lets one message through (10 a minute), never the flood of old.
    assert log.read_text(errors="replace").count("Too many open files") <= 10


def test_an_unfinished_head_is_closed_after_the_header_timeout(
    live: tuple[str, int, Path],
) -> None:
    _, port, _ = live
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert connection.recv(100) == b""  # closed by the server
        assert 0.5 < time.monotonic() - started < 5


def test_a_body_that_stops_arriving_is_a_408(live: tuple[str, int, Path]) -> None:
    _, port, _ = live
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /v1/assess?pack=north_lincs HTTP/1.1\r\nHost: x\r\n"
            b'Authorization: Bearer abuse-token\r\nContent-Length: 1000\r\n\r\n{"case_id"'
        )
        started = time.monotonic()
        answer = b""
        while chunk := connection.recv(4096):  # the server closes: `Connection: close`
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"service.timeout" in answer
        assert time.monotonic() - started < 5


def test_start_up_says_what_it_serves_and_its_limits(live: tuple[str, int, Path]) -> None:
    _, _, log = live
    text = log.read_text(errors="replace")
    assert "serving 1 pack release(s)" in text and "north_lincs" in text
    assert "60 connections" in text


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_every_logger_writes_one_format(as_json: bool) -> None:
    code = (
        "import logging\n"
        "from failedcontact.service.logs import configure_logging\n"
        f"configure_logging({as_json})\n"
        "for name in ('failedcontact.service', 'uvicorn.error', 'asyncio'):\n"
        "    logging.getLogger(name).warning('from %s', name)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, check=True, timeout=60)  # fmt: skip
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    for line, name in zip(
        lines, ("failedcontact.service", "uvicorn.error", "asyncio"), strict=True
    ):
        if as_json:
            entry = orjson.loads(line)
            assert entry["logger"] == name and entry["level"] == "warning"
            assert entry["message"] == f"from {name}"
        else:
            assert re.fullmatch(rf"\S+ \S+ WARNING {re.escape(name)} from {re.escape(name)}", line)


def test_a_port_in_use_is_an_os_error_before_any_pack_loads(tmp_path: Path) -> None:
    # `serve` can then say so (and exit as a port in use, not as an invalid pack)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = (
            "import sys\nfrom pathlib import Path\n"
            "from failedcontact.service.app import Settings\n"
            "from failedcontact.service.serving import run\n"
            "try:\n"
            f"    run(Settings(packs=Path({str(tmp_path / 'missing')!r}),"
            " allow_unauthenticated=True), '127.0.0.1', " + str(port) + ")\n"
            "except OSError as error:\n"
            "    print('OSError', error.errno)\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env=env, timeout=60)  # fmt: skip
    assert result.stdout.split()[0] == "OSError", result.stderr

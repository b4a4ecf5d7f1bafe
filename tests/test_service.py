"""The HTTP service, in process: endpoints, problems, auth, versions, reload, logs, OpenAPI."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import shutil
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

import failedcontact as fc
from failedcontact.runs.decision_log import answer_digest, case_digest
from failedcontact.service.app import Settings, ShelfHolder, create_app

from .conftest import ROOT, Cli
from .random_cases import random_case

AS_OF = "2026-11-25T09:00:00+00:00"
TOKEN, ADMIN = "token-for-tests", "admin-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
EXAMPLE = (ROOT / "examples" / "second_no_access.json").read_bytes()
RELEASE_1_0 = ROOT / "tests" / "data" / "releases" / "north_lincs-1.0.0.yaml"


def _packs(tmp_path: Path, *, old_release: bool = True, only: str | None = None) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    for pack in (ROOT / "policies").glob(f"{only or '*'}.yaml"):
        shutil.copy(pack, folder / pack.name)
    if old_release:
        (folder / "releases").mkdir()
        shutil.copy(RELEASE_1_0, folder / "releases" / RELEASE_1_0.name)
    return folder


@pytest.fixture(scope="module")
def shelf_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _packs(tmp_path_factory.mktemp("service"))


@pytest.fixture(scope="module")
def holder(shelf_folder: Path) -> ShelfHolder:
    return ShelfHolder(shelf_folder)


def _client(holder: ShelfHolder, **settings: Any) -> TestClient:
    options: dict[str, Any] = {"tokens": (TOKEN,), "admin_tokens": (ADMIN,)} | settings
    return TestClient(create_app(Settings(packs=holder.folder, **options), holder))


@pytest.fixture(scope="module")
def client(holder: ShelfHolder) -> TestClient:
    return _client(holder)


def _assess(client: TestClient, body: bytes, **params: str) -> Any:
    query = {"pack": "north_lincs", "as_of": AS_OF} | params
    return client.post("/v1/assess", params=query, content=body, headers=AUTH)


def test_an_assessment_is_the_librarys_byte_for_byte(client: TestClient) -> None:
    response = _assess(client, EXAMPLE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    expected = fc.load_pack("north_lincs").assess_json(EXAMPLE, datetime.fromisoformat(AS_OF))
    assert response.content == expected


def test_without_as_of_the_server_clock_is_used_and_said(client: TestClient) -> None:
    before = datetime.now(UTC)
    response = client.post("/v1/assess", params={"pack": "north_lincs"}, content=EXAMPLE,
                           headers=AUTH)  # fmt: skip
    used = datetime.fromisoformat(response.json()["as_of"])
    assert before <= used <= datetime.now(UTC)


def test_a_version_can_be_pinned_and_the_newest_is_the_default(client: TestClient) -> None:
    newest = _assess(client, EXAMPLE).json()["pack"]
    pinned = _assess(client, EXAMPLE, version="1.0.0").json()["pack"]
    assert newest["version"] == "1.2.0"
    assert pinned == {"id": "north_lincs", "version": "1.0.0",
                      "digest": fc.load_pack(RELEASE_1_0).digest}  # fmt: skip
    missing = _assess(client, EXAMPLE, version="9.9.9")
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        "pack `north_lincs` has no version `9.9.9`; it has `1.0.0`, `1.2.0`"
    )


def test_an_invalid_case_is_a_422_problem_with_the_clis_field_paths(
    client: TestClient, cli: Cli, tmp_path: Path
) -> None:
    bad = b'{"case_id": "C", "events": [{"at": "2026-02-30T10:00:00", "type": "home_visit", ' \
          b'"outcome": "no_answer"}], "colour": "red"}'  # fmt: skip
    response = _assess(client, bad)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "case.invalid" and problem["status"] == 422
    assert problem["request_id"] == response.headers["x-request-id"]
    lines = tmp_path / "bad.jsonl"
    lines.write_bytes(bad + b"\n")
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(lines))
    record = json.loads(result.stdout.splitlines()[0])
    assert problem["errors"] == record["errors"]
    assert {e["path"] for e in problem["errors"]} == {"events[0].at", "events[0].outcome",
                                                      "colour"}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"case_id": "C", "flags": ["address_dangerous"]}', "flags[0]"),
        (
            b'{"case_id": "C", "events": [{"at": "2026-11-20T10:00:00", "type": "action", '
            b'"action": "visit_again"}]}',
            "events[0].action",
        ),
        (
            b'{"case_id": "C", "events": [{"at": "2030-11-20T10:00:00", "type": "action", '
            b'"action": "visit_again"}]}',
            "events[0].action",
        ),
    ],
    ids=["undeclared-flag", "unknown-action", "unknown-action-after-as-of"],
)
def test_a_case_the_pack_rejects_is_a_422_like_the_cli(
    client: TestClient, cli: Cli, tmp_path: Path, body: bytes, path: str
) -> None:
    """Well-formed, but naming a flag or an action id the pack does not know: an invalid
    case (the pack's own check), not a 500."""
    response = _assess(client, body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "case.invalid"
    lines = tmp_path / "rejected.jsonl"
    lines.write_bytes(body + b"\n")
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(lines))
    assert problem["errors"] == json.loads(result.stdout)["errors"]
    assert [e["path"] for e in problem["errors"]] == [path]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"pack": "north_linc"}, 404, "pack.unknown"),
        ({"pack": ""}, 422, "service.bad-request"),
        ({"as_of": "yesterday"}, 422, "case.invalid"),
        ({"as_of": "2026-02-30T09:00:00"}, 422, "case.invalid"),
    ],
    ids=["unknown-pack", "no-pack", "as-of-words", "as-of-impossible"],
)
def test_bad_parameters_are_problems(
    client: TestClient, params: dict[str, str], status: int, code: str
) -> None:
    response = _assess(client, EXAMPLE, **params)
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b"\xff\xfe",
        b"[" * 50_000,
        b'{"case_id": "\\ud800"}',
        b'{"case_id": "C", "events": [' + b"{}," * 2000 + b"{}]}",
    ],
    ids=["empty", "text", "list", "null", "not-utf8", "deep", "lone-surrogate", "many-bad"],
)
def test_garbage_is_never_a_500(client: TestClient, body: bytes) -> None:
    response = _assess(client, body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "case.invalid"


def test_an_oversized_body_is_a_413(holder: ShelfHolder) -> None:
    small = _client(holder, max_body_bytes=1000)
    response = _assess(small, b" " * 1001)
    assert (response.status_code, response.json()["code"]) == (413, "service.too-large")

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        yield b"{" + b" " * 600
        yield b" " * 600 + b"}"

    streamed = small.post("/v1/assess", params={"pack": "north_lincs"}, content=chunks(),
                          headers=AUTH)  # fmt: skip
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("path", "method", "headers", "status"),
    [
        ("/v1/assess?pack=north_lincs", "post", {}, 401),
        ("/v1/assess?pack=north_lincs", "post", {"Authorization": "Bearer wrong"}, 401),
        ("/v1/assess?pack=north_lincs", "post", {"Authorization": f"Basic {TOKEN}"}, 401),
        ("/v1/packs", "get", {}, 401),
        ("/v1/admin/reload", "post", AUTH, 403),
        ("/v1/admin/reload", "post", {}, 401),
        ("/healthz", "get", {}, 200),
        ("/readyz", "get", {}, 200),
        ("/metrics", "get", {}, 200),
    ],
    ids=[
        "none",
        "wrong",
        "not-bearer",
        "packs",
        "admin-needs-admin",
        "admin-none",
        "healthz",
        "readyz",
        "metrics",
    ],
)
def test_who_may_call_what(
    client: TestClient, path: str, method: str, headers: dict[str, str], status: int
) -> None:
    response = getattr(client, method)(path, headers=headers, content=EXAMPLE) if method == \
        "post" else client.get(path, headers=headers)  # fmt: skip
    assert response.status_code == status
    if status in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"


def test_tokens_are_required_unless_explicitly_waived(holder: ShelfHolder) -> None:
    with pytest.raises(ValueError, match="--allow-unauthenticated"):
        create_app(Settings(packs=holder.folder), holder)
    open_client = TestClient(create_app(Settings(packs=holder.folder,
                                                 allow_unauthenticated=True), holder))  # fmt: skip
    assert open_client.post("/v1/assess", params={"pack": "north_lincs"},
                            content=EXAMPLE).status_code == 200  # fmt: skip


def test_serve_refuses_to_start_without_tokens(cli: Cli) -> None:
    result = cli("serve", "--port", "1")
    assert result.exit_code == 64
    assert "no bearer tokens" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--log-case"], "--log-case and --log-mask need --decision-log"),
        (["--decision-log", "LOG", "--log-mask", "case_id"], "add --log-case"),
        (["--decision-log", "LOG", "--log-case", "--log-mask", "child."], "not a field path"),
    ],
    ids=["case-without-log", "mask-without-case", "malformed-mask"],
)
def test_serve_refuses_decision_log_options_that_do_nothing_or_are_wrong(
    cli: Cli, tmp_path: Path, options: list[str], message: str
) -> None:
    """As `assess` does: a mask without the logged case would be silently ignored."""
    options = [str(tmp_path / "d.jsonl") if o == "LOG" else o for o in options]
    # no packs to serve: were the options let through, serve would stop there, not listen
    result = cli("serve", "--port", "1", "--allow-unauthenticated",
                 "--packs", str(tmp_path / "none"), *options)  # fmt: skip
    assert result.exit_code == 64
    assert message in result.output


def test_the_batch_streams_one_line_per_line_like_the_cli(
    client: TestClient, cli: Cli, tmp_path: Path
) -> None:
    rng = random.Random(11)
    lines = [orjson.dumps(random_case(rng, n)) for n in range(150)]
    lines[7] = b'{"case_id": "BAD-7", "events": [{"type": "phone"}]}'
    lines[20] = b""
    body = b"\n".join(lines) + b"\n"
    response = client.post("/v1/assess:batch", params={"pack": "north_lincs", "as_of": AS_OF},
                           content=body, headers=AUTH)  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(body)
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(cases),
                 "--workers", "1")  # fmt: skip
    assert response.content == result.stdout.encode()
    out = response.content.splitlines()
    assert len(out) == 150
    assert json.loads(out[7])["case_id"] == "BAD-7" and "errors" in json.loads(out[7])
    assert json.loads(out[20])["errors"][0]["message"] == "empty line, expected a case"


def test_packs_and_schemas_are_listed(client: TestClient) -> None:
    packs = client.get("/v1/packs", headers=AUTH).json()["packs"]
    north = next(p for p in packs if p["id"] == "north_lincs")
    assert [v["version"] for v in north["versions"]] == ["1.0.0", "1.2.0"]
    assert north["default_version"] == "1.2.0"
    assert {p["id"] for p in packs} == set(fc.bundled_ids())
    detail = client.get("/v1/packs/suffolk", headers=AUTH).json()
    [release] = detail["versions"]
    suffolk = fc.load_pack("suffolk")
    assert release["digest"] == suffolk.digest
    assert release["source"]["title"] == suffolk.document.source.title
    assert [s["id"] for s in release["sections"]] == [
        s.id for s in suffolk.document.source.sections
    ]
    assert client.get("/v1/packs/nowhere", headers=AUTH).status_code == 404
    for name in ("case", "assessment", "pack"):
        committed = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text("utf-8"))
        assert client.get(f"/v1/schemas/{name}", headers=AUTH).json() == committed
    assert client.get("/v1/schemas/scenario", headers=AUTH).status_code == 404


def test_metrics_count_requests_errors_and_assessments_by_pack_and_tier(
    holder: ShelfHolder,
) -> None:
    client = _client(holder)
    tier = _assess(client, EXAMPLE).json()["risk_tier"]
    _assess(client, EXAMPLE)
    _assess(client, b"{}")
    text = client.get("/metrics").text
    assert ('failedcontact_assessments_total{pack="north_lincs",risk_tier="' + tier
            + '",version="1.2.0"} 2.0') in text  # fmt: skip
    assert 'failedcontact_errors_total{code="case.invalid"} 1.0' in text
    assert 'failedcontact_requests_total{method="POST",route="/v1/assess",status="200"} 2.0' \
        in text  # fmt: skip
    assert 'failedcontact_request_seconds_count{route="/v1/assess"} 3.0' in text


def test_a_failing_reload_is_refused_and_the_old_packs_keep_serving(tmp_path: Path) -> None:
    folder = _packs(tmp_path, old_release=False, only="north_lincs")
    holder = ShelfHolder(folder)
    client = _client(holder)
    digest = _assess(client, EXAMPLE).json()["pack"]["digest"]
    pack = folder / "north_lincs.yaml"
    good = pack.read_text(encoding="utf-8")
    pack.write_text(good.replace("deadline: {working_days: 5}", "deadline: {working_days: -5}"),
                    encoding="utf-8")  # fmt: skip
    refused = client.post("/v1/admin/reload", headers=ADMIN_AUTH)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "service.reload-refused"
    [diagnostic] = problem["diagnostics"]
    assert diagnostic["file"].endswith("north_lincs.yaml") and diagnostic["line"] > 0
    assert _assess(client, EXAMPLE).json()["pack"]["digest"] == digest
    edited = good.replace("deadline: {working_days: 5}", "deadline: {working_days: 10}")
    pack.write_text(edited.replace("version: 1.2.0", "version: 1.3.0", 1), encoding="utf-8")
    reloaded = client.post("/v1/admin/reload", headers=ADMIN_AUTH)
    assert reloaded.status_code == 200
    served = _assess(client, EXAMPLE).json()["pack"]
    assert served["version"] == "1.3.0" and served["digest"] != digest


def test_a_batch_in_flight_finishes_on_the_packs_it_started_with(tmp_path: Path) -> None:
    folder = _packs(tmp_path, old_release=False, only="north_lincs")
    holder = ShelfHolder(folder)
    app = create_app(Settings(packs=folder, tokens=(TOKEN,)), holder)
    old = holder.current.get("north_lincs").digest
    pack = folder / "north_lincs.yaml"
    pack.write_text(pack.read_text("utf-8").replace("version: 1.2.0", "version: 1.3.0", 1),
                    encoding="utf-8")  # fmt: skip
    line = EXAMPLE.replace(b"\n", b"") + b"\n"
    sent = 0
    out = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        if sent == 3:  # the batch is under way: reload between its lines
            assert holder.reload()[0] is not None
        if sent <= 5:
            return {"type": "http.request", "body": line, "more_body": True}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            out.extend(message.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/assess:batch",
             "raw_path": b"/v1/assess:batch", "root_path": "",
             "query_string": b"pack=north_lincs&as_of=2026-11-25T09:00:00Z",
             "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    digests = {json.loads(row)["pack"]["digest"] for row in bytes(out).splitlines()}
    assert len(bytes(out).splitlines()) == 5
    assert digests == {old}
    assert holder.current.get("north_lincs").version == "1.3.0"  # later requests get the new


def test_no_case_content_reaches_the_logs_at_any_level(
    holder: ShelfHolder, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(holder)
    marker = "MARKER-7c1e"
    good = json.dumps({"case_id": marker, "household": {"landlord": marker}}).encode()
    bad = json.dumps({"case_id": marker, "events": [{"at": marker, "type": "home_visit",
                                                     "outcome": marker}]}).encode()  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        _assess(client, good)
        _assess(client, bad)
        _assess(client, good, pack=marker)
        client.post("/v1/assess:batch", params={"pack": "north_lincs"}, content=good + b"\n"
                    + bad, headers=AUTH)  # fmt: skip
    # the test's HTTP client (httpx) logs its own requests, query and all: not the server's
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert any(r.name == "failedcontact.service" for r in server)  # it does log each request
    assert all(marker not in r.getMessage() for r in server)


def test_an_unexpected_failure_is_a_500_problem_that_logs_no_case(
    holder: ShelfHolder, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import failedcontact.service.assess as service

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("case MARKER-9 broke it")

    monkeypatch.setattr(service, "evaluate", broken)
    client = _client(holder)
    with caplog.at_level(logging.DEBUG):
        response = _assess(client, EXAMPLE)
    assert response.status_code == 500
    assert response.json()["code"] == "service.internal"
    assert "RuntimeError" in caplog.text and "MARKER-9" not in caplog.text


def test_the_service_logs_each_decision_before_it_answers(
    holder: ShelfHolder, tmp_path: Path
) -> None:
    log = tmp_path / "decisions.jsonl"
    client = _client(holder, decision_log=log)
    query = {"pack": "north_lincs", "as_of": AS_OF}
    named = {**AUTH, "X-Request-Id": "case-sys-1"}
    response = client.post("/v1/assess", params=query, content=EXAMPLE, headers=named)
    assert response.headers["x-request-id"] == "case-sys-1"
    body = EXAMPLE.replace(b"\n", b"") + b"\n{}\n\n"
    batch = client.post("/v1/assess:batch", params=query, content=body, headers=AUTH)
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert [line["request_id"] for line in lines] == [
        "case-sys-1",
        batch.headers["x-request-id"] + "#1",
    ]
    assert lines[0]["case_sha256"] == case_digest(json.loads(EXAMPLE))
    assert lines[0]["assessment_digest"] == answer_digest(response.json())
    assert lines[0]["pack"] == response.json()["pack"]


def test_the_committed_openapi_document_is_current(holder: ShelfHolder) -> None:
    document = create_app(Settings(packs=holder.folder, tokens=("t",)), holder).openapi()
    committed = json.loads((ROOT / "schemas" / "openapi.json").read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    assert committed == document, (
        "schemas/openapi.json is out of date: run `failedcontact schema openapi > "
        "schemas/openapi.json`"
    )

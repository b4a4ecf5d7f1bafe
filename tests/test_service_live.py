"""The service as a real uvicorn process on loopback: reload under load, and kill -9 mid-load."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import orjson
import pytest

pytest.importorskip("fastapi")
import httpx

import failedcontact as fc
from failedcontact.runs.decision_log import answer_digest

from .conftest import ROOT
from .random_cases import random_case

pytestmark = pytest.mark.slow
AS_OF = "2026-11-25T09:00:00+00:00"
TOKEN, ADMIN = "live-token", "live-admin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path, Path]]:
    folder = tmp_path / "packs"
    folder.mkdir()
    shutil.copy(ROOT / "policies" / "north_lincs.yaml", folder / "north_lincs.yaml")
    (tmp_path / "tokens").write_text(TOKEN + "\n", encoding="utf-8")
    (tmp_path / "admin").write_text(ADMIN + "\n", encoding="utf-8")
    log = tmp_path / "decisions.jsonl"
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "failedcontact", "serve", "--port", str(port), "--packs",
         str(folder), "--tokens-file", str(tmp_path / "tokens"), "--admin-tokens-file",
         str(tmp_path / "admin"), "--decision-log", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},  # this tree's code, whatever cwd
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the server did not become ready in 60 s")
    yield url, process, folder, log
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


def _cases(count: int) -> list[bytes]:
    rng = random.Random(21)
    return [orjson.dumps(random_case(rng, n)) for n in range(count)]


def test_reload_under_load_fails_no_request_and_never_mixes_versions(
    server: tuple[str, subprocess.Popen[bytes], Path, Path],
) -> None:
    url, _, folder, _ = server
    pack_file = folder / "north_lincs.yaml"
    original = pack_file.read_text(encoding="utf-8")
    edited = original.replace("deadline: {working_days: 5}", "deadline: {working_days: 10}")
    old = fc.load_pack(text=original).version  # the bundled pack's own version, whatever it is
    new = "99.0.0"
    edited = edited.replace(f"version: {old}", f"version: {new}", 1)
    texts = {old: original, new: edited}
    packs = {v: fc.load_pack(text=t) for v, t in texts.items()}
    cases = _cases(1500)
    when = datetime.fromisoformat(AS_OF)
    expected = {v: [answer_digest(orjson.loads(p.assess_json(c, when))) for c in cases]
                for v, p in packs.items()}  # fmt: skip
    assert expected[old] != expected[new]  # the edit changes some answers
    stop = threading.Event()
    reloads: list[int] = []

    def reload_repeatedly() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
            version = new
            while not stop.is_set():
                pack_file.write_text(texts[version], encoding="utf-8")
                reloads.append(admin.post(url + "/v1/admin/reload", timeout=60).status_code)
                version = old if version == new else new

    def call(number: int, client: httpx.Client) -> tuple[int, int, str, str]:
        response = client.post(url + "/v1/assess", params={"pack": "north_lincs", "as_of": AS_OF},
                               content=cases[number], timeout=60)  # fmt: skip
        body = response.json() if response.status_code == 200 else {}
        version = body.get("pack", {}).get("version", "")
        return number, response.status_code, version, answer_digest(body) if body else ""

    reloader = threading.Thread(target=reload_repeatedly)
    reloader.start()
    limits = httpx.Limits(max_connections=32)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(headers=headers, limits=limits) as client, ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda n: call(n, client), range(len(cases))))
    stop.set()
    reloader.join()
    assert len(reloads) >= 2 and set(reloads) == {200}
    assert [status for _, status, _, _ in results] == [200] * len(cases)
    seen_versions = {version for _, _, version, _ in results}
    assert seen_versions == {old, new}  # the reloads happened while it ran
    for number, _, version, digest in results:
        assert digest == expected[version][number], (number, version)


def test_kill_9_mid_load_leaves_whole_lines_and_every_acknowledged_decision(
    server: tuple[str, subprocess.Popen[bytes], Path, Path],
) -> None:
    url, process, _, log = server
    cases = _cases(200)
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def hammer(worker: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            for number in range(100_000):
                if killed.is_set():
                    return
                request_id = f"w{worker}-{number}"
                try:
                    response = client.post(
                        url + "/v1/assess", params={"pack": "north_lincs", "as_of": AS_OF},
                        content=cases[number % len(cases)],
                        headers={"X-Request-Id": request_id}, timeout=10,
                    )  # fmt: skip
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(request_id)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(32)]
    for thread in threads:
        thread.start()
    while True:  # let a good number of decisions through first
        time.sleep(0.2)
        with lock:
            if len(acknowledged) >= 300:
                break
    os.kill(process.pid, signal.SIGKILL)
    killed.set()
    for thread in threads:
        thread.join(timeout=30)
    process.wait(timeout=30)
    raw = log.read_bytes()
    assert raw.endswith(b"\n")  # no torn last line
    logged = {json.loads(line)["request_id"] for line in raw.splitlines()}  # each whole JSON
    assert len(acknowledged) >= 300
    assert set(acknowledged) <= logged

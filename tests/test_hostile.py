"""Hostile packs and case input: a clear diagnostic and the documented exit status, fast."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from failedcontact.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "second_no_access.json")
AS_OF = "2026-11-25T09:00:00Z"
CORPUS = ROOT / "tests" / "hostile"
# Each corpus file with how to run it, the exit status and the text the output must hold.
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text("utf-8"))


def _one_gigabyte() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def corpus_results() -> list[dict[str, Any]]:
    """Every corpus entry run once, all in one process limited to 1 GiB."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "hostile_runner.py")],
        capture_output=True, cwd=ROOT, check=False, timeout=10 * len(MANIFEST),
        preexec_fn=_one_gigabyte,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode("utf-8", errors="replace")
    rows = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [row["index"] for row in rows] == list(range(len(MANIFEST)))
    return rows


@pytest.mark.parametrize("index", range(len(MANIFEST)),
                         ids=[f"{e['run']}:{e['file']}" for e in MANIFEST])  # fmt: skip
def test_hostile_corpus(index: int, corpus_results: list[dict[str, Any]]) -> None:
    """Each file gives its documented status and message within 10 s and 1 GiB."""
    entry, row = MANIFEST[index], corpus_results[index]
    output = row["output"]
    assert not row["crashed"], output
    assert row["exit"] == entry["exit"], output
    assert row["seconds"] < 10
    if entry["expect"]:
        assert entry["expect"] in output, output
    assert "Traceback" not in output
    assert "\x1b" not in output  # control characters never reach the terminal
    assert "hunter2" not in output  # a file that is not a pack is not echoed back


def test_every_corpus_file_is_in_the_manifest() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    assert files - {"manifest.json"} == {e["file"] for e in MANIFEST}


def test_check_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pack.yaml"
    os.mkfifo(fifo)
    status, output = _check("check", str(fifo))
    assert status == 3 and "is not a regular file" in output


def test_oversized_case_input_is_refused() -> None:
    # /dev/zero never ends: the case reader stops at its documented limit (subprocess:
    # the in-process runner cannot stream a pipe).
    result = subprocess.run(
        [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs", "-"],
        capture_output=True, cwd=ROOT, check=False,
        input=b"\0" * (64 * 1024 * 1024 + 10), timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert b"larger than 67,108,864 bytes" in result.stderr


def test_a_device_is_not_read_as_a_case() -> None:
    status, output = _check("assess", "--pack", "north_lincs", "/dev/zero")
    assert status == 5 and "is not a regular file" in output


def _many_cases(tmp_path: Path, count: int = 3000) -> Path:
    line = '{"case_id":"P","events":[{"at":"2026-11-23T10:00:00","type":"home_visit",' \
           '"outcome":"no_response"}]}\n'  # fmt: skip
    stream = tmp_path / "many.jsonl"
    stream.write_text(line * count, encoding="utf-8")
    return stream


def test_a_closed_output_pipe_ends_with_one_message_and_status_4(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs",
               "--as-of", AS_OF, "--jsonl", str(_many_cases(tmp_path))]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert first.startswith(b'{"contract":"1.2"')  # whole lines came through
    process.stdout.close()
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 4
    assert "error: cannot write the output: the reader closed the output pipe" in error
    assert "Traceback" not in error


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_ends_with_one_message_and_status_4(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs",
             "--as-of", AS_OF, "--jsonl", str(_many_cases(tmp_path))],
            stdout=full, stderr=subprocess.PIPE, cwd=ROOT, check=False, timeout=60,
        )  # fmt: skip
    assert result.returncode == 4
    assert b"error: cannot write the output: No space left on device" in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("id: demo\nflow: {x: 1,  # keep\n  y: 2}\n", "pack.fmt-comment"),
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", "pack.too-large"),
    ],
    ids=["comment-in-flow", "deep-nesting"],
)
def test_fmt_refuses_rather_than_loses_or_crashes(tmp_path: Path, text: str, code: str) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(text, encoding="utf-8")
    status, output = _check("fmt", str(pack))
    assert status == 3 and f"error[{code}]" in output, output
    assert pack.read_text(encoding="utf-8") == text  # left as it was


def test_a_limit_can_be_raised_through_the_environment(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text('{"case_id": "' + "x" * 2000 + '"}', encoding="utf-8")
    command = [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs",
               "--as-of", AS_OF, str(case)]  # fmt: skip
    env = {**os.environ, "FAILEDCONTACT_MAX_CASE_BYTES": "1000"}
    small = subprocess.run(command, capture_output=True, cwd=ROOT, check=False, env=env)
    assert small.returncode == 2 and b"larger than 1,000 bytes" in small.stderr
    env["FAILEDCONTACT_MAX_CASE_BYTES"] = "10000"
    assert subprocess.run(command, capture_output=True, cwd=ROOT, env=env).returncode == 0

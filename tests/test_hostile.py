"""Hostile packs and case input: a clear diagnostic and the documented exit status, fast."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from failedcontact.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "second_no_access.json")
AS_OF = "2026-11-25T09:00:00Z"
_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10 if prev else ['x'] * 10)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=False)
)

# (id, pack text, diagnostic code): each pack must be refused with exit 3 and that code.
HOSTILE_PACKS = [
    ("python-object", "id: !!python/object:os.system {}\n", "pack.yaml"),
    ("python-object-new", "id: !!python/object/new:os.system [ls]\n", "pack.yaml"),
    ("omap", "id: !!omap [{a: 1}]\n", "pack.yaml"),
    ("verbatim-tag", "id: !<tag:yaml.org,2002:str> x\n", "pack.yaml"),
    ("tag-directive", "%TAG !e! tag:example.com,2000:\n---\nid: !e!x y\n", "pack.yaml"),
    ("binary", "id: !!binary aGVsbG8=\n", "pack.yaml"),
    ("timestamp", "id: !!timestamp 2001-12-14\n", "pack.yaml"),
    ("merge-key", "base: &b {title: x}\nid: demo\n<<: *b\n", "pack.yaml"),
    ("merge-scalar", "a: &b [1]\n<<: *b\n", "pack.yaml"),
    ("alias-bomb", _BOMB, "pack.too-large"),
    ("deep-nesting", "a: " + "[" * 2000 + "]" * 2000 + "\n", "pack.too-large"),
    ("not-a-pack", "root:*:20228:0:99999:7:::\nsecret: hunter2\n", "pack.not-a-pack"),
    ("nul-bytes", "\0" * 1000, "pack.yaml"),
]


def _check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(("text", "code"), [p[1:] for p in HOSTILE_PACKS],
                         ids=[p[0] for p in HOSTILE_PACKS])  # fmt: skip
def test_hostile_pack_is_refused_clearly_and_fast(tmp_path: Path, text: str, code: str) -> None:
    pack = tmp_path / "hostile.yaml"
    pack.write_text(text, encoding="utf-8")
    started = time.monotonic()
    status, output = _check("assess", "--pack", str(pack), "--as-of", AS_OF, EXAMPLE)
    assert time.monotonic() - started < 10
    assert status == 3, output
    assert f"error[{code}]" in output, output
    assert "Traceback" not in output
    assert "hunter2" not in output  # a file that is not a pack is not echoed back


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
    assert status == 2 and "is not a regular file" in output


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
    assert first.startswith(b'{"contract":"1.1"')  # whole lines came through
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

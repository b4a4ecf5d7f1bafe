"""Batch runs: one output line per input line, in order, identical to assessing each case
alone, with an error record in place of each bad line, on one core or several."""

from __future__ import annotations

import errno
import io
import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.errors import UsageError
from failedcontact.runs.batch import assess_stream

from .conftest import Cli

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
OUTCOMES = ["no_response", "access_refused", "doorstep", "child_seen", "child_not_seen"]


def _cases(count: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        start = datetime(2026, 9, 1, 9) + timedelta(days=rng.randrange(60))
        events = [
            {"at": (start + timedelta(days=3 * i)).isoformat(), "type": "home_visit",
             "outcome": rng.choice(OUTCOMES)}
            for i in range(rng.randrange(0, 8))
        ]  # fmt: skip
        cases.append({"case_id": f"B-{number}", "events": events,
                      "child": {"plan": rng.choice(["none", "child_protection"])}})  # fmt: skip
    return cases


# Bad lines at known places: an unknown outcome (readable case id), not JSON, blank, not UTF-8.
BAD = {
    7: b'{"case_id": "BAD-7", "events": [{"at": "2026-11-01T10:00:00", "type": "home_visit", '
    b'"outcome": "nobody_home"}]}',
    50: b"{not json",
    51: b"",
    120: b'{"case_id": "B-\xff"}',
}


def _input(cases: list[dict[str, Any]]) -> list[bytes]:
    lines = [json.dumps(c).encode() for c in cases]
    for index, raw in sorted(BAD.items()):
        lines.insert(index, raw)
    return lines


def _expected(pack: fc.Pack, lines: list[bytes]) -> list[dict[str, Any] | str]:
    """Each line assessed on its own through the typed path; `"error"` for a bad line."""
    found: list[dict[str, Any] | str] = []
    for raw in lines:
        try:
            found.append(pack.assess(json.loads(raw), AS_OF).model_dump_json())
        except (fc.CaseError, ValueError):
            found.append("error")
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_every_line_gets_one_output_line_in_order(workers: int, north_lincs: fc.Pack) -> None:
    lines = _input(_cases(150))
    written: list[bytes] = []
    reported: list[str] = []
    summary = assess_stream(north_lincs, lines, AS_OF, written.append, reported.append,
                            workers=workers)  # fmt: skip
    assert b"".join(written).count(b"\n") == len(lines) == summary.lines
    outputs = b"".join(written).decode().split("\n")[:-1]
    for number, (out, want) in enumerate(zip(outputs, _expected(north_lincs, lines),
                                             strict=True), start=1):  # fmt: skip
        if want == "error":
            record = json.loads(out)
            assert record["line"] == number and record["errors"], out
        else:
            assert out == want  # byte for byte the single-case typed assessment
    assert summary.invalid == len(BAD) == len(reported)
    assert [r.split(":")[0] for r in reported] == [f"line {i + 1}" for i in sorted(BAD)]


def test_error_records_say_the_line_the_case_and_each_problem(north_lincs: fc.Pack) -> None:
    written: list[bytes] = []
    assess_stream(north_lincs, _input(_cases(10)), AS_OF, written.append,
                  lambda _: None)  # fmt: skip
    rows = [json.loads(line) for line in b"".join(written).splitlines()]
    assert rows[7] == {"line": 8, "case_id": "BAD-7", "errors": [
        {"path": "events[0].outcome", "message": rows[7]["errors"][0]["message"]}]}  # fmt: skip
    assert "nobody_home" in rows[7]["errors"][0]["message"]


def test_one_worker_and_two_give_the_same_bytes(tmp_path: Path, cli: Cli) -> None:
    stream = tmp_path / "cases.jsonl"
    stream.write_bytes(b"\n".join(_input(_cases(160))) + b"\n")
    one = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), "--jsonl",
              str(stream), "--workers", "1")  # fmt: skip
    two = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), "--jsonl",
              str(stream), "--workers", "2")  # fmt: skip
    assert one.exit_code == two.exit_code == 2
    assert one.stdout == two.stdout and one.stdout.count("\n") == 160 + len(BAD)
    assert "assessed 164 line(s): 160 case(s), 4 invalid" in two.stderr
    assert "2 worker(s)" in two.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_pipe_gets_each_answer_before_the_input_ends(workers: str) -> None:
    """A long-lived worker in a pipeline: an answer comes out while the input is still open."""
    process = subprocess.Popen(
        [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs", "--as-of",
         AS_OF.isoformat(), "--jsonl", "-", "--workers", workers],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        for number, case in enumerate(_cases(3)):
            process.stdin.write(json.dumps(case).encode() + b"\n")
            process.stdin.flush()
            answer = json.loads(process.stdout.readline())  # blocks until this case is done
            assert answer["case_id"] == f"B-{number}"
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_lines_before_a_pause_are_answered_during_it(workers: int, north_lincs: fc.Pack) -> None:
    """Input that stops for a while (a pipe): what came before is written meanwhile."""
    answered = threading.Event()
    written: list[bytes] = []

    def write(data: bytes) -> None:
        written.append(data)
        if b"".join(written).count(b"\n") >= 3:
            answered.set()

    def lines() -> Iterator[bytes]:
        yield from (json.dumps(case).encode() for case in _cases(3))
        assert answered.wait(timeout=30), "nothing was written while the input paused"
        yield from (json.dumps(case).encode() for case in _cases(200, seed=6))

    summary = assess_stream(north_lincs, lines(), AS_OF, write, lambda _: None, workers=workers)
    assert summary.lines == 203 and b"".join(written).count(b"\n") == 203


def test_a_read_error_ends_the_run_with_that_error(north_lincs: fc.Pack) -> None:
    def lines() -> Iterator[bytes]:
        yield from _input(_cases(130))
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away"):
        assess_stream(north_lincs, lines(), AS_OF, lambda _: None, lambda _: None, workers=2)


class _FailingDisk(io.BytesIO):
    """A file whose disk fails after `good` lines have been read."""

    def __init__(self, data: bytes, good: int) -> None:
        super().__init__(data)
        self.left = good

    def readline(self, limit: int | None = -1) -> bytes:
        if self.left == 0:
            raise OSError(errno.EIO, "Input/output error")
        self.left -= 1
        return super().readline(limit)


@pytest.mark.parametrize(
    ("command", "workers"),
    [(("assess", "--jsonl"), "1"), (("assess", "--jsonl"), "2"), (("report", "--jsonl"), "1")],
)
def test_a_read_error_part_way_is_exit_5_after_the_lines_before_it(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: tuple[str, ...],
    workers: str,
) -> None:
    """Not a traceback, and not exit 4 (a failed write), even though EIO is the errno."""
    from failedcontact.cli import _cases as cli_module

    data = b"".join(json.dumps(c).encode() + b"\n" for c in _cases(30))

    @contextmanager
    def failing(case: str) -> Iterator[io.BytesIO]:
        yield _FailingDisk(data, good=12)

    monkeypatch.setattr(cli_module, "_case_stream", failing)
    extra = ["--workers", workers] if command[0] == "assess" else ["-o", str(tmp_path / "pages")]
    result = cli(*command, "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), "cases.jsonl",
                 *extra)  # fmt: skip
    assert result.exit_code == 5, result.output
    assert "error: cannot read case input `cases.jsonl`: [Errno 5] Input/output error" in (
        result.stderr
    )
    if command[0] == "assess":
        # In one process, the answers to the lines read before it; with workers, those
        # still in flight are not waited for. Whatever was written is in input order.
        answers = [json.loads(line)["case_id"] for line in result.stdout.splitlines()]
        assert answers == [f"B-{n}" for n in range(len(answers))]
        assert len(answers) == 12 if workers == "1" else len(answers) <= 12


@pytest.mark.parametrize("workers", [1, 2])
def test_skip_carries_on_a_run_from_where_it_stopped(workers: int, north_lincs: fc.Pack) -> None:
    """`skip=N` (what a stopped run says to do) gives the rest of the output, numbered as in
    the whole run: the two outputs joined are the output of one run."""
    lines = _input(_cases(150))
    whole: list[bytes] = []
    assess_stream(north_lincs, lines, AS_OF, whole.append, lambda _: None, workers=workers)
    rest: list[bytes] = []
    reported: list[str] = []
    summary = assess_stream(north_lincs, lines, AS_OF, rest.append, reported.append,
                            workers=workers, skip=60)  # fmt: skip
    assert b"".join(rest).splitlines() == b"".join(whole).splitlines()[60:]
    assert (summary.lines, summary.skipped, summary.invalid) == (len(lines) - 60, 60, 1)
    assert reported[0].startswith("line 121: ")  # the bad line keeps its number
    assert "after skipping the first 60" in summary.describe()


def test_workers_refuse_a_pack_file_changed_after_it_was_loaded(tmp_path: Path) -> None:
    """Workers compile the pack's file again: it must be the text the caller loaded."""
    path = tmp_path / "north_lincs.yaml"
    path.write_text((ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8"))
    pack = fc.load_pack(str(path))
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    with pytest.raises(UsageError, match="changed after it was loaded"):
        assess_stream(pack, _input(_cases(3)), AS_OF, lambda _: None, lambda _: None, workers=2)

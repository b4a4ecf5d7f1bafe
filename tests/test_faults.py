"""Fault injection: a batch whose worker is killed, or which is sent SIGINT or SIGTERM, ends
at once with one message and a documented exit status, its output whole and in order; a
decision log survives a writer killed mid-line and shows lines edited, deleted or moved.

Each batch test runs the real command line (`python -m failedcontact assess --jsonl -
--workers N`) in its own process group, feeds it cases through a pipe, and bounds every
wait. docs/reliability.md names the guarantee each test holds.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

import failedcontact as fc
from failedcontact.runs.batch import assess_blocks, assess_stream
from failedcontact.runs.stopping import EXIT_WORKER_DIED, BatchStopped

from .conftest import Cli
from .random_cases import random_case

# The fault-injection suite (real processes killed and signalled): CI runs it in its whole-suite
# pass (`-m "slow or not slow"`), bounded in time; the default run stays quick.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-25T09:00:00+00:00"
_WAIT = 30.0  # seconds any one wait may take before the test fails (a hang)


def _case_line(number: int) -> bytes:
    """A case of 30 visits: heavy enough that the workers are busy when the fault comes."""
    start = datetime(2026, 6, 1, 9)
    events = [
        {"at": (start + timedelta(days=2 * i)).isoformat(), "type": "home_visit",
         "outcome": ("no_response", "access_refused", "child_seen")[(number + i) % 3]}
        for i in range(30)
    ]  # fmt: skip
    return json.dumps({"case_id": f"F-{number}", "events": events}).encode() + b"\n"


@dataclass
class _Run:
    """A batch run in its own process group, fed from a thread, its output read by another."""

    process: subprocess.Popen[bytes]
    out: bytearray = field(default_factory=bytearray)
    started: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def descendants(self) -> dict[int, int]:
        """Every process below the run's: pid -> parent pid (from /proc)."""
        parents = {pid: int(stat[1]) for pid, stat in _processes().items()}
        found: dict[int, int] = {}
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            for child, parent in parents.items():
                if parent == pid:
                    found[child] = parent
                    todo.append(child)
        return found

    def workers(self) -> list[int]:
        """The worker processes: those below the run with none below them (not the fork
        server, which starts them), less multiprocessing's resource tracker."""
        below = self.descendants()
        leaves = [pid for pid in below if pid not in below.values()]
        return [pid for pid in leaves if b"resource_tracker" not in _cmdline(pid)]

    def finish(self) -> tuple[int, str]:
        """The exit status and stderr, once the run ends (within `_WAIT` seconds)."""
        try:
            status = self.process.wait(timeout=_WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=_WAIT)
            pytest.fail("the run did not end: it hung")
        for thread in self.threads:
            thread.join(timeout=_WAIT)
        assert self.process.stderr is not None
        return status, self.process.stderr.read().decode()


def _processes() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after its name: state, parent, group, ..."""
    found: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


_ASSESS = (sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs",
           "--as-of", AS_OF, "--jsonl")  # fmt: skip


@contextmanager
def _batch(
    workers: int, lines: int = 20_000, close: bool = True, extra: tuple[str, ...] = ()
) -> Iterator[_Run]:
    """A run fed `lines` cases; its input left open after them unless `close`."""
    process = subprocess.Popen(
        [*_ASSESS, "-", "--workers", str(workers), *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        start_new_session=True,  # a process group of its own, as a shell gives a job
    )  # fmt: skip
    run = _Run(process)

    def feed() -> None:
        assert process.stdin is not None
        try:
            for number in range(lines):
                process.stdin.write(_case_line(number))
            process.stdin.flush()
            if close:
                process.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the run ended before its input did, as the test meant it to

    def read() -> None:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 1 << 16):
            run.out.extend(chunk)
            if run.out.count(b"\n") >= 200:
                run.started.set()
        run.started.set()

    run.threads = [threading.Thread(target=feed, daemon=True),
                   threading.Thread(target=read, daemon=True)]  # fmt: skip
    for thread in run.threads:
        thread.start()
    try:
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=_WAIT)


def _assert_stopped_whole(run: _Run, status: int, stderr: str, code: int, why: str) -> None:
    """One message, no traceback; every output line whole, in input order, as it says."""
    assert status == code, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "BrokenPipe" not in stderr, stderr
    # the one line beside it: which pack the run uses (run from the working tree)
    messages = [line for line in stderr.splitlines() if line and not line.startswith("pack ")]
    assert len(messages) == 1 and why in messages[0], stderr
    assert run.out.endswith(b"\n")
    answers = [json.loads(line)["case_id"] for line in run.out.splitlines()]
    assert answers == [f"F-{n}" for n in range(len(answers))]
    assert 200 <= len(answers) <= 20_000
    found = re.search(r"answered lines 1-([\d,]+) of the input", messages[0])
    assert found is not None, messages[0]
    assert int(found.group(1).replace(",", "")) == len(answers)
    assert messages[0].endswith(f"to carry on, rerun with `--skip {len(answers)}`")
    assert _left_running(run.process.pid) == []  # the workers went with it


def _left_running(group: int) -> list[int]:
    """The processes of a process group still running a second after its leader ended
    (dead ones waiting to be reaped by init do not count)."""
    deadline = time.monotonic() + 1.0
    while True:
        alive = [pid for pid, stat in _processes().items() if int(stat[2]) == group
                 and stat[0] != "Z"]  # fmt: skip
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_a_killed_worker_ends_the_run_at_once_with_exit_75() -> None:
    with _batch(workers=2) as run:
        assert run.started.wait(_WAIT), "no output came"
        workers = run.workers()
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        status, stderr = run.finish()
    _assert_stopped_whole(run, status, stderr, 75, f"a worker process (pid {workers[0]}) was "
                          "killed by SIGKILL, so the run stopped")  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    ("number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_to_the_process_group_ends_the_run_whole(
    workers: int, number: signal.Signals, code: int
) -> None:
    """Ctrl-C or a service manager's stop: it reaches the workers as well as their parent."""
    with _batch(workers=workers) as run:
        assert run.started.wait(_WAIT), "no output came"
        os.killpg(run.process.pid, number)
        status, stderr = run.finish()
    _assert_stopped_whole(run, status, stderr, code, f"stopped by {number.name}")


def test_sigterm_to_the_parent_alone_stops_its_workers_too() -> None:
    with _batch(workers=2) as run:
        assert run.started.wait(_WAIT), "no output came"
        os.kill(run.process.pid, signal.SIGTERM)
        status, stderr = run.finish()
    _assert_stopped_whole(run, status, stderr, 143, "stopped by SIGTERM")


def test_ctrl_c_while_the_input_is_idle_ends_the_run_whole() -> None:
    """A long-lived pipeline that has nothing to say: the reader is blocked on stdin."""
    with _batch(workers=2, lines=300, close=False) as run:
        assert run.started.wait(_WAIT), "no output came"
        deadline = time.monotonic() + _WAIT
        while run.out.count(b"\n") < 300 and time.monotonic() < deadline:
            time.sleep(0.05)  # every line answered: the run now waits for input
        os.killpg(run.process.pid, signal.SIGINT)
        status, stderr = run.finish()
    assert "Fatal Python error" not in stderr, stderr
    _assert_stopped_whole(run, status, stderr, 130, "stopped by SIGINT")


def test_a_stopped_run_carried_on_with_skip_gives_the_output_of_one_whole_run(
    tmp_path: Path,
) -> None:
    """What the message says to do: the two runs' output, one after the other, is one whole
    run's, byte for byte; and each input line has one decision logged, none twice."""
    cases, log = tmp_path / "cases.jsonl", tmp_path / "decisions.jsonl"
    count = 10_000
    cases.write_bytes(b"".join(_case_line(n) for n in range(count)))
    with _batch(workers=2, lines=count, extra=("--decision-log", str(log))) as run:
        assert run.started.wait(_WAIT), "no output came"
        os.killpg(run.process.pid, signal.SIGTERM)
        status, stderr = run.finish()
    assert status == 143, stderr
    found = re.search(r"rerun with `--skip (\d+)`", stderr)
    assert found is not None, stderr
    skip = int(found.group(1))
    assert skip == run.out.count(b"\n") and 200 <= skip < count, stderr

    def assess(*extra: str) -> bytes:
        done = subprocess.run([*_ASSESS, str(cases), "--workers", "2", *extra], cwd=ROOT,
                              capture_output=True, timeout=_WAIT, check=True)  # fmt: skip
        return done.stdout

    rest = assess("--skip", str(skip), "--decision-log", str(log))
    assert bytes(run.out) + rest == assess()
    numbers = [int(json.loads(line)["request_id"].rsplit("#", 1)[1]) for line in log.open("rb")]
    assert sorted(numbers) == list(range(1, count + 1))  # each line's decision, once


# The decision log. A log of a few decisions with their cases, from the command line.


def _log_args(tmp_path: Path, count: int) -> tuple[str, ...]:
    """`assess` of `count` cases into the decision log `decisions.jsonl`, with the cases."""
    rng = random.Random(7)
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"".join(orjson.dumps(random_case(rng, n)) + b"\n" for n in range(count)))
    return ("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(cases),
            "--workers", "1", "--decision-log", str(tmp_path / "decisions.jsonl"), "--log-case",
            "-o", str(tmp_path / "out.jsonl"))  # fmt: skip


def _logged(cli: Cli, tmp_path: Path, count: int = 6) -> Path:
    result = cli(*_log_args(tmp_path, count))
    assert result.exit_code == 0, result.output
    return tmp_path / "decisions.jsonl"


def _replayed(cli: Cli, log: Path) -> dict[str, Any]:
    result = cli("replay", str(log), "--format", "json")
    assert "Traceback" not in result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _whys(report: dict[str, Any]) -> list[tuple[int, str]]:
    return [(item["line"], item["why"]) for item in report["skipped_lines"]]


def test_a_torn_last_line_is_ended_before_the_next_decision(cli: Cli, tmp_path: Path) -> None:
    """A writer killed mid-line leaves a fragment with no newline: the next writer ends it,
    so its own line stays whole, and says so once; replay names the fragment and goes on."""
    log = _logged(cli, tmp_path, count=3)
    whole = log.read_bytes()
    last = whole.splitlines(keepends=True)[-1]
    log.write_bytes(whole + last[: len(last) // 2])  # what `kill -9` mid-write leaves
    # a restarted writer appends two more: a real process, whose logging nothing configured
    restarted = subprocess.run([sys.executable, "-m", "failedcontact", *_log_args(tmp_path, 2)],
                               cwd=ROOT, capture_output=True, text=True, timeout=_WAIT)  # fmt: skip
    assert restarted.returncode == 0, restarted.stderr
    said = [line for line in restarted.stderr.splitlines() if "torn line" in line]
    assert len(said) == 1, restarted.stderr  # not again through the module's logger
    assert said[0].startswith(f"warning: the decision log `{log}` ended in a torn line (")
    lines = log.read_bytes().splitlines()
    assert len(lines) == 6
    for number in (0, 1, 2, 4, 5):
        json.loads(lines[number])  # whole: the new decisions did not land on the fragment
    report = _replayed(cli, log)
    assert (report["decisions"], report["same"], report["skipped"]) == (6, 5, 1)
    [(line, why)] = _whys(report)
    assert line == 4 and why.startswith("not a whole decision line") and "torn" in why
    assert report["chain"] == {"chained": 5, "unchained": 0, "breaks": []}


def test_a_log_that_ends_part_way_through_a_line_is_replayed_up_to_it(
    cli: Cli, tmp_path: Path
) -> None:
    log = _logged(cli, tmp_path, count=3)
    log.write_bytes(log.read_bytes()[:-40])
    report = _replayed(cli, log)
    assert (report["same"], _whys(report)[0][0]) == (2, 3)
    assert "the log ends part way through it" in _whys(report)[0][1]


def _edit(log: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    log.write_bytes(b"".join(change(log.read_bytes().splitlines(keepends=True))))


def test_an_edited_line_is_named_and_not_replayed(cli: Cli, tmp_path: Path) -> None:
    log = _logged(cli, tmp_path)

    def edit(lines: list[bytes]) -> list[bytes]:
        record = json.loads(lines[2])
        record["case"]["case_id"] = "SOMEONE-ELSE"
        lines[2] = orjson.dumps(record) + b"\n"
        return lines

    _edit(log, edit)
    report = _replayed(cli, log)
    assert _whys(report) == [(3, "edited after it was written: decision #3's content does not "
                              "match its chain; not replayed (it is not the decision that was "
                              "logged)")]  # fmt: skip
    assert report["same"] == 5 and report["chain"]["breaks"] == []  # the lines after it follow


def test_a_deleted_line_is_named_by_the_line_after_it(cli: Cli, tmp_path: Path) -> None:
    log = _logged(cli, tmp_path)
    _edit(log, lambda lines: lines[:2] + lines[3:])
    report = _replayed(cli, log)
    why = "decision #4 follows #2 (line 2): the 1 line(s) between were deleted or moved"
    assert report["chain"]["breaks"] == [{"line": 3, "why": why}]
    assert report["same"] == 5  # each line left is replayed


def test_the_first_lines_deleted_are_named(cli: Cli, tmp_path: Path) -> None:
    log = _logged(cli, tmp_path)
    _edit(log, lambda lines: lines[2:])
    [moved] = _replayed(cli, log)["chain"]["breaks"]
    assert moved == {"line": 1, "why": "decision #3 follows the start of the log: the 2 "
                     "line(s) between were deleted or moved"}  # fmt: skip


def test_reordered_lines_are_named(cli: Cli, tmp_path: Path) -> None:
    log = _logged(cli, tmp_path)
    _edit(log, lambda lines: [lines[0], lines[3], lines[1], lines[2], *lines[4:]])
    breaks = _replayed(cli, log)["chain"]["breaks"]
    assert [item["line"] for item in breaks] == [2, 3, 5]
    assert breaks[1]["why"] == "decision #2 comes after #4 (line 2): lines were moved or copied"


@pytest.mark.parametrize(
    ("change", "breaks"),
    [
        (lambda lines: lines[:2] + lines[3:],
         ["line 3: chain: decision #4 follows #2 (line 2): the 1 line(s) between were deleted "
          "or moved"]),
        (lambda lines: [lines[0], lines[3], lines[1], lines[2], *lines[4:]],
         ["line 2: chain: decision #4 follows #1 (line 1): the 2 line(s) between were deleted "
          "or moved",
          "line 3: chain: decision #2 comes after #4 (line 2): lines were moved or copied",
          "line 5: chain: decision #5 follows #3 (line 4): the 1 line(s) between were deleted "
          "or moved"]),
    ],
    ids=["deleted", "moved"],
)  # fmt: skip
def test_replay_in_text_names_each_chain_break_and_exits_1(
    cli: Cli, tmp_path: Path, change: Callable[[list[bytes]], list[bytes]], breaks: list[str]
) -> None:
    """Every line left is replayed and gives the same answer, yet lines went missing or
    moved: text output says where, counts the chain, and the answer is no."""
    log = _logged(cli, tmp_path)
    result = cli("replay", str(log))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(": 6 same, 0 differ, 0 not replayed; chain: 6 chained, "
                                  "0 unchained, 0 break(s)\n")  # fmt: skip
    _edit(log, change)
    result = cli("replay", str(log))
    assert result.exit_code == 1, result.output
    *listed, summary = result.stdout.splitlines()
    assert listed == breaks
    same = 5 if len(breaks) == 1 else 6
    assert summary.endswith(f": {same} same, 0 differ, 0 not replayed; chain: {same} chained, "
                            f"0 unchained, {len(breaks)} break(s)")  # fmt: skip
    assert cli("replay", str(log), "--format", "json").exit_code == 1


def test_a_line_of_the_wrong_shape_is_named_and_the_rest_replayed(cli: Cli, tmp_path: Path) -> None:
    """Valid JSON that is not a decision line (here a hand-made one): not a traceback."""
    log = _logged(cli, tmp_path)

    def wrong(lines: list[bytes]) -> list[bytes]:
        record = json.loads(lines[1])
        record["pack"] = "north_lincs"
        return [lines[0], orjson.dumps(record) + b"\n", b"[1, 2]\n", *lines[2:]]

    _edit(log, wrong)
    report = _replayed(cli, log)
    whys = _whys(report)
    assert whys[0][0] == 2 and whys[0][1].startswith("edited after it was written")
    assert whys[1] == (3, "not a decision line: a JSON list, not an object")
    assert report["same"] == 5
    # the same line unchained (as an older version wrote it): its shape is named
    record = json.loads(log.read_bytes().splitlines()[1])
    del record["seq"], record["chain"]
    (tmp_path / "old.jsonl").write_bytes(orjson.dumps(record) + b"\n")
    [(line, why)] = _whys(_replayed(cli, tmp_path / "old.jsonl"))
    assert (line, why) == (1, 'not a decision line: `pack` is a string ("north_lincs"), '
                           "expected an object with `id`, `version`, `digest`")  # fmt: skip


def test_a_log_written_before_lines_were_chained_replays_as_unchained(
    cli: Cli, tmp_path: Path
) -> None:
    log = _logged(cli, tmp_path)
    old = []
    for line in log.read_bytes().splitlines():
        record = json.loads(line)
        del record["seq"], record["chain"]
        old.append(orjson.dumps(record) + b"\n")
    log.write_bytes(b"".join(old))
    report = _replayed(cli, log)
    assert (report["same"], report["skipped"]) == (6, 0)
    assert report["chain"] == {"chained": 0, "unchained": 6, "breaks": []}
    _logged(cli, tmp_path, count=2)  # appended to by this version: a chain from there on
    report = _replayed(cli, log)
    assert report["chain"] == {"chained": 2, "unchained": 6, "breaks": []}


# The same faults in process: what `BatchStopped` tells a caller of the library.


def _killing_writer(written: list[bytes]) -> Callable[[bytes], None]:
    """A `write` that kills a worker once the first output has come."""

    def write(data: bytes) -> None:
        written.append(data)
        if len(written) == 1:
            worker = multiprocessing.active_children()[0].pid
            assert worker is not None
            os.kill(worker, signal.SIGKILL)

    return write


def test_a_killed_worker_stops_assess_stream_with_how_far_it_got() -> None:
    pack = fc.load_pack("north_lincs")
    lines = [_case_line(n).rstrip(b"\n") for n in range(3000)]
    written: list[bytes] = []
    reported: list[str] = []
    when = datetime.fromisoformat(AS_OF)
    with pytest.raises(BatchStopped) as stopped:
        assess_stream(pack, lines, when, _killing_writer(written), reported.append, workers=2,
                      skip=10)  # fmt: skip
    output = b"".join(written).splitlines()
    assert stopped.value.code == EXIT_WORKER_DIED == 75
    assert (stopped.value.answered, stopped.value.skipped) == (len(output), 10)
    assert [json.loads(line)["case_id"] for line in output] == [
        f"F-{n}" for n in range(10, 10 + len(output))
    ]
    assert reported == [stopped.value.message]
    assert f"answered lines 11-{10 + len(output):,} of the input" in stopped.value.message
    assert multiprocessing.active_children() == []  # no worker left behind


def test_a_killed_worker_stops_a_table_run_with_how_far_it_got() -> None:
    pa = pytest.importorskip("pyarrow")
    from failedcontact.interop.columnar import BLOCKS, case_blocks

    pack = fc.load_pack("north_lincs")
    table = pa.Table.from_pylist([json.loads(_case_line(n)) for n in range(3000)])
    written: list[bytes] = []
    with pytest.raises(BatchStopped) as stopped:
        assess_blocks(pack, case_blocks(table.to_batches()), BLOCKS, datetime.fromisoformat(AS_OF),
                      _killing_writer(written), lambda _: None, workers=2)  # fmt: skip
    assert stopped.value.code == 75 and "answered rows 1-" in stopped.value.message
    rows = sum(pa.ipc.open_stream(block).read_all().num_rows for block in written)
    assert stopped.value.answered == rows

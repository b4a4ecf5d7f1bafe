"""Fault injection: a batch whose worker is killed, or which is sent SIGINT or SIGTERM, ends
at once with one message and a documented exit status, its output whole and in order; a
decision log survives a writer killed mid-line and shows lines edited, deleted or moved.

Each batch test runs the real command line (`python -m failedcontact assess --jsonl -
--workers N`) in its own process group, feeds it cases through a pipe, and bounds every
wait. docs/reliability.md names the guarantee each test holds.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

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


@contextmanager
def _batch(workers: int, lines: int = 20_000, close: bool = True) -> Iterator[_Run]:
    """A run fed `lines` cases; its input left open after them unless `close`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs", "--as-of",
         AS_OF, "--jsonl", "-", "--workers", str(workers)],
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
    assert f"skip the first {len(answers):,} line(s)" in messages[0]
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

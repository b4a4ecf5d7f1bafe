"""Assess a JSON Lines stream: one output line per input line, in order, in constant memory.

A good line gives the contract's assessment; a bad one gives an error record in its place,
`{"line": N, "case_id": ... (when readable), "errors": [{"path", "message"}]}`, so output
lines always line up with input lines. Work can be spread over worker processes; the output
order never changes.
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

import orjson

from ..engine.evaluate import evaluate
from ..engine.loader import Pack, load_pack
from ..errors import CaseError, CaseIssue, UsageError
from ..limits import MAX_CASE_BYTES
from ..model.case_input import as_of_instant, parse_case
from .decision_log import LogOptions, decision_line
from .stopping import (
    Signalled,
    Stop,
    TrackedPool,
    stop_on_signals,
    stopped,
)

Line = tuple[int, bytes | None]  # the 1-based line number and its bytes (None: over the limit)
# the output line; for a bad line, what to tell stderr; with a decision log, the decision's line
Result = tuple[bytes, str | None, bytes | None]

_CHUNK = 64  # lines a worker assesses at a time
_LINGER = 0.05  # seconds a part-filled chunk waits for more input before it is sent
_IN_FLIGHT = 4  # chunks queued per worker: enough to keep every core busy, and bounded


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a batch run did."""

    lines: int
    invalid: int
    seconds: float
    workers: int
    skipped: int = 0  # the input's first lines, passed over unanswered (`skip`)

    def describe(self) -> str:
        """`assessed 1,000 line(s): 998 cases, 2 invalid, in 2.10 s (476 lines/s), 2 worker(s)`."""
        rate = self.lines / self.seconds if self.seconds > 0 else 0.0
        passed = f" after skipping the first {self.skipped:,}" if self.skipped else ""
        return (
            f"assessed {self.lines:,} line(s){passed}: {self.lines - self.invalid:,} case(s), "
            f"{self.invalid:,} invalid, in {self.seconds:.2f} s ({rate:,.0f} lines/s), "
            f"{self.workers} worker(s)"
        )


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def line_text(raw_line: bytes | None) -> str:
    """A JSON Lines line as text, or a `CaseError` saying why it cannot be a case."""
    if raw_line is None:
        raise CaseError([CaseIssue("", f"the line is longer than {MAX_CASE_BYTES:,} bytes")])
    try:
        line = raw_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CaseError(
            [CaseIssue("", f"not valid UTF-8 at byte {error.start + 1} of the line")]
        ) from None
    if not line.strip():
        raise CaseError([CaseIssue("", "empty line, expected a case")])
    return line


def assess_line(
    pack: Pack,
    number: int,
    raw_line: bytes | None,
    as_of: datetime,
    log: DecisionLogging | None = None,
) -> Result:
    """One input line's output line: the assessment, or the error record in its place.

    With `log`, a good line also gives its decision-log line (request id `<run>#<line>`).
    """
    try:
        if log is None:
            return pack.assess_json(line_text(raw_line), as_of), None, None
        text = line_text(raw_line)
        plain = evaluate(pack.compiled, parse_case(text), as_of_instant(as_of))
        decision = decision_line(plain, orjson.loads(text), log.options, f"{log.run}#{number}")
        return orjson.dumps(plain), None, decision
    except CaseError as error:
        record: dict[str, Any] = {"line": number}
        case_id = _readable_case_id(raw_line)
        if case_id is not None:
            record["case_id"] = case_id
        record["errors"] = [{"path": i.path, "message": i.message} for i in error.issues]
        detail = "; ".join(i.render() for i in error.issues)
        return orjson.dumps(record), f"line {number}: {detail}", None


@dataclass(frozen=True, slots=True)
class DecisionLogging:
    """What a batch's decision-log lines carry, and the run id their request ids start with."""

    options: LogOptions
    run: str


def _readable_case_id(raw_line: bytes | None) -> str | None:
    if raw_line is None:
        return None
    try:
        data = orjson.loads(raw_line)
    except orjson.JSONDecodeError:
        return None
    case_id = data.get("case_id") if isinstance(data, dict) else None
    return case_id if isinstance(case_id, str) else None


# The pack and `as_of` a worker process assesses with: set once when the worker starts.
_worker: dict[str, Any] = {}


def _start_worker(
    text: str,
    file: str,
    as_of: datetime,
    log: DecisionLogging | None,
    form: BlockFormat | None = None,
) -> None:
    # Ctrl-C reaches the whole process group: the parent alone stops the run (and these
    # workers), so a worker prints no KeyboardInterrupt of its own. SIGTERM ends it quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _leave_with_the_parent()
    _worker["pack"] = load_pack(text=text, file=file)  # compiled once a worker
    _worker["as_of"] = as_of
    _worker["log"] = log
    _worker["form"] = form
    if form is not None and form.prepare is not None:
        form.prepare()


def _leave_with_the_parent() -> None:
    """End this worker when the process that started it is gone (killed with SIGKILL, say):
    a worker waiting for work would otherwise wait for ever."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _assess_chunk(chunk: list[Line]) -> BlockResult:
    """A chunk's output lines joined, each bad line's message, and the decision-log lines.

    Joined in the worker, so the parent receives and writes one object a chunk.
    """
    pack, as_of, log = _worker["pack"], _worker["as_of"], _worker["log"]
    outputs, problems, decisions = _split(
        [assess_line(pack, number, raw, as_of, log) for number, raw in chunk]
    )
    return b"".join([out + b"\n" for out in outputs]), problems, decisions


def _split(results: list[Result]) -> tuple[list[bytes], list[str], list[bytes]]:
    """The output lines, the bad lines' messages and the decision-log lines of `results`."""
    return (
        [out for out, _, _ in results],
        [problem for _, problem, _ in results if problem is not None],
        [decision for _, _, decision in results if decision is not None],
    )


def _write(
    result: BlockResult,
    lines: int,
    write: Callable[[bytes], None],
    report: Callable[[str], None],
    record: Callable[[bytes], None] | None,
    done: int,
    invalid: int,
) -> tuple[int, int]:
    """Write a chunk's or a block's output and report its bad lines; the counts after it."""
    output, problems, decisions = result
    if decisions and record is not None:
        record(b"".join(decisions))  # logged before any of the output they go with
    write(output)
    for problem in problems:
        report(problem)
    return done + lines, invalid + len(problems)


# A block of input rows in another form (Arrow IPC bytes of a few table rows): the worker
# turns it into case lines, assesses them, and turns the output lines into one block of
# output rows, so that the parent only cuts and writes blocks.
Block = tuple[int, bytes]  # the block's row count, and its bytes


@dataclass(frozen=True, slots=True)
class BlockFormat:
    """How blocks of rows become case lines, and output lines a block of output rows."""

    lines: Callable[[bytes], list[bytes | None]]
    """An input block's case lines, one per row."""
    rows: Callable[[int, list[bytes]], bytes]
    """The output lines of a block (its first row numbered from 0) as one output block."""
    prepare: Callable[[], None] | None = None
    """Run once in the parent before workers fork, so that what the conversion sets up on
    its first use is made once and shared, not made again in every worker."""


# an output block, each bad line's message for stderr, and the decision-log lines
BlockResult = tuple[bytes, list[str], list[bytes]]


def _block_result(
    pack: Pack,
    as_of: datetime,
    log: DecisionLogging | None,
    form: BlockFormat,
    first: int,
    block: bytes,
) -> BlockResult:
    outputs, problems, decisions = _split(
        [
            assess_line(pack, first + offset, raw, as_of, log)
            for offset, raw in enumerate(form.lines(block))
        ]
    )
    return form.rows(first - 1, outputs), problems, decisions


def _assess_block(first: int, block: bytes) -> BlockResult:
    form = _worker["form"]
    return _block_result(_worker["pack"], _worker["as_of"], _worker["log"], form, first, block)


def assess_blocks(
    pack: Pack,
    blocks: Iterable[Block],
    form: BlockFormat,
    as_of: datetime,
    write: Callable[[bytes], None],
    report: Callable[[str], None],
    workers: int = 1,
    log: DecisionLogging | None = None,
    record: Callable[[bytes], None] | None = None,
) -> BatchSummary:
    """`assess_stream` for rows that come in blocks: each block is assessed where it is
    turned into lines (in a worker), and `write` receives each output block, in order.

    Stops as `assess_stream` does (`BatchStopped`), counting rows."""
    start = time.perf_counter()
    progress = _Progress()
    first = 1
    with stop_on_signals() as stop:
        try:
            if workers <= 1:
                for rows, block in blocks:
                    result = _block_result(pack, as_of, log, form, first, block)
                    with stop.whole():
                        progress.add(result, rows, write, report, record)
                    first += rows
                return progress.summary(start, 1)
            with _executor(pack, as_of, log, workers, form) as pool:
                pending: deque[tuple[Future[BlockResult], int]] = deque()
                for rows, block in blocks:
                    pending.append((pool.submit(_assess_block, first, block), rows))
                    first += rows
                    _drain(
                        pool, pending, workers * _IN_FLIGHT, stop, progress, write, report, record
                    )
                _drain(pool, pending, 0, stop, progress, write, report, record)
        except (Signalled, KeyboardInterrupt, BrokenProcessPool) as error:
            raise stopped(error, progress.done, 0, "row", report) from None
    return progress.summary(start, workers)


@dataclass(slots=True)
class _Progress:
    """The lines (or rows) written so far and how many were invalid."""

    done: int = 0
    invalid: int = 0
    skipped: int = 0

    def add(
        self,
        result: BlockResult,
        lines: int,
        write: Callable[[bytes], None],
        report: Callable[[str], None],
        record: Callable[[bytes], None] | None,
    ) -> None:
        self.done, self.invalid = _write(
            result, lines, write, report, record, self.done, self.invalid
        )

    def summary(self, start: float, workers: int) -> BatchSummary:
        return BatchSummary(
            self.done, self.invalid, time.perf_counter() - start, workers, self.skipped
        )


def _drain(
    pool: TrackedPool,
    pending: deque[tuple[Future[BlockResult], int]],
    keep: int,
    stop: Stop,
    progress: _Progress,
    write: Callable[[bytes], None],
    report: Callable[[str], None],
    record: Callable[[bytes], None] | None,
    counted: Callable[[int], None] | None = None,
) -> None:
    """Write finished chunks in order, and wait for the oldest while more than `keep` are
    in flight. A worker that died raises `BrokenProcessPool` here, a signal `Signalled`."""
    while pending and (len(pending) > keep or pending[0][0].done()):
        in_flight, count = pending.popleft()
        result = pool.result(in_flight)
        with stop.whole():
            progress.add(result, count, write, report, record)
        if counted is not None:
            counted(progress.done)


@contextmanager
def _executor(
    pack: Pack,
    as_of: datetime,
    log: DecisionLogging | None,
    workers: int,
    form: BlockFormat | None = None,
) -> Iterator[TrackedPool]:
    """Worker processes while the caller uses them; waited for when the run ends whole, and
    killed at once when it does not (a signal, a dead worker, a failed write or read).

    The workers start from a fork server (or are spawned), never forked from this process:
    it runs threads (the input reader, a progress bar, a server's), and a child forked
    from a process with threads may inherit a lock held for ever. A worker compiles the
    pack's text once (tens of milliseconds).
    """
    context = _context()
    pool = TrackedPool(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(_source_text(pack), pack.id, as_of, log, form),
    )
    whole = False
    try:
        yield pool
        whole = True
    finally:
        if whole:
            pool.shutdown(wait=True)
        else:
            pool.stop()


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # the server imports the library once; each worker forks from it with it imported
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def assess_stream(
    pack: Pack,
    lines: Iterable[bytes | None],
    as_of: datetime,
    write: Callable[[bytes], None],
    report: Callable[[str], None],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    log: DecisionLogging | None = None,
    record: Callable[[bytes], None] | None = None,
    skip: int = 0,
) -> BatchSummary:
    """Assess every line, writing output lines (each with its newline) as soon as they are ready.

    `write` receives whole lines: one at a time on one core, a chunk's at a time from workers.

    `report` receives each bad line's message; `progress` the number of lines done so far;
    `record`, with `log`, each decision's log line, before its output line is written.
    `skip` passes over the input's first lines unanswered (to carry on a run that stopped);
    the others keep their line numbers.

    SIGINT, SIGTERM (in the main thread) or a worker process that dies ends the run at
    once, between two writes: `BatchStopped` says how far it got, and with which exit
    status the process should end.
    """
    start = time.perf_counter()
    done = _Progress(skipped=skip)
    numbered = islice(enumerate(lines, start=1), skip, None)
    with stop_on_signals() as stop:
        try:
            if workers <= 1:
                for number, raw in numbered:
                    out, problem, decision = assess_line(pack, number, raw, as_of, log)
                    result = (
                        out + b"\n",
                        [problem] if problem else [],
                        [decision] if decision else [],
                    )
                    with stop.whole():
                        done.add(result, 1, write, report, record)
                    if progress is not None:
                        progress(done.done)
                return done.summary(start, 1)
            with ExitStack() as stack:
                pool = stack.enter_context(_executor(pack, as_of, log, workers))
                pending: deque[tuple[Future[BlockResult], int]] = deque()
                chunks = stack.enter_context(closing(_chunks(numbered)))
                for chunk in chunks:
                    if chunk:  # an empty chunk: the input paused, so write what is ready meanwhile
                        pending.append((pool.submit(_assess_chunk, chunk), len(chunk)))
                    keep = workers * _IN_FLIGHT
                    _drain(pool, pending, keep, stop, done, write, report, record, progress)
                _drain(pool, pending, 0, stop, done, write, report, record, progress)
        except (Signalled, KeyboardInterrupt, BrokenProcessPool) as error:
            raise stopped(error, done.done, skip, "line", report) from None
    return done.summary(start, workers)


def _source_text(pack: Pack) -> str:
    """The pack's text, for workers to compile: the very text the caller's pack was."""
    if pack.source is None:
        raise UsageError("worker processes need a pack loaded from a file, not from text")
    text = pack.source.path.read_text(encoding="utf-8")
    if "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest() != pack.digest:
        raise UsageError(
            f"the pack file `{pack.source.path}` changed after it was loaded: load it again"
        )
    return text


def _chunks(numbered: Iterator[Line]) -> Generator[list[Line], None, None]:
    """Lines in chunks of up to `_CHUNK`, read ahead by a thread.

    A full chunk goes at once; when input pauses (a pipe), what has come so far goes after
    `_LINGER` seconds, and an empty chunk every `_LINGER` seconds lets the caller write
    finished work meanwhile. The reader hands over lines under one lock, not a queue per
    line: a queue's put and get cost more than assessing a line's share of the parent's time.
    """
    ready = threading.Condition()
    lines: list[Line] = []
    ended: list[BaseException | None] = []  # set once: None at end of input, or the error
    quit = threading.Event()  # the run ended early: read no more

    def read() -> None:
        failure: BaseException | None = None
        try:
            for item in numbered:
                with ready:
                    lines.append(item)
                    if len(lines) == _CHUNK:
                        ready.notify()
                    while len(lines) >= _CHUNK * 4 and not quit.is_set():  # read ahead boundedly
                        ready.wait()
                if quit.is_set():
                    return
        except BaseException as error:
            failure = error
        with ready:
            ended.append(failure)
            ready.notify()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while True:
            with ready:
                if len(lines) < _CHUNK and not ended:
                    ready.wait(_LINGER)
                chunk = lines[:_CHUNK]
                del lines[:_CHUNK]
                ready.notify()  # the reader may be waiting for room
                finished = bool(ended) and not lines
            if finished:
                if chunk:
                    yield chunk
                if ended[0] is not None:
                    raise ended[0]
                return
            yield chunk
    finally:
        with ready:
            quit.set()
            ready.notify()
        reader.join(_READER_GRACE)
        if reader.is_alive():
            _keep_stdin_open()


_READER_GRACE = 0.2  # seconds a run that ended early waits for its reader to stop


def _keep_stdin_open() -> None:
    """Leave standard input open until the process ends.

    The reader thread of a run that ended early is still blocked reading (a pipe with
    nothing to say yet), holding the lock of the stream it reads. If that is standard
    input, the interpreter's exit would close `sys.stdin`, wait a second for that lock and
    then abort ("could not acquire lock for <_io.BufferedReader name='<stdin>'> at
    interpreter shutdown"). A reference the collector cannot see keeps it from closing; the
    kernel closes the descriptor when the process ends.
    """
    for stream in {id(s): s for s in (sys.stdin, sys.__stdin__) if s is not None}.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(stream))

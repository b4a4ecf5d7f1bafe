"""Assess a JSON Lines stream: one output line per input line, in order, in constant memory.

A good line gives the contract's assessment; a bad one gives an error record in its place,
`{"line": N, "case_id": ... (when readable), "errors": [{"path", "message"}]}`, so output
lines always line up with input lines. Work can be spread over worker processes; the output
order never changes.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.pool import AsyncResult
from typing import Any

import orjson

from ..engine.evaluate import evaluate
from ..engine.loader import Pack, load_pack
from ..errors import CaseError, CaseIssue, UsageError
from ..limits import MAX_CASE_BYTES
from ..model.case_input import as_of_instant, parse_case
from .decision_log import LogOptions, decision_line

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

    def describe(self) -> str:
        """`assessed 1,000 line(s): 998 cases, 2 invalid, in 2.10 s (476 lines/s), 2 worker(s)`."""
        rate = self.lines / self.seconds if self.seconds > 0 else 0.0
        return (
            f"assessed {self.lines:,} line(s): {self.lines - self.invalid:,} case(s), "
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
    inherited: Pack | None,
    text: str,
    file: str,
    as_of: datetime,
    log: DecisionLogging | None,
    form: BlockFormat | None = None,
) -> None:
    # a forked worker is handed the parent's pack; a spawned one compiles the text once
    _worker["pack"] = inherited if inherited is not None else load_pack(text=text, file=file)
    _worker["as_of"] = as_of
    _worker["log"] = log
    _worker["form"] = form


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
    turned into lines (in a worker), and `write` receives each output block, in order."""
    start = time.perf_counter()
    done = invalid = 0
    first = 1
    if workers <= 1:
        for rows, block in blocks:
            result = _block_result(pack, as_of, log, form, first, block)
            done, invalid = _write(result, rows, write, report, record, done, invalid)
            first += rows
        return BatchSummary(done, invalid, time.perf_counter() - start, 1)
    with _running(_pool(pack, as_of, log, workers, form)) as pool:
        pending: deque[tuple[AsyncResult[BlockResult], int]] = deque()
        for rows, block in blocks:
            pending.append((pool.apply_async(_assess_block, (first, block)), rows))
            first += rows
            while pending and (len(pending) > workers * _IN_FLIGHT or pending[0][0].ready()):
                in_flight, count = pending.popleft()
                done, invalid = _write(in_flight.get(), count, write, report, record, done, invalid)
        while pending:
            in_flight, count = pending.popleft()
            done, invalid = _write(in_flight.get(), count, write, report, record, done, invalid)
    return BatchSummary(done, invalid, time.perf_counter() - start, workers)


@contextmanager
def _running(pool: Any) -> Iterator[Any]:
    """The pool while the caller uses it; then closed, or terminated on Ctrl-C."""
    interrupted = True  # until shown otherwise: Ctrl-C stops the workers at once
    try:
        yield pool
        interrupted = False
    except Exception:
        # A failed write (a full disk, a closed pipe) lets the few chunks in flight finish:
        # terminating a pool while a worker is sending a result can leave Pool.terminate
        # waiting for ever on the half-sent message.
        interrupted = False
        raise
    finally:
        if interrupted:
            pool.terminate()
        else:
            pool.close()
        pool.join()


def _pool(
    pack: Pack,
    as_of: datetime,
    log: DecisionLogging | None,
    workers: int,
    form: BlockFormat | None = None,
) -> Any:
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    # a forked worker gets its arguments without pickling, so it can share the compiled pack;
    # only a spawned one needs the pack's text, to compile it again
    inherited = pack if fork else None
    text = "" if fork else _source_text(pack)
    if fork and form is not None and form.prepare is not None:
        form.prepare()  # shared only by forked workers: a spawned one sets itself up
    # Objects made before the fork go to the collector's permanent generation while the
    # workers fork: a worker's collections then do not write to them, so their pages stay
    # shared with the parent (20 MB less a worker, measured). The parent's collector gets
    # them back at once.
    gc.freeze()
    try:
        return context.Pool(workers, _start_worker, (inherited, text, pack.id, as_of, log, form))
    finally:
        gc.unfreeze()


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
) -> BatchSummary:
    """Assess every line, writing output lines (each with its newline) as soon as they are ready.

    `write` receives whole lines: one at a time on one core, a chunk's at a time from workers.

    `report` receives each bad line's message; `progress` the number of lines done so far;
    `record`, with `log`, each decision's log line, before its output line is written.
    """
    start = time.perf_counter()
    done = invalid = 0
    numbered = enumerate(lines, start=1)
    if workers <= 1:
        for number, raw in numbered:
            out, problem, decision = assess_line(pack, number, raw, as_of, log)
            if decision is not None and record is not None:
                record(decision)
            write(out + b"\n")
            done += 1
            if problem is not None:
                invalid += 1
                report(problem)
            if progress is not None:
                progress(done)
        return BatchSummary(done, invalid, time.perf_counter() - start, 1)
    with _running(_pool(pack, as_of, log, workers)) as pool:
        pending: deque[tuple[AsyncResult[BlockResult], int]] = deque()
        for chunk in _chunks(numbered):
            if chunk:  # an empty chunk: the input paused, so write what is ready meanwhile
                pending.append((pool.apply_async(_assess_chunk, (chunk,)), len(chunk)))
            while pending and (len(pending) > workers * _IN_FLIGHT or pending[0][0].ready()):
                in_flight, count = pending.popleft()
                done, invalid = _write(in_flight.get(), count, write, report, record, done, invalid)
                if progress is not None:
                    progress(done)
        while pending:
            in_flight, count = pending.popleft()
            done, invalid = _write(in_flight.get(), count, write, report, record, done, invalid)
            if progress is not None:
                progress(done)
    return BatchSummary(done, invalid, time.perf_counter() - start, workers)


def _source_text(pack: Pack) -> str:
    if pack.source is None:
        raise UsageError("worker processes that cannot be forked need a pack loaded from a file")
    return pack.source.path.read_text(encoding="utf-8")


def _chunks(numbered: Iterator[Line]) -> Iterator[list[Line]]:
    """Lines in chunks of up to `_CHUNK`, read ahead by a thread.

    A full chunk goes at once; when input pauses (a pipe), what has come so far goes after
    `_LINGER` seconds, and an empty chunk every `_LINGER` seconds lets the caller write
    finished work meanwhile. The reader hands over lines under one lock, not a queue per
    line: a queue's put and get cost more than assessing a line's share of the parent's time.
    """
    ready = threading.Condition()
    lines: list[Line] = []
    ended: list[BaseException | None] = []  # set once: None at end of input, or the error

    def read() -> None:
        failure: BaseException | None = None
        try:
            for item in numbered:
                with ready:
                    lines.append(item)
                    if len(lines) == _CHUNK:
                        ready.notify()
                    while len(lines) >= _CHUNK * 4:  # read ahead boundedly
                        ready.wait()
        except BaseException as error:
            failure = error
        with ready:
            ended.append(failure)
            ready.notify()

    threading.Thread(target=read, daemon=True).start()
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

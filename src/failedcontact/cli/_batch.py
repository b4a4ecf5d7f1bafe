"""`assess` on many cases: JSON Lines and Parquet or Arrow tables, in and out."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..engine.loader import Pack
from ..errors import CaseError, literal
from ..model.case_input import parse_case
from ..runs.batch import BatchSummary, assess_blocks, assess_stream, line_text
from ._app import EXIT_CASE, EXIT_INPUT, EXIT_USAGE, err, fail, has_fd, output_failed, writing
from ._cases import OutputFormat, case_lines, emit
from ._decision_log import Recorder
from ._files import not_a_file


def is_table(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".arrow", ".feather", ".ipc")


def assess_jsonl(
    case: str,
    pack: Pack,
    when: datetime,
    workers: int,
    destination: Path | None = None,
    recorder: Recorder | None = None,
    skip: int = 0,
) -> BatchSummary:
    """Stream the batch through the JSON path: a line out for every line in, in order; the
    first `skip` lines passed over (`--skip`), the others keeping their line numbers."""
    with case_lines(case) as lines:
        size = _file_size(case)
        return _stream_lines(lines, pack, when, workers, destination, size, recorder, skip)


def _file_size(case: str) -> int | None:
    return Path(case).stat().st_size if case != "-" and Path(case).is_file() else None


def _stream_lines(
    lines: Iterable[bytes | None],
    pack: Pack,
    when: datetime,
    workers: int,
    destination: Path | None,
    size: int | None,
    recorder: Recorder | None = None,
    skip: int = 0,
) -> BatchSummary:
    with _output_stream(destination) as out, writing(), _batch_progress(size) as progress:
        # flush every line into a pipe or terminal, so a reader downstream sees it at once
        unbuffered = not stat.S_ISREG(os.fstat(out.fileno()).st_mode) if has_fd(out) else True

        def write(data: bytes) -> None:
            out.write(data)
            if unbuffered:
                out.flush()

        summary = assess_stream(
            pack, lines, when, write, _report_line, workers, progress,
            recorder.logging if recorder else None, recorder.record if recorder else None, skip,
        )  # fmt: skip
    err.print(summary.describe(), markup=False)
    return summary


def _report_line(message: str) -> None:
    """A bad batch line's message, on stderr."""
    err.print(literal(message), markup=False)


@contextmanager
def _output_stream(destination: Path | None) -> Iterator[BinaryIO]:
    if destination is None:
        yield sys.stdout.buffer
        return
    try:
        stream = destination.open("wb")
    except OSError as error:
        raise output_failed(f"cannot write `{destination}`: {error.strerror}") from None
    with stream:
        yield stream


@contextmanager
def _batch_progress(size: int | None) -> Iterator[Callable[[int], None] | None]:
    """A progress line on stderr when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("assess"), BarColumn() if size else TextColumn(""),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task("assess", total=None)
        yield lambda done: bar.update(task, completed=done)


def assess_table_file(
    case: str,
    pack: Pack,
    when: datetime,
    destination: Path | None,
    workers: int,
    recorder: Recorder | None = None,
    skip: int = 0,
) -> None:
    """Parquet or Arrow in or out (a table of cases, a table of assessments); `skip` is for
    JSON Lines in (the caller refuses it for a table of cases)."""
    try:
        import pyarrow
    except ImportError:
        raise fail(EXIT_USAGE, "error: Parquet and Arrow need the `columnar` extra: "
                   "pip install 'failedcontact[columnar]'") from None  # fmt: skip
    with contextlib.suppress(NotImplementedError):  # a build without jemalloc keeps its own
        # Over 2,000,000 rows jemalloc stayed flat at about 200 MB for reading and for
        # writing; mimalloc (the default) and the system allocator kept growing on one side.
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
    invalid = _assess_tables(Path(case), pack, when, destination, workers, recorder, skip)
    if invalid:
        raise fail(EXIT_CASE, f"error: {invalid} invalid row(s); each has its errors in "
                   "its place in the output, and the others were assessed")  # fmt: skip


def _assess_tables(
    source: Path,
    pack: Pack,
    when: datetime,
    destination: Path | None,
    workers: int,
    recorder: Recorder | None,
    skip: int = 0,
) -> int:
    """Assess a case table or JSON Lines into a table or JSON Lines; the invalid rows."""
    from ..interop.columnar import BLOCKS, TableWriter, case_blocks, read_batches
    from ..interop.columnar import case_lines as rows_as_lines

    case = str(source)
    with contextlib.ExitStack() as stack:
        lines: Iterable[bytes | None] | None = None
        batches = None  # a case table's batches, opened before any output is written
        if not is_table(source):
            lines = stack.enter_context(case_lines(case))
        elif not source.is_file():
            raise fail(EXIT_INPUT, not_a_file("case file", case))
        else:
            batches = read_batches(source)
        if destination is None or not is_table(destination):
            if batches is not None:
                lines = rows_as_lines(batches)
            assert lines is not None
            invalid = _stream_lines(
                lines, pack, when, workers, destination, None, recorder, skip
            ).invalid
        else:
            try:
                table = stack.enter_context(TableWriter(destination))
            except OSError as error:
                raise output_failed(f"cannot write `{destination}`: {error}") from None
            logging, record = (recorder.logging, recorder.record) if recorder else (None, None)
            if batches is not None:
                # table to table: the workers turn case rows into lines themselves
                summary = assess_blocks(
                    pack, case_blocks(batches), BLOCKS, when,
                    table.write_block, _report_line, workers, logging, record,
                )  # fmt: skip
            else:
                assert lines is not None
                summary = assess_stream(
                    pack, lines, when, table.write_lines, _report_line, workers, None, logging,
                    record, skip,
                )  # fmt: skip
            invalid = summary.invalid
            err.print(f"{summary.describe()}; wrote {destination}", markup=False)
    return invalid


def assess_table_lines(case: str, pack: Pack, when: datetime, skip: int = 0) -> None:
    """`--jsonl --format table`: a table a case, for reading (one process); the first
    `skip` lines passed over, the others keeping their line numbers."""
    bad = 0
    with case_lines(case) as lines, writing():
        for number, raw_line in islice(enumerate(lines, start=1), skip, None):
            try:
                parsed = parse_case(line_text(raw_line))
                assessment = pack.assess(parsed, when)
            except CaseError as error:
                bad += 1
                detail = "; ".join(i.render() for i in error.issues)
                err.print(literal(f"line {number}: {detail}"), markup=False)
                continue
            emit(assessment, OutputFormat.TABLE, indent=None, case=parsed, pack=pack)
    if bad:
        raise fail(EXIT_CASE, f"error: {bad} invalid line(s); the others were assessed")

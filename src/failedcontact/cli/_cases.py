"""Cases in and assessments out: reading case input, assessing one case, printing the answer."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import orjson

from ..engine.loader import Pack
from ..errors import CaseError, InputError
from ..limits import MAX_CASE_BYTES
from ..model.assessment import Assessment
from ..model.case import Case
from ..model.case_input import parse_case
from ..runs.decision_log import decision_line
from ..views.render import render_table
from ._app import EXIT_CASE, EXIT_INPUT, console, fail, pack_or_exit, parse_as_of
from ._decision_log import Recorder
from ._files import not_a_file


class OutputFormat(StrEnum):
    """How `assess` prints its answer."""

    JSON = "json"
    TABLE = "table"
    FHIR = "fhir"


@contextmanager
def _case_stream(case: str) -> Iterator[BinaryIO]:
    """Case input as a byte stream: standard input (`-`) or a regular file."""
    try:
        if case != "-" and not Path(case).is_file():  # a FIFO or device may never end
            raise fail(EXIT_INPUT, not_a_file("case file", case))
        stream = sys.stdin.buffer if case == "-" else Path(case).open("rb")  # noqa: SIM115
    except OSError as error:
        raise fail(
            EXIT_INPUT, f"error: cannot read case input `{case}`: {error.strerror}"
        ) from None
    try:
        yield stream
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def read_case_input(case: str) -> bytes:
    """One case, read whole, up to `MAX_CASE_BYTES`."""
    with _case_stream(case) as stream:
        try:
            data = stream.read(MAX_CASE_BYTES + 1)
        except OSError as error:
            raise fail(
                EXIT_INPUT, f"error: cannot read case input `{case}`: {error.strerror}"
            ) from None
    if len(data) > MAX_CASE_BYTES:
        raise fail(EXIT_CASE, f"error: case input `{case}` is larger than "
                   f"{MAX_CASE_BYTES:,} bytes")  # fmt: skip
    return data


@contextmanager
def case_lines(case: str) -> Iterator[Iterator[bytes | None]]:
    """The input's lines as bytes, read as they come (a stream, not the whole input).

    A read that fails part way (a failing disk) raises `InputError`: exit status 5, after
    the answers to the lines read before it.
    """
    with _case_stream(case) as stream:
        yield _bounded_lines(stream, case)


def _bounded_lines(stream: BinaryIO, case: str) -> Iterator[bytes | None]:
    """Lines without their ending; None for a line over `MAX_CASE_BYTES` (skipped)."""

    def read(limit: int) -> bytes:
        try:
            return stream.readline(limit)
        except OSError as error:  # told apart from a failed write, which is exit status 4
            raise InputError(f"cannot read case input `{case}`: {error}") from None

    while True:
        line = read(MAX_CASE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_CASE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # drop the rest of the long line
                line = read(1 << 20)
            yield None  # reported as an invalid line, so the numbering stays right
            continue
        yield line.removesuffix(b"\n").removesuffix(b"\r")


def assessed(case: str, pack: str, as_of: str | None) -> tuple[Pack, Case, Assessment]:
    """Load the pack, read and check one case, and assess it; exit with the right status."""
    loaded = pack_or_exit(pack)
    return loaded, *assess_one(case, loaded, parse_as_of(as_of))


def assess_one(
    case: str, pack: Pack, when: datetime, recorder: Recorder | None = None
) -> tuple[Case, Assessment]:
    """Read and check one case and assess it; an invalid case exits with status 2."""
    raw = read_case_input(case)
    try:
        parsed = parse_case(raw)
        assessment = pack.assess(parsed, when)
    except CaseError as error:
        raise fail(EXIT_CASE, "error: invalid case\n" + "\n".join(
            f"  {issue.render()}" for issue in error.issues)) from None  # fmt: skip
    if recorder is not None:
        plain = assessment.model_dump(mode="json")
        request_id = recorder.logging.run
        recorder.record(decision_line(plain, orjson.loads(raw), recorder.logging.options,
                                      request_id))  # fmt: skip
    return parsed, assessment


def emit(
    assessment: Assessment, output: OutputFormat, indent: int | None, case: Case, pack: Pack
) -> None:
    if output is OutputFormat.TABLE:
        render_table(assessment, console(), case, pack.compiled)
    elif output is OutputFormat.FHIR:
        from ..interop.fhir import task_bundle

        sys.stdout.write(json.dumps(task_bundle(assessment), indent=indent) + "\n")
    else:
        sys.stdout.write(assessment.model_dump_json(indent=indent) + "\n")

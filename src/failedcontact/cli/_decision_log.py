"""The decision-log options `assess` and `serve` share, and the log `assess` writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from ..runs.batch import DecisionLogging
from ..runs.decision_log import DecisionLog, LogOptions, new_request_id
from ._app import EXIT_USAGE, fail, output_failed

LogCaseOption = Annotated[
    bool,
    typer.Option(
        "--log-case",
        help="With --decision-log: also log each case, with the --log-mask fields masked.",
    ),
]
LogMaskOption = Annotated[
    list[str] | None,
    typer.Option(
        "--log-mask",
        help="With --log-case: a field path to mask, such as `case_id` or "
        "`events[].reason` (repeatable); it must name a field of the case.",
    ),
]


@dataclass(frozen=True, slots=True)
class Recorder:
    """An open decision log and what its lines carry."""

    log: DecisionLog
    logging: DecisionLogging

    def record(self, lines: bytes) -> None:
        try:
            self.log.write(lines)
        except OSError as error:
            raise output_failed(f"cannot write the decision log: {error}") from None


def log_options(decision_log: Path | None, log_case: bool, mask: list[str] | None) -> LogOptions:
    """What decision-log lines carry, from the command line (a usage error if it is wrong)."""
    if (log_case or mask) and decision_log is None:
        raise fail(EXIT_USAGE, "error: --log-case and --log-mask need --decision-log")
    if mask and not log_case:
        raise fail(EXIT_USAGE, "error: --log-mask masks the logged case: add --log-case")
    try:
        return LogOptions(include_case=log_case, mask=tuple(mask or ()))
    except UsageError as error:
        raise fail(EXIT_USAGE, f"error: --log-mask: {error}") from None


@contextmanager
def open_decision_log(path: Path | None, options: LogOptions) -> Iterator[Recorder | None]:
    if path is None:
        yield None
        return
    try:
        log = DecisionLog(path)
    except OSError as error:
        raise output_failed(f"cannot open the decision log `{path}`: {error.strerror}") from None
    with log:
        yield Recorder(log, DecisionLogging(options, new_request_id()))

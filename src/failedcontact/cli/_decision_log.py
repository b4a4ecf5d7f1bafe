"""The decision-log options `assess` and `serve` share, and the log `assess` writes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError, literal
from ..runs.batch import DecisionLogging
from ..runs.decision_log import DecisionLog, LogOptions, new_request_id
from ._app import EXIT_USAGE, err, fail, output_failed

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


@dataclass(slots=True)
class Recorder:
    """An open decision log and what its lines carry."""

    log: DecisionLog
    logging: DecisionLogging
    warned: int = 0  # the log's warnings printed so far

    def record(self, lines: bytes) -> None:
        try:
            self.log.write(lines)
        except OSError as error:
            raise output_failed(f"cannot write the decision log: {error}") from None
        self.warn()

    def warn(self) -> None:
        """Print what the log mended since the last look (a torn last line), once each."""
        for warning in self.log.warnings[self.warned :]:
            err.print(literal(f"warning: {warning}"), markup=False)
        self.warned = len(self.log.warnings)


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
    with _told_here():
        try:
            log = DecisionLog(path)
        except OSError as error:
            raise output_failed(
                f"cannot open the decision log `{path}`: {error.strerror}"
            ) from None
        with log:
            recorder = Recorder(log, DecisionLogging(options, new_request_id()))
            recorder.warn()
            yield recorder


@contextmanager
def _told_here() -> Iterator[None]:
    """Keep the decision log's own logger quiet while the command has it open: what it would
    say (a torn line mended) is in `DecisionLog.warnings`, which `Recorder.warn` prints once.
    Unheld, a logger with no handler prints on stderr too (Python's last-resort handler)."""
    logger = logging.getLogger(DecisionLog.__module__)
    logger.addFilter(_dropped)
    try:
        yield
    finally:
        logger.removeFilter(_dropped)


def _dropped(_record: logging.LogRecord) -> bool:
    return False  # a logging filter that lets no record through

"""The `failedcontact` command line: assess, packs, schema, check."""

from __future__ import annotations

import contextlib
import difflib
import errno
import html
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, BinaryIO

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from .._version import __version__
from ..engine.build import engine_build
from ..engine.loader import Pack, load_pack
from ..errors import (
    CaseError,
    Diagnostic,
    InputError,
    PackError,
    ScenarioFileError,
    Severity,
    UsageError,
    literal,
)
from ..interop.mapping import (
    AnyMapping,
    FhirMapping,
    MappingError,
    TableMapping,
    check_mapping,
    load_mapping,
    mapping_schema,
)
from ..limits import MAX_CASE_BYTES
from ..model.assessment import Assessment
from ..model.case import Case
from ..model.case_input import parse_as_of_text, parse_case
from ..model.vocabulary import CONTRACT_VERSION
from ..pack.analysis import inexact
from ..pack.coverage import coverage
from ..pack.document import PackDocument
from ..pack.pipeline import run_file
from ..runs.batch import (
    BatchSummary,
    DecisionLogging,
    assess_blocks,
    assess_stream,
    line_text,
    usable_cores,
)
from ..runs.decision_log import DecisionLog, LogOptions, decision_line, new_request_id
from ..runs.releases import load_shelf
from ..runs.replay import Skipped, index_cases
from ..runs.replay import replay as replay_log
from ..source.fmt import format_text
from ..source.locate import Origin, bundled_dir, bundled_ids, resolve_pack, working_tree
from ..testing.scenario_model import ScenarioFile
from ..testing.scenarios import Suite, discover, run_suite
from ..views.diff import diff_packs
from ..views.render import explain as explain_assessment
from ..views.render import render_explanation, render_table
from ..views.report import render_report

if TYPE_CHECKING:  # imported only where used: `fhir` may need an extra
    from ..interop.fhir import MappedCase

# Exit statuses (docs/cli.md): distinct, so a script can tell what went wrong.
EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and the answer is "no": a scenario failed, packs differ...
EXIT_CASE = 2  # the case input is invalid
EXIT_PACK = 3  # a pack is invalid or unknown
EXIT_OUTPUT = 4  # the output could not be written: a closed pipe, a full disk
EXIT_INPUT = 5  # an input file is missing or unreadable (case, scenario or YAML file)
EXIT_USAGE = 64  # a bad option value or argument (click itself exits 2 for unknown options)


class _Commands(TyperGroup):
    """The command group, with usage mistakes on their own exit status (click's is 2, which
    the contract gives to an invalid case)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except typer.Abort:
            if not standalone:
                raise
            _err.print("Aborted.")
            sys.exit(EXIT_FAILED)
        except InputError as error:  # an input found unreadable part way, wherever it is read
            if not standalone:
                raise
            _err.print(literal(f"error: {error}"), markup=False)
            sys.exit(EXIT_INPUT)
        except typer.TyperException as error:  # click's exceptions, as typer vendors them
            if getattr(error, "exit_code", None) == 2:  # a usage error: unknown option, bad value
                error.exit_code = EXIT_USAGE
            if not standalone:
                raise
            error.show()  # type: ignore[attr-defined]
            sys.exit(error.exit_code)
        if standalone:
            sys.exit(result if isinstance(result, int) else EXIT_OK)
        return result


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Assess a child's failed contacts against a local safeguarding policy pack. "
    "Exit statuses: 0 done, 1 a check said no, 2 invalid case, 3 invalid pack, "
    "4 output not written, 5 input file unreadable, 64 bad usage.",
)


_FORMAT_HELP = "`text` for a person, `json` for a program."
_PACK_HELP = (
    "A pack id (`policies/<id>.yaml` in the working tree when there is one, else the bundled "
    "pack) or a pack file's path."
)

# Options several commands share, declared once so their names and help cannot drift apart.
_CaseArgument = Annotated[str, typer.Argument(help="Case JSON file, or `-` for standard input.")]
_PackOption = Annotated[str, typer.Option("--pack", "-p", help=_PACK_HELP)]
_AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="ISO 8601 instant to assess at (default: now); no offset means UK time."
    ),
]
_LogCaseOption = Annotated[
    bool,
    typer.Option(
        "--log-case",
        help="With --decision-log: also log each case, with the --log-mask fields masked.",
    ),
]
_LogMaskOption = Annotated[
    list[str] | None,
    typer.Option(
        "--log-mask",
        help="With --log-case: a field path to mask, such as `case_id` or "
        "`events[].reason` (repeatable); it must name a field of the case.",
    ),
]


def _version(show: bool) -> None:
    if show:
        sys.stdout.write(
            f"failedcontact {__version__} (contract {CONTRACT_VERSION}, engine {engine_build()})\n"
        )
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Print the versions and the engine's build, then exit."),
    ] = False,
) -> None:  # fmt: skip
    """Assess a child's failed contacts against a local safeguarding policy pack."""


def _console(stderr: bool = False, soft_wrap: bool = False) -> Console:
    """A console that prints user and pack text literally: no markup, no emoji codes."""
    return Console(stderr=stderr, soft_wrap=soft_wrap, highlight=False, markup=False, emoji=False)


_err = _console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    """How `assess` prints its answer."""

    JSON = "json"
    TABLE = "table"
    FHIR = "fhir"


class Source(StrEnum):
    """What `assess` reads."""

    JSON = "json"
    FHIR = "fhir"
    CSV = "csv"
    PARQUET = "parquet"


class CheckFormat(StrEnum):
    """How `check`, `test` and `diff` print what they found."""

    TEXT = "text"
    JSON = "json"


class ExplainFormat(StrEnum):
    """How `explain` prints the practitioner's view."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


class PacksFormat(StrEnum):
    """How `packs` lists the packs."""

    TABLE = "table"
    JSON = "json"


class SchemaName(StrEnum):
    """Which JSON Schema to print."""

    CASE = "case"
    ASSESSMENT = "assessment"
    PACK = "pack"
    SCENARIO = "scenario"
    MAPPING = "mapping"
    OPENAPI = "openapi"


def _fail(code: int, message: str) -> typer.Exit:
    _err.print(literal(message), markup=False)
    return typer.Exit(code)


def _parse_as_of(text: str | None) -> datetime:
    try:
        return parse_as_of_text(text)
    except ValueError as error:
        raise _fail(EXIT_USAGE, f"error: --as-of: `{text}`: {error}") from None


@contextmanager
def _case_stream(case: str) -> Iterator[BinaryIO]:
    """Case input as a byte stream: standard input (`-`) or a regular file."""
    try:
        if case != "-" and not Path(case).is_file():  # a FIFO or device may never end
            raise _fail(EXIT_INPUT, f"error: case input `{case}` is not a regular file")
        stream = sys.stdin.buffer if case == "-" else Path(case).open("rb")  # noqa: SIM115
    except OSError as error:
        raise _fail(
            EXIT_INPUT, f"error: cannot read case input `{case}`: {error.strerror}"
        ) from None
    try:
        yield stream
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _read_case_input(case: str) -> bytes:
    """One case, read whole, up to `MAX_CASE_BYTES`."""
    with _case_stream(case) as stream:
        try:
            data = stream.read(MAX_CASE_BYTES + 1)
        except OSError as error:
            raise _fail(
                EXIT_INPUT, f"error: cannot read case input `{case}`: {error.strerror}"
            ) from None
    if len(data) > MAX_CASE_BYTES:
        raise _fail(EXIT_CASE, f"error: case input `{case}` is larger than "
                    f"{MAX_CASE_BYTES:,} bytes")  # fmt: skip
    return data


def _pack_or_exit(pack: str) -> Pack:
    """Load a pack by path or id; an id means the working tree's `policies/<id>.yaml` first."""
    try:
        loaded = load_pack(pack, near=Path.cwd())
    except PackError as error:
        raise _fail(EXIT_PACK, f"error: invalid pack\n{error}") from None
    if loaded.source is not None and loaded.source.origin is not Origin.FILE:
        _err.print(literal(f"pack {loaded.id} {loaded.version}: {loaded.source.describe()}"),
                   style="dim")  # fmt: skip
    return loaded


@app.command()
def assess(
    case: _CaseArgument,
    pack: _PackOption,
    as_of: _AsOfOption = None,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl", help="The input holds one case per line; print one assessment per line."
        ),
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="`json`: the contract's document; `table`: for a person; `fhir`: the required "
            "actions as a FHIR R4 Bundle of Tasks.",
        ),
    ] = OutputFormat.JSON,
    source: Annotated[
        Source,
        typer.Option("--from", help="What CASE is: the contract's case JSON, a FHIR R4 Bundle "
                     "for one child, or a case system's `csv` or `parquet` export (a row a "
                     "contact; needs --mapping). docs/interop.md."),
    ] = Source.JSON,
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", "-m", help="Mapping file for --from (default for fhir: the "
                     "bundled `fhir_uk_core`)."),
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option("--patient", help="With --from fhir: the child's Patient id, when the "
                     "bundle holds more than one Patient."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="With --jsonl: processes assessing in parallel "
                     "(default: the usable cores); the output order never changes."),
    ] = None,
    destination: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write a batch here instead of standard output: "
                     "`.parquet`, `.arrow`/`.feather` (Arrow IPC) or JSON Lines (any other "
                     "name). A `.parquet` or `.arrow` CASE is read as a table of cases."),
    ] = None,
    decision_log: Annotated[
        Path | None,
        typer.Option("--decision-log", help="Append a line per assessment to this JSONL "
                     "decision log (docs/service.md), each written before its assessment is "
                     "output; `failedcontact replay` re-runs it."),
    ] = None,
    log_case: _LogCaseOption = False,
    log_mask: _LogMaskOption = None,
) -> None:  # fmt: skip
    """Assess one case (or a JSON Lines batch) and print the contract's assessment.

    With --jsonl every input line gets one output line, in order: its assessment, or an error
    record `{"line": N, "case_id": ..., "errors": [{"path", "message"}]}` in its place (also
    reported on stderr; the exit status is then 2). A summary goes to stderr at the end.
    """
    compiled = _pack_or_exit(pack)
    when = _parse_as_of(as_of)
    if decision_log is not None and (
        source is not Source.JSON or (jsonl and output is OutputFormat.TABLE)
    ):
        raise _fail(EXIT_USAGE, "error: --decision-log records the contract's case JSON: "
                    "it is not for --from or --jsonl --format table")  # fmt: skip
    options = _log_options(decision_log, log_case, log_mask)
    with _open_decision_log(decision_log, options) as recorder:
        if source is not Source.JSON:
            _assess_mapped(case, compiled, when, source, mapping, patient, output)
            return
        if output is OutputFormat.FHIR and jsonl:
            raise _fail(EXIT_USAGE, "error: --format fhir is for one case, or with --from")
        if _is_table(Path(case)) or (destination is not None and _is_table(destination)):
            _assess_table_file(
                case, compiled, when, destination, workers or usable_cores(), recorder
            )
            return
        if destination is not None and not jsonl:
            raise _fail(EXIT_USAGE, "error: --output is for batches: add --jsonl, or give a "
                        "`.parquet` or `.arrow` case table")  # fmt: skip
        if not jsonl:
            parsed, assessment = _assess_one(case, compiled, when, recorder)
            with _writing():
                _emit(assessment, output, indent=2, case=parsed, pack=compiled)
            return
        if output is OutputFormat.TABLE:
            _assess_table_lines(case, compiled, when)
            return
        summary = _assess_jsonl(
            case, compiled, when, workers or usable_cores(), destination, recorder
        )
    if summary.invalid:
        raise _fail(EXIT_CASE, f"error: {summary.invalid} invalid line(s); each has an error "
                    "record in its place in the output, and the others were assessed")  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Recorder:
    """An open decision log and what its lines carry."""

    log: DecisionLog
    logging: DecisionLogging

    def record(self, lines: bytes) -> None:
        try:
            self.log.write(lines)
        except OSError as error:
            raise _output_failed(f"cannot write the decision log: {error}") from None


def _log_options(decision_log: Path | None, log_case: bool, mask: list[str] | None) -> LogOptions:
    """What decision-log lines carry, from the command line (a usage error if it is wrong)."""
    if (log_case or mask) and decision_log is None:
        raise _fail(EXIT_USAGE, "error: --log-case and --log-mask need --decision-log")
    if mask and not log_case:
        raise _fail(EXIT_USAGE, "error: --log-mask masks the logged case: add --log-case")
    try:
        return LogOptions(include_case=log_case, mask=tuple(mask or ()))
    except UsageError as error:
        raise _fail(EXIT_USAGE, f"error: --log-mask: {error}") from None


@contextmanager
def _open_decision_log(path: Path | None, options: LogOptions) -> Iterator[_Recorder | None]:
    if path is None:
        yield None
        return
    try:
        log = DecisionLog(path)
    except OSError as error:
        raise _output_failed(f"cannot open the decision log `{path}`: {error.strerror}") from None
    with log:
        yield _Recorder(log, DecisionLogging(options, new_request_id()))


def _assess_jsonl(
    case: str,
    pack: Pack,
    when: datetime,
    workers: int,
    destination: Path | None = None,
    recorder: _Recorder | None = None,
) -> BatchSummary:
    """Stream the batch through the JSON path: a line out for every line in, in order."""
    with _case_lines(case) as lines:
        return _stream_lines(lines, pack, when, workers, destination, _file_size(case), recorder)


def _file_size(case: str) -> int | None:
    return Path(case).stat().st_size if case != "-" and Path(case).is_file() else None


def _stream_lines(
    lines: Iterable[bytes | None],
    pack: Pack,
    when: datetime,
    workers: int,
    destination: Path | None,
    size: int | None,
    recorder: _Recorder | None = None,
) -> BatchSummary:
    with _output_stream(destination) as out, _writing(), _batch_progress(size) as progress:
        # flush every line into a pipe or terminal, so a reader downstream sees it at once
        unbuffered = not stat.S_ISREG(os.fstat(out.fileno()).st_mode) if _has_fd(out) else True

        def write(data: bytes) -> None:
            out.write(data)
            if unbuffered:
                out.flush()

        summary = assess_stream(
            pack, lines, when, write, _report_line, workers, progress,
            recorder.logging if recorder else None, recorder.record if recorder else None,
        )  # fmt: skip
    _err.print(summary.describe(), markup=False)
    return summary


def _report_line(message: str) -> None:
    """A bad batch line's message, on stderr."""
    _err.print(literal(message), markup=False)


@contextmanager
def _output_stream(destination: Path | None) -> Iterator[BinaryIO]:
    if destination is None:
        yield sys.stdout.buffer
        return
    try:
        stream = destination.open("wb")
    except OSError as error:
        raise _output_failed(f"cannot write `{destination}`: {error.strerror}") from None
    with stream:
        yield stream


def _is_table(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".arrow", ".feather", ".ipc")


def _assess_table_file(
    case: str,
    pack: Pack,
    when: datetime,
    destination: Path | None,
    workers: int,
    recorder: _Recorder | None = None,
) -> None:
    """Parquet or Arrow in or out (a table of cases, a table of assessments)."""
    try:
        import pyarrow
    except ImportError:
        raise _fail(EXIT_USAGE, "error: Parquet and Arrow need the `columnar` extra: "
                    "pip install 'failedcontact[columnar]'") from None  # fmt: skip
    with contextlib.suppress(NotImplementedError):  # a build without jemalloc keeps its own
        # Over 2,000,000 rows jemalloc stayed flat at about 200 MB for reading and for
        # writing; mimalloc (the default) and the system allocator kept growing on one side.
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
    invalid = _assess_tables(Path(case), pack, when, destination, workers, recorder)
    if invalid:
        raise _fail(EXIT_CASE, f"error: {invalid} invalid row(s); each has its errors in "
                    "its place in the output, and the others were assessed")  # fmt: skip


def _assess_tables(
    source: Path,
    pack: Pack,
    when: datetime,
    destination: Path | None,
    workers: int,
    recorder: _Recorder | None,
) -> int:
    """Assess a case table or JSON Lines into a table or JSON Lines; the invalid rows."""
    from ..interop.columnar import BLOCKS, TableWriter, case_blocks, case_lines, read_batches

    case = str(source)
    with contextlib.ExitStack() as stack:
        lines: Iterable[bytes | None] | None = None
        batches = None  # a case table's batches, opened before any output is written
        if not _is_table(source):
            lines = stack.enter_context(_case_lines(case))
        elif not source.is_file():
            raise _fail(EXIT_INPUT, f"error: case input `{case}` is not a regular file")
        else:
            batches = read_batches(source)
        if destination is None or not _is_table(destination):
            if batches is not None:
                lines = case_lines(batches)
            assert lines is not None
            invalid = _stream_lines(lines, pack, when, workers, destination, None, recorder).invalid
        else:
            try:
                table = stack.enter_context(TableWriter(destination))
            except OSError as error:
                raise _output_failed(f"cannot write `{destination}`: {error}") from None
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
                    record,
                )  # fmt: skip
            invalid = summary.invalid
            _err.print(f"{summary.describe()}; wrote {destination}", markup=False)
    return invalid


def _has_fd(stream: IO[Any]) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False  # an in-memory stream (tests)
    return True


@contextmanager
def _batch_progress(size: int | None) -> Iterator[Callable[[int], None] | None]:
    """A progress line on stderr when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("assess"), BarColumn() if size else TextColumn(""),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=_err,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task("assess", total=None)
        yield lambda done: bar.update(task, completed=done)


def _assess_table_lines(case: str, pack: Pack, when: datetime) -> None:
    """`--jsonl --format table`: a table a case, for reading (one process)."""
    bad = 0
    with _case_lines(case) as lines, _writing():
        for number, raw_line in enumerate(lines, start=1):
            try:
                parsed = parse_case(line_text(raw_line))
                assessment = pack.assess(parsed, when)
            except CaseError as error:
                bad += 1
                detail = "; ".join(i.render() for i in error.issues)
                _err.print(literal(f"line {number}: {detail}"), markup=False)
                continue
            _emit(assessment, OutputFormat.TABLE, indent=None, case=parsed, pack=pack)
    if bad:
        raise _fail(EXIT_CASE, f"error: {bad} invalid line(s); the others were assessed")


@contextmanager
def _case_lines(case: str) -> Iterator[Iterator[bytes | None]]:
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


def _emit(
    assessment: Assessment, output: OutputFormat, indent: int | None, case: Case, pack: Pack
) -> None:
    if output is OutputFormat.TABLE:
        render_table(assessment, _console(), case, pack.compiled)
    elif output is OutputFormat.FHIR:
        from ..interop.fhir import task_bundle

        sys.stdout.write(json.dumps(task_bundle(assessment), indent=indent) + "\n")
    else:
        sys.stdout.write(assessment.model_dump_json(indent=indent) + "\n")


def _load_mapping_or_exit(name: str | None, source: Source) -> AnyMapping:
    if name is None:
        if source is not Source.FHIR:
            raise _fail(
                EXIT_USAGE,
                f"error: --from {source} needs --mapping: a table mapping "
                "file such as the bundled `case_system_csv` (docs/interop.md)",
            )
        name = "fhir_uk_core"
    try:
        loaded = load_mapping(name)
    except MappingError as error:
        raise _fail(EXIT_PACK, f"error: invalid mapping\n{error}") from None
    wanted = FhirMapping if source is Source.FHIR else TableMapping
    if not isinstance(loaded, wanted):
        kind = "fhir" if isinstance(loaded, FhirMapping) else "table"
        raise _fail(
            EXIT_USAGE,
            f"error: mapping `{name}` is a `{kind}` mapping; --from "
            f"{source} needs a `{'fhir' if source is Source.FHIR else 'table'}` one",
        )
    return loaded


def _assess_mapped(
    case: str,
    pack: Pack,
    when: datetime,
    source: Source,
    mapping_name: str | None,
    patient: str | None,
    output: OutputFormat,
) -> None:
    """`--from fhir|csv|parquet`: map the source to cases, then assess each."""
    mapped = _mapped_cases(case, source, _load_mapping_or_exit(mapping_name, source), patient)
    one = source is Source.FHIR
    with _writing():
        failed = [step for item in mapped if (step := _write_mapped(item, pack, when, output, one))]
    if failed:
        what = (
            f"the bundle could not be {failed[0]}"
            if one
            else (
                f"{len(failed)} case(s) could not be mapped or assessed; each has an error record "
                "in its place"
            )
        )
        raise _fail(EXIT_CASE, f"error: {what}")


def _mapped_cases(
    case: str, source: Source, loaded: AnyMapping, patient: str | None
) -> list[MappedCase]:
    """Read the bundle or export and map it to cases; exit with the right status if unreadable."""
    try:
        if source is Source.FHIR:
            from ..interop.fhir import map_bundle

            assert isinstance(loaded, FhirMapping)
            return [map_bundle(_read_case_input(case), loaded, patient=patient)]
        from ..interop.tables import read_csv, read_parquet

        assert isinstance(loaded, TableMapping)
        if not Path(case).is_file():
            raise _fail(EXIT_INPUT, f"error: export `{case}` is not a regular file")
        reader = read_csv if source is Source.CSV else read_parquet
        return list(reader(case, loaded))
    except ModuleNotFoundError as error:
        extra = "fhir" if source is Source.FHIR else "columnar"
        raise _fail(
            EXIT_USAGE,
            f"error: --from {source} needs `{error.name}`: install failedcontact[{extra}]",
        ) from None
    except CaseError as error:
        raise _fail(EXIT_CASE, "error: " + "; ".join(i.render() for i in error.issues)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(EXIT_INPUT, f"error: cannot read `{case}`: {error}") from None


def _write_mapped(
    item: MappedCase, pack: Pack, when: datetime, output: OutputFormat, one: bool
) -> str | None:
    """Write one mapped case's assessment, or its errors and the step that failed
    (`mapped`, or `assessed` when the pack rejects the case: a flag it does not declare).

    A batch (`one` false) writes an error record in a bad case's place, so output lines
    stay in step with the cases.
    """
    for note in item.notes:
        _err.print(literal(note.render()), markup=False, style="dim")
    errors: list[dict[str, str]]
    if item.errors or item.case is None:
        for finding in item.errors:
            _err.print(literal(finding.render()), markup=False)
        step = "mapped"
        errors = [
            {"path": f.location, "message": f"{f.resource}: {f.message}"} for f in item.errors
        ]
    else:
        try:
            assessment = pack.assess(item.case, when)
        except CaseError as error:
            _err.print(literal(f"error: {error}"), markup=False)
            step = "assessed"
            errors = [{"path": i.path, "message": i.message} for i in error.issues]
        else:
            if output is OutputFormat.FHIR:
                from ..interop.fhir import task_bundle

                tasks = task_bundle(assessment, item.patient)
                sys.stdout.write(json.dumps(tasks, indent=2 if one else None) + "\n")
            else:
                _emit(assessment, output, indent=2 if one else None, case=item.case, pack=pack)
            return None
    if not one:
        sys.stdout.write(json.dumps({"case_id": item.case_id, "errors": errors}) + "\n")
    return step


def _assessed(case: str, pack: str, as_of: str | None) -> tuple[Pack, Case, Assessment]:
    """Load the pack, read and check one case, and assess it; exit with the right status."""
    loaded = _pack_or_exit(pack)
    return loaded, *_assess_one(case, loaded, _parse_as_of(as_of))


def _assess_one(
    case: str, pack: Pack, when: datetime, recorder: _Recorder | None = None
) -> tuple[Case, Assessment]:
    """Read and check one case and assess it; an invalid case exits with status 2."""
    raw = _read_case_input(case)
    try:
        parsed = parse_case(raw)
        assessment = pack.assess(parsed, when)
    except CaseError as error:
        raise _fail(EXIT_CASE, "error: invalid case\n" + "\n".join(
            f"  {issue.render()}" for issue in error.issues)) from None  # fmt: skip
    if recorder is not None:
        plain = assessment.model_dump(mode="json")
        request_id = recorder.logging.run
        recorder.record(decision_line(plain, orjson.loads(raw), recorder.logging.options,
                                      request_id))  # fmt: skip
    return parsed, assessment


@app.command()
def explain(
    case: _CaseArgument,
    pack: _PackOption,
    as_of: _AsOfOption = None,
    output: Annotated[
        ExplainFormat,
        typer.Option("--format", "-f", help="`text` for the terminal, `markdown` for a case "
                     "note, `json` for a program."),
    ] = ExplainFormat.TEXT,
) -> None:  # fmt: skip
    """Explain the assessment in plain English: why the tier, each action, what is overdue."""
    loaded, parsed, assessment = _assessed(case, pack, as_of)
    view = explain_assessment(assessment, parsed, loaded.compiled)
    with _writing():
        if output is ExplainFormat.JSON:
            sys.stdout.write(json.dumps(view.as_dict(), indent=2, ensure_ascii=False) + "\n")
        elif output is ExplainFormat.MARKDOWN:
            sys.stdout.write(view.markdown())
        else:
            render_explanation(view, _console())


@app.command()
def report(
    case: Annotated[str, typer.Argument(help="Case JSON file (or with --jsonl, one case a line).")],
    pack: _PackOption,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The page to write (default `report.html`); with "
                     "--jsonl, the folder (default `reports`)."),
    ] = None,
    as_of: _AsOfOption = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One case a line: one page a case, and an index.")
    ] = False,
) -> None:  # fmt: skip
    """Write a self-contained HTML page of the assessment: timeline, actions, working days."""
    if not jsonl:
        loaded, parsed, assessment = _assessed(case, pack, as_of)
        target = output or Path("report.html")
        page = render_report(assessment, parsed, loaded.compiled,
                             explain_assessment(assessment, parsed, loaded.compiled))  # fmt: skip
        _write_page(target, page)
        _err.print(literal(f"wrote {target}"), markup=False)
        return
    loaded = _pack_or_exit(pack)
    when = _parse_as_of(as_of)
    folder = output or Path("reports")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _output_failed(f"cannot make `{folder}`: {error.strerror}") from None
    written: list[tuple[str, str, str]] = []  # (case id, file name, summary)
    bad: list[str] = []
    used: set[str] = set()
    with _case_lines(case) as lines:
        for number, raw_line in enumerate(lines, start=1):
            try:
                parsed = parse_case(line_text(raw_line))
                assessment = loaded.assess(parsed, when)
            except CaseError as error:
                detail = (
                    "; ".join(i.render() for i in error.issues) or "empty line, expected a case"
                )
                bad.append(f"line {number}: {detail}")
                _err.print(literal(f"line {number}: {detail}"), markup=False)
                continue
            name = _page_name(assessment.case_id, used)
            view = explain_assessment(assessment, parsed, loaded.compiled)
            _write_page(folder / name, render_report(assessment, parsed, loaded.compiled, view))
            written.append((assessment.case_id, name, view.summary))
    index = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{len(written)} case reports</title></head><body>",
             f"<h1>{len(written)} case reports ({html.escape(loaded.id)} "
             f"{html.escape(loaded.version)})</h1><ul>"]  # fmt: skip
    index += [f'<li><a href="{html.escape(name)}">{html.escape(case_id)}</a>: '
              f"{html.escape(summary)}</li>" for case_id, name, summary in written]  # fmt: skip
    index.append("</ul>")
    if bad:
        index.append(f"<h2>{len(bad)} invalid line(s), not reported</h2><ul>")
        index += [f"<li>{html.escape(line)}</li>" for line in bad]
        index.append("</ul>")
    _write_page(folder / "index.html", "\n".join([*index, "</body></html>"]) + "\n")
    _err.print(literal(f"wrote {len(written)} page(s) and index.html to {folder}"), markup=False)
    if bad:
        raise _fail(EXIT_CASE, f"error: {len(bad)} invalid line(s); the others were reported")


def _page_name(case_id: str, used: set[str]) -> str:
    """A safe, unique file name for a case's page."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", case_id)[:100].lstrip(".") or "case"
    name, number = f"{stem}.html", 1
    while name in used or name == "index.html":
        number += 1
        name = f"{stem}-{number}.html"
    used.add(name)
    return name


def _write_page(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise _output_failed(f"cannot write `{path}`: {error.strerror}") from None


@app.command("diff")
def diff_command(
    left: Annotated[str, typer.Argument(help="A bundled pack id or pack file.")],
    right: Annotated[str, typer.Argument(help="Another bundled pack id or pack file.")],
    output: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="`text` for a person, `json` for a program."),
    ] = CheckFormat.TEXT,
) -> None:
    """Show what really differs between two packs (wording and citations are ignored).

    Exits 1 when they differ and 0 when they do not, like diff(1).
    """
    a, b = _pack_or_exit(left), _pack_or_exit(right)
    found = diff_packs(a.compiled, b.compiled)
    if output is CheckFormat.JSON:
        rows = [{"category": d.category, "subject": d.subject, "left": d.left,
                 "right": d.right} for d in found]  # fmt: skip
        sys.stdout.write(json.dumps({"left": left, "right": right, "differences": rows},
                                    indent=2) + "\n")  # fmt: skip
        raise typer.Exit(EXIT_FAILED if found else EXIT_OK)
    console = _console()
    for side, pack in (("left", a), ("right", b)):
        document = pack.document
        console.print(f"{side}: {document.id} {document.version} - {document.area} "
                      f"(source {document.source.issued or 'undated'})", markup=False)  # fmt: skip
    if not found:
        console.print("No differences in what a practitioner would do.")
        return
    table = Table(title=f"{len(found)} difference(s)", expand=True, show_lines=True)
    table.add_column("area of difference", no_wrap=True)
    table.add_column("what")
    table.add_column(a.id if a.id != b.id else left)
    table.add_column(b.id if a.id != b.id else right)
    for difference in found:
        table.add_row(difference.category, difference.subject, difference.left, difference.right)
    console.print(table)
    raise typer.Exit(EXIT_FAILED)


@app.command()
def packs(
    output: Annotated[
        PacksFormat,
        typer.Option("--format", "-f", help="`table` for a person, `json` for a program."),
    ] = PacksFormat.TABLE,
) -> None:
    """List the packs: the working tree's (`policies/*.yaml`) and the bundled ones."""
    tree = working_tree(Path.cwd())
    ids = sorted(set(bundled_ids()) | ({p.stem for p in tree.glob("*.yaml")} if tree else set()))
    rows: list[dict[str, Any]] = []
    for pack_id in ids:
        try:
            loaded = load_pack(pack_id, near=Path.cwd())
        except PackError as error:
            rows.append({"id": pack_id, "error": str(error)})
            continue
        document = loaded.document
        assert loaded.source is not None
        rows.append({
            "id": pack_id, "area": document.area, "version": document.version,
            "digest": loaded.digest, "source": {"title": document.source.title,
                                                "issued": document.source.issued},
            "file": _shown(loaded.source.path), "origin": loaded.source.origin.value,
        })  # fmt: skip
    if output is PacksFormat.JSON:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    else:
        table = Table(title="Packs (an id means the working tree's file when there is one)")
        for column in ("id", "area", "version", "source issued", "source", "file"):
            table.add_column(column)
        for row in rows:
            if "error" in row:
                table.add_row(str(row["id"]), "invalid: run `failedcontact check`", "", "", "", "")
                continue
            source: Any = row["source"]
            table.add_row(str(row["id"]), str(row["area"]), str(row["version"]),
                          source["issued"] or "undated", source["title"],
                          f"{row['file']} ({row['origin']})")  # fmt: skip
        _console().print(table)
    if any("error" in row for row in rows):
        raise typer.Exit(EXIT_PACK)


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="case, assessment, pack, scenario, mapping "
                                               "or openapi")],
) -> None:  # fmt: skip
    """Print a JSON Schema (case input, assessment output, pack, scenario or mapping file), or
    the service's OpenAPI 3.1 document."""
    if name is SchemaName.OPENAPI:
        try:
            from ..service.app import openapi_document
        except ImportError:
            raise _fail(EXIT_USAGE, "error: the OpenAPI document needs the `service` extra: "
                        "pip install 'failedcontact[service]'") from None  # fmt: skip
        document = openapi_document()
    elif name is SchemaName.CASE:
        document = Case.model_json_schema()
    elif name is SchemaName.ASSESSMENT:
        document = Assessment.model_json_schema(mode="serialization")
    elif name is SchemaName.SCENARIO:
        document = ScenarioFile.model_json_schema()
    elif name is SchemaName.MAPPING:
        document = mapping_schema()
    else:
        document = PackDocument.model_json_schema()
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@app.command()
def check(
    pack_files: Annotated[
        list[str], typer.Argument(help="Pack files, bundled pack ids or mapping files.")
    ],
    output: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="`text` for a person, `json` for a program."),
    ] = CheckFormat.TEXT,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Check packs or mapping files through every stage, reporting every problem; exit 3 if any."""
    found: list[Diagnostic] = []
    report: list[dict[str, object]] = []
    out = _console(soft_wrap=True)
    for item in pack_files:
        if _is_mapping_file(item):
            _check_mapping_file(item, found, report, output, out)
            continue
        try:
            source = resolve_pack(item, near=Path.cwd())
        except PackError as error:
            diagnostics: list[Diagnostic] = list(error.diagnostics)
            compiled = None
        else:
            if source.origin is not Origin.FILE:
                _err.print(literal(f"{item}: {source.describe()}"), style="dim")
            result = run_file(source.path, _shown(source.path))
            diagnostics, compiled = list(result.diagnostics), result.compiled
        found.extend(diagnostics)
        document = compiled.document if compiled is not None else None
        sections = _section_coverage(document) if document is not None else None
        partial = inexact(compiled) if compiled is not None else []
        report.append({"pack": item, "diagnostics": [d.as_dict() for d in diagnostics],
                       "coverage": sections, "analysis_inexact": partial})  # fmt: skip
        if output is CheckFormat.TEXT:
            for diagnostic in diagnostics:
                _err.print(diagnostic.render(), markup=False)
            errors = sum(d.severity is Severity.ERROR for d in diagnostics)
            warnings = len(diagnostics) - errors
            summary = "ok" if not diagnostics else f"{errors} error(s), {warnings} warning(s)"
            if sections is not None:
                encoded = sum(1 for parts in sections.values() if parts)
                reasoned = sum(1 for parts in sections.values() if parts is None)
                summary += (
                    f"; {encoded + reasoned}/{len(sections)} sections covered "
                    f"({encoded} encoded, {reasoned} not actionable)"
                )
                summary += (
                    f"; analysis exact except {len(partial)} rule(s) with `count`, treated as "
                    "unknown"
                    if partial
                    else "; analysis exact"
                )
            out.print(f"{item}: {summary}")
    if output is CheckFormat.JSON:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    failing = [d for d in found if strict or d.severity is Severity.ERROR]
    if failing:
        raise typer.Exit(EXIT_PACK)


def _is_mapping_file(item: str) -> bool:
    """A YAML file whose top level starts a mapping file (`mapping: fhir` or `table`)."""
    path = Path(item)
    if not path.is_file():
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return False
    return re.search(r"^mapping:", head, re.MULTILINE) is not None


def _check_mapping_file(
    item: str,
    found: list[Diagnostic],
    report: list[dict[str, object]],
    output: CheckFormat,
    out: Console,
) -> None:
    result = check_mapping(_shown(Path(item)))
    diagnostics = result if isinstance(result, list) else []
    found.extend(diagnostics)
    report.append({"mapping": item, "diagnostics": [d.as_dict() for d in diagnostics]})
    if output is CheckFormat.TEXT:
        for diagnostic in diagnostics:
            _err.print(diagnostic.render(), markup=False)
        out.print(f"{item}: " + (f"{len(diagnostics)} error(s)" if diagnostics else "ok"))


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _section_coverage(document: PackDocument) -> dict[str, list[str] | None]:
    """Each section's citing parts (None: not actionable, with its reason)."""
    cited = coverage(document)
    return {
        s.id: (cited[s.id] or None) if s.not_actionable else cited[s.id]
        for s in document.source.sections
    }


@app.command("test")
def test_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files or folders (default: the bundled scenarios)."),
    ] = None,
    output: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="`text` for a person, `json` for a program."),
    ] = CheckFormat.TEXT,
    run_pattern: Annotated[
        str | None, typer.Option("--run", help="Only scenarios whose id matches this regex.")
    ] = None,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage", min=0, max=100, help="Fail if a pack's rule coverage is below this %."
        ),
    ] = None,
) -> None:
    """Run pack scenarios: a summary, each failure with its file, line and diff, and coverage."""
    tree = working_tree(Path.cwd())
    default = tree / "tests" if tree is not None and (tree / "tests").is_dir() else None
    roots = paths or [default or bundled_dir() / "tests"]
    for root in roots:
        if not any(p.suffix == ".yaml" for p in ([root] if root.is_file() else discover(root))):
            raise _fail(EXIT_INPUT, f"error: no scenario files at `{root}`")
    try:
        files = [f for root in roots for f in discover(root)]
        suite = run_suite(files, run_pattern)
    except ScenarioFileError as error:
        raise _fail(EXIT_INPUT, f"error: invalid scenario file\n{error}") from None
    except OSError as error:
        raise _fail(
            EXIT_INPUT, f"error: cannot read `{error.filename}`: {error.strerror}"
        ) from None
    except re.error as error:
        raise _fail(EXIT_USAGE, f"error: --run: {error}") from None
    if not suite.outcomes:
        raise _fail(EXIT_FAILED, f"error: no scenario matches `{run_pattern}`")
    low = {
        pack: suite.percent(pack)
        for pack in suite.coverage
        if min_coverage is not None and suite.percent(pack) < min_coverage
    }
    if output is CheckFormat.JSON:
        sys.stdout.write(json.dumps(_suite_document(suite), indent=2) + "\n")
    else:
        _print_suite(suite)
    if suite.failed or low:
        for pack, percent in low.items():
            _err.print(f"coverage of {pack} is {percent:.0f}%, below {min_coverage:g}%")
        raise typer.Exit(EXIT_FAILED)


def _suite_document(suite: Suite) -> dict[str, Any]:
    """`test --format json`: every result, and each pack's file and coverage."""
    return {
        "passed": len(suite.outcomes) - len(suite.failed),
        "failed": len(suite.failed),
        "results": [
            {"id": o.scenario.id, "file": str(o.scenario.file), "line": o.scenario.line,
             "section": o.scenario.section, "passed": o.passed, "problems": list(o.problems)}
            for o in suite.outcomes
        ],
        "coverage": {
            pack: {"file": suite.sources[pack], "rules": total, "missed": list(missed),
                   "percent": suite.percent(pack)}
            for pack, (total, missed) in suite.coverage.items()
        },
    }  # fmt: skip


def _print_suite(suite: Suite) -> None:
    """`test` for a person: each failure with its place and diff, then each pack's coverage."""
    out = _console(soft_wrap=True)
    for outcome in suite.failed:
        scenario = outcome.scenario
        out.print(f"FAIL {scenario.file}:{scenario.line}: {scenario.name} ({scenario.section})",
                  style="red", markup=False)  # fmt: skip
        for problem in outcome.problems:
            out.print("  " + problem.replace("\n", "\n  "), markup=False)
    for pack, (total, missed) in sorted(suite.coverage.items()):
        out.print(f"pack {pack}: {suite.sources[pack]}", markup=False)
        line = f"coverage {pack}: {total - len(missed)}/{total} rules, duties and patterns"
        line += f" ({suite.percent(pack):.0f}%)"
        if missed:
            line += "; not exercised: " + ", ".join(missed)
        out.print(line, markup=False)
    passed = len(suite.outcomes) - len(suite.failed)
    out.print(f"{passed} passed, {len(suite.failed)} failed", markup=False)


@app.command()
def verify(
    pack_files: Annotated[
        list[str], typer.Argument(help="Pack files, bundled pack ids or mapping files.")
    ],
    examples: Annotated[
        int, typer.Option("--examples", min=1, help="Cases tried per invariant.")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed, for a repeatable run.")] = 0,
    out: Annotated[
        Path, typer.Option("--out", help="Where counterexample scenarios are written.")
    ] = Path("verify-counterexamples"),
    invariant: Annotated[
        list[str] | None, typer.Option("--invariant", help="Check only these invariants.")
    ] = None,
) -> None:
    """Search for cases that break the consistency invariants; write each as a scenario.

    Each counterexample is written as a scenario that expects the invariant to hold: it fails
    against the pack as it is and passes once the pack is fixed.
    """
    from ..testing.verify import INVARIANTS, find_violations, write_scenario

    unknown = sorted(set(invariant or ()) - set(INVARIANTS))
    if unknown:
        raise _fail(EXIT_USAGE, f"error: unknown invariant(s) {', '.join(unknown)}; expected "
                    f"one of {', '.join(INVARIANTS)}")  # fmt: skip
    console = _console(soft_wrap=True)
    chosen = [name for name in INVARIANTS if not invariant or name in invariant]
    broken = 0
    for item in pack_files:
        pack = _pack_or_exit(item)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_err,
            transient=True,
        ) as bar:
            task = bar.add_task(f"verify {pack.id}", total=len(chosen))
            done: set[str] = set()

            def step(
                name: str, tried: int, task: TaskID = task, done: set[str] = done, id: str = pack.id
            ) -> None:
                done.add(name)
                bar.update(task, completed=len(done) - 1,
                           description=f"verify {id}: {name}, case {tried}")  # fmt: skip

            found = find_violations(pack, examples=examples, seed=seed, only=invariant,
                                    progress=step)  # fmt: skip
        broken += len(found)
        for violation in found:
            path = write_scenario(pack, violation, out)
            console.print(f"{item}: {violation.invariant}: {violation.message}", markup=False)
            console.print(f"  counterexample written to {path}; it fails until the pack is "
                          f"fixed (failedcontact test {path})", markup=False)  # fmt: skip
        if not found:
            console.print(f"{item}: all {len(chosen)} invariants hold on {examples} "
                          "generated cases each", markup=False)  # fmt: skip
    if broken:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8080,
    packs_folder: Annotated[
        Path | None,
        typer.Option("--packs", help="Folder of pack releases: its `*.yaml` and those one "
                     "folder down, several versions of a pack side by side (default: the "
                     "bundled packs)."),
    ] = None,
    tokens_file: Annotated[
        Path | None,
        typer.Option("--tokens-file", help="Bearer tokens, one a line (also "
                     "FAILEDCONTACT_TOKENS, comma-separated)."),
    ] = None,
    admin_tokens_file: Annotated[
        Path | None,
        typer.Option("--admin-tokens-file", help="Tokens that may also reload the packs "
                     "(also FAILEDCONTACT_ADMIN_TOKENS)."),
    ] = None,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option("--allow-unauthenticated", help="Serve without tokens (a loud warning; "
                     "for a laptop, never for case data)."),
    ] = False,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", min=1, help="Largest request body (413 above).")
    ] = 4 * 1024 * 1024,
    decision_log: Annotated[
        Path | None,
        typer.Option("--decision-log", help="Append a line per assessment to this JSONL "
                     "file, written before the answer is sent."),
    ] = None,
    log_case: _LogCaseOption = False,
    log_mask: _LogMaskOption = None,
    log_sync: Annotated[
        bool, typer.Option("--log-sync", help="fsync each decision line (power-cut safe; "
                           "slower).")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="uvicorn worker "
                                         "processes.")] = 1,
    ssl_certfile: Annotated[Path | None, typer.Option("--ssl-certfile", help="TLS "
                            "certificate (PEM); or terminate TLS at a proxy.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option("--ssl-keyfile")] = None,
) -> None:  # fmt: skip
    """Serve assessments over HTTP (needs the `service` extra); docs/service.md."""
    try:
        from ..service.app import Settings
    except ImportError:
        raise _fail(EXIT_USAGE, "error: the service needs the `service` extra: "
                    "pip install 'failedcontact[service]'") from None  # fmt: skip
    tokens = _tokens(tokens_file, "FAILEDCONTACT_TOKENS")
    admin = _tokens(admin_tokens_file, "FAILEDCONTACT_ADMIN_TOKENS")
    if not tokens and not admin and not allow_unauthenticated:
        raise _fail(EXIT_USAGE, "error: no bearer tokens: give --tokens-file or "
                    "FAILEDCONTACT_TOKENS (and an admin token to reload), or "
                    "--allow-unauthenticated")  # fmt: skip
    options = _log_options(decision_log, log_case, log_mask)
    settings = Settings(
        packs=(packs_folder or bundled_dir()).resolve(), tokens=tokens, admin_tokens=admin,
        allow_unauthenticated=allow_unauthenticated, max_body_bytes=max_body_bytes,
        decision_log=decision_log.resolve() if decision_log else None, log_options=options,
        log_sync=log_sync,
    )  # fmt: skip
    if allow_unauthenticated and not tokens:
        _err.print("WARNING: serving WITHOUT authentication (--allow-unauthenticated): anyone "
                   "who can reach this port can send cases and read assessments",
                   style="bold red", markup=False)  # fmt: skip
    from ..service.serving import run

    try:
        run(settings, host, port, workers, ssl_certfile, ssl_keyfile)
    except PackError as error:
        for diagnostic in error.diagnostics:
            _err.print(literal(diagnostic.render()), markup=False)
        raise _fail(EXIT_PACK, f"error: the packs in `{settings.packs}` cannot be "
                    "served") from None  # fmt: skip


def _tokens(path: Path | None, variable: str) -> tuple[str, ...]:
    found = [t.strip() for t in os.environ.get(variable, "").split(",") if t.strip()]
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _fail(EXIT_INPUT, f"error: cannot read `{path}`: {error}") from None
        found += [line.strip() for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    return tuple(found)


@app.command()
def replay(
    log: Annotated[Path, typer.Argument(help="A decision log (JSONL) from `assess "
                                        "--decision-log` or `serve`.")],
    cases: Annotated[
        Path | None,
        typer.Option("--cases", help="JSONL cases, matched to decisions by the SHA-256 of "
                     "their canonical JSON (needed where the log holds no case, or a masked one)."),
    ] = None,
    packs_folder: Annotated[
        Path | None,
        typer.Option("--packs", help="Folder of pack releases (default: the `policies` folder "
                     "of the working tree, else the bundled packs)."),
    ] = None,
    output: Annotated[CheckFormat, typer.Option("--format", "-f")] = CheckFormat.TEXT,
) -> None:  # fmt: skip
    """Assess every logged decision again and report each answer that differs, with why.

    Exit status 0 when every decision was replayed and gave the same answer byte for byte;
    1 when any differs or could not be replayed (each is listed).
    """
    folder = packs_folder or working_tree(Path.cwd()) or bundled_dir()
    loaded = load_shelf(folder)
    if loaded.shelf is None:
        for diagnostic in loaded.diagnostics:
            _err.print(literal(diagnostic.render()), markup=False)
        raise _fail(EXIT_PACK, f"error: the packs in `{folder}` cannot be loaded")
    cases_by_digest: dict[str, Any] = {}
    bad_cases: list[Skipped] = []
    if cases is not None:
        cases_by_digest, bad_cases = index_cases(_lines_of(cases))
    report = replay_log(_lines_of(log), loaded.shelf, cases_by_digest)
    out = _console(soft_wrap=True)
    skipped = [*bad_cases, *report.skipped]
    if output is CheckFormat.JSON:
        document = report.as_dict() | {
            "skipped": len(skipped),
            "skipped_lines": [{"line": s.line, "why": s.why} for s in skipped],
        }
        out.print_json(data=document)
    else:
        for difference in report.differences:
            out.print(literal(
                f"line {difference.line} (request {difference.request_id}): "
                f"{difference.pack} -> {difference.replayed_with}: differs\n  "
                + "\n  ".join(difference.reasons)), markup=False, soft_wrap=True)  # fmt: skip
        for item in skipped[:_SHOWN_SKIPPED]:
            out.print(literal(f"line {item.line}: not replayed: {item.why}"), markup=False)
        if len(skipped) > _SHOWN_SKIPPED:
            out.print(f"... and {len(skipped) - _SHOWN_SKIPPED:,} more not replayed "
                      "(--format json lists every one)", markup=False)  # fmt: skip
        out.print(
            f"replayed {report.decisions:,} decision(s) with the packs in {folder}: "
            f"{report.same:,} same, {len(report.differences):,} differ, "
            f"{len(skipped):,} not replayed",
            markup=False,
        )
    if report.differences or skipped:
        raise typer.Exit(EXIT_FAILED)


_SHOWN_SKIPPED = 10


def _lines_of(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as stream:
            yield from stream
    except OSError as error:
        raise _fail(EXIT_INPUT, f"error: cannot read `{path}`: {error.strerror}") from None


@app.command("fmt")
def fmt_command(
    paths: Annotated[list[Path], typer.Argument(help="Pack or scenario YAML files.")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    show_diff: Annotated[
        bool,
        typer.Option("--diff", help="Change nothing; print a unified diff of what would change "
                     "and exit 1 if anything would."),
    ] = False,
) -> None:  # fmt: skip
    """Lay out YAML files in the project's style, keeping every comment."""
    changed = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
            raise _fail(EXIT_INPUT, f"error: cannot read `{path}`: {why}") from None
        try:
            formatted = format_text(text, str(path))
        except PackError as error:
            raise _fail(EXIT_PACK, f"error: {error}") from None
        if formatted == text:
            continue
        changed.append(path)
        if show_diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                f"{path} (as written)", f"{path} (formatted)"))  # fmt: skip
        elif not check_only:
            path.write_text(formatted, encoding="utf-8")
    if not show_diff:
        verb = "would reformat" if check_only else "reformatted"
        for path in changed:
            _console().print(f"{verb} {path}", markup=False)
    if (check_only or show_diff) and changed:
        raise typer.Exit(EXIT_FAILED)


def main() -> None:
    """Entry point of the `failedcontact` console script."""
    app()


@contextmanager
def _writing() -> Iterator[None]:
    """Turn a failed write (a closed pipe, a full disk) into one message and exit status 4."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise _output_failed("the reader closed the output pipe") from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG):
            raise
        raise _output_failed(error.strerror or str(error)) from None


def _output_failed(why: str) -> typer.Exit:
    """Every line written before this was written whole; say why the rest was not."""
    # Point stdout at nothing, so the interpreter's last flush cannot fail a second time
    # (in process, as under a test runner, stdout may have no file descriptor to point).
    if _has_fd(sys.stdout):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return _fail(EXIT_OUTPUT, f"error: cannot write the output: {why}")

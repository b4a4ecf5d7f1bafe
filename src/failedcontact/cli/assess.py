"""`assess`, `explain` and `report`: a case's assessment, for a program or a person."""

from __future__ import annotations

import codecs
import html
import json
import re
import sys
from datetime import datetime
from enum import Enum, StrEnum, auto
from pathlib import Path
from typing import Annotated

import typer

from ..engine.loader import Pack
from ..errors import CaseError, literal
from ..model.case_input import parse_case
from ..runs.batch import line_text, usable_cores
from ..runs.stopping import EXIT_SIGINT, EXIT_SIGTERM, EXIT_WORKER_DIED
from ..views.render import explain as explain_assessment
from ..views.render import render_explanation
from ..views.report import render_report
from ._app import (
    EXIT_CASE,
    EXIT_USAGE,
    AsOfOption,
    CaseArgument,
    PackOption,
    app,
    console,
    err,
    fail,
    output_failed,
    pack_or_exit,
    parse_as_of,
    writing,
)
from ._batch import assess_jsonl, assess_table_file, assess_table_lines, is_table
from ._cases import OutputFormat, assess_one, assessed, case_lines, emit
from ._decision_log import LogCaseOption, LogMaskOption, Recorder, log_options, open_decision_log
from ._mapped import Source, assess_mapped

_JsonlOption = Annotated[
    bool,
    typer.Option(
        "--jsonl", help="The input holds one case per line; print one assessment per line."
    ),
]
_OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="`json`: the contract's document; `table`: for a person; `fhir`: the required "
        "actions as a FHIR R4 Bundle of Tasks.",
    ),
]
_FromOption = Annotated[
    Source,
    typer.Option("--from", help="What CASE is: the contract's case JSON, a FHIR R4 Bundle "
                 "for one child, or a case system's `csv` or `parquet` export (a row a "
                 "contact; needs --mapping). docs/interop.md."),
]  # fmt: skip
_MappingOption = Annotated[
    str | None,
    typer.Option("--mapping", "-m", help="Mapping file for --from (default for fhir: the "
                 "bundled `fhir_uk_core`)."),
]  # fmt: skip
_EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        metavar="CODEC",
        help="With --from csv: the export's text encoding, such as cp1252 (default: the "
        "mapping's `csv.encoding`, else UTF-8).",
    ),
]
_DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        metavar="CHAR",
        help="With --from csv: the export's field separator, such as ';' (default: the "
        "mapping's `csv.delimiter`, else a comma).",
    ),
]
_PatientOption = Annotated[
    str | None,
    typer.Option("--patient", help="With --from fhir: the child's Patient id, when the "
                 "bundle holds more than one Patient."),
]  # fmt: skip
_WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="With --jsonl: processes assessing in parallel "
                 "(default: the usable cores); the output order never changes."),
]  # fmt: skip
_DestinationOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write a batch here instead of standard output: "
                 "`.parquet`, `.arrow`/`.feather` (Arrow IPC) or JSON Lines (any other "
                 "name). A `.parquet` or `.arrow` CASE is read as a table of cases."),
]  # fmt: skip
_SkipOption = Annotated[
    int,
    typer.Option("--skip", metavar="N", help="With --jsonl: pass over the input's first N "
                 "lines (or rows) unanswered, the others keeping their line numbers; a batch "
                 "that stopped part way says which N carries it on."),
]  # fmt: skip
_DecisionLogOption = Annotated[
    Path | None,
    typer.Option("--decision-log", help="Append a line per assessment to this JSONL "
                 "decision log (docs/service.md), each written before its assessment is "
                 "output; `failedcontact replay` re-runs it."),
]  # fmt: skip


class _Input(Enum):
    """What `assess` was given to read, which decides how it is assessed."""

    MAPPED = auto()  # --from fhir, csv or parquet
    TABLE = auto()  # a Parquet or Arrow table of cases in, or a table of assessments out
    LINES = auto()  # --jsonl: a case a line
    ONE = auto()  # one case JSON


def _check_dialect(encoding: str | None, delimiter: str | None, source: Source) -> None:
    """`--encoding` and `--delimiter` name a codec Python knows and one character, for CSV."""
    if (encoding is not None or delimiter is not None) and source is not Source.CSV:
        raise fail(EXIT_USAGE, "error: --encoding and --delimiter are for --from csv")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise fail(EXIT_USAGE, f"error: --encoding `{encoding}` is not a text encoding "
                       "Python knows (for example utf-8, cp1252, latin-1)") from None  # fmt: skip
    if delimiter is not None and len(delimiter) != 1:
        raise fail(EXIT_USAGE, f"error: --delimiter `{delimiter}` must be one character, "
                   "such as ',' or ';'")  # fmt: skip


def _input_kind(case: str, source: Source, jsonl: bool, destination: Path | None) -> _Input:
    if source is not Source.JSON:
        return _Input.MAPPED
    if is_table(Path(case)) or (destination is not None and is_table(destination)):
        return _Input.TABLE
    return _Input.LINES if jsonl else _Input.ONE


_ASSESS_HELP = f"""Assess one case (or a JSON Lines batch) and print the contract's assessment.

With --jsonl every input line gets one output line, in order: its assessment, or an error
record `{{"line": N, "case_id": ..., "errors": [{{"path", "message"}}]}}` in its place (also
reported on stderr; the exit status is then 2). A summary goes to stderr at the end.

A batch stopped part way exits {EXIT_WORKER_DIED} (a worker process died), {EXIT_SIGINT} (SIGINT)
or {EXIT_SIGTERM} (SIGTERM), its output so far whole and in order, with one message on stderr
saying how far it got and the --skip that carries it on."""


@app.command(help=_ASSESS_HELP)
def assess(
    case: CaseArgument,
    pack: PackOption,
    as_of: AsOfOption = None,
    jsonl: _JsonlOption = False,
    output: _OutputOption = OutputFormat.JSON,
    source: _FromOption = Source.JSON,
    mapping: _MappingOption = None,
    patient: _PatientOption = None,
    encoding: _EncodingOption = None,
    delimiter: _DelimiterOption = None,
    workers: _WorkersOption = None,
    destination: _DestinationOption = None,
    decision_log: _DecisionLogOption = None,
    log_case: LogCaseOption = False,
    log_mask: LogMaskOption = None,
    skip: _SkipOption = 0,
) -> None:
    """Assess one case (or a JSON Lines batch) and print the contract's assessment
    (`_ASSESS_HELP`, its help, says more)."""
    compiled = pack_or_exit(pack)
    when = parse_as_of(as_of)
    _check_skip(skip, _input_kind(case, source, jsonl, destination), case, destination)
    _check_dialect(encoding, delimiter, source)
    if decision_log is not None and (
        source is not Source.JSON or (jsonl and output is OutputFormat.TABLE)
    ):
        raise fail(EXIT_USAGE, "error: --decision-log records the contract's case JSON: "
                   "it is not for --from or --jsonl --format table")  # fmt: skip
    options = log_options(decision_log, log_case, log_mask)
    with open_decision_log(decision_log, options) as recorder:
        cores = workers or usable_cores()
        # The first case that matches decides; a decision log that cannot be opened is
        # reported before any of these usage errors.
        match _input_kind(case, source, jsonl, destination), output:
            case _Input.MAPPED, _:
                assess_mapped(case, compiled, when, source, mapping, patient, output,
                              destination, (encoding, delimiter))  # fmt: skip
            case _, OutputFormat.FHIR if jsonl:
                raise fail(EXIT_USAGE, "error: --format fhir is for one case, or with --from")
            case _Input.TABLE, _:
                assess_table_file(case, compiled, when, destination, cores, recorder, skip)
            case _Input.ONE, _ if destination is not None:
                raise fail(EXIT_USAGE, "error: --output is for batches: add --jsonl, or give a "
                           "`.parquet` or `.arrow` case table")  # fmt: skip
            case _Input.ONE, _:
                _print_one(case, compiled, when, output, recorder)
            case _Input.LINES, OutputFormat.TABLE:
                assess_table_lines(case, compiled, when, skip)
            case _Input.LINES, _:
                _print_lines(case, compiled, when, cores, destination, recorder, skip)


def _check_skip(skip: int, kind: _Input, case: str, destination: Path | None) -> None:
    """`--skip N`: a count of the batch's input lines (a usage error otherwise). A table of
    cases is read as lines too, unless it is assessed into a table, a block at a time."""
    if skip < 0:
        raise fail(EXIT_USAGE, f"error: --skip {skip}: the number of input lines to pass "
                   "over cannot be negative (0, the default, passes over none)")  # fmt: skip
    blocks = is_table(Path(case)) and destination is not None and is_table(destination)
    if skip and (kind in (_Input.MAPPED, _Input.ONE) or blocks):
        raise fail(EXIT_USAGE, "error: --skip passes over the first lines of a batch: it "
                   "needs --jsonl, and is not for --from or a table of cases assessed into "
                   "a table")  # fmt: skip


def _print_one(
    case: str, pack: Pack, when: datetime, output: OutputFormat, recorder: Recorder | None
) -> None:
    parsed, assessment = assess_one(case, pack, when, recorder)
    with writing():
        emit(assessment, output, indent=2, case=parsed, pack=pack)


def _print_lines(
    case: str,
    pack: Pack,
    when: datetime,
    workers: int,
    destination: Path | None,
    recorder: Recorder | None,
    skip: int,
) -> None:
    summary = assess_jsonl(case, pack, when, workers, destination, recorder, skip)
    if summary.invalid:
        raise fail(EXIT_CASE, f"error: {summary.invalid} invalid line(s); each has an error "
                   "record in its place in the output, and the others were assessed")  # fmt: skip


class ExplainFormat(StrEnum):
    """How `explain` prints the practitioner's view."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


@app.command()
def explain(
    case: CaseArgument,
    pack: PackOption,
    as_of: AsOfOption = None,
    output: Annotated[
        ExplainFormat,
        typer.Option("--format", "-f", help="`text` for the terminal, `markdown` for a case "
                     "note, `json` for a program."),
    ] = ExplainFormat.TEXT,
) -> None:  # fmt: skip
    """Explain the assessment in plain English: why the tier, each action, what is overdue."""
    loaded, parsed, assessment = assessed(case, pack, as_of)
    view = explain_assessment(assessment, parsed, loaded.compiled)
    with writing():
        if output is ExplainFormat.JSON:
            sys.stdout.write(json.dumps(view.as_dict(), indent=2, ensure_ascii=False) + "\n")
        elif output is ExplainFormat.MARKDOWN:
            sys.stdout.write(view.markdown())
        else:
            render_explanation(view, console())


@app.command()
def report(
    case: Annotated[str, typer.Argument(help="Case JSON file (or with --jsonl, one case a line).")],
    pack: PackOption,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The page to write (default `report.html`); with "
                     "--jsonl, the folder (default `reports`)."),
    ] = None,
    as_of: AsOfOption = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One case a line: one page a case, and an index.")
    ] = False,
) -> None:  # fmt: skip
    """Write a self-contained HTML page of the assessment: timeline, actions, working days."""
    if jsonl:
        _report_lines(case, pack_or_exit(pack), parse_as_of(as_of), output or Path("reports"))
        return
    loaded, parsed, assessment = assessed(case, pack, as_of)
    target = output or Path("report.html")
    page = render_report(assessment, parsed, loaded.compiled,
                         explain_assessment(assessment, parsed, loaded.compiled))  # fmt: skip
    _write_page(target, page)
    err.print(literal(f"wrote {target}"), markup=False)


def _report_lines(case: str, pack: Pack, when: datetime, folder: Path) -> None:
    """`report --jsonl`: a page a case and an index page, in `folder`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise output_failed(f"cannot make `{folder}`: {error.strerror}") from None
    written: list[tuple[str, str, str]] = []  # (case id, file name, summary)
    bad: list[str] = []
    used: set[str] = set()
    with case_lines(case) as lines:
        for number, raw_line in enumerate(lines, start=1):
            try:
                parsed = parse_case(line_text(raw_line))
                assessment = pack.assess(parsed, when)
            except CaseError as error:
                detail = (
                    "; ".join(i.render() for i in error.issues) or "empty line, expected a case"
                )
                bad.append(f"line {number}: {detail}")
                err.print(literal(f"line {number}: {detail}"), markup=False)
                continue
            name = _page_name(assessment.case_id, used)
            view = explain_assessment(assessment, parsed, pack.compiled)
            _write_page(folder / name, render_report(assessment, parsed, pack.compiled, view))
            written.append((assessment.case_id, name, view.summary))
    _write_page(folder / "index.html", _index_page(pack, written, bad))
    err.print(literal(f"wrote {len(written)} page(s) and index.html to {folder}"), markup=False)
    if bad:
        raise fail(EXIT_CASE, f"error: {len(bad)} invalid line(s); the others were reported")


def _index_page(pack: Pack, written: list[tuple[str, str, str]], bad: list[str]) -> str:
    """The index of a batch's pages, and the lines that got none."""
    index = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{len(written)} case reports</title></head><body>",
             f"<h1>{len(written)} case reports ({html.escape(pack.id)} "
             f"{html.escape(pack.version)})</h1><ul>"]  # fmt: skip
    index += [f'<li><a href="{html.escape(name)}">{html.escape(case_id)}</a>: '
              f"{html.escape(summary)}</li>" for case_id, name, summary in written]  # fmt: skip
    index.append("</ul>")
    if bad:
        index.append(f"<h2>{len(bad)} invalid line(s), not reported</h2><ul>")
        index += [f"<li>{html.escape(line)}</li>" for line in bad]
        index.append("</ul>")
    return "\n".join([*index, "</body></html>"]) + "\n"


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
        raise output_failed(f"cannot write `{path}`: {error.strerror}") from None

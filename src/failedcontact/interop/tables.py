"""A case system's table export (CSV or Parquet, a row a contact) to cases, through a mapping.

Rows are grouped by case id (cases in the order their first row appears), each row's codes
are mapped by the mapping file (failedcontact.mapping, `mapping: table`), local times are
read as UK local time, and every row that cannot be mapped is reported with its line number.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CaseError, CaseIssue, InputError, UsageError
from ..model.case import Case
from ..model.case_input import case_issues
from .mapped import Finding, FindingKind, MappedCase
from .mapping import load_mapping
from .mapping_table import TableMapping
from .table_rows import Gathered, case_key, plan_history, read_row

__all__ = ["map_rows", "read_csv", "read_parquet", "read_table"]


def map_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    mapping: TableMapping | str,
    *,
    last_lines: Mapping[str, int] | None = None,
) -> Iterator[MappedCase]:
    """Cases from (line number, row) pairs, in the order their first row appears.

    Without `last_lines` the cases come once every row has been read. With it (each case
    id's last line, from a first pass over the export) a case comes as soon as its last row
    and every case that began before it are read, so an export grouped by case is mapped in
    memory bounded by one case, and an ungrouped one still maps correctly.
    """
    compiled = _table_mapping(mapping)
    column = compiled.document.case_id
    open_cases: dict[str, Gathered] = {}
    order: deque[str] = deque()
    done: dict[str, MappedCase] = {}
    for line, row in rows:
        case_id, problem = case_key(row, column)
        key = case_id if case_id is not None else f"\0line {line}"
        gathered = open_cases.get(key)
        if gathered is None:
            gathered = open_cases[key] = Gathered(line, {"case_id": case_id} if case_id else {})
            order.append(key)
        if problem is not None:
            gathered.error(line, column.shown, problem)
        else:
            read_row(compiled, line, row, gathered)
        if last_lines is not None and (case_id is None or last_lines.get(case_id) == line):
            done[key] = _finish(open_cases.pop(key))
            while order and order[0] in done:
                yield done.pop(order.popleft())
    for key in order:
        yield done.pop(key) if key in done else _finish(open_cases.pop(key))


def read_table(path: str | Path, mapping: TableMapping | str) -> Iterator[MappedCase]:
    """Cases from a `.csv` or `.parquet` export (a CSV as the mapping's `csv` says)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return read_parquet(path, mapping)
    return read_csv(path, mapping)


def read_csv(
    path: str | Path,
    mapping: TableMapping | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Iterator[MappedCase]:
    """Cases from a CSV export with a header row (line 1), in the mapping's `csv` encoding
    and delimiter (UTF-8, a BOM allowed, and commas) unless told otherwise. The file is read
    twice (first for where each case ends), so cases come one by one in bounded memory."""
    compiled = _table_mapping(mapping)
    column = compiled.document.case_id
    encoding = encoding or compiled.document.csv.encoding
    delimiter = delimiter or compiled.document.csv.delimiter
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        _require_columns(compiled, reader.fieldnames or [], str(path))
        last = {key: reader.line_num for row in reader if (key := case_key(row, column)[0])}
    return map_rows(_csv_rows(path, encoding, delimiter), compiled, last_lines=last)


def _csv_rows(path: str | Path, encoding: str, delimiter: str) -> Iterator[tuple[int, Any]]:
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            yield reader.line_num, row


def read_parquet(path: str | Path, mapping: TableMapping | str) -> Iterator[MappedCase]:
    """Cases from a Parquet export (needs pyarrow); row 1 is the first data row, numbered
    from 2 so the numbers match the same export written as CSV with a header. Read a batch
    at a time, twice (first the case ids alone), so cases come one by one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    compiled = _table_mapping(mapping)
    column = compiled.document.case_id
    try:
        names = pq.read_schema(path).names
        _require_columns(compiled, names, str(path))
        last = {}
        for line, row in _parquet_rows(path, list(column.names)):
            key = case_key(row, column)[0]
            if key is not None:
                last[key] = line
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"cannot read export `{path}`: {error}") from None
    return map_rows(_parquet_rows(path), compiled, last_lines=last)


def _parquet_rows(
    path: str | Path, columns: list[str] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows a batch at a time (all columns, or `columns`), numbered from line 2."""
    import pyarrow.parquet as pq

    line = 2
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096, columns=columns):
        for row in batch.to_pylist():
            yield line, row
            line += 1


def _table_mapping(mapping: TableMapping | str) -> TableMapping:
    loaded = mapping if isinstance(mapping, TableMapping) else load_mapping(mapping)
    if not isinstance(loaded, TableMapping):
        raise UsageError(f"mapping `{loaded.id}` is a FHIR mapping, not a table mapping")
    return loaded


def _require_columns(mapping: TableMapping, columns: Sequence[str], file: str) -> None:
    document = mapping.document
    sources = [document.case_id, document.time, document.event]
    sources += [*document.event_fields.values(), *document.case_fields.values()]
    wanted = [name for column in sources for name in column.names]
    missing = [c for c in dict.fromkeys(wanted) if c not in columns]
    if missing:
        named = ", ".join(f"`{c}`" for c in missing)
        present = ", ".join(f"`{c}`" for c in columns)
        raise CaseError([CaseIssue(file, f"the export has no column {named} (it has {present})")])


def _finish(gathered: Gathered) -> MappedCase:
    plan_history(gathered)
    notes = tuple(gathered.notes)
    if gathered.errors:
        return MappedCase(None, (), tuple(gathered.errors), notes, gathered.case.get("case_id"))
    gathered.events.sort(key=lambda item: (item[0], item[1]))
    sources = tuple(source for *_, source in gathered.events)
    document = dict(gathered.case)
    document["events"] = [{"at": w.isoformat(), **f} for w, _, f, _ in gathered.events]
    try:
        case = Case.model_validate(document)
        return MappedCase(case, sources, (), notes, document["case_id"])
    except ValidationError as error:
        findings = []
        for issue in case_issues(error):
            where = f"line {gathered.first_line}"
            if issue.path.startswith("events["):
                where = sources[int(issue.path[7:].split("]")[0])]
            findings.append(
                Finding(
                    FindingKind.ERROR,
                    where,
                    f"{where}: {issue.path}",
                    f"the mapped case is invalid: {issue.message}",
                )
            )
        return MappedCase(None, (), tuple(findings), notes, document["case_id"])

"""A case system's table export (CSV or Parquet, a row a contact) to cases, through a mapping.

Rows are grouped by case id (cases in the order their first row appears), each row's codes
are mapped by the mapping file (failedcontact.mapping, `mapping: table`), local times are
read as UK local time, and every row that cannot be mapped is reported with its line number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CaseError, CaseIssue, InputError, UsageError
from ..model.case import Case, as_uk_instant
from ..model.case_input import case_issues
from .mapped import Finding, FindingKind, MappedCase
from .mapping import Column, TableMapping, load_mapping

__all__ = ["map_rows", "read_csv", "read_parquet", "read_table"]


@dataclass
class _Gathered:
    first_line: int
    case: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, tuple[Any, int]] = field(default_factory=dict)
    events: list[tuple[datetime, int, dict[str, Any], str]] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)


def map_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]], mapping: TableMapping | str
) -> Iterator[MappedCase]:
    """Cases from (line number, row) pairs; the cases come once every row has been read."""
    compiled = _table_mapping(mapping)
    document = compiled.document
    cases: dict[str, _Gathered] = {}
    for line, row in rows:
        raw_id = _cell(row, document.case_id.column)
        if raw_id is None:
            gathered = cases.setdefault(f"\0line {line}", _Gathered(line))
            _error(gathered, line, document.case_id.column, "no case id")
            continue
        case_id = str(raw_id)
        gathered = cases.setdefault(case_id, _Gathered(line, {"case_id": case_id}))
        _read_row(compiled, line, row, gathered)
    for gathered in cases.values():
        yield _finish(gathered)


def read_table(path: str | Path, mapping: TableMapping | str) -> Iterator[MappedCase]:
    """Cases from a `.csv` or `.parquet` export."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return read_parquet(path, mapping)
    return read_csv(path, mapping)


def read_csv(path: str | Path, mapping: TableMapping | str) -> Iterator[MappedCase]:
    """Cases from a CSV export with a header row (UTF-8, a BOM allowed); line 1 is the header."""
    compiled = _table_mapping(mapping)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        _require_columns(compiled, reader.fieldnames or [], str(path))
        rows = [(reader.line_num, row) for row in reader]
    return map_rows(rows, compiled)


def read_parquet(path: str | Path, mapping: TableMapping | str) -> Iterator[MappedCase]:
    """Cases from a Parquet export (needs pyarrow); row 1 is the first data row, numbered
    from 2 so the numbers match the same export written as CSV with a header."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    compiled = _table_mapping(mapping)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"cannot read export `{path}`: {error}") from None
    _require_columns(compiled, table.column_names, str(path))
    rows = [(index + 2, row) for index, row in enumerate(table.to_pylist())]
    return map_rows(rows, compiled)


def _table_mapping(mapping: TableMapping | str) -> TableMapping:
    loaded = mapping if isinstance(mapping, TableMapping) else load_mapping(mapping)
    if not isinstance(loaded, TableMapping):
        raise UsageError(f"mapping `{loaded.id}` is a FHIR mapping, not a table mapping")
    return loaded


def _require_columns(mapping: TableMapping, columns: Sequence[str], file: str) -> None:
    document = mapping.document
    wanted = [document.case_id.column, document.time.column, document.event.column]
    wanted += [c.column for c in document.event_fields.values()]
    wanted += [c.column for c in document.case_fields.values()]
    missing = [c for c in dict.fromkeys(wanted) if c not in columns]
    if missing:
        named = ", ".join(f"`{c}`" for c in missing)
        present = ", ".join(f"`{c}`" for c in columns)
        raise CaseError([CaseIssue(file, f"the export has no column {named} (it has {present})")])


def _cell(row: Mapping[str, Any], column: str) -> Any:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value.strip() if isinstance(value, str) else value


def _error(gathered: _Gathered, line: int, column: str, message: str) -> None:
    gathered.errors.append(
        Finding(FindingKind.ERROR, f"line {line}", f"line {line}, column `{column}`", message)
    )


def _coded(column: Column, value: Any) -> tuple[bool, Any]:
    """Map a cell through the column's values (codes matched as text); (found, value)."""
    if column.values is None:
        return True, value
    key = str(value)
    if key in column.values:
        return True, column.values[key]
    return False, None


def _read_row(
    mapping: TableMapping, line: int, row: Mapping[str, Any], gathered: _Gathered
) -> None:
    document = mapping.document
    bad = len(gathered.errors)
    for name, column in document.case_fields.items():
        value = _cell(row, column.column)
        if value is None:
            continue
        value = _case_value(gathered, line, name, column, value)
        if value is None:
            continue
        held = gathered.seen.get(name)
        if name == "flags":
            gathered.case["flags"] = sorted(set(gathered.case.get("flags", [])) | set(value))
        elif held is not None and held[0] != value:
            _error(
                gathered,
                line,
                column.column,
                f"`{name}` is `{value}` here but `{held[0]}` on line {held[1]} of the same case",
            )
        else:
            gathered.seen[name] = (value, line)
            part, _, key = name.rpartition(".")
            (gathered.case.setdefault(part, {}) if part else gathered.case)[key] = value
    code = _cell(row, document.event.column)
    if code is None:
        return  # a row that only carries facts about the case
    found, template = _coded(document.event, code)
    if not found:
        known = ", ".join(f"`{c}`" for c in document.event.values or {})
        _error(
            gathered,
            line,
            document.event.column,
            f"unknown code `{code}` (the mapping knows {known})",
        )
        return
    if template is None:
        return  # a code the mapping says is not an event
    fields = dict(template)
    for name, column in document.event_fields.items():
        value = _cell(row, column.column)
        if value is None:
            continue
        found, mapped = _coded(column, value)
        if not found:
            known = ", ".join(f"`{c}`" for c in column.values or {})
            _error(
                gathered, line, column.column, f"unknown code `{value}` (the mapping knows {known})"
            )
            continue
        fields[name] = mapped
    when = _time(gathered, line, document.time, _cell(row, document.time.column))
    if when is not None and len(gathered.errors) == bad:
        gathered.events.append((when, len(gathered.events), fields, f"line {line}"))


def _case_value(gathered: _Gathered, line: int, name: str, column: Column, value: Any) -> Any:
    if name == "flags":
        parts = str(value).split(column.split) if column.split else [str(value)]
        return [p.strip() for p in parts if p.strip()]
    if column.format and isinstance(value, str):
        try:
            return datetime.strptime(value, column.format).date().isoformat()
        except ValueError:
            _error(gathered, line, column.column, f"`{value}` does not match `{column.format}`")
            return None
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    found, mapped = _coded(column, value)
    if not found:
        known = ", ".join(f"`{c}`" for c in column.values or {})
        _error(gathered, line, column.column, f"unknown code `{value}` (the mapping knows {known})")
        return None
    return mapped


def _time(gathered: _Gathered, line: int, column: Column, value: Any) -> datetime | None:
    if value is None:
        _error(gathered, line, column.column, "no time")
        return None
    try:
        if isinstance(value, datetime):
            parsed = value
        elif column.format:
            parsed = datetime.strptime(str(value), column.format)
        else:
            parsed = datetime.fromisoformat(str(value))
        return as_uk_instant(parsed)
    except ValueError as error:
        expected = f"`{column.format}`" if column.format else "ISO 8601"
        _error(gathered, line, column.column, f"`{value}` is not a time ({expected}): {error}")
        return None


def _finish(gathered: _Gathered) -> MappedCase:
    if gathered.errors:
        return MappedCase(None, (), tuple(gathered.errors), (), gathered.case.get("case_id"))
    gathered.events.sort(key=lambda item: (item[0], item[1]))
    sources = tuple(source for *_, source in gathered.events)
    document = dict(gathered.case)
    document["events"] = [{"at": w.isoformat(), **f} for w, _, f, _ in gathered.events]
    try:
        return MappedCase(Case.model_validate(document), sources, (), (), document["case_id"])
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
        return MappedCase(None, (), tuple(findings), (), document["case_id"])

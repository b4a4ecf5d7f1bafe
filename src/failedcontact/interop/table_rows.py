"""One row of a case system's export, read through a table mapping, for `interop.tables`.

A cell is matched to the mapping's codes ignoring case and spaces (`*` matches any other
code); several columns can be read together (`Y|N`), a constant or a default stands in for
a column, one cell may hold several values (`AUT;LD`), and a plan that changes from row to
row becomes `plan_change` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..model.case import as_uk_instant
from .mapped import Finding, FindingKind
from .mapping_table import Column, TableMapping, fold
from .mapping_values import EVENT_MODELS
from .nhs_number import nhs_number_problem, normal_nhs_number

__all__ = ["Gathered", "case_key", "plan_history", "read_row"]

_PLAN = "child.plan"


@dataclass
class Gathered:
    """What a case's rows have said so far."""

    first_line: int
    case: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, tuple[Any, int]] = field(default_factory=dict)
    events: list[tuple[datetime, int, dict[str, Any], str]] = field(default_factory=list)
    plans: list[tuple[datetime, int, str]] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)

    def error(self, line: int, column: str, message: str) -> None:
        where = f"line {line}, column `{column}`"
        self.errors.append(Finding(FindingKind.ERROR, f"line {line}", where, message))

    def note(self, line: int, column: str, message: str) -> None:
        where = f"line {line}, column `{column}`"
        self.notes.append(Finding(FindingKind.NOTE, f"line {line}", where, message))


def case_key(row: Mapping[str, Any], column: Column) -> tuple[str | None, str | None]:
    """A row's case id as text and why it is not one: (id, None) or (None, problem)."""
    value = _cell(row, column.column or "") if column.column else column.value
    if value is None:
        return None, "no case id"
    text = str(value)
    if column.nhs_number:
        text = normal_nhs_number(text)
        problem = nhs_number_problem(text)
        if problem:
            return None, f"`{value}`: {problem}"
    return text, None


def _cell(row: Mapping[str, Any], column: str) -> Any:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value.strip() if isinstance(value, str) else value


def _raw(row: Mapping[str, Any], column: Column) -> Any:
    """The cell (cells joined with `|`), the constant, or the default; None when blank."""
    if column.value is not None:
        return column.value
    if column.columns is not None:
        cells = [_cell(row, name) for name in column.columns]
        return None if all(c is None for c in cells) else "|".join(str(c or "") for c in cells)
    return _cell(row, column.column or "")


_FOLDED: dict[int, tuple[Column, dict[str, str]]] = {}


def coded(column: Column, value: Any) -> tuple[bool, Any]:
    """A cell through the column's codes: exact, then ignoring case and spaces, then with
    `*` parts, then `*` alone; (found, value)."""
    if column.values is None or column.value is not None:
        return True, value
    key = str(value)
    if key in column.values:
        return True, column.values[key]
    held = _FOLDED.get(id(column))
    if held is None or held[0] is not column:
        held = _FOLDED[id(column)] = (column, {fold(code): code for code in column.values})
    folded = fold(key)
    if folded in held[1]:
        return True, column.values[held[1][folded]]
    parts = folded.split("|")
    for code, pattern in held[1].items():
        wanted = code.split("|")
        if (
            "*" in wanted
            and len(wanted) == len(parts) > 1
            and all(w in ("*", p) for w, p in zip(wanted, parts, strict=True))
        ):
            return True, column.values[pattern]
    if "*" in column.values:
        return True, column.values["*"]
    return False, None


def _unknown(column: Column, value: Any) -> str:
    known = ", ".join(f"`{c}`" for c in column.values or {})
    return f"unknown code `{value}` (the mapping knows {known})"


def read_row(mapping: TableMapping, line: int, row: Mapping[str, Any], gathered: Gathered) -> None:
    """Read one row into its case: case fields, then the event it records, if any."""
    document = mapping.document
    bad = len(gathered.errors)
    code = _raw(row, document.event)
    found, template = coded(document.event, code) if code is not None else (True, None)
    when = None
    if template is not None or _raw(row, document.time) is not None:
        when = _time(gathered, line, document.time, row)
    for name, column in document.case_fields.items():
        _case_field(gathered, line, row, name, column, when)
    if not found:
        gathered.error(line, document.event.shown, _unknown(document.event, code))
        return
    if template is None:
        if code is not None and str(code) not in (document.event.values or {}):
            gathered.note(line, document.event.shown, f"`{code}` is not an event (`*`)")
        return  # a row that only carries facts about the case
    fields = dict(template)
    for name, column in document.event_fields.items():
        _event_field(gathered, line, row, fields, name, column)
    if when is not None and len(gathered.errors) == bad:
        gathered.events.append((when, len(gathered.events), fields, f"line {line}"))


def _event_field(
    gathered: Gathered,
    line: int,
    row: Mapping[str, Any],
    fields: dict[str, Any],
    name: str,
    column: Column,
) -> None:
    value = _raw(row, column)
    event_type = str(fields.get("type"))
    only, _, name = name.rpartition(".")  # `appointment.outcome`: for that type alone
    types = (
        [only]
        if only
        else column.types or [t for t in EVENT_MODELS if name in EVENT_MODELS[t].model_fields]
    )
    if event_type not in types:
        if value is not None and column.value is None and column.default is None:
            gathered.note(line, column.shown, f"`{name}` is not read for a `{event_type}` row")
        return
    if value is None:
        if column.default is not None:
            fields[name] = column.default
        return
    found, mapped = coded(column, value)
    if not found:
        gathered.error(line, column.shown, _unknown(column, value))
        return
    fields[name] = mapped


def _case_field(
    gathered: Gathered,
    line: int,
    row: Mapping[str, Any],
    name: str,
    column: Column,
    when: datetime | None,
) -> None:
    raw = _raw(row, column)
    value = column.default if raw is None else _case_value(gathered, line, name, column, raw)
    if value is None:
        return
    if name == "flags":
        flags = [value] if isinstance(value, str) else list(value)
        gathered.case["flags"] = sorted(set(gathered.case.get("flags", [])) | set(flags))
        return
    if name == _PLAN and when is not None and raw is not None:
        gathered.plans.append((when, line, str(value)))
        return
    held = gathered.seen.get(name)
    if held is not None and held[0] != value:
        gathered.error(
            line,
            column.shown,
            f"`{name}` is `{value}` here but `{held[0]}` on line {held[1]} of the same case",
        )
        return
    gathered.seen[name] = (value, line)
    part, _, key = name.rpartition(".")
    (gathered.case.setdefault(part, {}) if part else gathered.case)[key] = value


def _case_value(gathered: Gathered, line: int, name: str, column: Column, value: Any) -> Any:
    if column.format and isinstance(value, str):
        parsed = _parse(value, column.format)
        if parsed is None:
            gathered.error(line, column.shown, f"`{value}` does not match {_formats(column)}")
        return None if parsed is None else parsed.date().isoformat()
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    parts = str(value).split(column.split) if column.split else [value]
    mapped = []
    for part in (p.strip() if isinstance(p, str) else p for p in parts):
        if part == "":
            continue
        found, result = coded(column, part)
        if not found:
            gathered.error(line, column.shown, _unknown(column, part))
            return None
        mapped.append(result)
    return _combined(gathered, line, name, column, mapped)


def _combined(gathered: Gathered, line: int, name: str, column: Column, parts: list[Any]) -> Any:
    """Several values of one cell as one: a list of flags, any true, or the one value."""
    if not column.split:
        return parts[0] if parts else None
    if name == "flags":
        return [p for p in parts if p is not None]
    if parts and all(isinstance(p, bool) for p in parts):
        return any(parts)
    distinct = list(dict.fromkeys(parts))
    if len(distinct) > 1:
        shown = ", ".join(f"`{p}`" for p in distinct)
        gathered.error(line, column.shown, f"one cell gives `{name}` several values: {shown}")
        return None
    return distinct[0] if distinct else None


def _formats(column: Column) -> str:
    formats = [column.format] if isinstance(column.format, str) else list(column.format or ())
    return " or ".join(f"`{f}`" for f in formats) if formats else "ISO 8601"


def _parse(value: str, formats: str | tuple[str, ...]) -> datetime | None:
    for pattern in [formats] if isinstance(formats, str) else formats:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def _time(gathered: Gathered, line: int, column: Column, row: Mapping[str, Any]) -> datetime | None:
    value = _raw(row, column)
    if value is None:
        gathered.error(line, column.shown, "no time")
        return None
    if column.time_column:
        clock = _cell(row, column.time_column)
        if clock is None:
            gathered.error(line, column.time_column, "no time of day")
            return None
        value = f"{value} {clock}"
    try:
        if isinstance(value, datetime):
            return as_uk_instant(value)
        parsed = _parse(str(value), column.format) if column.format else None
        if parsed is None:
            parsed = datetime.fromisoformat(str(value)) if not column.format else None
        if parsed is None:
            raise ValueError("no format matches")
        return as_uk_instant(parsed)
    except ValueError as error:
        message = f"`{value}` is not a time ({_formats(column)}): {error}"
        gathered.error(line, column.shown, message)
        return None


def plan_history(gathered: Gathered) -> None:
    """A plan that changes from row to row: `plan_change` events where it changes (the
    first plan too), and `child.plan` the latest."""
    if not gathered.plans:
        return
    gathered.plans.sort()
    changes: list[tuple[datetime, int, str]] = []
    for when, line, plan in gathered.plans:
        if not changes or changes[-1][2] != plan:
            changes.append((when, line, plan))
    held = gathered.seen.get(_PLAN)
    if held is not None and (len(changes) > 1 or held[0] != changes[0][2]):
        message = f"`child.plan` is `{held[0]}` on a row with no time, and changes over time"
        gathered.error(held[1], _PLAN, message)
        return
    gathered.case.setdefault("child", {})["plan"] = changes[-1][2]
    if len(changes) > 1:
        for when, line, plan in changes:
            event = {"type": "plan_change", "plan": plan}
            gathered.events.append((when, len(gathered.events), event, f"line {line}"))

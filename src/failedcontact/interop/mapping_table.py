"""Table mappings: how a case system's export (CSV or Parquet, a row a contact) is read.

The document a `mapping: table` file holds and its checks against the contract, for
`interop.mapping` (which loads both kinds) and `interop.tables` (which reads exports).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..codes import Code
from ..errors import Diagnostic, did_you_mean
from ..model.vocabulary import EventType
from ..source.reader import Located
from .mapping_values import (
    EVENT_MODELS,
    case_field_problem,
    case_fields,
    event_field_problem,
    event_template_problems,
)

__all__ = ["Column", "CsvDialect", "TableMapping", "TableMappingDocument", "compile_table"]

_DOC = ConfigDict(frozen=True, extra="forbid")
Text = Annotated[str, Field(min_length=1)]
Report = Callable[..., None]


class Column(BaseModel):
    """Where a value comes from: a column of the export (optionally through a table of its
    codes), several columns read together, or a constant."""

    model_config = _DOC
    column: Text | None = None
    columns: tuple[Text, ...] | None = Field(
        None,
        min_length=2,
        description="Several columns read together: `values` keys join their cells with `|` "
        "(`Y|N`), and `*` in a part matches any cell, a blank one too.",
    )
    value: Any = Field(None, description="A constant: every row has this value.")
    default: Any = Field(None, description="The value when the cell is blank.")
    values: dict[str, Any] | None = Field(
        None,
        description="Codes to values, matched ignoring case and surrounding spaces; `*` "
        "matches any code not listed.",
    )
    format: Text | tuple[Text, ...] | None = Field(
        None, description="strptime format (or formats, tried in order) for a date or time."
    )
    time_column: Text | None = Field(
        None,
        description="`time` only: the column with the time of day when `column` has the date.",
    )
    split: Text | None = Field(None, description="Separator for several values in one cell.")
    types: tuple[EventType, ...] | None = Field(
        None, description="`event_fields` only: the event types the field is read for."
    )
    nhs_number: bool = Field(
        False, description="`case_id` only: an NHS number: spaces removed, check digit checked."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Column:
        given = [self.column is not None, self.columns is not None, self.value is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of `column`, `columns`, `value`")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """The export columns this reads."""
        named = (self.column,) if self.column else self.columns or ()
        return (*named, *((self.time_column,) if self.time_column else ()))

    @property
    def shown(self) -> str:
        """How an error names where the value came from."""
        return "+".join(self.names) or "(constant)"


class CsvDialect(BaseModel):
    """How a CSV export is written, when it is not UTF-8 with commas."""

    model_config = _DOC
    encoding: Text = Field("utf-8-sig", description="A Python codec: `cp1252`, `latin-1`.")
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","

    @model_validator(mode="after")
    def _known_codec(self) -> CsvDialect:
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding `{self.encoding}`") from None
        return self


class TableMappingDocument(BaseModel):
    """A case-system table export mapping, as written in YAML."""

    model_config = _DOC
    mapping: Literal["table"]
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    version: Text
    title: Text
    source: Text = Field(description="Where the export's codes are defined.")
    csv: CsvDialect = CsvDialect()
    case_id: Column
    time: Column
    event: Column
    event_fields: dict[str, Column] = Field(default_factory=dict)
    case_fields: dict[str, Column] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableMapping:
    """A checked table mapping."""

    document: TableMappingDocument
    file: str

    @property
    def id(self) -> str:
        """The mapping's id."""
        return self.document.id


def compile_table(
    source: Located, document: TableMappingDocument
) -> TableMapping | list[Diagnostic]:
    """The checked mapping, or every problem found in it."""
    problems: list[Diagnostic] = []

    def report(path: tuple[str | int, ...], message: str, help_line: str | None = None) -> None:
        problems.append(source.diagnostic(Code.MAPPING_VALUE, message, path, help_line))

    _check_event(document, report)
    for field, column in document.event_fields.items():
        _check_event_field(field, column, report)
    for field, column in document.case_fields.items():
        _check_case_field(field, column, report)
    _check_codes("event", document.event, report)
    for name in ("case_id", "time"):
        if getattr(document, name).columns is not None:
            report((name, "columns"), f"`{name}` comes from one column")
    if document.time.time_column and document.time.column is None:
        report(("time", "time_column"), "`time_column` goes with the date's `column`")
    return problems or TableMapping(document, source.file)


def _check_event(document: TableMappingDocument, report: Report) -> None:
    if not document.event.values:
        report(
            ("event",),
            "the event column needs `values`: each code's event type",
            "for example `values: {HV: {type: home_visit}}`",
        )
    for code, template in (document.event.values or {}).items():
        if template is None:
            continue  # a code that is deliberately not an event (a case-only row)
        if not isinstance(template, dict):
            report(
                ("event", "values", code),
                "each code maps to an event such as "
                "`{type: home_visit}`, or to null for a row that is not an event",
            )
            continue
        for path, message, help_line in event_template_problems(template):
            report(("event", "values", code, *path), message, help_line)


def _check_event_field(field: str, column: Column, report: Report) -> None:
    where: tuple[str | int, ...] = ("event_fields", field)
    only, _, field = field.rpartition(".")  # `appointment.outcome`: for that type alone
    if field in ("at", "type"):
        report(where, f"`{field}` comes from `time` and `event`")
        return
    if only and only not in EVENT_MODELS:
        report(where, f"unknown event type `{only}`", did_you_mean(only, EVENT_MODELS))
        return
    types = [only] if only else [str(t) for t in column.types or EVENT_MODELS]
    fits = [t for t in types if field in EVENT_MODELS[t].model_fields]
    if not fits:
        fields = sorted({f for t in types for f in EVENT_MODELS[t].model_fields} - {"at", "type"})
        report(where, f"`{field}` is not a field of these events", did_you_mean(field, fields))
        return
    for key, value in _given(column):
        problem = event_field_problem(fits, field, value)
        if problem:
            report((*where, *key), *problem)
    _check_codes(where, column, report)


def _check_case_field(field: str, column: Column, report: Report) -> None:
    where: tuple[str | int, ...] = ("case_fields", field)
    if field not in case_fields():
        report(where, f"unknown case field `{field}`", did_you_mean(field, case_fields()))
        return
    if column.types is not None:
        report((*where, "types"), "`types` goes with `event_fields`")
    for key, value in _given(column):
        problem = case_field_problem(field, value)
        if problem:
            report((*where, *key), *problem)
    _check_codes(where, column, report)


def _given(column: Column) -> list[tuple[tuple[str, ...], Any]]:
    """Each value the mapping itself writes for a column: its codes' values, default, value."""
    given: list[tuple[tuple[str, ...], Any]] = [
        (("values", code), value) for code, value in (column.values or {}).items()
    ]
    given += [((name,), getattr(column, name)) for name in ("default", "value")]
    return [(key, value) for key, value in given if value is not None]


def _check_codes(where: str | tuple[str | int, ...], column: Column, report: Report) -> None:
    """Codes are matched ignoring case and spaces: two that differ only so are one code."""
    path = (where,) if isinstance(where, str) else where
    seen: dict[str, str] = {}
    for code in column.values or {}:
        folded = fold(code)
        if folded in seen:
            report((*path, "values", code), f"`{code}` and `{seen[folded]}` are the same code")
        seen[folded] = code
    if column.columns is not None:
        for code in column.values or {}:
            if code != "*" and len(code.split("|")) != len(column.columns):
                message = f"`{code}` has {len(code.split('|'))} parts for {len(column.columns)} "
                report((*path, "values", code), message + "columns")


def fold(code: str) -> str:
    """A code as it is matched: case and surrounding spaces ignored."""
    return "|".join(" ".join(part.split()).casefold() for part in code.split("|"))

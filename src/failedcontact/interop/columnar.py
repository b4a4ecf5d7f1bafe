"""Cases and assessments as Arrow tables (Parquet, Arrow IPC): one row a case in and out.

Needs the optional `columnar` extra (pyarrow). The table layouts are in docs/columnar.md.
A case row has the case JSON's fields as columns (`events` a list of structs); a missing
or null value is the same as leaving the field out. An assessment row has the contract's
fields as columns, `document` (the assessment's JSON text, byte for byte what
`assess --jsonl` writes) and `errors` (for a row that is not a valid case: every other
column null). No row is ever dropped: the output has a row for every input row, in order.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo
from itertools import chain, pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import json as pa_json

from ..engine.loader import Pack
from ..errors import InputError
from ..runs.batch import BlockFormat, assess_line

_CONTACT = pa.struct([("name", pa.string()), ("phone", pa.string())])
_ACTION = pa.struct(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("category", pa.string()),
        ("status", pa.string()),
        ("due", pa.string()),
        ("recurring", pa.bool_()),
        ("owner", pa.string()),
        ("citation", pa.string()),
        ("trigger_event", pa.int32()),
        ("trigger_at", pa.string()),
        ("contacts", pa.list_(_CONTACT)),
    ]
)
_PATTERN = pa.struct(
    [("id", pa.string()), ("title", pa.string()), ("events", pa.list_(pa.int32()))]
)
_ERROR = pa.struct([("path", pa.string()), ("message", pa.string())])
_UNMET = pa.list_(pa.struct([("id", pa.string())]))

ASSESSMENT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64(), nullable=False),
        ("case_id", pa.string()),
        ("contract", pa.string()),
        ("as_of", pa.string()),
        ("pack_id", pa.string()),
        ("pack_version", pa.string()),
        ("pack_digest", pa.string()),
        ("risk_tier", pa.string()),
        ("risk_reasons", pa.list_(pa.string())),
        ("failed_contacts", pa.int32()),
        ("last_seen", pa.string()),
        ("actions", pa.list_(_ACTION)),
        ("patterns", pa.list_(_PATTERN)),
        ("closure_allowed", pa.bool_()),
        ("closure_unmet", pa.list_(pa.string())),
        ("document", pa.string()),
        ("errors", pa.list_(_ERROR)),
    ]
)
"""One row a case: the contract's fields, the whole document, or the errors of a bad row."""


_NESTED = (dict, list)


def _plain(value: Any) -> Any:
    """A value `to_pylist` gave, as the case JSON would have it: nulls left out of objects."""
    if type(value) is dict:
        return {k: (_plain(v) if type(v) in _NESTED else v) for k, v in value.items()
                if v is not None}  # fmt: skip
    if type(value) is list:
        return [_plain(v) if type(v) in _NESTED else v for v in value]
    return value


def _python_values(array: pa.Array) -> list[Any]:
    """Each element of `array` as `_plain(array.to_pylist())` has it, built a column at a time.

    Arrow makes a Python object per element slowly for structs and times; here a struct's
    rows are zipped from its fields' lists, a list's from its values' list, and times are
    added to the epoch. Any other type takes `to_pylist`. Only nanosecond times, which
    `to_pylist` cannot give as Python times, and times past year 9999, on which it fails,
    come out differently (see `_times`).
    """
    kind = array.type
    if pa.types.is_struct(kind):
        names = [kind.field(i).name for i in range(kind.num_fields)]
        if len(set(names)) == len(names):
            return _struct_rows(array, names)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _list_rows(array)
    elif pa.types.is_timestamp(kind):
        zone = _zone(kind.tz)
        if zone is not False:
            return _times(array, zone)
    values: list[Any] = array.to_pylist()
    return [_plain(value) for value in values] if pa.types.is_nested(kind) else values


# The contract's date fields. A table may hold them as timestamps at midnight (pandas keeps
# dates as datetime64): such a time is read as its date, as a JSON date would be written.
_DATE_FIELDS = frozenset({"date_of_birth", "until"})


def _dates(values: list[Any]) -> list[Any]:
    """Times at midnight as dates; any other time stays a time, which the case check rejects."""
    return [v.date() if type(v) is datetime and v.time() == _MIDNIGHT else v for v in values]


def _struct_rows(array: pa.StructArray, names: list[str]) -> list[Any]:
    fields = array.flatten()  # each field with the struct's own nulls applied
    columns = [
        _dates(_python_values(field))
        if name in _DATE_FIELDS and pa.types.is_timestamp(field.type)
        else _python_values(field)
        for name, field in zip(names, fields, strict=True)
    ]
    if columns:
        rows: list[Any] = [
            dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)
        ]
    else:
        rows = [{} for _ in range(len(array))]
    for name, field, column in zip(names, fields, columns, strict=True):
        if field.null_count:
            for row, value in zip(rows, column, strict=True):
                if value is None:
                    del row[name]
    if array.null_count:
        rows = [row if valid else None for row, valid in zip(rows, _validity(array), strict=True)]
    return rows


def _list_rows(array: pa.ListArray | pa.LargeListArray) -> list[Any]:
    offsets = array.offsets.to_pylist()  # of this slice; the values are the whole child's
    start = offsets[0]
    values = _python_values(array.values.slice(start, offsets[-1] - start))
    rows: list[Any] = [values[begin - start : end - start] for begin, end in pairwise(offsets)]
    if array.null_count:
        rows = [row if valid else None for row, valid in zip(rows, _validity(array), strict=True)]
    return rows


def _validity(array: pa.Array) -> list[bool]:
    return array.is_valid().to_pylist()  # type: ignore[no-any-return]


_MICROSECONDS = {"s": 1_000_000, "ms": 1000, "us": 1}
_MICROSECOND = timedelta(microseconds=1)
_MIDNIGHT = time(0)


def _zone(name: str | None) -> tzinfo | Literal[False] | None:
    """The time zone Arrow's `to_pylist` gives a timestamp type's times; False if unknown."""
    if name is None:
        return None
    if name in ("UTC", "+00:00"):
        return UTC  # Arrow gives `ZoneInfo("UTC")`: the same instants, written the same
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        pass
    try:
        return datetime.fromisoformat(f"2000-01-01T00:00{name}").tzinfo  # a fixed offset
    except ValueError:
        return False


def _times(array: pa.TimestampArray, zone: tzinfo | None) -> list[Any]:
    """Times in `zone`. Nanoseconds are cut to the microsecond below, as reading the same time
    as text does; a time past year 9999 stays Arrow's text, which the case check rejects."""
    unit = array.type.unit
    counts = array.cast(pa.int64()).to_pylist()
    if unit == "ns":
        counts = [None if n is None else n // 1000 for n in counts]
        step = _MICROSECOND
    else:
        step = timedelta(microseconds=_MICROSECONDS[unit])
    epoch = datetime(1970, 1, 1, tzinfo=None if zone is None else UTC)
    try:
        times = [None if n is None else epoch + step * n for n in counts]
        if zone is None or zone is UTC:
            return times
        return [None if t is None else t.astimezone(zone) for t in times]
    except OverflowError:
        texts = array.cast(pa.string()).to_pylist()
        return [
            _time_or_text(epoch, step, zone, n, text) for n, text in zip(counts, texts, strict=True)
        ]


def _time_or_text(
    epoch: datetime, step: timedelta, zone: tzinfo | None, count: int | None, text: str
) -> Any:
    if count is None:
        return None
    try:
        time = epoch + step * count
        return time if zone is None or zone is UTC else time.astimezone(zone)
    except OverflowError:
        return text


_SLICE = 1024  # rows turned into Python objects at a time: memory stays small


_BLOCK = 256  # case rows a worker turns into lines, assesses and turns into rows at a time


def case_blocks(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[int, bytes]]:
    """Case rows in blocks of `_BLOCK` (256) as Arrow IPC bytes (cheap to cut and send), for
    `batch.assess_blocks` with `BLOCKS`."""
    for batch in batches:
        for offset in range(0, batch.num_rows, _BLOCK):
            part = batch.slice(offset, _BLOCK)
            yield part.num_rows, _ipc(part)


def block_lines(block: bytes) -> list[bytes | None]:
    """A block from `case_blocks` as the case lines `case_lines` gives for its rows."""
    return list(case_lines(_from_ipc(block)))


def _ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()  # type: ignore[no-any-return]


def _from_ipc(block: bytes) -> list[pa.RecordBatch]:
    return list(pa.ipc.open_stream(pa.py_buffer(block)))


def assessment_block(first_row: int, lines: list[bytes]) -> bytes:
    """Output lines as assessment rows (`assessment_batch`) in Arrow IPC bytes."""
    return _ipc(assessment_batch(first_row, lines))


def _prepare() -> None:
    # Arrow's JSON reader and compute kernels take about 35 MB on their first use: made in the
    # parent before the workers fork, the workers share them (measured: 53 -> 21 MB each).
    assessment_block(0, [b'{"line": 1, "errors": [{"path": "", "message": "warming up"}]}'])


BLOCKS = BlockFormat(block_lines, assessment_block, _prepare)
"""Table to table: case rows in blocks (`case_blocks`), assessment rows out in blocks."""


def case_lines(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """Each case row as the JSON line `assess --jsonl` would read."""
    for batch in batches:
        for offset in range(0, batch.num_rows, _SLICE):
            for row in _python_values(batch.slice(offset, _SLICE).to_struct_array()):
                yield orjson.dumps(row)


# The assessment JSON as Arrow reads it (an error record's fields too), so that the rows are
# built by Arrow's own JSON reader in C++ rather than object by object in Python.
_DOCUMENT_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()),
        ("contract", pa.string()),
        ("as_of", pa.string()),
        ("pack", pa.struct([(name, pa.string()) for name in ("id", "version", "digest")])),
        ("risk_tier", pa.string()),
        ("risk_reasons", pa.list_(pa.string())),
        ("failed_contacts", pa.int32()),
        ("last_seen", pa.string()),
        (
            "actions",
            pa.list_(
                pa.struct(
                    [(f.name, f.type) for f in _ACTION if not f.name.startswith("trigger_")]
                    + [("trigger", pa.struct([("event", pa.int32()), ("at", pa.string())]))]
                )
            ),
        ),
        ("patterns", pa.list_(_PATTERN)),
        ("closure", pa.struct([("allowed", pa.bool_()), ("unmet", _UNMET)])),
        ("errors", pa.list_(_ERROR)),
    ]
)
_READ = pa_json.ParseOptions(explicit_schema=_DOCUMENT_SCHEMA, unexpected_field_behavior="ignore")


def assessment_batch(first_row: int, lines: list[bytes]) -> pa.RecordBatch:
    """Output lines of `assess --jsonl` (assessments and error records) as assessment rows,
    numbered from `first_row`."""
    lines = [line.rstrip(b"\n") for line in lines]
    data = b"\n".join([*map(_without_trace, lines), b""])
    read = pa_json.ReadOptions(use_threads=False, block_size=max(len(data), 1 << 16))
    table = pa_json.read_json(io.BytesIO(data), read_options=read, parse_options=_READ)
    doc = table.combine_chunks().to_batches()[0] if table.num_rows else None
    if doc is None or doc.num_rows != len(lines):
        raise ValueError(f"expected {len(lines)} assessment lines, read {table.num_rows}")
    column = doc.column
    pack, closure = column("pack"), column("closure")
    errors = column("errors")
    documents = pa.array(lines, pa.binary()).cast(pa.string())
    documents = pc.if_else(errors.is_null(), documents, pa.nulls(len(lines), pa.string()))
    unmet = pc.struct_field(closure, "unmet")
    columns = [
        pa.array(range(first_row, first_row + len(lines)), pa.int64()),
        column("case_id"),
        column("contract"),
        column("as_of"),
        pc.struct_field(pack, "id"),
        pc.struct_field(pack, "version"),
        pc.struct_field(pack, "digest"),
        column("risk_tier"),
        column("risk_reasons"),
        column("failed_contacts"),
        column("last_seen"),
        _flat_actions(column("actions")),
        column("patterns"),
        pc.struct_field(closure, "allowed"),
        pa.ListArray.from_arrays(unmet.offsets, unmet.values.field("id"), mask=unmet.is_null()),
        documents,
        errors,
    ]
    return pa.RecordBatch.from_arrays(columns, schema=ASSESSMENT_SCHEMA)


def _without_trace(line: bytes) -> bytes:
    """An assessment line without its trace, which no column but `document` has: the trace
    is the document's last field, and about 40% of its bytes that Arrow need not read. A key
    inside a string has its quotes escaped, so `,"trace":` is found only as a field."""
    cut = line.rfind(b',"trace":')
    return line[:cut] + b"}" if cut > 0 else line


def _flat_actions(actions: pa.ListArray) -> pa.ListArray:
    """Each action's `trigger` object as the row layout's `trigger_event` and `trigger_at`."""
    items = actions.values
    trigger = items.field("trigger")
    fields = [
        trigger.field("event") if name == "trigger_event"
        else trigger.field("at") if name == "trigger_at"
        else items.field(name)
        for name in (f.name for f in _ACTION)
    ]  # fmt: skip
    flat = pa.StructArray.from_arrays(fields, fields=list(_ACTION))
    return pa.ListArray.from_arrays(actions.offsets, flat, mask=actions.is_null())


def assess_lines(
    pack: Pack, lines: Iterable[bytes | None], as_of: datetime, rows_per_batch: int = 4096
) -> Iterator[pa.RecordBatch]:
    """Assess JSON case lines; yield assessment batches in input order, a row for every line."""
    outputs: list[bytes] = []
    first = 0
    for number, line in enumerate(lines):
        outputs.append(assess_line(pack, number + 1, line, as_of)[0])
        if len(outputs) >= rows_per_batch:
            yield assessment_batch(first, outputs)
            first += len(outputs)
            outputs = []
    if outputs:
        yield assessment_batch(first, outputs)


def assess_batches(
    pack: Pack, batches: Iterable[pa.RecordBatch], as_of: datetime
) -> Iterator[pa.RecordBatch]:
    """Assess every case row of Arrow record batches, a row out for every row in."""
    return assess_lines(pack, case_lines(batches), as_of)


def assess_table(
    pack: Pack, cases: pa.Table | Iterable[pa.RecordBatch], as_of: datetime
) -> pa.Table:
    """An Arrow table (or record batches) of cases to an Arrow table of assessments."""
    batches = cases.to_batches() if isinstance(cases, pa.Table) else cases
    return pa.Table.from_batches(list(assess_batches(pack, batches, as_of)), ASSESSMENT_SCHEMA)


def read_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """A Parquet or Arrow IPC file's record batches, read a batch at a time.

    The first batch is read at once, so a file that is not such a table raises `InputError`
    here, before any output is written; a fault found later while reading raises it too.
    """
    batches = _reading(_batches(path), path)
    first = next(batches, None)
    return batches if first is None else chain([first], batches)


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    if path.suffix == ".parquet":
        # Page by page through a 64 KB buffer, on this thread: reading a whole row group's
        # columns at once (Arrow's default) took 100 MB more over 2,000,000 rows in groups
        # of 65,536, and a 1 MB buffer 37 MB more than this one, at the same speed.
        source = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 16)
        yield from source.iter_batches(batch_size=_SLICE, use_threads=False)
        return
    with pa.memory_map(str(path)) as source:
        try:
            reader: Any = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)
        except pa.ArrowInvalid:  # the IPC stream format rather than the file format
            source.seek(0)
            yield from pa.ipc.open_stream(source)


def _reading(batches: Iterator[pa.RecordBatch], path: Path) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"cannot read case table `{path}`: {error}") from None


class TableWriter:
    """Assessment JSON lines in, as they come; Parquet or Arrow IPC batches out."""

    def __init__(self, path: Path, rows_per_batch: int = 1024, rows_per_group: int = 4096) -> None:
        self.rows = 0
        self._pending: list[bytes] = []
        self._batches: list[pa.RecordBatch] = []  # converted, waiting for a full row group
        self._size = rows_per_batch
        self._group = rows_per_group
        self._sink: Any = None
        if path.suffix == ".parquet":
            # Each row group's metadata stays in memory until the file closes, and a group
            # is built in memory: 4,096 rows, and no min/max of whole documents, balance
            # the two (measured over 2,000,000 rows: 246 MB, against 296 at 1,024 rows).
            keep = [f.name for f in ASSESSMENT_SCHEMA if f.name != "document"]
            self._writer: Any = pq.ParquetWriter(path, ASSESSMENT_SCHEMA, write_statistics=keep)
        else:
            self._sink = pa.OSFile(str(path), "wb")
            self._writer = pa.ipc.new_file(self._sink, ASSESSMENT_SCHEMA)

    def write_lines(self, data: bytes) -> None:
        """Whole output lines of `assess --jsonl`, each ending in its newline."""
        # JSON text escapes newlines inside strings, so each newline ends a line
        self._pending.extend(data.split(b"\n")[:-1])
        if len(self._pending) >= self._size:
            self._convert()
            self._flush_full_group()

    def write_block(self, block: bytes) -> None:
        """Assessment rows in Arrow IPC bytes (`assessment_block`), numbered from `rows`."""
        self._convert()
        for batch in _from_ipc(block):
            self._keep(batch)
        self._flush_full_group()

    def _keep(self, batch: pa.RecordBatch) -> None:
        self._batches.append(batch)
        self.rows += batch.num_rows

    def _flush_full_group(self) -> None:
        if sum(b.num_rows for b in self._batches) >= self._group:
            self._flush()

    def _convert(self) -> None:
        if self._pending:
            self._keep(assessment_batch(self.rows, self._pending))
            self._pending = []

    def _flush(self) -> None:
        self._convert()
        if self._batches:
            self._writer.write_table(pa.Table.from_batches(self._batches, ASSESSMENT_SCHEMA))
            self._batches = []

    def close(self) -> None:
        """Write what is left and close the file."""
        self._flush()
        self._writer.close()
        if self._sink is not None:
            self._sink.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Cases and assessments as Arrow tables (Parquet, Arrow IPC): one row a case in and out.

Needs the optional `columnar` extra (pyarrow). The table layouts are in docs/columnar.md.
A case row has the case JSON's fields as columns (`events` a list of structs); a missing
or null value is the same as leaving the field out. An assessment row has the contract's
fields as columns, `document` (the assessment's JSON text, byte for byte what
`assess --jsonl` writes) and `errors` (for a row that is not a valid case: every other
column null). No row is ever dropped: the output has a row for every input row, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .batch import assess_line
from .loader import Pack

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


def _plain(value: Any) -> Any:
    """A cell as the case JSON would have it: nulls left out, times as ISO 8601 text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()  # a naive time stays naive: UK local, as in JSON
    return value


_SLICE = 1024  # rows turned into Python objects at a time: memory stays small


def case_lines(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """Each case row as the JSON line `assess --jsonl` would read."""
    for batch in batches:
        for offset in range(0, batch.num_rows, _SLICE):
            for row in batch.slice(offset, _SLICE).to_pylist():
                yield orjson.dumps(_plain(row))


_ACTION_FIELDS = ("id", "title", "category", "status", "due", "recurring", "owner", "citation",
                  "contacts")  # fmt: skip


def _action(action: dict[str, Any]) -> dict[str, Any]:
    row = {key: action[key] for key in _ACTION_FIELDS}
    row["trigger_event"] = action["trigger"]["event"]
    row["trigger_at"] = action["trigger"]["at"]
    return row


def _row(number: int, output: bytes) -> dict[str, Any]:
    data = orjson.loads(output)
    if "contract" not in data:  # an error record
        return {"row": number, "case_id": data.get("case_id"), "errors": data["errors"]}
    closure = data["closure"]
    return {
        "row": number,
        "case_id": data["case_id"],
        "contract": data["contract"],
        "as_of": data["as_of"],
        "pack_id": data["pack"]["id"],
        "pack_version": data["pack"]["version"],
        "pack_digest": data["pack"]["digest"],
        "risk_tier": data["risk_tier"],
        "risk_reasons": data["risk_reasons"],
        "failed_contacts": data["failed_contacts"],
        "last_seen": data["last_seen"],
        "actions": [_action(a) for a in data["actions"]],
        "patterns": data["patterns"],
        "closure_allowed": None if closure is None else closure["allowed"],
        "closure_unmet": None if closure is None else [u["id"] for u in closure["unmet"]],
        "document": output.decode("utf-8"),
    }


def assess_lines(
    pack: Pack, lines: Iterable[bytes | None], as_of: datetime, rows_per_batch: int = 4096
) -> Iterator[pa.RecordBatch]:
    """Assess JSON case lines; yield assessment batches in input order, a row for every line."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines):
        output, _, _ = assess_line(pack, number + 1, line, as_of)
        rows.append(_row(number, output))
        if len(rows) >= rows_per_batch:
            yield pa.RecordBatch.from_pylist(rows, schema=ASSESSMENT_SCHEMA)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=ASSESSMENT_SCHEMA)


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
    """A Parquet or Arrow IPC file's record batches, read a batch at a time."""
    if path.suffix == ".parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=_SLICE)
        return
    with pa.memory_map(str(path)) as source:
        try:
            reader: Any = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)
        except pa.ArrowInvalid:  # the IPC stream format rather than the file format
            source.seek(0)
            yield from pa.ipc.open_stream(source)


class TableWriter:
    """Assessment JSON lines in, as they come; Parquet or Arrow IPC batches out."""

    def __init__(self, path: Path, rows_per_batch: int = 1024) -> None:
        self.rows = 0
        self.invalid = 0
        self._pending: list[dict[str, Any]] = []
        self._size = rows_per_batch
        self._sink: Any = None
        if path.suffix == ".parquet":
            self._writer: Any = pq.ParquetWriter(path, ASSESSMENT_SCHEMA)
        else:
            self._sink = pa.OSFile(str(path), "wb")
            self._writer = pa.ipc.new_file(self._sink, ASSESSMENT_SCHEMA)

    def write_line(self, line: bytes) -> None:
        """One output line of `assess --jsonl` (with or without its newline)."""
        row = _row(self.rows, line.rstrip(b"\n"))
        self.rows += 1
        self.invalid += "errors" in row
        self._pending.append(row)
        if len(self._pending) >= self._size:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_batch(
                pa.RecordBatch.from_pylist(self._pending, schema=ASSESSMENT_SCHEMA)
            )
            self._pending = []

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

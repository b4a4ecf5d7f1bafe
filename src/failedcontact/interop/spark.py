"""Assess a Spark DataFrame of cases where the data already is (the optional `spark` extra).

The pack travels as its YAML text, not as a path an executor may not have; each executor's
Python worker compiles it once and keeps it for every task it runs. The cases DataFrame has
the layout of docs/columnar.md; the result has `ASSESSMENT_SCHEMA`, a row for every case
(a bad case keeps its row, with `errors`), computed with `mapInArrow`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..engine.loader import Pack, load_pack
from ..errors import UsageError
from .columnar import ASSESSMENT_SCHEMA, assess_batches

# Compiled packs by digest, in each executor's Python worker: a cache, so a worker compiles
# a pack once however many partitions it assesses.
_compiled: dict[str, Pack] = {}
_lock = threading.Lock()


def _pack_for(text: str, name: str) -> Pack:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with _lock:
        pack = _compiled.get(digest)
        if pack is None:
            pack = _compiled[digest] = load_pack(text=text, file=name)
    return pack


# Beside the contract's instants (ISO 8601 text, each with the offset the contract gives it:
# UK local time, so +00:00 or +01:00), the same instants as UTC timestamps, which every
# dataframe library reads as one time type.
UTC_COLUMNS = (("as_of", "as_of_utc"), ("last_seen", "last_seen_utc"))
_UTC = pa.timestamp("us", tz="UTC")
SPARK_SCHEMA = pa.schema([*ASSESSMENT_SCHEMA, *(pa.field(c, _UTC) for _, c in UTC_COLUMNS)])


def spark_schema() -> Any:
    """The assessment table's Spark schema (declared, so Spark never has to guess)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(SPARK_SCHEMA)


def with_utc_columns(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with `as_of_utc` and `last_seen_utc` added (null where the text is)."""
    columns = list(batch.columns)
    for text_column, _ in UTC_COLUMNS:
        values = batch.column(text_column).to_pylist()
        instants = [
            None if v is None else datetime.fromisoformat(v).astimezone(UTC) for v in values
        ]
        columns.append(pa.array(instants, _UTC))
    return pa.RecordBatch.from_arrays(columns, schema=SPARK_SCHEMA)


def pack_text(pack: str | Path | Pack) -> tuple[str, str]:
    """The pack's YAML text and a name for it, from what `load_pack` and `--pack` take.

    A `Pack`, a bundled or working-tree pack id, or a pack file's path; a string holding a
    line break is read as the pack's YAML text itself.
    """
    if isinstance(pack, str) and "\n" in pack:
        return pack, "<pack>"
    loaded = pack if isinstance(pack, Pack) else load_pack(pack)
    if loaded.source is None:
        raise UsageError(
            "this Pack was loaded from text, which it does not keep: pass the YAML text, "
            "or a pack id or path"
        )
    path = loaded.source.path
    return path.read_text(encoding="utf-8"), str(path)


def assess_dataframe(cases: Any, pack: str | Path | Pack, as_of: datetime) -> Any:
    """A DataFrame of assessments for a DataFrame of cases; nothing runs until Spark acts.

    `pack` is what `load_pack` takes (a pack id or a path on the driver), a loaded `Pack`,
    or the pack's YAML text. It is checked here, on the driver, so a broken pack fails at
    once with its diagnostics, and travels to the executors as its text.
    """
    text, name = pack_text(pack)
    _pack_for(text, name)  # raises PackError on the driver for a broken pack

    def assess_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in assess_batches(_pack_for(text, name), batches, as_of):
            yield with_utc_columns(batch)

    return cases.mapInArrow(assess_partition, spark_schema())

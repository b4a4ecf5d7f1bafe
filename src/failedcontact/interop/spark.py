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
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..engine.loader import Pack, load_pack
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


def spark_schema() -> Any:
    """The assessment table's Spark schema (declared, so Spark never has to guess)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(ASSESSMENT_SCHEMA)


def assess_dataframe(cases: Any, pack: str | Path, as_of: datetime) -> Any:
    """A DataFrame of assessments for a DataFrame of cases; nothing runs until Spark acts.

    `pack` is a pack file's path on the driver or the pack's YAML text; it is checked here,
    on the driver, so a broken pack fails at once with its diagnostics.
    """
    text = Path(pack).read_text(encoding="utf-8") if isinstance(pack, Path) else pack
    name = str(pack) if isinstance(pack, Path) else "<pack>"
    _pack_for(text, name)  # raises PackError on the driver for a broken pack

    def assess_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        yield from assess_batches(_pack_for(text, name), batches, as_of)

    return cases.mapInArrow(assess_partition, spark_schema())

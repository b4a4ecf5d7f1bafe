"""Spark: a local session assesses a few thousand cases with mapInArrow and gives the same
rows as the single-process path (slow: a Spark session takes seconds to start)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

import failedcontact as fc

from .test_batch import _cases

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)


@pytest.mark.slow
def test_spark_rows_equal_the_single_process_rows(
    north_lincs: fc.Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = os.environ.get("FAILEDCONTACT_SPARK_TESTS") == "1"  # CI sets it: never skip
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if wanted:
            raise
        pytest.skip("the `spark` extra (pyspark) is not installed")
    import pyarrow as pa

    from failedcontact.interop.columnar import assess_table
    from failedcontact.interop.spark import assess_dataframe

    # executors run this interpreter, which has failedcontact installed (docs/spark.md)
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    cases: list[dict[str, Any]] = _cases(3000, seed=11)
    cases[123] = {"case_id": "BAD", "events": [
        {"at": "2026-11-01T10:00:00", "type": "home_visit", "outcome": "nobody_home"}]}  # fmt: skip
    table = pa.Table.from_pylist(cases)
    expected = assess_table(north_lincs, table, AS_OF)
    by_case = dict(zip(expected.column("case_id").to_pylist(),
                       expected.column("document").to_pylist(), strict=True))  # fmt: skip
    spark = (
        SparkSession.builder.master("local[2]").appName("failedcontact-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )  # fmt: skip
    try:
        frame = spark.createDataFrame(table).repartition(6)  # Spark 4 takes Arrow tables
        # a pack id, as load_pack and --pack take it
        result = assess_dataframe(frame, "north_lincs", AS_OF).collect()
    finally:
        spark.stop()
    assert len(result) == len(cases)  # no row dropped, the bad one included
    got = {row["case_id"]: row["document"] for row in result}
    assert got == by_case
    bad = next(row for row in result if row["case_id"] == "BAD")
    assert bad["document"] is None and bad["errors"][0]["path"] == "events[0].outcome"
    assert json.loads(got[cases[0]["case_id"]])["contract"] == "1.2"
    good = next(row for row in result if row["case_id"] != "BAD")
    assert good["as_of_utc"].timestamp() == AS_OF.timestamp()


def test_a_broken_pack_fails_on_the_driver_before_spark_runs() -> None:
    pytest.importorskip("pyspark")
    from failedcontact.interop.spark import assess_dataframe

    with pytest.raises(fc.PackError):
        assess_dataframe(object(), "id: broken\n", AS_OF)


def test_the_pack_is_an_id_a_path_a_pack_or_its_text(north_lincs: fc.Pack) -> None:
    pytest.importorskip("pyarrow")
    from failedcontact.interop.spark import pack_text

    assert north_lincs.source is not None
    path = north_lincs.source.path
    want = path.read_text(encoding="utf-8")
    for given in ("north_lincs", str(path), path, north_lincs, want):
        assert pack_text(given)[0] == want, given
    with pytest.raises(fc.PackError):
        pack_text("no_such_pack")
    with pytest.raises(fc.UsageError, match="loaded from text"):
        pack_text(fc.load_pack(text=want))


def test_utc_timestamp_columns_beside_the_contracts_text(north_lincs: fc.Pack) -> None:
    pa = pytest.importorskip("pyarrow")
    from failedcontact.interop.columnar import assess_batches
    from failedcontact.interop.spark import SPARK_SCHEMA, with_utc_columns

    summer = datetime(2026, 7, 1, 9, tzinfo=UTC)  # UK local +01:00: the text has that offset
    seen = {"at": "2026-06-01T10:00:00", "type": "home_visit", "outcome": "child_seen"}
    cases = pa.Table.from_pylist([{"case_id": "S", "events": [seen]}])
    (batch,) = [
        with_utc_columns(b) for b in assess_batches(north_lincs, cases.to_batches(), summer)
    ]
    assert batch.schema == SPARK_SCHEMA
    row = batch.to_pylist()[0]
    assert row["last_seen"] == "2026-06-01T10:00:00+01:00"
    assert row["last_seen_utc"] == datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert row["as_of_utc"] == summer

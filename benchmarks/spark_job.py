"""One Spark job for bench_batch.py: a Parquet file of cases to Parquet assessments.

python benchmarks/spark_job.py CASES.parquet OUT_FOLDER PACK AS_OF CORES
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from pyspark.sql import SparkSession

from failedcontact.interop.spark import assess_dataframe
from failedcontact.source.locate import resolve_pack


def main() -> None:
    cases, out, pack, as_of, cores = sys.argv[1:6]
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import failedcontact
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("failedcontact-bench")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1024")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(cases)
    result = assess_dataframe(frame, resolve_pack(pack, None).path, datetime.fromisoformat(as_of))
    result.write.mode("overwrite").parquet(out)
    written = spark.read.parquet(out)
    rows, cases_in = written.count(), frame.count()
    bad = written.where("errors is not null").count()
    spark.stop()
    print(f"spark wrote {rows:,} rows ({bad:,} with errors)", file=sys.stderr)
    if rows != cases_in:
        raise SystemExit(f"rows in {cases_in:,}, rows out {rows:,}")


if __name__ == "__main__":
    main()

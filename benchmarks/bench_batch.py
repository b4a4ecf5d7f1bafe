"""The headline batch figure: N cases of 1-30 events through the command line (a script,
not a test). Prints wall time, cases/s and peak memory of every process.

    python benchmarks/bench_batch.py --cases 2000000 [--workers N] [--parquet]

Cases are written once to a JSON Lines file in a temporary folder (about 1.3 KB a case),
then `failedcontact assess --jsonl` reads it and writes the assessments to a file, on every
usable core unless `--workers` says otherwise. `--parquet` also runs the same cases from a
Parquet file to a Parquet file (the `columnar` extra).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from failedcontact.batch import usable_cores

AS_OF = "2026-11-25T09:00:00+00:00"
VISITS = ["no_response", "access_refused", "doorstep", "child_seen", "child_not_seen"]
APPOINTMENTS = ["attended", "not_brought", "cancelled_by_family"]


def write_cases(path: Path, count: int, seed: int = 1) -> None:
    """`count` realistic cases of 1-30 visits and appointments, one JSON object a line."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            start = datetime(2026, 6, 1, 9) + timedelta(days=rng.randrange(150))
            events = []
            for i in range(rng.randrange(1, 31)):
                at = (start + timedelta(hours=rng.randrange(1, 120) * (i + 1))).isoformat()
                if rng.random() < 0.7:
                    events.append({"at": at, "type": "home_visit", "outcome": rng.choice(VISITS)})
                else:
                    events.append(
                        {"at": at, "type": "appointment", "outcome": rng.choice(APPOINTMENTS)}
                    )
            case = {"case_id": f"C{number}", "child": {"date_of_birth": "2015-03-01"},
                    "events": events}  # fmt: skip
            out.write(json.dumps(case) + "\n")


def run(command: list[str], label: str, cases: int) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=False, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(f"{label}: {cases:,} cases in {took:.1f} s ({cases / took:,.0f} cases/s); "
          f"peak memory of one process {peak / 1024:.0f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=usable_cores())
    parser.add_argument("--pack", default="north_lincs")
    parser.add_argument("--parquet", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases = Path(folder) / "cases.jsonl"
        start = time.perf_counter()
        write_cases(cases, args.cases)
        size = cases.stat().st_size
        print(f"wrote {args.cases:,} cases ({size / 1e6:,.0f} MB) in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        base = [sys.executable, "-m", "failedcontact", "assess", "--pack", args.pack,
                "--as-of", AS_OF, "--workers", str(args.workers)]  # fmt: skip
        run([*base, "--jsonl", str(cases), "-o", str(Path(folder) / "out.jsonl")],
            f"JSON Lines, {args.workers} worker(s)", args.cases)  # fmt: skip
        if args.parquet:
            import pyarrow.parquet as pq
            from pyarrow import json as arrow_json

            table = arrow_json.read_json(cases)
            pq.write_table(table, Path(folder) / "cases.parquet")
            run([*base, str(Path(folder) / "cases.parquet"), "-o",
                 str(Path(folder) / "out.parquet")], "Parquet to Parquet", args.cases)  # fmt: skip


if __name__ == "__main__":
    main()

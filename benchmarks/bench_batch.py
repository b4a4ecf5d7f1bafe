"""The headline batch figure: N cases of 1-30 events through the command line (a script,
not a test). Prints wall time, cases/s and peak memory of every process.

    python benchmarks/bench_batch.py --cases 2000000 [--workers N] [--parquet] [--spark]

Cases are written once to a JSON Lines file in a temporary folder (about 1.3 KB a case),
then `failedcontact assess --jsonl` reads it and writes the assessments to a file, on every
usable core unless `--workers` says otherwise. `--parquet` also runs the same cases from a
Parquet file (row groups of 65,536 rows) to a Parquet file (the `columnar` extra);
`--spark` assesses that Parquet file with local Spark on the same cores and writes Parquet
(the `spark` extra). Memory is sampled from /proc every half second over the whole process
tree: the largest process, and all of them together (proportional set size, which counts
the pages forked workers share with their parent once; the resident sum counts them in
each process and is printed beside it).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from failedcontact.runs.batch import usable_cores

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


def _tree_memory(root: int) -> dict[int, tuple[int, int]]:
    """Resident and proportional memory (KB) of `root` and every process below it, from
    /proc. Forked workers share their parent's pages: resident memory counts a shared page
    in every process, proportional memory (PSS) splits it between them, so the PSS of all
    processes adds up to what the run really holds."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        found[pid] = _memory(pid)
        todo.extend(children.get(pid, []))
    return found


def _memory(pid: int) -> tuple[int, int]:
    sizes = {"Rss:": 0, "Pss:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.split(" ", 1)[0] in sizes:
                sizes[line.split()[0]] = int(line.split()[1])
    except OSError:
        pass
    return sizes["Rss:"], sizes["Pss:"]


def run(command: list[str], label: str, cases: int) -> None:
    start = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    largest = resident = proportional = 0
    while process.poll() is None:
        sizes = _tree_memory(process.pid).values()
        largest = max(largest, *(rss for rss, _ in sizes))
        resident = max(resident, sum(rss for rss, _ in sizes))
        proportional = max(proportional, sum(pss for _, pss in sizes))
        time.sleep(0.5)
    took = time.perf_counter() - start
    status = "" if process.returncode == 0 else f" (exit status {process.returncode})"
    print(f"{label}: {cases:,} cases in {took:.1f} s ({cases / took:,.0f} cases/s){status}; "
          f"peak memory: largest process {largest / 1024:.0f} MB; all processes "
          f"{proportional / 1024:.0f} MB (PSS: shared pages once), "
          f"{resident / 1024:.0f} MB (resident: shared pages in each)")  # fmt: skip
    time_met, memory_met = took < 300, proportional / 1024 < 300
    print(
        f"  target (issue 10, 2,000,000 cases: under 5 minutes, all processes under 300 MB): "
        f"time {'met' if time_met else 'NOT met'}, memory {'met' if memory_met else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=usable_cores())
    parser.add_argument("--pack", default="north_lincs")
    parser.add_argument("--parquet", action="store_true")
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--no-jsonl", action="store_true", help="only the table runs")
    args = parser.parse_args()
    version = [sys.executable, "-m", "failedcontact", "--version"]
    print(subprocess.run(version, capture_output=True, text=True, check=True).stdout.strip())
    with tempfile.TemporaryDirectory() as folder:
        cases = Path(folder) / "cases.jsonl"
        start = time.perf_counter()
        write_cases(cases, args.cases)
        size = cases.stat().st_size
        print(f"wrote {args.cases:,} cases ({size / 1e6:,.0f} MB) in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        base = [sys.executable, "-m", "failedcontact", "assess", "--pack", args.pack,
                "--as-of", AS_OF, "--workers", str(args.workers)]  # fmt: skip
        if not args.no_jsonl:
            run([*base, "--jsonl", str(cases), "-o", str(Path(folder) / "out.jsonl")],
                f"JSON Lines, {args.workers} worker(s)", args.cases)  # fmt: skip
        parquet = Path(folder) / "cases.parquet"
        if args.parquet or args.spark:
            import pyarrow.parquet as pq
            from pyarrow import json as arrow_json

            pq.write_table(arrow_json.read_json(cases), parquet, row_group_size=65_536)
        if args.parquet:
            run([*base, str(parquet), "-o", str(Path(folder) / "out.parquet")],
                f"Parquet to Parquet, {args.workers} worker(s)", args.cases)  # fmt: skip
        if args.spark:
            run([sys.executable, str(Path(__file__).with_name("spark_job.py")), str(parquet),
                 str(Path(folder) / "spark_out"), args.pack, AS_OF, str(args.workers)],
                f"local Spark, Parquet to Parquet, {args.workers} core(s)", args.cases)  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark reading contact histories from FHIR bundles and case-system exports (a script).

Builds each history with the test builders (tests/interop_builders.py), then times
`map_bundle` (validation with fhir.resources, mapping, the Case) and `map_rows` on the same
history, best of a few rounds.

Run:  python benchmarks/bench_interop.py [--events 4 50 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from failedcontact.interop.fhir import map_bundle  # noqa: E402
from failedcontact.interop.mapping import FhirMapping, TableMapping, load_mapping  # noqa: E402
from failedcontact.interop.tables import map_rows  # noqa: E402
from interop_builders import bundle_for, csv_rows_for  # type: ignore[import-not-found]  # noqa: E402


def _history(events: int) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((ROOT / "examples" / "second_no_access.json").read_text())
    outcomes = ["no_response", "doorstep", "child_seen", "access_refused"]
    case["events"] = [
        {
            "at": f"2026-{1 + i % 11:02d}-{1 + i % 27:02d}T{9 + i % 8:02d}:{i % 60:02d}:00",
            "type": "home_visit",
            "outcome": outcomes[i % len(outcomes)],
        }
        for i in range(events)
    ]
    return case


def _best(rounds: int, repeat: int, run: Any) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[4, 50, 200])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    fhir, table = load_mapping("fhir_uk_core"), load_mapping("case_system_csv")
    assert isinstance(fhir, FhirMapping) and isinstance(table, TableMapping)
    print("events  FHIR bundle ms  per resource us  CSV case ms")
    for events in args.events:
        case = _history(events)
        bundle = bundle_for(case)
        rows = list(enumerate(csv_rows_for(case), start=2))
        mapped = map_bundle(bundle, fhir)
        assert not mapped.errors, mapped.errors
        repeat = max(1, 200 // max(events, 1))
        fhir_s = _best(args.rounds, repeat, lambda b=bundle: map_bundle(b, fhir))
        csv_s = _best(args.rounds, repeat, lambda r=rows: list(map_rows(r, table)))
        per = fhir_s / len(bundle["entry"]) * 1e6
        print(f"{events:6}  {fhir_s * 1e3:14.2f}  {per:15.0f}  {csv_s * 1e3:11.3f}")


if __name__ == "__main__":
    main()

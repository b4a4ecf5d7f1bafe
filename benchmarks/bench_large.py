"""Time one very long history on every bundled pack (a script, not a test).

Counts in conditions are indexed once per assessment, so the cost grows linearly with
the number of events. Run:  python benchmarks/bench_large.py [--events 100000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import failedcontact as fc

AS_OF = datetime(2026, 11, 25, tzinfo=UTC)


def history(count: int, kind: str, seed: int = 1) -> list[dict[str, Any]]:
    """`count` events 37 minutes apart: all concerns, all requests, or a realistic mix."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for i in range(count):
        at = (start + timedelta(minutes=37 * i)).isoformat()
        roll = rng.random()
        if kind == "concern" or (kind == "mixed" and 0.7 <= roll < 0.8):
            events.append({"at": at, "type": "concern", "level": "welfare"})
        elif kind == "support" or (kind == "mixed" and 0.8 <= roll < 0.9):
            events.append({"at": at, "type": "support_request"})
        elif roll < 0.5:
            outcome = rng.choice(["no_response", "doorstep", "child_seen"])
            events.append({"at": at, "type": "home_visit", "outcome": outcome})
        elif roll < 0.7:
            events.append({"at": at, "type": "call", "outcome": "no_answer"})
        else:
            events.append({"at": at, "type": "message", "channel": "letter"})
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    runs = [(pack_id, "mixed") for pack_id in fc.bundled_ids()]
    runs += [("derbyshire", "concern"), ("suffolk", "support")]
    for pack_id, kind in runs:
        pack = fc.load_pack(pack_id)
        started = time.perf_counter()
        case = fc.parse_case({"case_id": "L", "events": history(args.events, kind)})
        parsed = time.perf_counter()
        pack.assess(case, AS_OF)
        done = time.perf_counter()
        print(f"{pack_id:12} {kind:8} {args.events:,} events: parse {parsed - started:5.2f} s, "
              f"assess {done - parsed:5.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()

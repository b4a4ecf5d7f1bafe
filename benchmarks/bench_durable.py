"""Compare the durable-rules backend with the native engine: agreement, speed and memory.

Run:  python benchmarks/bench_durable.py [--cases N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from bench_assess import AS_OF, random_case

import failedcontact as fc


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for pack_id in fc.bundled_ids():
        pack = fc.load_pack(pack_id)
        cases = [fc.parse_case(random_case(rng, rng.randint(1, 30))) for _ in range(args.cases)]
        pack.assess(cases[0], AS_OF, backend="durable")  # register the ruleset
        started = time.perf_counter()
        native = [pack.assess(c, AS_OF).model_dump_json() for c in cases]
        native_s = time.perf_counter() - started
        rss_before = _rss_mib()
        started = time.perf_counter()
        durable = [pack.assess(c, AS_OF, backend="durable").model_dump_json() for c in cases]
        durable_s = time.perf_counter() - started
        rss_after = _rss_mib()
        for c in cases:  # a second pass: does memory keep growing with every session?
            pack.assess(c, AS_OF, backend="durable")
        rss_again = _rss_mib()
        agree = sum(a == b for a, b in zip(native, durable, strict=True))
        print(
            f"{pack_id:<12} agree {agree}/{len(cases)}  native {len(cases) / native_s:,.0f}/s  "
            f"durable {len(cases) / durable_s:,.0f}/s  ratio {durable_s / native_s:.1f}x  "
            f"RSS {rss_before:.0f} -> {rss_after:.0f} -> {rss_again:.0f} MiB"
        )


if __name__ == "__main__":
    main()

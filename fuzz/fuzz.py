"""Fuzz case JSON and pack YAML for a bounded time (CI: a minute each; release: longer).

Mutates real inputs (the examples, the hostile corpus, the bundled packs) at random and
checks that every input ends in an assessment or a documented error (`CaseError`,
`PackError`, or diagnostics), within a time limit per input. Any other exception, or a
slow input, is printed with the input that caused it and the run exits 1.

    python fuzz/fuzz.py cases --seconds 60 [--seed N]
    python fuzz/fuzz.py packs --seconds 60 [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import failedcontact as fc
from failedcontact.pack.pipeline import run_pipeline
from failedcontact.source.locate import bundled_dir

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
PER_INPUT_SECONDS = 10
_VALUES: list[Any] = [None, True, False, 0, -1, 10**30, 1.5, "", "x" * 300, [], {}, "\u2028",
                      "2026-02-30T10:00:00", "9999-12-31T23:59:59", "2027-03-28T01:30:00",
                      "home_visit", "concern", "child_seen", "\x1b[31m", "[/bold]"]  # fmt: skip


class _Slow(Exception):
    """An input took longer than `PER_INPUT_SECONDS`."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Slow


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not out:
            out += bytes([rng.randrange(256)])
            continue
        at = rng.randrange(len(out))
        choice = rng.random()
        if choice < 0.3:
            out[at] = rng.randrange(256)
        elif choice < 0.5:
            del out[at : at + rng.randint(1, 16)]
        elif choice < 0.7:
            out[at:at] = bytes([rng.choice(b"{}[]:,\"'&*!#-\n \\0123456789")])
        else:
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 64)]
    return bytes(out)


def _mutate_json(value: Any, rng: random.Random, depth: int = 0) -> Any:
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        copy = dict(value)
        roll = rng.random()
        if roll < 0.2:
            del copy[key]
        elif roll < 0.3:
            copy[rng.choice(["colour", "type", "at", "outcome"])] = rng.choice(_VALUES)
        else:
            copy[key] = _mutate_json(value[key], rng, depth + 1)
        return copy
    if isinstance(value, list) and value:
        items = list(value)
        at = rng.randrange(len(items))
        if rng.random() < 0.2:
            items.insert(at, items[at])
        else:
            items[at] = _mutate_json(items[at], rng, depth + 1)
        return items
    return rng.choice(_VALUES)


def _case_seeds() -> list[bytes]:
    files = sorted((ROOT / "examples").glob("*.json"))
    files += sorted((ROOT / "tests" / "hostile" / "cases").glob("*.json"))
    return [f.read_bytes() for f in files]


def _pack_seeds() -> list[bytes]:
    files = sorted(bundled_dir().glob("*.yaml"))
    files += sorted((ROOT / "tests" / "hostile" / "packs").glob("*.yaml"))
    return [f.read_bytes() for f in files]


def _fuzz_case(data: bytes, packs: list[fc.Pack]) -> None:
    for pack in packs:
        try:
            pack.assess_json(data, AS_OF)
        except fc.CaseError:
            return


def _fuzz_pack(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    run_pipeline(text, "fuzz.yaml")


def run(kind: str, seconds: float, seed: int) -> int:
    """Fuzz for `seconds`; return the number of failures found."""
    rng = random.Random(seed)
    packs = [fc.load_pack(pack_id) for pack_id in fc.bundled_ids()]
    seeds = _case_seeds() if kind == "cases" else _pack_seeds()
    check: Callable[[bytes], None] = (
        (lambda data: _fuzz_case(data, packs)) if kind == "cases" else _fuzz_pack
    )
    signal.signal(signal.SIGALRM, _alarm)
    deadline = time.monotonic() + seconds
    tried = failures = 0
    while time.monotonic() < deadline:
        data = rng.choice(seeds)
        if kind == "cases" and rng.random() < 0.5:
            try:
                data = json.dumps(_mutate_json(json.loads(data), rng)).encode()
            except (ValueError, RecursionError):  # a seed that is not JSON, or too deep
                data = _mutate_bytes(data, rng)
        else:
            data = _mutate_bytes(data, rng)
        tried += 1
        signal.alarm(PER_INPUT_SECONDS)
        try:
            check(data)
        except _Slow:
            failures += 1
            print(f"SLOW (> {PER_INPUT_SECONDS} s): {data[:500]!r}")
        except Exception:
            failures += 1
            print(f"FAILED on {data[:500]!r}\n{traceback.format_exc()}")
        finally:
            signal.alarm(0)
    print(f"fuzz {kind}: {tried:,} inputs in {seconds:g} s (seed {seed}), {failures} failure(s)")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["cases", "packs"])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    sys.exit(1 if run(args.kind, args.seconds, args.seed) else 0)


if __name__ == "__main__":
    main()

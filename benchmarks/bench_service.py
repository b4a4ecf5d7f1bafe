"""Load the service on loopback: a fixed number of requests at concurrency 32, then stop.

Starts `failedcontact serve` with 1 and then 2 uvicorn workers and loads each twice: from
Python (httpx, random 0-12 event cases) and, where it is installed, from ApacheBench `ab`
(C, so the client takes little of the two cores; one case, examples/second_no_access.json).
Prints errors, p50 and p99 latency and requests per second. A benchmark, not a test:
docs/performance.md has the figures.

    python benchmarks/bench_service.py [--requests 4000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.random_cases import random_case

TOKEN = "bench-token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _load(url: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                response = await client.post(
                    url, params={"pack": "north_lincs", "as_of": "2026-11-25T09:00:00Z"},
                    content=body,
                )  # fmt: skip
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def run(workers: int, bodies: list[bytes], concurrency: int) -> None:
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        tokens = Path(folder) / "tokens"
        tokens.write_text(TOKEN, encoding="utf-8")
        server = subprocess.Popen(
            [sys.executable, "-m", "failedcontact", "serve", "--port", str(port),
             "--workers", str(workers), "--tokens-file", str(tokens)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(_load(base + "/v1/assess", bodies[:200], concurrency))  # warm up
            start = time.perf_counter()
            latencies, errors = asyncio.run(_load(base + "/v1/assess", bodies, concurrency))
            elapsed = time.perf_counter() - start
            if shutil.which("ab"):
                _apache_bench(base, len(bodies), concurrency, workers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"httpx: workers={workers} requests={len(bodies)} concurrency={concurrency} "
          f"errors={errors} p50={p50:.1f} ms p99={p99:.1f} ms "
          f"rate={len(bodies) / elapsed:,.0f} req/s")  # fmt: skip


def _apache_bench(base: str, count: int, concurrency: int, workers: int) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "second_no_access.json"
    url = base + "/v1/assess?pack=north_lincs&as_of=2026-11-25T09:00:00Z"
    output = subprocess.run(
        ["ab", "-q", "-k", "-n", str(count), "-c", str(concurrency), "-p", str(example),
         "-T", "application/json", "-H", f"Authorization: Bearer {TOKEN}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def number(pattern: str) -> str:
        found = re.search(pattern, output, re.MULTILINE)
        return found.group(1) if found else "0"

    failed = int(number(r"^Failed requests:\s+(\d+)"))
    non_2xx = int(number(r"^Non-2xx responses:\s+(\d+)"))
    p50, p99 = number(r"^\s+50%\s+(\d+)"), number(r"^\s+99%\s+(\d+)")
    rate = float(number(r"^Requests per second:\s+([\d.]+)"))
    errors = failed + non_2xx
    print(f"ab:    workers={workers} requests={count} concurrency={concurrency} "
          f"errors={errors} p50={p50} ms p99={p99} ms rate={rate:,.0f} req/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    rng = random.Random(3)
    bodies = [orjson.dumps(random_case(rng, n)) for n in range(args.requests)]
    for workers in (1, 2):
        run(workers, bodies, args.concurrency)


if __name__ == "__main__":
    main()

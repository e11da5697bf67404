"""Batches, measured side by side in one run (issue 24's targets).

1. Throughput at concurrency 32 against the stub server (a separate process, loopback):
   ``arun_batch`` against a raw ``httpx.AsyncClient`` loop doing the same POST, image GET
   and file write; the raw loop is run three times: writing plainly, writing as ``save()``
   does (fsync before the file appears), and writing plainly on a pool with the fix this
   package applies to its own (``_pool``: httpx's pool hands one connection to several
   requests when many start at once, and each loser goes round again).  Rounds alternate.
   Target: >= 0.8x the raw loop.
2. Peak RSS of a whole batch of 1,000 and of 10,000 requests, each in its own process.
   Target: 10,000 within +30 MB of 1,000.
3. Reading a results file of 100,000 lines (the resume state).  Target: under 1 s.

Run: ``python benchmarks/bench_batch.py [--requests N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "core"), str(Path(__file__).parent)]

from _harness import stub_server  # noqa: E402
from clawrouter_images import AsyncImageClient  # noqa: E402
from clawrouter_images._pool import hide_held_connections  # noqa: E402
from clawrouter_images._transport import LIMITS  # noqa: E402
from clawrouter_images.batch import arun_batch  # noqa: E402
from clawrouter_images.batch._journal import Journal  # noqa: E402

CONCURRENCY = 32
# Both sides use the pool limits AsyncImageClient builds its own client with (the raw loop
# is given them explicitly), so the comparison is of everything but the pool.


def write_input(path: Path, count: int) -> Path:
    with path.open("w") as file:
        for i in range(count):
            file.write(json.dumps({"id": i, "prompt": f"picture number {i}"}) + "\n")
    return path


async def raw_loop(
    base_url: str, count: int, folder: Path, *, durable: bool, our_pool: bool = False
) -> float:
    """POST, GET the image, write it: ``CONCURRENCY`` workers over ``count`` requests
    (``folder`` exists).  ``our_pool``: with the pool fix this package applies to its own
    clients (``_pool``), to show what is left of the batch's own cost."""
    async with httpx.AsyncClient(limits=LIMITS) as http:
        if our_pool:
            hide_held_connections(http._transport._pool)  # type: ignore[attr-defined]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(count):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = {"model": "google/nano-banana", "prompt": f"picture number {i}", "n": 1}
                answer = (await http.post(base_url + "/v1/images/generations", json=body)).json()
                path = httpx.URL(answer["data"][0]["url"]).path
                image = (await http.get(base_url + path)).content
                with (folder / f"picture-number-{i}.png").open("wb") as out:
                    out.write(image)
                    if durable:
                        out.flush()
                        os.fsync(out.fileno())

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - start)


async def batch_run(base_url: str, source: Path, folder: Path, count: int) -> float:
    async with AsyncImageClient(base_url) as client:
        start = time.perf_counter()
        summary = await arun_batch(source, folder, client=client, concurrency=CONCURRENCY)
        elapsed = time.perf_counter() - start
    assert summary.ok == count, summary
    return count / elapsed


def throughput(base_url: str, count: int, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {"raw": [], "raw, fsync": [], "raw, our pool": [], "batch": []}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        source = write_input(root / "in.jsonl", count)
        for turn in range(rounds):
            for name in ("raw", "rawsync", "rawpool"):
                (root / f"{name}{turn}").mkdir()
            rates["raw"].append(
                asyncio.run(raw_loop(base_url, count, root / f"raw{turn}", durable=False))
            )
            rates["batch"].append(
                asyncio.run(batch_run(base_url, source, root / f"batch{turn}", count))
            )
            rates["raw, fsync"].append(
                asyncio.run(raw_loop(base_url, count, root / f"rawsync{turn}", durable=True))
            )
            rates["raw, our pool"].append(
                asyncio.run(
                    raw_loop(base_url, count, root / f"rawpool{turn}", durable=False, our_pool=True)
                )
            )
    return rates


_MEMORY_CHILD = """
import asyncio, resource, sys
sys.path[:0] = [sys.argv[1]]
from clawrouter_images import AsyncImageClient
from clawrouter_images.batch import arun_batch
async def main():
    async with AsyncImageClient(sys.argv[2]) as client:
        s = await arun_batch(sys.argv[3], sys.argv[4], client=client, concurrency=32)
    assert s.ok == int(sys.argv[5]), s
asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(base_url: str, count: int) -> float:
    core = str(Path(__file__).resolve().parents[1] / "core")
    with tempfile.TemporaryDirectory() as scratch:
        source = write_input(Path(scratch) / "in.jsonl", count)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _MEMORY_CHILD,
                core,
                base_url,
                str(source),
                str(Path(scratch) / "out"),
                str(count),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return int(done.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def resume_seconds(lines: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with (folder / "results.jsonl").open("w") as file:
            for i in range(lines // 2):
                base = {
                    "id": f"request-{i}",
                    "model": "google/nano-banana",
                    "size": "1024x1024",
                    "n": 1,
                    "estimated_cost_usd": 0.0525,
                    "prompt": f"picture number {i}",
                    "line": i + 1,
                    "at": "2026-12-07T03:50:29.073+00:00",
                }
                file.write(
                    json.dumps(
                        {
                            **base,
                            "status": "sending",
                            "paths": [],
                            "urls": [],
                            "may_have_been_paid": True,
                            "error": None,
                            "error_type": None,
                        }
                    )
                    + "\n"
                )
                file.write(
                    json.dumps(
                        {
                            **base,
                            "status": "ok",
                            "paths": [f"picture-{i}.png"],
                            "urls": [f"http://localhost:8402/images/{i}.png"],
                            "may_have_been_paid": True,
                            "error": None,
                            "error_type": None,
                        }
                    )
                    + "\n"
                )
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with Journal(folder) as journal:
                assert journal.status("request-0") == "ok"
            times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{platform.machine()} {platform.system()}, Python {platform.python_version()}, "
        f"httpx {httpx.__version__}, {os.cpu_count()} cores"
    )
    with stub_server() as base_url:
        rates = throughput(base_url, args.requests, args.rounds)
        raw = statistics.median(rates["raw"])
        synced = statistics.median(rates["raw, fsync"])
        pooled = statistics.median(rates["raw, our pool"])
        batch = statistics.median(rates["batch"])
        print(
            f"\nthroughput, concurrency {CONCURRENCY}, {args.requests} requests x {args.rounds} rounds "
            "(median requests/s)"
        )
        print(
            f"  pool limits, both sides: max_connections={LIMITS.max_connections}, "
            f"max_keepalive_connections={LIMITS.max_keepalive_connections}, "
            f"keepalive_expiry={LIMITS.keepalive_expiry}"
        )
        print(
            f"  per round: {', '.join(f'{k} ' + ' / '.join(f'{r:.0f}' for r in v) for k, v in rates.items())}"
        )
        print(f"  raw httpx.AsyncClient loop, plain write   {raw:8.0f}")
        print(f"  raw httpx.AsyncClient loop, fsync'd write {synced:8.0f}")
        print(f"  raw loop on this package's pool, plain    {pooled:8.0f}")
        print(f"  arun_batch                                {batch:8.0f}")
        print(f"  ratio to the plain loop   {batch / raw:.2f}  (target >= 0.8)")
        print(f"  ratio to the fsync'd loop {batch / synced:.2f}")
        print(f"  ratio to the loop on this package's pool {batch / pooled:.2f}")
        small, large = peak_rss_mb(base_url, 1000), peak_rss_mb(base_url, 10000)
        print("\npeak RSS of a whole batch, own process")
        print(f"  1,000 requests   {small:6.1f} MB")
        print(f"  10,000 requests  {large:6.1f} MB   (+{large - small:.1f} MB; target <= +30)")
    seconds = resume_seconds(100_000)
    print(f"\nresume state from 100,000 lines: {seconds:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()

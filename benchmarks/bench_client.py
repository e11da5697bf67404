"""Client overhead and memory, measured side by side in one run.

1. Per-call time of ``ImageClient.generate`` and ``AsyncImageClient.generate`` against raw
   httpx posting the same body to the same stub server (a separate process, loopback),
   interleaved in rounds so drift affects both alike.  Target: ratio <= 1.10.
2. Peak Python memory of ``ImageClient.edit`` with a 20 MB local image, as a multiple of
   the file size (tracemalloc).  Target: <= 3x.

Run: ``python benchmarks/bench_client.py [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "core"), str(Path(__file__).parent)]

from _harness import median_us, per_call_seconds, stub_server  # noqa: E402
from clawrouter_images import AsyncImageClient, ImageClient  # noqa: E402

PROMPT = "a golden retriever surfing on a wave"
BODY = {"model": "google/nano-banana", "prompt": PROMPT, "size": "1024x1024", "n": 1}
FILE_MB = 20


def bench_sync(base_url: str, calls: int, rounds: int) -> tuple[float, float]:
    raw_samples: list[float] = []
    client_samples: list[float] = []
    with httpx.Client() as raw, ImageClient(base_url) as client:
        url = base_url + "/v1/images/generations"

        def raw_call() -> object:
            return raw.post(url, json=BODY).json()

        def client_call() -> object:
            return client.generate(PROMPT, model="nano-banana", size="1024x1024")

        raw_call(), client_call()  # warm both connections
        for _ in range(rounds):
            raw_samples += per_call_seconds(raw_call, calls)
            client_samples += per_call_seconds(client_call, calls)
    return median_us(raw_samples), median_us(client_samples)


async def _timed(call: object, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return samples


async def bench_async(base_url: str, calls: int, rounds: int) -> tuple[float, float]:
    raw_samples: list[float] = []
    client_samples: list[float] = []
    async with httpx.AsyncClient() as raw, AsyncImageClient(base_url) as client:
        url = base_url + "/v1/images/generations"

        async def raw_call() -> object:
            return (await raw.post(url, json=BODY)).json()

        async def client_call() -> object:
            return await client.generate(PROMPT, model="nano-banana", size="1024x1024")

        await raw_call()
        await client_call()
        for _ in range(rounds):
            raw_samples += await _timed(raw_call, calls)
            client_samples += await _timed(client_call, calls)
    return median_us(raw_samples), median_us(client_samples)


def bench_edit_memory(base_url: str) -> tuple[int, int]:
    """Peak traced bytes while editing with a FILE_MB image (PNG signature + random bytes)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.png"
        size = FILE_MB * 1024 * 1024
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8))
        with ImageClient(base_url) as client:
            client.edit("warm it up", image=path, model="gpt-image")  # warm the connection
            tracemalloc.start()
            client.edit("warm it up", image=path, model="gpt-image")
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    return size, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, httpx {httpx.__version__}"
    )
    with stub_server() as base_url:
        raw, ours = bench_sync(base_url, args.calls, args.rounds)
        print(
            f"sync  per call: raw httpx {raw:7.1f} us  ImageClient      {ours:7.1f} us  ratio {ours / raw:.3f} (target <= 1.10)"
        )
        raw, ours = asyncio.run(bench_async(base_url, args.calls, args.rounds))
        print(
            f"async per call: raw httpx {raw:7.1f} us  AsyncImageClient {ours:7.1f} us  ratio {ours / raw:.3f} (target <= 1.10)"
        )
        size, peak = bench_edit_memory(base_url)
        print(
            f"edit with a {FILE_MB} MB image: peak traced memory {peak / 2**20:.1f} MB = {peak / size:.2f}x the file (target <= 3x)"
        )


if __name__ == "__main__":
    main()

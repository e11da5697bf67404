"""How fast the emulator answers: requests per second on a real port, and picture drawing times.

Run from the repository root::

    python benchmarks/bench_emulator.py [--requests 3000] [--concurrency 64]

The emulator runs in its own process (``python -m clawrouter_images.emulator``) so that
client and server each get a core; 64 async httpx clients, each with its own connection,
send the requests.  "Small requests" are ``google/nano-banana-pro`` at 256x256 (the
smallest size a catalogue model takes).  Figures printed side by side, measured in this
one run:

- socket, few prompts: the drawing cache answers most pictures;
- socket, unique prompts: every picture is drawn;
- socket, few prompts, one shared ``AsyncClient`` with a 64-connection pool (httpx's pool,
  not the emulator, is then the limit);
- in-process (``httpx.ASGITransport``, one process), unique prompts;
- drawing alone: 1024x1024 and 4096x4096 PNGs, uncached, and a 4096x4096 request end to end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))

from clawrouter_images.emulator import Emulator  # noqa: E402
from clawrouter_images.emulator._drawing import render_generation  # noqa: E402

GENERATIONS = "/v1/images/generations"
SMALL = {"model": "google/nano-banana-pro", "size": "256x256"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _start_server(image_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "core"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "clawrouter_images.emulator",
        "--port",
        str(port),
        "--image-dir",
        image_dir,
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the emulator did not start")


async def _hammer(
    clients: list[httpx.AsyncClient], total: int, concurrency: int, prompt: Callable[[int], str]
) -> tuple[float, list[float]]:
    """Send ``total`` small generations from ``concurrency`` workers; returns (seconds, latencies).

    Worker ``i`` uses ``clients[i % len(clients)]``.
    """
    counter = iter(range(total))
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        for index in counter:
            started = time.perf_counter()
            response = await client.post(GENERATIONS, json={**SMALL, "prompt": prompt(index)})
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(clients[i % len(clients)]) for i in range(concurrency)))
    return time.perf_counter() - started, latencies


def _report(label: str, total: int, seconds: float, latencies: list[float]) -> float:
    rate = total / seconds
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    print(f"{label:<40} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    return rate


async def _socket_runs(base_url: str, total: int, concurrency: int) -> tuple[float, float, float]:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=60))
            for _ in range(concurrency)
        ]
        await _hammer(clients, concurrency * 2, concurrency, lambda i: "warm-up")
        seconds, latencies = await _hammer(clients, total, concurrency, lambda i: f"few {i % 8}")
        cached = _report("socket, 8 prompts (cached pictures)", total, seconds, latencies)
        seconds, latencies = await _hammer(clients, total, concurrency, lambda i: f"unique {i}")
        drawn = _report("socket, unique prompts (all drawn)", total, seconds, latencies)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as shared:
        seconds, latencies = await _hammer([shared], total, concurrency, lambda i: f"few {i % 8}")
        pooled = _report("socket, 8 prompts, one shared client", total, seconds, latencies)
    return cached, drawn, pooled


async def _in_process_run(total: int, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as image_dir, Emulator(image_dir=image_dir) as emulator:
        async with emulator.async_client(timeout=60) as client:
            seconds, latencies = await _hammer(
                [client], total, concurrency, lambda i: f"inproc {i}"
            )
    return _report("in-process ASGITransport, unique prompts", total, seconds, latencies)


def _draw_time(size: int, repeats: int) -> float:
    times = []
    for index in range(repeats):
        started = time.perf_counter()
        render_generation(f"draw timing {size} {index} {time.time()}", size, size)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _big_request_time() -> float:
    with tempfile.TemporaryDirectory() as image_dir, Emulator(image_dir=image_dir) as emulator:
        body = {"model": "google/nano-banana-pro", "size": "4096x4096", "prompt": "a big one"}
        with emulator.sync_client(timeout=60) as client:
            started = time.perf_counter()
            response = client.post(GENERATIONS, json=body)
            client.get(response.json()["data"][0]["url"])
            return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    print(
        f"{args.requests} small requests ({SMALL['model']} {SMALL['size']}), {args.concurrency} concurrent clients, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as image_dir:
        process, base_url = _start_server(image_dir)
        try:
            cached, drawn, pooled = asyncio.run(
                _socket_runs(base_url, args.requests, args.concurrency)
            )
        finally:
            process.terminate()
            process.wait(timeout=10)
    in_process = asyncio.run(_in_process_run(args.requests, args.concurrency))
    small = _draw_time(1024, 5)
    large = _draw_time(4096, 3)
    request = _big_request_time()
    print(f"{'draw 1024x1024 PNG (uncached)':<40} {small * 1000:8.1f} ms")
    print(f"{'draw 4096x4096 PNG (uncached)':<40} {large * 1000:8.1f} ms")
    print(f"{'4096x4096 request + download, in-process':<40} {request * 1000:8.1f} ms")
    print(
        f"ratios: cached/drawn {cached / drawn:.2f}x, 64 clients/one shared client "
        f"{cached / pooled:.2f}x, socket/in-process {drawn / in_process:.2f}x, "
        f"4096/1024 drawing {large / small:.1f}x"
    )


if __name__ == "__main__":
    main()

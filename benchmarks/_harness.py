"""Shared benchmark plumbing: a stub server in its own process, free ports, timing."""

from __future__ import annotations

import contextlib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def stub_server() -> Iterator[str]:
    """Start ``_stub_server.py`` in a separate process (so it does not share our GIL)."""
    port = free_port()
    script = Path(__file__).with_name("_stub_server.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("stub server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def per_call_seconds(call: Callable[[], object], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def interleaved_seconds(
    calls: dict[str, Callable[[], object]], rounds: int, per_round: int
) -> dict[str, list[float]]:
    """Seconds per call of each contender, taking turns call by call (A, B, C, A, B, C...):
    drift in the machine (a VM's neighbours, frequency, the stub's scheduling) then falls
    on all of them alike instead of on whichever ran during it."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds * per_round):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return samples


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def p90_us(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1] * 1e6

"""Requests run ``concurrency`` at a time, no more; the sync twin runs the same engine."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from clawrouter_images import AsyncImageClient
from clawrouter_images.batch import AsyncBatch, Batch, run_batch
from clawrouter_images.emulator import Emulator, Fault

from .conftest import Jsonl, results

EIGHT = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(8)]


class Gate(httpx.AsyncBaseTransport):
    """Holds every POST until ``width`` are waiting at once, then lets them all through;
    counts the most in flight at any moment."""

    def __init__(self, inner: httpx.AsyncBaseTransport, width: int) -> None:
        self.inner, self.width = inner, width
        self.in_flight = self.most = 0
        self.full = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return await self.inner.handle_async_request(request)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.in_flight >= self.width:
            self.full.set()
        try:
            await asyncio.wait_for(self.full.wait(), timeout=10)
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("width", [1, 3, 8])
async def test_requests_are_in_flight_concurrency_at_a_time(
    width: int, jsonl: Jsonl, emulator: Emulator, tmp_path: Path
) -> None:
    """``width`` POSTs are in flight together (the gate opens only then), never more."""
    gate = Gate(emulator.async_transport(), width)
    async with httpx.AsyncClient(transport=gate) as http:
        client = AsyncImageClient(emulator.base_url, http_client=http)
        async with AsyncBatch(
            jsonl(EIGHT), tmp_path / "out", client=client, concurrency=width
        ) as batch:
            summary = await batch.wait()
    assert summary.ok == 8
    assert gate.most == width


class HoldFirst(httpx.AsyncBaseTransport):
    """Holds the first POST until ``release`` is set (at most 10 s)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.release, self.held = inner, asyncio.Event(), ""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not self.held:
            self.held = json.loads(request.content)["prompt"]
            await asyncio.wait_for(self.release.wait(), timeout=10)
        return await self.inner.handle_async_request(request)


async def test_records_come_out_as_they_finish(
    jsonl: Jsonl, emulator: Emulator, tmp_path: Path
) -> None:
    """A held request does not hold back the records of the ones behind it: the first is
    released only once the other two records came out (a batch that kept order would stall
    until the hold times out, and then yield r0 first)."""
    hold = HoldFirst(emulator.async_transport())
    order: list[str] = []
    async with httpx.AsyncClient(transport=hold) as http:
        client = AsyncImageClient(emulator.base_url, http_client=http)
        async with AsyncBatch(
            jsonl(EIGHT[:3]), tmp_path / "out", client=client, concurrency=3
        ) as batch:
            async for record in batch:
                order.append(record["id"])
                if len(order) == 2:
                    hold.release.set()
    assert order[-1] == "r" + hold.held.removeprefix("picture ")


async def test_leaving_early_records_requests_in_flight_as_uncertain(
    jsonl: Jsonl, emulator: Emulator, tmp_path: Path
) -> None:
    """Breaking out of the iterator stops the run; what was in flight may have been paid."""
    emulator.add_fault(Fault("slow", delay=0), times=1)  # faults match in order: r0 is quick
    emulator.add_fault(Fault("slow", delay=5), times=None)
    out = tmp_path / "out"
    # The gate holds the POSTs until all three have left, so the quick one cannot finish
    # (and the loop be left) before the other two were sent.
    gate = Gate(emulator.async_transport(), 3)
    async with httpx.AsyncClient(transport=gate) as http:
        client = AsyncImageClient(emulator.base_url, http_client=http)
        async with AsyncBatch(jsonl(EIGHT[:3]), out, client=client, concurrency=3) as batch:
            async for record in batch:
                assert record["status"] == "ok"
                break
    statuses = {r["id"]: r["status"] for r in results(out) if r["status"] != "sending"}
    assert sorted(statuses.values()) == ["ok", "uncertain", "uncertain"]


def test_the_sync_twin_runs_the_same_batch(
    jsonl: Jsonl, emulator: Emulator, tmp_path: Path
) -> None:
    """``Batch`` yields the records and ``run_batch`` the summary, from code that is not async."""
    source, out = jsonl(EIGHT[:2]), tmp_path / "out"
    client = AsyncImageClient(emulator.base_url, http_client=emulator.async_client())
    with Batch(source, out, client=client) as batch:
        ids = sorted(record["id"] for record in batch)
    assert ids == ["r0", "r1"]
    assert run_batch(source, out, client=client).skipped_ok == 2


async def test_the_sync_twin_works_inside_a_running_event_loop(
    jsonl: Jsonl, emulator: Emulator, tmp_path: Path
) -> None:
    """A notebook cell runs inside an event loop: ``run_batch`` still works there."""
    client = AsyncImageClient(emulator.base_url, http_client=emulator.async_client())
    summary = run_batch(jsonl(EIGHT[:1]), tmp_path / "out", client=client)
    assert summary.ok == 1

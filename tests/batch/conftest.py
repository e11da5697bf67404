"""Fixtures for the batch tests.

- ``emulator``: a fresh in-process emulator; ``client``: an ``AsyncImageClient`` answered
  by it with no socket (retries off, so a fault is exactly what the batch sees).
- ``served``: the emulator on a real loopback port, for subprocesses and engines.
- ``jsonl(lines, name=...)``: writes an input file (objects as JSON, strings as they are).
- ``run(source, directory, **options)``: a whole batch on ``client``; its summary.
- ``results(directory)``: the records of ``directory/results.jsonl``.
- ``posts(emulator)``: the prompts of the paid routes' POSTs, in order.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from clawrouter_images import AsyncImageClient
from clawrouter_images.batch import BatchSummary, arun_batch, read_records
from clawrouter_images.emulator import Emulator, serve

Jsonl = Callable[..., Path]
Run = Callable[..., Awaitable[BatchSummary]]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(image_dir=tmp_path / "emulator") as made:
        yield made


@pytest.fixture
def client(emulator: Emulator) -> AsyncImageClient:
    return AsyncImageClient(emulator.base_url, max_retries=0, http_client=emulator.async_client())


@pytest.fixture
def served(emulator: Emulator) -> Iterator[str]:
    with serve(emulator, port=0) as base_url:
        yield base_url


@pytest.fixture
def jsonl(tmp_path: Path) -> Jsonl:
    def write(lines: Sequence[object], name: str = "in.jsonl") -> Path:
        path = tmp_path / name
        text = "".join(
            (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
        )
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def run(client: AsyncImageClient) -> Run:
    async def go(source: object, directory: Path, **options: Any) -> BatchSummary:
        options.setdefault("client", client)
        return await arun_batch(source, directory, **options)  # type: ignore[arg-type]

    return go


def results(directory: Path) -> list[dict[str, Any]]:
    return [record for _, record in read_records(directory / "results.jsonl")]


def final(directory: Path) -> dict[str, str]:
    """Each id's status as a rerun would read it."""
    from clawrouter_images.batch._journal import Journal

    with Journal(directory) as journal:
        return {key: journal.status(key) or "" for key, _ in journal.deciding()}


def posts(emulator: Emulator) -> list[str]:
    return [
        str(entry.body.get("prompt"))
        for entry in emulator.ledger
        if entry.method == "POST" and isinstance(entry.body, dict)
    ]

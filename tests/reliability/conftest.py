"""Fixtures for the reliability tests: faults on a real socket, hostile inputs, fuzzing, soak.

- ``served``: one emulator per module on a real loopback port (``serve(emu, port=0)``),
  reset before each test; its idle limit is 30 s unless a test lowers it.
- ``clients``: an ``ImageClient`` and an ``AsyncImageClient`` on ``served``, with their retry
  sleeps recorded in ``sleeps`` instead of slept; ``twin``: the client of ``mode`` on
  ``served`` behind one awaitable API (tests/support/twin.py).
- ``recorded_clients``: clients on the shared ``fake`` ClawRouter, which records every
  request, for tests that must show that nothing was sent.
- ``uploads``: the only folder the tools may read.
- ``soak``: ``benchmarks/bench_soak.py``'s ``run_soak``, the function its script runs.

``fake``, ``mode``, ``make_twin`` and ``png`` come from tests/conftest.py.  Test modules
import the types below only under ``TYPE_CHECKING``; everything used at run time reaches
them through these fixtures.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.support.png import png_bytes
from tests.support.server import FakeClawRouter
from tests.support.twin import MakeTwin, Twin, record_sleeps

from clawrouter_images import AsyncImageClient, ImageClient
from clawrouter_images.emulator import Emulator, LedgerEntry, serve

if TYPE_CHECKING:
    from bench_soak import SoakReport

# Long enough for any answer on a busy CI machine, short enough that a hang fails.
IDLE_LIMIT = 30.0
CLIENT_TIMEOUT = 20.0
BENCH_SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_soak.py"


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    """The one folder the tools may read local images from; holds ``photo.png``."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "photo.png").write_bytes(png_bytes())
    return folder


# -- the emulator on a socket ------------------------------------------------------------


@dataclass
class Served:
    emulator: Emulator
    base_url: str

    def posts(self) -> list[LedgerEntry]:
        """Ledger entries of the paid routes (the ledger also records downloads)."""
        return [entry for entry in self.emulator.ledger if entry.method == "POST"]

    def paid(self) -> int:
        return sum(1 for entry in self.posts() if entry.paid)


@pytest.fixture(scope="module")
def _served_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    emulator = Emulator(image_dir=tmp_path_factory.mktemp("emulator"), idle_timeout=IDLE_LIMIT)
    with serve(emulator, port=0) as base_url:
        yield Served(emulator, base_url)
    emulator.close()


@pytest.fixture
def served(_served_module: Served) -> Iterator[Served]:
    emulator = _served_module.emulator
    emulator.reset()
    emulator.idle_timeout = IDLE_LIMIT
    yield _served_module
    emulator.reset()
    emulator.idle_timeout = IDLE_LIMIT


# -- clients ------------------------------------------------------------------------------


@dataclass
class Clients:
    """One client of each kind on the same server; retry sleeps land in ``sleeps``."""

    sync: ImageClient
    aio: AsyncImageClient
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        record_sleeps(self.sync, self.sleeps)
        record_sleeps(self.aio, self.sleeps)

    async def close(self) -> None:
        self.sync.close()
        await self.aio.aclose()


@pytest.fixture
async def clients(served: Served) -> AsyncIterator[Clients]:
    made = Clients(
        ImageClient(served.base_url, timeout=CLIENT_TIMEOUT),
        AsyncImageClient(served.base_url, timeout=CLIENT_TIMEOUT),
    )
    yield made
    await made.close()


@pytest.fixture
def twin(make_twin: MakeTwin, served: Served) -> Twin:
    return make_twin(served.base_url, timeout=CLIENT_TIMEOUT)


@pytest.fixture
async def recorded_clients(fake: FakeClawRouter) -> AsyncIterator[Clients]:
    """Clients on ``fake``, which answers every call with images and records every request."""
    made = Clients(fake.client(), fake.async_client())
    yield made
    await made.close()


# -- the soak -----------------------------------------------------------------------------

RunSoak = Callable[..., "SoakReport"]
"""``run_soak(calls=..., concurrency=..., fault_rate=..., seed=...)``."""


@pytest.fixture(scope="session")
def soak() -> RunSoak:
    """``run_soak`` from benchmarks/bench_soak.py (not a package: loaded from its file)."""
    module = sys.modules.get("bench_soak")
    if module is None:
        spec = importlib.util.spec_from_file_location("bench_soak", BENCH_SOAK)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_soak"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    run: RunSoak = module.run_soak
    return run

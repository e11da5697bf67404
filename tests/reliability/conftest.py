"""Fixtures for the reliability tests: faults on a real socket, hostile inputs, fuzzing, soak.

- ``served``: one emulator per module on a real loopback port (``serve(emu, port=0)``),
  reset before each test; its idle limit is 30 s unless a test lowers it.
- ``mode``: ``"sync"`` or ``"async"`` (parametrized).
- ``clients``: an ``ImageClient`` and an ``AsyncImageClient`` on ``served``, with their retry
  sleeps recorded in ``sleeps`` instead of slept; ``twin`` is the one of ``mode`` behind
  one awaitable API.
- ``recorder``: a ClawRouter stand-in on ``httpx.MockTransport`` that records every request,
  for tests that must show that nothing was sent; ``recorded_clients`` are clients on it.
- ``png``: a small real PNG; ``uploads``: the only folder the tools may read.
- ``soak``: ``benchmarks/bench_soak.py``'s ``run_soak``, the function its script runs.

Test modules import the types below only under ``TYPE_CHECKING``; everything used at run
time reaches them through these fixtures.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest
from PIL import Image

from clawrouter_images import AsyncImageClient, ImageClient, ImageResponse
from clawrouter_images.emulator import Emulator, LedgerEntry, serve

if TYPE_CHECKING:
    from bench_soak import SoakReport

Mode = Literal["sync", "async"]
Route = Literal["generate", "edit"]

# What each route asks for: a small picture keeps generation quick; edits use the
# default editing model, so that its own error messages are the ones checked.
GENERATE_ARGS: dict[str, Any] = {"model": "cogview", "size": "512x512"}
EDIT_ARGS: dict[str, Any] = {"model": "gpt-image"}
# Long enough for any answer on a busy CI machine, short enough that a hang fails.
IDLE_LIMIT = 30.0
CLIENT_TIMEOUT = 20.0
BENCH_SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_soak.py"


def png_bytes(width: int = 16, height: int = 16, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _no_clawrouter_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ClawRouter settings must not leak into the tests."""
    monkeypatch.delenv("CLAWROUTER_BASE_URL", raising=False)
    monkeypatch.delenv("BLOCKRUN_PROXY_PORT", raising=False)


@pytest.fixture
def png() -> bytes:
    return png_bytes()


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
        self.sync._sleep = self.sleeps.append

        async def record(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.aio._sleep = record

    async def close(self) -> None:
        self.sync.close()
        await self.aio.aclose()


@dataclass
class Twin:
    """The client of one mode behind one awaitable API."""

    mode: Mode
    clients: Clients

    @property
    def client(self) -> ImageClient | AsyncImageClient:
        return self.clients.sync if self.mode == "sync" else self.clients.aio

    @property
    def sleeps(self) -> list[float]:
        return self.clients.sleeps

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        return await result if isinstance(result, Awaitable) else result

    async def generate(self, prompt: Any, **kwargs: Any) -> ImageResponse:
        response: ImageResponse = await self._call("generate", prompt, **kwargs)
        return response

    async def edit(self, prompt: Any, image: Any, **kwargs: Any) -> ImageResponse:
        response: ImageResponse = await self._call("edit", prompt, image, **kwargs)
        return response

    async def save(self, response: ImageResponse, directory: Path) -> list[Path]:
        paths: list[Path] = await self._call("save", response, directory)
        return paths

    async def call(self, route: Route, prompt: str = "a lighthouse at dusk") -> ImageResponse:
        """One small call on ``route``: cogview 512x512, or an edit of a tiny PNG."""
        if route == "generate":
            return await self.generate(prompt, **GENERATE_ARGS)
        return await self.edit(prompt, png_bytes(), **EDIT_ARGS)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    value: Mode = request.param
    return value


@pytest.fixture
async def clients(served: Served) -> AsyncIterator[Clients]:
    made = Clients(
        ImageClient(served.base_url, timeout=CLIENT_TIMEOUT),
        AsyncImageClient(served.base_url, timeout=CLIENT_TIMEOUT),
    )
    yield made
    await made.close()


@pytest.fixture
def twin(mode: Mode, clients: Clients) -> Twin:
    return Twin(mode, clients)


# -- a recorder: proof that nothing was sent ----------------------------------------------


@dataclass
class Recorder:
    """ClawRouter on ``httpx.MockTransport``: every request is recorded and answered with one image."""

    base_url: str = "http://127.0.0.1:8402"
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "GET" and request.url.path.startswith("/images/"):
            return httpx.Response(200, content=png_bytes(), headers={"content-type": "image/png"})
        body = json.loads(request.read() or b"{}")
        count = body.get("n", 1) if isinstance(body, dict) else 1
        data = [{"url": f"http://localhost:8402/images/17955-{i}.png"} for i in range(count)]
        return httpx.Response(200, json={"created": 1795503044, "data": data})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def recorded_clients(recorder: Recorder) -> AsyncIterator[Clients]:
    transport = recorder.transport()
    with httpx.Client(transport=transport) as sync_http:
        async with httpx.AsyncClient(transport=transport) as async_http:
            yield Clients(
                ImageClient(recorder.base_url, http_client=sync_http),
                AsyncImageClient(recorder.base_url, http_client=async_http),
            )


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

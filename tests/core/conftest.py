"""Fixtures for the core client's tests.

- ``server``: a scripted ClawRouter behind ``httpx.MockTransport`` that records every request.
- ``make_twin`` / ``twin``: ``ImageClient`` or ``AsyncImageClient`` (parametrized) behind one
  awaitable API, with the retry sleep replaced by a recorder, so each case is written once.
- ``transcript`` (from tests/conftest.py): loads a recorded exchange of the real ClawRouter.
- ``png``: a real 1x1 PNG.

Test modules import the types below only under ``TYPE_CHECKING``; everything used at run
time reaches them through these fixtures.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clawrouter_images import AsyncImageClient, Health, ImageClient, ImageData, ImageResponse

BASE_URL = "http://127.0.0.1:8402"

# A real 1x1 PNG (the one the recorder sent in i2i-image-list-not-converted).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgZGIGAAAOAAfXb+R4AAAAAElFTkSuQmCC"
)


Answer = Callable[[httpx.Request], httpx.Response]
Outcome = Answer | Exception


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that sends ``head`` and then loses the connection."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        raise httpx.ReadError("connection reset by peer")


class Server:
    """A scripted ClawRouter (and any remote host) that records each request it receives.

    ``on(method, target, *outcomes)`` answers requests whose path (with query), or whole URL,
    equals ``target`` with the outcomes in order, repeating the last one.  An outcome is an
    answer built by ``json``/``text``/``content``/``broken``/``replay`` or an exception to raise.
    An unscripted request fails the test.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._routes: dict[tuple[str, str], list[Outcome]] = {}

    def on(self, method: str, target: str, *outcomes: Outcome) -> Server:
        assert outcomes, "script at least one outcome"
        self._routes[(method, target)] = list(outcomes)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode("ascii")
        outcomes = self._routes.get((request.method, str(request.url))) or self._routes.get(
            (request.method, path)
        )
        if outcomes is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            if isinstance(outcome, httpx.RequestError):
                outcome.request = request
            raise outcome
        return outcome(request)

    # -- what was received -------------------------------------------------------------------

    def sent(self, method: str = "POST") -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method]

    def body(self, index: int = -1) -> dict[str, Any]:
        """The JSON body of the ``index``-th POST."""
        parsed = json.loads(self.sent("POST")[index].content)
        assert isinstance(parsed, dict)
        return parsed

    # -- answers -----------------------------------------------------------------------------

    @staticmethod
    def content(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, content=body, headers=headers)

        return answer

    @staticmethod
    def json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
        return Server.content(
            json.dumps(body).encode(),
            status,
            {"content-type": "application/json", **(headers or {})},
        )

    @staticmethod
    def text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
        return Server.content(body.encode(), status, headers)

    @staticmethod
    def broken(head: bytes) -> Answer:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, stream=BrokenStream(head))

        return answer

    @staticmethod
    def images(*urls: str) -> Answer:
        """A successful generation answer holding ``urls``."""
        return Server.json({"created": 1795503044, "data": [{"url": url} for url in urls]})

    @staticmethod
    def replay(record: dict[str, Any]) -> Outcome:
        """The recorded response of a transcript, as an outcome."""
        response = record["response"]
        if response["status"] is None:
            # The connection closed with no HTTP response; this is what httpx raises then.
            return httpx.RemoteProtocolError("Server disconnected without sending a response.")
        headers = {
            name: value
            for name, value in response.get("headers", {}).items()
            if name not in ("content-length", "transfer-encoding")
        }
        if "json" in response:
            body = json.dumps(response["json"]).encode()
        elif "text" in response:
            body = response["text"].encode()
        else:
            body = b""
        return Server.content(body, response["status"], headers)


class Twin:
    """``ImageClient`` or ``AsyncImageClient`` behind one awaitable API.

    Sleeps between retries are recorded in ``sleeps`` instead of being slept.
    """

    def __init__(
        self,
        kind: str,
        server: Server,
        *,
        base_url: str | None = BASE_URL,
        transport: httpx.MockTransport | None = None,
        **options: Any,
    ) -> None:
        self.kind = kind
        self.server = server
        self.sleeps: list[float] = []
        transport = transport or httpx.MockTransport(server)
        self.client: ImageClient | AsyncImageClient
        if kind == "sync":
            sync = ImageClient(base_url, http_client=httpx.Client(transport=transport), **options)
            sync._sleep = self.sleeps.append
            self.client = sync
        else:
            aio = AsyncImageClient(
                base_url, http_client=httpx.AsyncClient(transport=transport), **options
            )

            async def record(delay: float) -> None:
                self.sleeps.append(delay)

            aio._sleep = record
            self.client = aio

    @property
    def spent_usd(self) -> float:
        return self.client.spent_usd

    @property
    def base_url(self) -> str:
        return self.client.base_url

    async def generate(self, prompt: Any, **kwargs: Any) -> ImageResponse:
        if isinstance(self.client, ImageClient):
            return self.client.generate(prompt, **kwargs)
        return await self.client.generate(prompt, **kwargs)

    async def edit(self, prompt: Any, image: Any, **kwargs: Any) -> ImageResponse:
        if isinstance(self.client, ImageClient):
            return self.client.edit(prompt, image, **kwargs)
        return await self.client.edit(prompt, image, **kwargs)

    async def health(self, full: bool = False) -> Health:
        if isinstance(self.client, ImageClient):
            return self.client.health(full=full)
        return await self.client.health(full=full)

    async def save(self, response: ImageResponse, directory: str | Path) -> list[Path]:
        if isinstance(self.client, ImageClient):
            return self.client.save(response, directory)
        return await self.client.save(response, directory)

    async def download(self, image: ImageData | str) -> bytes:
        if isinstance(self.client, ImageClient):
            return self.client.download(image)
        return await self.client.download(image)

    def close(self) -> None:
        if isinstance(self.client, ImageClient):
            self.client._http.close()


MakeTwin = Callable[..., Twin]
LoadTranscript = Callable[[str], dict[str, Any]]


@pytest.fixture(autouse=True)
def _no_clawrouter_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ClawRouter settings must not leak into the tests."""
    monkeypatch.delenv("CLAWROUTER_BASE_URL", raising=False)
    monkeypatch.delenv("BLOCKRUN_PROXY_PORT", raising=False)


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture(params=["sync", "async"])
def make_twin(request: pytest.FixtureRequest) -> Iterator[MakeTwin]:
    """Build clients of the parametrized kind: ``make_twin(server, budget_usd=1.0)``."""
    made: list[Twin] = []

    def make(server: Server, **options: Any) -> Twin:
        twin = Twin(request.param, server, **options)
        made.append(twin)
        return twin

    yield make
    for twin in made:
        twin.close()


@pytest.fixture
def twin(make_twin: MakeTwin, server: Server) -> Twin:
    """A client of the parametrized kind on ``server`` with default options."""
    return make_twin(server)


@pytest.fixture
def png() -> bytes:
    return PNG

"""A fake ClawRouter on ``httpx.MockTransport`` and spec factories for the LlamaIndex tests.

The fake answers the two image routes like ClawRouter (``data[].url`` localised to
``http://localhost:8402/images/...``), serves the images it made, and records every
request so tests can assert what was sent, and that nothing was.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from clawrouter_images import AsyncImageClient, ImageClient
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

BASE_URL = "http://127.0.0.1:8402"
# ClawRouter names its images after the port it listens on, on "localhost".
IMAGE_URL_PREFIX = "http://localhost:8402/images/"


def png_bytes(seed: int) -> bytes:
    """A valid 2x2 PNG whose pixels depend on ``seed``, so every image is different."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixel = bytes([seed % 256, (seed // 256) % 256, 7])
    rows = b"".join(b"\x00" + pixel * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class Request:
    method: str
    path: str
    body: dict[str, Any] | None


@dataclass
class FakeClawRouter:
    """ClawRouter's image routes, in memory.  ``error`` makes the next POSTs fail.

    Test modules cannot import this conftest, so its helpers travel on the fixture.
    """

    base_url = BASE_URL
    png = staticmethod(png_bytes)
    data_uri = staticmethod(data_uri)

    requests: list[Request] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    error: tuple[int, dict[str, Any]] | None = None
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def add_image(self, name: str, data: bytes) -> str:
        """Serve ``data`` at ``/images/<name>`` and return its localised URL."""
        self.images[name] = data
        return IMAGE_URL_PREFIX + name

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path in (
            "/v1/images/generations",
            "/v1/images/image2image",
        ):
            body = json.loads(request.content)
            self.requests.append(Request("POST", path, body))
            if self.error is not None:
                status, error_body = self.error
                return httpx.Response(status, json=error_body)
            data = [
                {"url": self.add_image(f"{number}.png", png_bytes(number))}
                for number in itertools.islice(self._counter, body["n"])
            ]
            return httpx.Response(200, json={"created": 1741460000, "data": data})
        self.requests.append(Request(request.method, path, None))
        name = path.removeprefix("/images/")
        if request.method == "GET" and path.startswith("/images/") and name in self.images:
            return httpx.Response(200, content=self.images[name])
        return httpx.Response(404, json={"error": "Not found"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request on this client: {request.method} {request.url}")


@pytest.fixture
def fake() -> FakeClawRouter:
    return FakeClawRouter()


@pytest.fixture
def image_client(fake: FakeClawRouter) -> Iterator[ImageClient]:
    with httpx.Client(transport=fake.transport()) as http:
        yield ImageClient(BASE_URL, max_retries=0, http_client=http)


@pytest.fixture
async def async_image_client(fake: FakeClawRouter) -> AsyncIterator[AsyncImageClient]:
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        yield AsyncImageClient(BASE_URL, max_retries=0, http_client=http)


@pytest.fixture
def refusing_client() -> Iterator[ImageClient]:
    """A sync client that fails the test if it sends anything."""
    with httpx.Client(transport=httpx.MockTransport(_refuse)) as http:
        yield ImageClient(BASE_URL, max_retries=0, http_client=http)


@pytest.fixture
async def refusing_async_client() -> AsyncIterator[AsyncImageClient]:
    """An async client that fails the test if it sends anything."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse)) as http:
        yield AsyncImageClient(BASE_URL, max_retries=0, http_client=http)


SpecFactory = Callable[..., ClawRouterImageToolSpec]


@pytest.fixture
def make_spec(image_client: ImageClient, async_image_client: AsyncImageClient) -> SpecFactory:
    """Build a spec on the fake's clients; keyword arguments go to the spec."""

    def make(**kwargs: Any) -> ClawRouterImageToolSpec:
        kwargs.setdefault("client", image_client)
        kwargs.setdefault("async_client", async_image_client)
        return ClawRouterImageToolSpec(**kwargs)

    return make

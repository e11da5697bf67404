"""A fake ClawRouter and an offline agent for the LangChain adapter's tests.

- ``fake``: ClawRouter's image routes in memory behind ``httpx.MockTransport``: answers
  like ClawRouter (``data[].url`` localised to ``http://localhost:8402/images/...``),
  serves the images it made, records every request, and fails on demand.
- ``settings``: keyword arguments for a tool or toolkit on the fake's clients, saving into
  ``saved`` and reading local images only from ``uploads``.
- ``run_agent``: ``langchain.agents.create_agent`` with a scripted chat model, run sync
  and async (parametrized), returning the conversation.
- ``loopback``: the fake on a real 127.0.0.1 port, for clients built from the environment.

Test modules import the types below only under ``TYPE_CHECKING``; everything used at run
time reaches them through these fixtures.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langchain_core.tools import BaseTool
from typing_extensions import Self

from clawrouter_images import AsyncImageClient, ImageClient

if TYPE_CHECKING:
    # Only a type: langchain 1.3.8 has it, the 1.2.11 floor does not (the agents run there too).
    from langchain.agents.middleware.types import InputAgentState

BASE_URL = "http://127.0.0.1:8402"
# ClawRouter names its images after the port it listens on, on "localhost".
IMAGE_URL_PREFIX = "http://localhost:8402/images/"
IMAGE_ROUTES = ("/v1/images/generations", "/v1/images/image2image")
# What ClawRouter answers when the upstream rejects its payment (gen-payment-rejected-402).
PAYMENT_REJECTED = {
    "error": "Payment verification failed",
    "details": 'Verification failed: {"isValid": false, "invalidReason": "insufficient_funds"}',
}


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


@dataclass
class Received:
    """One request the fake received."""

    method: str
    path: str
    body: dict[str, Any] | None

    @property
    def json(self) -> dict[str, Any]:
        assert self.body is not None, f"{self.method} {self.path} had no JSON body"
        return self.body

    def image_bytes(self, key: str = "image") -> bytes:
        """The bytes of the data URI the client sent in ``key``."""
        uri = self.json[key]
        assert isinstance(uri, str), f"{key} is not a single data URI: {uri!r}"
        head, _, encoded = uri.partition(",")
        assert head.startswith("data:image/"), head
        assert head.endswith(";base64"), head
        return base64.b64decode(encoded)


@dataclass
class FakeClawRouter:
    """ClawRouter's image routes, in memory."""

    received: list[Received] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    inline: bool = False
    """Answer ``b64_json`` instead of URLs, as some upstreams do."""
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def posts(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    def fail_next(self, status: int, body: dict[str, Any]) -> None:
        """Answer the next image POST with ``status`` and ``body``."""
        self.failures.append((status, body))

    def serve(self, name: str, data: bytes | None = None) -> str:
        """Serve an image at ``/images/<name>``, like an earlier result; return its URL."""
        self.images[name] = png_bytes(0) if data is None else data
        return IMAGE_URL_PREFIX + name

    def image(self, url: str) -> bytes:
        """The bytes served at a result URL."""
        return self.images[url.removeprefix(IMAGE_URL_PREFIX)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path in IMAGE_ROUTES:
            body = json.loads(request.content)
            self.received.append(Received("POST", path, body))
            if self.failures:
                status, error = self.failures.pop(0)
                return httpx.Response(status, json=error)
            data = []
            for number in itertools.islice(self._counter, body["n"]):
                name = f"{1795503044000 + number}-img{number:05d}.png"
                self.images[name] = png_bytes(number)
                if self.inline:
                    data.append({"b64_json": base64.b64encode(self.images[name]).decode()})
                else:
                    data.append({"url": IMAGE_URL_PREFIX + name})
            return httpx.Response(200, json={"created": 1795503044, "data": data})
        self.received.append(Received(request.method, path, None))
        name = path.removeprefix("/images/")
        if request.method == "GET" and path.startswith("/images/") and name in self.images:
            return httpx.Response(
                200, content=self.images[name], headers={"Content-Type": "image/png"}
            )
        return httpx.Response(404, json={"error": "Not found"})

    def client(self) -> ImageClient:
        return ImageClient(
            BASE_URL, max_retries=0, http_client=httpx.Client(transport=self._transport())
        )

    def async_client(self) -> AsyncImageClient:
        return AsyncImageClient(
            BASE_URL, max_retries=0, http_client=httpx.AsyncClient(transport=self._transport())
        )

    def _transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def refused_clients() -> dict[str, Any]:
    """Clients of a ClawRouter that is not running: every connection is refused."""
    transport = httpx.MockTransport(_refuse)
    return {
        "client": ImageClient(
            BASE_URL, max_retries=0, http_client=httpx.Client(transport=transport)
        ),
        "async_client": AsyncImageClient(
            BASE_URL, max_retries=0, http_client=httpx.AsyncClient(transport=transport)
        ),
    }


class ScriptedChatModel(GenericFakeChatModel):
    """A chat model that answers from a script, and accepts tools without using them."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Self:
        return self


RunAgent = Callable[[Sequence[BaseTool], str, list[dict[str, Any]]], Awaitable[list[BaseMessage]]]
"""``run_agent(tools, user_message, tool_calls)``: the model makes the calls, then says done."""


@pytest.fixture(params=["sync", "async"])
def run_agent(request: pytest.FixtureRequest) -> RunAgent:
    async def run(
        tools: Sequence[BaseTool], user_message: str, tool_calls: list[dict[str, Any]]
    ) -> list[BaseMessage]:
        calls = [
            tool_call(name=call["name"], args=call["args"], id=f"call_{index}")
            for index, call in enumerate(tool_calls)
        ]
        script = iter([AIMessage(content="", tool_calls=calls), AIMessage(content="Done.")])
        agent = create_agent(ScriptedChatModel(messages=script), list(tools))
        state: InputAgentState = {"messages": [HumanMessage(user_message)]}
        if request.param == "sync":
            result = agent.invoke(state)
        else:
            result = await agent.ainvoke(state)
        messages: list[BaseMessage] = result["messages"]
        return messages

    return run


Call = Callable[[BaseTool, dict[str, Any]], Awaitable[ToolMessage]]
"""``call(tool, args)``: the ``ToolMessage`` of one tool call, made sync or async."""


@pytest.fixture(params=["invoke", "ainvoke"])
def call(request: pytest.FixtureRequest) -> Call:
    async def run(tool: BaseTool, args: dict[str, Any]) -> ToolMessage:
        tool_call = {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"}
        if request.param == "invoke":
            message = tool.invoke(tool_call)
        else:
            message = await tool.ainvoke(tool_call)
        assert isinstance(message, ToolMessage)
        return message

    return run


@pytest.fixture
def fake() -> FakeClawRouter:
    return FakeClawRouter()


@pytest.fixture
def png() -> Callable[[int], bytes]:
    """``png(seed)``: a valid PNG, different for every seed."""
    return png_bytes


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    """The one folder local input images may come from."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """Where results are saved (created on the first save)."""
    return tmp_path / "saved"


@pytest.fixture
def settings(fake: FakeClawRouter, uploads: Path, saved: Path) -> dict[str, Any]:
    return {
        "client": fake.client(),
        "async_client": fake.async_client(),
        "save_dir": saved,
        "allowed_dirs": [uploads],
    }


@pytest.fixture
def refused() -> dict[str, Any]:
    return refused_clients()


class _Bridge(BaseHTTPRequestHandler):
    """Hands each real HTTP request to the fake, and closes the connection after it."""

    fake: FakeClawRouter

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = httpx.Request(
            self.command,
            f"http://{self.headers['Host']}{self.path}",
            headers=dict(self.headers),
            content=self.rfile.read(length),
        )
        response = self.fake.handle(request)
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.content)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.content)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback(fake: FakeClawRouter) -> Iterator[str]:
    """The fake served on a real 127.0.0.1 port; yields its base URL."""
    handler = type("Bridge", (_Bridge,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

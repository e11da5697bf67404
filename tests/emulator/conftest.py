"""Fixtures for the emulator's tests.

- ``emu``: an emulator on port 8402 (the port the transcripts show) with its image
  directory, ``home`` and ``cwd`` under ``tmp_path``; ``home`` holds ``pics/cat.png``,
  ``pics/mask.png`` and the directory ``pics/adir`` like the recording machine did.
- ``call``: send one request to an ASGI app with the raw target exactly as given (httpx
  would normalise ``/images/.`` away), like ``http.client`` does on a socket.
- ``call_socket``: the same over a real loopback connection, keeping framing headers.
- ``wire``: the emulator reached in-process (``call``) or on a socket (a module-wide
  ``served`` emulator), parametrized, behind one ``send`` method.
- ``transcript`` (from tests/conftest.py): loads a recorded exchange of the real ClawRouter.

Test modules import the types below only under ``TYPE_CHECKING``; everything used at run
time reaches them through these fixtures.
"""

from __future__ import annotations

import functools
import http.client
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from tests.support.png import png_bytes

from clawrouter_images.emulator import Emulator, serve

# The wallet of the recording machine, so bodies that quote it compare equal.
TRANSCRIPT_WALLET = "0xdB00079cad3e665853Bf766eFe26F4C38cdbdCDA"
# Small enough that tests waiting on the idle limit stay quick, large enough for a busy CI.
IDLE_TIMEOUT = 0.5


@dataclass
class Raw:
    """One answer as seen on the wire; ``status`` is None when the connection was dropped."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


Call = Callable[..., Awaitable[Raw]]
CallSocket = Callable[..., Raw]
LoadTranscript = Callable[[str], dict[str, Any]]


def _body(json_body: object, content: bytes | str | None) -> bytes:
    if json_body is not None:
        return json.dumps(json_body).encode()
    if isinstance(content, str):
        return content.encode()
    return content or b""


async def call_asgi(
    app: Any,
    method: str,
    target: str,
    *,
    json_body: object = None,
    content: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Raw:
    """Drive ``app`` with one request whose target is used verbatim."""
    body = _body(json_body, content)
    raw_path, _, query = target.partition("?")
    header_list = [(b"host", b"127.0.0.1:8402")]
    if json_body is not None:
        header_list.append((b"content-type", b"application/json"))
    header_list += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": header_list,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8402),
    }
    sent = False
    result = Raw(status=None)
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except httpx.RemoteProtocolError as err:
        # The emulator's in-process stand-in for a hang-up; status stays None before a start.
        result.error = str(err)
    result.body = b"".join(chunks)
    return result


@pytest.fixture
def call() -> Call:
    return call_asgi


def socket_request(
    base_url: str,
    method: str,
    target: str,
    *,
    json_body: object = None,
    content: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Raw:
    """One request over a real connection with ``http.client`` (the target is not normalised)."""
    url = httpx.URL(base_url)
    connection = http.client.HTTPConnection(url.host, url.port, timeout=timeout)
    all_headers = {"content-type": "application/json"} if json_body is not None else {}
    all_headers.update(headers or {})
    try:
        connection.request(
            method, target, body=_body(json_body, content) or None, headers=all_headers
        )
        response = connection.getresponse()
        header_map = {k.lower(): v for k, v in response.getheaders()}
        try:
            body = response.read()
        except http.client.IncompleteRead as err:
            return Raw(response.status, header_map, err.partial, error=repr(err))
        return Raw(response.status, header_map, body)
    except (http.client.RemoteDisconnected, ConnectionError) as err:
        return Raw(None, error=repr(err))
    finally:
        connection.close()


@pytest.fixture
def call_socket() -> CallSocket:
    return socket_request


def write_home(home: Path) -> Path:
    """The files the transcripts' image2image requests refer to, under ``home``."""
    pics = home / "pics"
    (pics / "adir").mkdir(parents=True, exist_ok=True)
    (pics / "cat.png").write_bytes(png_bytes(96, 64, (220, 120, 40)))
    (pics / "mask.png").write_bytes(png_bytes(96, 64, (255, 255, 255)))
    return home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return write_home(tmp_path / "home")


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    path = tmp_path / "cwd"
    path.mkdir()
    return path


@pytest.fixture
def emu(tmp_path: Path, home: Path, cwd: Path) -> Iterator[Emulator]:
    emulator = Emulator(
        image_dir=tmp_path / "images",
        port=8402,
        idle_timeout=IDLE_TIMEOUT,
        home=home,
        cwd=cwd,
        wallet=TRANSCRIPT_WALLET,
    )
    yield emulator
    emulator.close()


@dataclass
class Wire:
    """The emulator under test and how a request reaches it (in-process, or its base URL)."""

    emulator: Emulator
    home: Path
    base_url: str | None

    def send(
        self, method: str, target: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Raw:
        if self.base_url is None:
            call = functools.partial(
                call_asgi, self.emulator, method, target, content=body, headers=headers
            )
            return anyio.run(call)
        return socket_request(self.base_url, method, target, content=body, headers=headers)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    """One emulator on a loopback port for a whole test module (reset by ``wire``)."""
    root = tmp_path_factory.mktemp("served")
    home = write_home(root / "home")
    (root / "cwd").mkdir()
    emulator = Emulator(
        image_dir=root / "images",
        idle_timeout=IDLE_TIMEOUT,
        home=home,
        cwd=root / "cwd",
        wallet=TRANSCRIPT_WALLET,
    )
    with serve(emulator, port=0) as base_url:
        yield Wire(emulator, home, base_url)
    emulator.close()


@pytest.fixture(params=["asgi", "socket"])
def wire(request: pytest.FixtureRequest, emu: Emulator, home: Path) -> Iterator[Wire]:
    if request.param == "asgi":
        yield Wire(emu, home, None)
        return
    shared: Wire = request.getfixturevalue("served")
    shared.emulator.reset()
    yield shared
    shared.emulator.reset()
    shared.emulator.balance_usd = 5.0

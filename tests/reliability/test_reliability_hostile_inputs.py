"""Hostile local inputs and foreign URLs, through the client and through both tools.

A FIFO, endless device files, a sparse 10 GB file, a directory, a symlink loop,
``/proc/self/environ``, ``..`` out of the allowed folder, symlinks out of it, a text file
named ``.png``, and URLs of other schemes: each is refused with a clear message, without
blocking, without reading past the size cap, and without sending anything.  The tools'
file policy refuses whatever is outside the allowed folder, or reached through a symlink,
before it opens anything; inside it, the checks of the opened file refuse the rest.  Every attempt runs in a thread with a time
limit, so that a hang fails the test instead of blocking the run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import pytest
from langchain_core.messages import ToolMessage
from llama_index.core.tools.calling import acall_tool, call_tool

from clawrouter_images import ClawRouterError, InputImageError
from langchain_clawrouter import ClawRouterEditImage
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.reliability.conftest import Clients
    from tests.support.server import FakeClawRouter

T = TypeVar("T")

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/io").exists() or not hasattr(os, "mkfifo"),
    reason="needs FIFOs and /proc (Linux)",
)

# A refusal may read a file's first bytes (procfs files report size 0), never megabytes.
MAX_READ_BYTES = 1024 * 1024
HANG_LIMIT_SECONDS = 10.0
CLIENT_WAYS = ("client-sync", "client-async")
TOOL_WAYS = ("langchain-invoke", "langchain-ainvoke", "llama-index-call", "llama-index-acall")
OUTSIDE = r"is outside the folders this tool may read \(.*\); ask the user to copy the image"
NOT_REGULAR = r"is not a regular file \(a device, FIFO or socket\)"
NOT_AN_IMAGE = r"is not a PNG, JPEG, WebP or GIF image; pass an image file"
TOO_LARGE = r"is 10240\.0 MB, over the 50 MB limit; resize or compress it first"
LOOP = r"cannot read image .*(Too many levels of symbolic links|[Ss]ymlink loop)"


@dataclass(frozen=True)
class Hostile:
    """A hostile input, made under ``tmp_path``, and how each side must refuse it."""

    make: Callable[[Path, Path], str]
    """``make(outside, uploads)`` -> the path or URL to pass."""
    client: str | None
    """What the client says (None: the client trusts its caller and reads it)."""
    tools: str
    """What both tools say."""


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe.png")
    return str(folder / "pipe.png")


def _sparse(folder: Path) -> str:
    path = folder / "huge.png"
    with path.open("wb") as handle:
        handle.truncate(10 * 1024**3)
    return str(path)


def _directory(folder: Path) -> str:
    (folder / "album.png").mkdir()
    return str(folder / "album.png")


def _loop(folder: Path) -> str:
    (folder / "a.png").symlink_to(folder / "b.png")
    (folder / "b.png").symlink_to(folder / "a.png")
    return str(folder / "a.png")


def _text(folder: Path) -> str:
    (folder / "notes.png").write_text("OPENAI_API_KEY=sk-not-an-image\n")
    return str(folder / "notes.png")


def _link(folder: Path, target: str) -> str:
    (folder / "link.png").symlink_to(target)
    return str(folder / "link.png")


HOSTILE: dict[str, Hostile] = {
    # Outside the allowed folder: the tools' policy refuses, the client checks the file.
    "fifo": Hostile(lambda out, up: _fifo(out), NOT_REGULAR, OUTSIDE),
    "dev-zero": Hostile(lambda out, up: "/dev/zero", NOT_REGULAR, OUTSIDE),
    "dev-urandom": Hostile(lambda out, up: "/dev/urandom", NOT_REGULAR, OUTSIDE),
    "dev-null": Hostile(lambda out, up: "/dev/null", NOT_REGULAR, OUTSIDE),
    "proc-self-environ": Hostile(lambda out, up: "/proc/self/environ", NOT_AN_IMAGE, OUTSIDE),
    "sparse-10gb": Hostile(lambda out, up: _sparse(out), TOO_LARGE, OUTSIDE),
    "directory": Hostile(lambda out, up: _directory(out), r"is a directory, not an image", OUTSIDE),
    # Outside: refused on the path's text, before the loop is ever followed.
    "symlink-loop": Hostile(lambda out, up: _loop(out), LOOP, OUTSIDE),
    "text-named-png": Hostile(lambda out, up: _text(out), NOT_AN_IMAGE, OUTSIDE),
    "dotdot-out-of-the-folder": Hostile(
        lambda out, up: str(up / ".." / "outside" / "photo.png"), None, OUTSIDE
    ),
    # Inside the allowed folder: the policy opens them and refuses what it opened.
    "fifo-inside": Hostile(lambda out, up: _fifo(up), NOT_REGULAR, NOT_REGULAR),
    "sparse-10gb-inside": Hostile(lambda out, up: _sparse(up), TOO_LARGE, TOO_LARGE),
    "directory-inside": Hostile(
        lambda out, up: _directory(up), r"is a directory, not an image", r"is a directory"
    ),
    "text-named-png-inside": Hostile(lambda out, up: _text(up), NOT_AN_IMAGE, NOT_AN_IMAGE),
    # Symlinks below the allowed folder: the tools follow none, wherever they lead.
    "symlink-loop-inside": Hostile(lambda out, up: _loop(up), LOOP, OUTSIDE),
    "symlink-to-fifo-inside": Hostile(lambda out, up: _link(up, _fifo(up)), NOT_REGULAR, OUTSIDE),
    "symlink-to-dev-zero": Hostile(lambda out, up: _link(up, "/dev/zero"), NOT_REGULAR, OUTSIDE),
    "symlink-to-an-outside-image": Hostile(
        lambda out, up: _link(up, str(out / "photo.png")), None, OUTSIDE
    ),
}

URLS: dict[str, tuple[str, str, str]] = {
    # name: (input, what the client says, what the tools say)
    "file": (
        "file:///etc/passwd",
        "only local paths, http\\(s\\) URLs",
        "only local paths, http\\(s\\) URLs",
    ),
    "file-upper-case": (
        "  FILE:///etc/hostname",
        "only local paths, http\\(s\\) URLs",
        "only local paths, http\\(s\\) URLs",
    ),
    "ftp": (
        "ftp://127.0.0.1/a.png",
        "only local paths, http\\(s\\) URLs",
        "only local paths, http\\(s\\) URLs",
    ),
    "gopher": (
        "gopher://127.0.0.1:70/1",
        "only local paths, http\\(s\\) URLs",
        "only local paths, http\\(s\\) URLs",
    ),
    "ssh": (
        "ssh://git@127.0.0.1/x.png",
        "only local paths, http\\(s\\) URLs",
        "only local paths, http",
    ),
    # One classifier for the client and the tools: a scheme without "://" is a scheme too.
    "javascript": ("javascript:alert(1)", "only local paths, http", "only local paths, http"),
    "data-text-html": (
        "data:text/html;base64," + base64.b64encode(b"<script>alert(1)</script>").decode(),
        "data URI of type 'text/html' is not an image",
        "data URI of type 'text/html' is not an image",
    ),
    "data-not-base64": (
        "data:text/plain,hello",
        "is not a base64 data URI",
        "is not a base64 data URI",
    ),
    "data-png-bytes-as-octet-stream": (
        "data:application/octet-stream;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgZGIGAAAOAAfXb+R4AAAAAElFTkSuQmCC",
        "data URI of type 'application/octet-stream' is not an image",
        "data URI of type 'application/octet-stream' is not an image",
    ),
    "data-svg": (
        "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload='x()'/>").decode(),
        NOT_AN_IMAGE,
        NOT_AN_IMAGE,
    ),
    "http-without-host": ("http:///nohost.png", "has no host", "has no host"),
}


def _bytes_read() -> int:
    """Bytes this process has read with read() and friends, from /proc/self/io."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def _release(fifos: list[Path]) -> None:
    """Open each FIFO for writing, which lets a reader blocked in open() go on (to EOF)."""
    for fifo in fifos:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def _bounded(attempt: Callable[[], tuple[str, str]], fifos: list[Path]) -> tuple[str, str]:
    """Run ``attempt`` in a thread; fail (and unblock it) if it is still running after the limit."""
    result: list[tuple[str, str]] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(attempt())
        except BaseException as err:  # handed to the test thread
            failure.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_SECONDS)
    if thread.is_alive():
        _release(fifos)
        thread.join(HANG_LIMIT_SECONDS)
        pytest.fail(f"still blocked after {HANG_LIMIT_SECONDS} s")
    if failure:
        raise failure[0]
    return result[0]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _attempt(
    way: str, clients: Clients, uploads: Path, image: str
) -> Callable[[], tuple[str, str]]:
    """One edit of ``image`` in one way; returns (what raised or "tool", the message)."""

    def client_sync() -> tuple[str, str]:
        try:
            clients.sync.edit("add a hat", image, model="gpt-image")
        except ClawRouterError as err:
            return type(err).__name__, err.message
        return "result", ""

    async def client_async() -> tuple[str, str]:
        try:
            await clients.aio.edit("add a hat", image, model="gpt-image")
        except ClawRouterError as err:
            return type(err).__name__, err.message
        return "result", ""

    settings: dict[str, Any] = {
        "client": clients.sync,
        "async_client": clients.aio,
        "allowed_dirs": [uploads],
    }
    args = {"prompt": "add a hat", "image": image, "model": "gpt-image"}

    def langchain(asynchronous: bool) -> tuple[str, str]:
        tool = ClawRouterEditImage(**settings)
        call = {"name": tool.name, "args": args, "id": "c1", "type": "tool_call"}
        message = _run(tool.ainvoke(call)) if asynchronous else tool.invoke(call)
        assert isinstance(message, ToolMessage)
        assert isinstance(message.content, str)
        return message.status, message.content

    def llama_index(asynchronous: bool) -> tuple[str, str]:
        (tool,) = ClawRouterImageToolSpec(**settings).to_tool_list(["edit_image"])
        output = _run(acall_tool(tool, args)) if asynchronous else call_tool(tool, args)
        if not output.is_error:
            return "result", ""
        return type(output.exception).__name__, output.content

    ways: dict[str, Callable[[], tuple[str, str]]] = {
        "client-sync": client_sync,
        "client-async": lambda: _run(client_async()),
        "langchain-invoke": lambda: langchain(False),
        "langchain-ainvoke": lambda: langchain(True),
        "llama-index-call": lambda: llama_index(False),
        "llama-index-acall": lambda: llama_index(True),
    }
    return ways[way]


@pytest.fixture
def outside(tmp_path: Path, png: bytes) -> Path:
    """A folder next to the allowed one, holding a real ``photo.png``."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "photo.png").write_bytes(png)
    return folder


@pytest.mark.parametrize(
    ("name", "way"),
    [
        (name, way)
        for name, case in HOSTILE.items()
        # The client trusts its caller's paths: some inputs only the tools' policy refuses.
        for way in (CLIENT_WAYS if case.client is not None else ()) + TOOL_WAYS
    ],
)
def test_hostile_local_input_is_refused(
    name: str,
    way: str,
    outside: Path,
    uploads: Path,
    recorded_clients: Clients,
    fake: FakeClawRouter,
) -> None:
    """A hostile local input is refused with a clear message, without blocking, reading or sending."""
    case = HOSTILE[name]
    expected = case.client if way in CLIENT_WAYS else case.tools
    assert expected is not None
    image = case.make(outside, uploads)
    fifos = [path for path in (*outside.iterdir(), *uploads.iterdir()) if path.is_fifo()]
    before = _bytes_read()
    raised, message = _bounded(_attempt(way, recorded_clients, uploads, image), fifos)
    assert _bytes_read() - before < MAX_READ_BYTES
    assert raised in ("InputImageError", "error"), (raised, message)
    assert re.search(expected, message), message
    assert len(message) < 600
    assert fake.requests == []


@pytest.mark.parametrize("way", CLIENT_WAYS + TOOL_WAYS)
@pytest.mark.parametrize("name", list(URLS))
def test_foreign_url_is_refused(
    name: str, way: str, uploads: Path, recorded_clients: Clients, fake: FakeClawRouter
) -> None:
    """Only http(s) URLs and image data URIs are taken: any other scheme is refused, nothing sent."""
    image, client_says, tools_say = URLS[name]
    raised, message = _bounded(_attempt(way, recorded_clients, uploads, image), [])
    assert raised in ("InputImageError", "error"), (raised, message)
    assert re.search(client_says if way in CLIENT_WAYS else tools_say, message), message
    assert fake.requests == []


def test_endless_file_object_is_read_only_to_the_cap(
    recorded_clients: Clients, fake: FakeClawRouter
) -> None:
    """An open /dev/zero handed over as a file object is read up to the cap plus one byte, then refused."""
    cap = 50 * 1024 * 1024

    class Counting:
        def __init__(self) -> None:
            self.handle = Path("/dev/zero").open("rb")  # noqa: SIM115 - closed below
            self.total = 0

        def read(self, size: int = -1) -> bytes:
            assert size >= 0, "an unbounded read of an endless file"
            data = self.handle.read(size)
            self.total += len(data)
            return data

    endless = Counting()
    try:
        with pytest.raises(InputImageError, match="larger than 50 MB"):
            recorded_clients.sync.edit("add a hat", cast("IO[bytes]", endless), model="gpt-image")
    finally:
        endless.handle.close()
    assert endless.total <= cap + 1
    assert fake.requests == []


def test_fifo_as_a_path_object_does_not_block(
    tmp_path: Path, recorded_clients: Clients, fake: FakeClawRouter
) -> None:
    """A FIFO passed as a Path (not a str) is refused at once too."""
    os.mkfifo(tmp_path / "pipe.png")

    def attempt() -> tuple[str, str]:
        try:
            recorded_clients.sync.edit("add a hat", tmp_path / "pipe.png", model="gpt-image")
        except ClawRouterError as err:
            return type(err).__name__, err.message
        return "result", ""

    raised, message = _bounded(attempt, [tmp_path / "pipe.png"])
    assert raised == "InputImageError"
    assert re.search(NOT_REGULAR, message)
    assert fake.requests == []

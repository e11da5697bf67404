"""Where the client may connect: decided by address, never by how a URL is spelt.

An LLM or a server picks input and result URLs.  ``127.1``, ``0x7f000001``,
``[::ffff:127.0.0.1]``, ``0.0.0.0`` or a host name that resolves to this machine all reach
loopback, so every such URL is refused before anything is sent or paid, through both
clients (no injected ``http_client``: the guarded foreign client is the one in use) and
both tools.  The proof that nothing was sent is a listener the test starts on the port the
URL names: it must see no connection.  The guarded network backend resolves once, checks
every address and connects to the checked one (no DNS rebinding); ClawRouter's own result
URLs are fetched from the base URL whatever port they name; redirects are never followed;
and the tools' file policy answers a path outside the allowed folder the same way whether
the file exists or not.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpcore
import httpx
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.messages.tool import tool_call
from llama_index.core.tools.calling import acall_tool, call_tool

from clawrouter_images import (
    ClawRouterError,
    DownloadError,
    InputImageError,
    SaveError,
)
from clawrouter_images._guard import AsyncGuardedBackend, BlockedAddressError, GuardedBackend
from clawrouter_images._transport import async_foreign_client, sync_foreign_client
from clawrouter_images.agent_tools._file_policy import check_local_path
from clawrouter_images.emulator import Fault
from langchain_clawrouter import ClawRouterEditImage
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.reliability.conftest import Clients, Served
    from tests.support.server import FakeClawRouter
    from tests.support.twin import MakeTwin, Mode, Twin

PRIVATE = "this machine or a private network"
PROMPT = "add a red boat"
PUBLIC = "93.184.216.34"
CLIENT_WAYS = ("client-sync", "client-async")
TOOL_WAYS = ("langchain-invoke", "langchain-ainvoke", "llama-index-call", "llama-index-acall")
# ClawRouter's own result hosts: ``/images/<name>`` on them is fetched from the base URL.
CLAWROUTER_SPELT = ("localhost", "[::1]")

# Spellings httpx cannot even parse (leading zeros): refused as invalid URLs, unsent.
UNPARSED = ("0177.0.0.1", "127.0.0.01", "[::ffff:127.1]")

# Every spelling of an address the client must not fetch from.
HOSTS: dict[str, tuple[pytest.MarkDecorator, ...]] = {
    "127.1": (),
    "0x7f000001": (),
    "2130706433": (),
    "0177.0.0.1": (),
    "127.0.0.01": (),
    "[::ffff:127.1]": (),
    "0x7f.1": (),
    "127.0.0.1.": (),
    "0": (),
    "0.0.0.0": (),  # noqa: S104 - a URL host, nothing binds here
    "[::]": (),
    "[::1]": (),
    "[::ffff:127.0.0.1]": (),
    "[::ffff:7f00:1]": (),
    "10.1.2.3": (),
    "169.254.169.254": (),
    "100.64.0.1": (),
    "224.0.0.1": (),
    "240.0.0.1": (),
    "[fe80::1]": (),
    "[fe80::1%25eth0]": (),
    "[fc00::1]": (),
    "[2002:7f00:1::]": (),
    "[64:ff9b::7f00:1]": (),
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]": (),  # teredo, client 127.0.0.1
    "localhost": (),
    "foo.localhost": (),
    "LOCALHOST.": (),
}


def _url_cases() -> list[Any]:
    cases: list[Any] = []
    for host, marks in HOSTS.items():
        paths = ["/x.png"] if host in CLAWROUTER_SPELT else ["/x.png", "/images/x.png"]
        cases.extend(pytest.param(host, path, marks=marks, id=f"{host}{path}") for path in paths)
    return cases


# -- a listener on the port a URL names -------------------------------------------------------


class Listener:
    """A loopback port (IPv4, and IPv6 where it can) that records and drops every connection.

    Connections are accepted and closed at once, so a client that does connect fails fast
    instead of waiting for an answer; ``connections()`` also counts any still queued.
    """

    def __init__(self) -> None:
        first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        first.bind(("127.0.0.1", 0))
        self.port: int = first.getsockname()[1]
        self._sockets = [first]
        second = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            second.bind(("::1", self.port))
        except OSError:
            second.close()
        else:
            self._sockets.append(second)
        for sock in self._sockets:
            sock.listen(16)
        self._peers: list[object] = []
        self._wake, self._waker = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([*self._sockets, self._wake], [], [])
            if self._wake in ready:
                return
            for sock in ready:
                conn, peer = sock.accept()
                self._peers.append(peer)  # recorded before the client can see the close
                conn.close()

    def connections(self) -> list[object]:
        """Every connection so far: those dropped, and any still waiting to be accepted."""
        self.stop()
        pending, _, _ = select.select(self._sockets, [], [], 0)
        return [*self._peers, *(f"pending on {sock.getsockname()}" for sock in pending)]

    def stop(self) -> None:
        if self._thread.is_alive():
            self._waker.send(b"x")
            self._thread.join()

    def close(self) -> None:
        self.stop()
        for sock in (*self._sockets, self._wake, self._waker):
            sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    made = Listener()
    yield made
    made.close()


# -- one edit, in one of six ways --------------------------------------------------------------


async def _edit(way: str, clients: Clients, uploads: Path, image: str) -> tuple[str, str]:
    """Edit ``image`` one way; (the error class or tool status, the message the caller reads)."""
    if way in CLIENT_WAYS:
        try:
            if way == "client-sync":
                clients.sync.edit(PROMPT, image, model="gpt-image")
            else:
                await clients.aio.edit(PROMPT, image, model="gpt-image")
        except ClawRouterError as err:
            return type(err).__name__, err.message
        return "result", ""
    settings: dict[str, Any] = {
        "client": clients.sync,
        "async_client": clients.aio,
        "allowed_dirs": [uploads],
    }
    args: dict[str, Any] = {"prompt": PROMPT, "image": image, "model": "gpt-image"}
    if way.startswith("langchain"):
        tool = ClawRouterEditImage(**settings)
        call = tool_call(name=tool.name, args=args, id="c1")
        message = await tool.ainvoke(call) if way == "langchain-ainvoke" else tool.invoke(call)
        assert isinstance(message, ToolMessage)
        assert isinstance(message.content, str)
        return message.status, message.content
    (function,) = ClawRouterImageToolSpec(**settings).to_tool_list(["edit_image"])
    output = (
        await acall_tool(function, args)
        if way == "llama-index-acall"
        else call_tool(function, args)
    )
    if not output.is_error:
        return "result", ""
    return type(output.exception).__name__, output.content


# -- 1. spellings of private addresses ---------------------------------------------------------


@pytest.mark.parametrize("way", CLIENT_WAYS + TOOL_WAYS)
@pytest.mark.parametrize(("host", "path"), _url_cases())
async def test_private_input_url_is_refused_unsent(
    host: str,
    path: str,
    way: str,
    listener: Listener,
    served: Served,
    clients: Clients,
    uploads: Path,
) -> None:
    """An input URL naming a private address in any spelling is refused; nothing connects or is paid."""
    image = f"http://{host}:{listener.port}{path}"
    raised, message = await _edit(way, clients, uploads, image)
    assert raised in ("InputImageError", "error"), (raised, message)
    expected = "is not a valid URL" if host in UNPARSED else PRIVATE
    assert expected in message, message
    assert listener.connections() == []
    assert served.emulator.ledger == []
    assert served.paid() == 0
    assert clients.sync.spent_usd == clients.aio.spent_usd == 0.0


RESULT_HOSTS = ("127.1", "0x7f000001", "0", "[::ffff:127.0.0.1]", "[::1]", "LOCALHOST.")


@pytest.mark.parametrize("host", RESULT_HOSTS)
async def test_private_result_url_is_not_downloaded(
    host: str, twin: Twin, served: Served, listener: Listener, tmp_path: Path
) -> None:
    """A result URL naming a private address is refused at save; the paid answer's URL is kept."""
    url = f"http://{host}:{listener.port}/files/lost.png"
    served.emulator.add_fault(Fault("remote_url", url=url), times=1)
    response = await twin.call("generate")
    with pytest.raises(SaveError) as caught:
        await twin.save(response, tmp_path / "saved")
    assert type(caught.value.__cause__) is DownloadError
    assert PRIVATE in caught.value.message
    assert url in caught.value.message
    assert listener.connections() == []
    assert served.paid() == 1


# -- 2. host names resolved at connect time ----------------------------------------------------


def _local_name() -> str:
    """This machine's host name, when it resolves to a non-public address (else skip)."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve")
    import ipaddress

    found = {ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos}
    if all(address.is_global for address in found):
        pytest.skip(f"the host name {name!r} resolves only to public addresses")
    return name


async def test_this_machines_host_name_is_refused_by_address(
    twin: Twin, served: Served, listener: Listener
) -> None:
    """``socket.gethostname()`` is not a literal: it is resolved, found private, and refused."""
    image = f"http://{_local_name()}:{listener.port}/x.png"
    with pytest.raises(InputImageError, match=PRIVATE) as caught:
        await twin.edit(PROMPT, image, model="gpt-image")
    assert "resolves to a" in caught.value.message
    assert listener.connections() == []
    assert served.emulator.ledger == []


async def _foreign_get(mode: Mode, url: str) -> None:
    """GET ``url`` with a client built for foreign URLs, of one mode."""
    timeout = httpx.Timeout(5.0)
    if mode == "sync":
        with sync_foreign_client(timeout) as client:
            client.get(url)
    else:
        async with async_foreign_client(timeout) as aclient:
            await aclient.get(url)


GUARDED_HOSTS = (
    "localhost",
    "hostname",
    "127.0.0.1",
    "127.1",
    "0x7f000001",
    "2130706433",
    "0",
    "0.0.0.0",  # noqa: S104 - a URL host, nothing binds here
    "[::1]",
    "[::ffff:127.0.0.1]",
)


@pytest.mark.parametrize("host", GUARDED_HOSTS)
async def test_guarded_client_refuses_what_resolves_to_loopback(
    host: str, mode: Mode, listener: Listener
) -> None:
    """The foreign client itself (no literal check before it) refuses a loopback address at connect."""
    name = _local_name() if host == "hostname" else host
    url = f"http://{name}:{listener.port}/x.png"
    with pytest.raises(httpx.ConnectError) as caught:
        await _foreign_get(mode, url)
    assert isinstance(caught.value.__cause__, BlockedAddressError), repr(caught.value)
    assert listener.connections() == []


# The guarded backend on its own, with a fake resolver and a fake network under it.

CANNED = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: image/png\r\n\r\nok"


class Stream(httpcore.NetworkStream):
    """A connection that answers every request with ``CANNED``."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self._answer = CANNED

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        answer, self._answer = self._answer[:max_bytes], self._answer[max_bytes:]
        return answer

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.sent += buffer

    def close(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


class AsyncStream(httpcore.AsyncNetworkStream):
    """``Stream`` for async pools."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer)

    async def aclose(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return None


@dataclass
class Network:
    """Records every connect the guard lets through; no real socket is opened."""

    connects: list[tuple[str, int]] = field(default_factory=list)
    streams: list[Stream] = field(default_factory=list)

    def connect(self, host: str, port: int) -> Stream:
        self.connects.append((host, port))
        self.streams.append(Stream())
        return self.streams[-1]


class Backend(httpcore.NetworkBackend):
    """The network under a ``GuardedBackend``."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return self.network.connect(host, port)


class AsyncBackend(httpcore.AsyncNetworkBackend):
    """The network under an ``AsyncGuardedBackend``."""

    def __init__(self, network: Network) -> None:
        self.network = network

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return AsyncStream(self.network.connect(host, port))

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("the guard never sleeps")


@dataclass
class Resolver:
    """A DNS that gives its answers in turn (the last one from then on) and counts questions."""

    answers: list[list[str]]
    asked: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.answers[min(len(self.asked), len(self.answers)) - 1]

    async def aresolve(self, host: str, port: int) -> list[str]:
        return self(host, port)


@dataclass
class Guard:
    """One guarded backend of either kind over a fake network, behind one awaitable API."""

    mode: Mode
    resolver: Resolver
    network: Network = field(default_factory=Network)

    def backend(self) -> GuardedBackend:
        return GuardedBackend(inner=Backend(self.network), resolve=self.resolver)

    def abackend(self) -> AsyncGuardedBackend:
        return AsyncGuardedBackend(inner=AsyncBackend(self.network), resolve=self.resolver.aresolve)

    async def connect(self, host: str, port: int = 80) -> None:
        if self.mode == "sync":
            self.backend().connect_tcp(host, port)
        else:
            await self.abackend().connect_tcp(host, port)

    async def connect_unix(self, path: str) -> None:
        if self.mode == "sync":
            self.backend().connect_unix_socket(path)
        else:
            await self.abackend().connect_unix_socket(path)

    async def get(self, url: str) -> int:
        """A whole GET through an httpcore pool on this backend; the status."""
        if self.mode == "sync":
            with httpcore.ConnectionPool(network_backend=self.backend()) as pool:
                return pool.request("GET", url).status
        async with httpcore.AsyncConnectionPool(network_backend=self.abackend()) as apool:
            return (await apool.request("GET", url)).status


async def test_guard_connects_to_the_checked_address(mode: Mode) -> None:
    """A public answer is connected to by IP, the name asked once; a later loopback answer never is."""
    guard = Guard(mode, Resolver([[PUBLIC], ["127.0.0.1"]]))
    assert await guard.get("http://rebind.example/x.png") == 200
    assert guard.resolver.asked == [("rebind.example", 80)]
    assert guard.network.connects == [(PUBLIC, 80)]
    # TLS and the Host header still name the host; only the socket goes to the checked IP.
    assert b"Host: rebind.example\r\n" in guard.network.streams[0].sent
    # The next connection asks again, and the rebound (loopback) answer is refused.
    with pytest.raises(BlockedAddressError, match="loopback"):
        await guard.connect("rebind.example")
    assert len(guard.resolver.asked) == 2
    assert guard.network.connects == [(PUBLIC, 80)]


FORBIDDEN_AMONG = (
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - a resolver answer, nothing binds here
    "::1",
    "fe80::1%eth0",
    "::ffff:127.0.0.1",
)


@pytest.mark.parametrize("forbidden", FORBIDDEN_AMONG)
@pytest.mark.parametrize("first", [True, False], ids=["forbidden-first", "forbidden-last"])
async def test_guard_refuses_if_any_address_is_forbidden(
    forbidden: str, first: bool, mode: Mode
) -> None:
    """A name resolving to public and forbidden addresses is refused outright, nothing connected."""
    answer = [forbidden, PUBLIC] if first else [PUBLIC, forbidden]
    guard = Guard(mode, Resolver([answer]))
    with pytest.raises(BlockedAddressError, match="resolves to a"):
        await guard.connect("mixed.example", 443)
    assert guard.network.connects == []
    assert guard.resolver.asked == [("mixed.example", 443)]


EMBEDDINGS = {
    "ipv4-mapped-dotted": "::ffff:127.0.0.1",
    "ipv4-mapped-hex": "::ffff:7f00:1",
    "ipv4-mapped-private": "::ffff:10.0.0.1",
    "ipv4-mapped-metadata": "::ffff:169.254.169.254",
    "6to4-loopback": "2002:7f00:1::",
    "6to4-private": "2002:a00:1::",
    "6to4-metadata": "2002:a9fe:a9fe::",
    "teredo-loopback": "2001:0:4136:e378:8000:63bf:80ff:fffe",
    "nat64-loopback": "64:ff9b::7f00:1",
    "nat64-private": "64:ff9b::a00:1",
    "nat64-metadata": "64:ff9b::a9fe:a9fe",
    "loopback": "::1",
    "unspecified": "::",
    "link-local-scoped": "fe80::1%eth0",
    "unique-local": "fc00::1",
}


@pytest.mark.parametrize("address", EMBEDDINGS.values(), ids=EMBEDDINGS.keys())
async def test_guard_refuses_ipv6_forms_of_private_addresses(address: str, mode: Mode) -> None:
    """IPv6 addresses that are, or carry, a private IPv4 address are refused at connect."""
    guard = Guard(mode, Resolver([[address]]))
    with pytest.raises(BlockedAddressError):
        await guard.connect("v6.example")
    assert guard.network.connects == []


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "2002:5db8:d822::", PUBLIC])
async def test_guard_lets_public_addresses_through(address: str, mode: Mode) -> None:
    """Public addresses, a 6to4 one carrying a public IPv4 included, are connected to as resolved."""
    guard = Guard(mode, Resolver([[address]]))
    await guard.connect("public.example", 443)
    assert guard.network.connects == [(address, 443)]


async def test_guard_refuses_unix_sockets(mode: Mode) -> None:
    """No URL reaches a unix socket through the guarded backend."""
    guard = Guard(mode, Resolver([[PUBLIC]]))
    with pytest.raises(BlockedAddressError):
        await guard.connect_unix("/run/docker.sock")
    assert guard.resolver.asked == []


# -- 3. ClawRouter's own results come from the base URL ------------------------------------------


@pytest.mark.parametrize("port", ["1", "listener"])
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
async def test_clawrouter_result_url_is_fetched_from_the_base_url(
    host: str, port: str, twin: Twin, served: Served, listener: Listener
) -> None:
    """``http://localhost:<any port>/images/<name>`` is read from the base URL, not the port it names."""
    generated = await twin.call("generate")
    url = generated.data[0].url
    assert url is not None
    name = httpx.URL(url).path.removeprefix("/images/")
    assert url == f"http://localhost:{served.emulator.port}/images/{name}"
    named_port = str(listener.port) if port == "listener" else port
    image = f"http://{host}:{named_port}/images/{name}"
    served.emulator.reset()

    edited = await twin.edit(PROMPT, image, model="gpt-image")

    assert edited.model == "openai/gpt-image-1"
    assert [(entry.method, entry.path) for entry in served.emulator.ledger] == [
        ("GET", f"/images/{name}"),
        ("POST", "/v1/images/image2image"),
    ]
    assert served.paid() == 1
    assert listener.connections() == []


# -- 4. redirects are never followed -------------------------------------------------------------

BASE = "http://127.0.0.1:8402"
ELSEWHERE = "http://169.254.169.254/latest/meta-data/iam"


@pytest.fixture
def redirecting(fake: FakeClawRouter, make_twin: MakeTwin) -> Callable[[int, str], Twin]:
    """``redirecting(status, result_url)``: a client on ``fake``, whose generations answer
    ``result_url`` and whose every other address answers a ``status`` redirect to ELSEWHERE."""

    def make(status: int, result_url: str) -> Twin:
        fake.on("POST", "/v1/images/generations", fake.images(result_url))
        fake.on("GET", ELSEWHERE, fake.content(b"secret"))
        fake.otherwise = fake.content(b"", status, {"location": ELSEWHERE})
        return make_twin(fake, base_url=BASE)

    return make


REDIRECTS = (301, 302, 303, 307, 308)
RESULT_URLS = {
    "foreign": "https://cdn.example.com/r.png",
    "clawrouter-own": "http://localhost:8402/images/r.png",
}


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("kind", RESULT_URLS)
async def test_result_redirect_is_not_followed(
    kind: str,
    status: int,
    redirecting: Callable[[int, str], Twin],
    fake: FakeClawRouter,
    tmp_path: Path,
) -> None:
    """A result URL answering a redirect fails at save, saying so; the Location is never asked for."""
    client = redirecting(status, RESULT_URLS[kind])
    response = await client.generate("a lighthouse", model="cogview", size="512x512")
    with pytest.raises(SaveError) as caught:
        await client.save(response, tmp_path / "saved")
    assert type(caught.value.__cause__) is DownloadError
    assert "redirect" in caught.value.message
    with pytest.raises(DownloadError, match="redirects are not followed"):
        await client.download(response.data[0])
    assert ELSEWHERE not in [str(request.url) for request in fake.requests]
    assert not (tmp_path / "saved").exists() or list((tmp_path / "saved").iterdir()) == []


@pytest.mark.parametrize("status", REDIRECTS)
async def test_input_redirect_is_not_followed(
    status: int, redirecting: Callable[[int, str], Twin], fake: FakeClawRouter
) -> None:
    """An input URL answering a redirect is refused before anything is paid; Location untouched."""
    client = redirecting(status, RESULT_URLS["foreign"])
    with pytest.raises(InputImageError, match="redirects are not followed"):
        await client.edit(PROMPT, "https://cdn.example.com/in.png", model="gpt-image")
    assert [str(request.url) for request in fake.requests] == ["https://cdn.example.com/in.png"]


async def test_foreign_clients_do_not_follow_redirects() -> None:
    """The clients built for foreign URLs have redirects switched off."""
    timeout = httpx.Timeout(1.0)
    with sync_foreign_client(timeout) as client:
        assert client.follow_redirects is False
    async with async_foreign_client(timeout) as aclient:
        assert aclient.follow_redirects is False


# -- 5. local paths: outside is outside, whether it exists or not --------------------------------


@dataclass
class Tree:
    """An allowed folder two levels down, a file next to its grandparent, and a fake home."""

    root: Path
    outside: Path
    home: Path


@pytest.fixture
def tree(tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch) -> Tree:
    root = tmp_path / "box" / "uploads"
    root.mkdir(parents=True)
    (root / "photo.png").write_bytes(png)
    (tmp_path / "outside.png").write_bytes(png)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.png").write_bytes(png)
    (root / "shared").symlink_to(elsewhere, target_is_directory=True)
    (root / "to-outside.png").symlink_to(tmp_path / "outside.png")
    (root / "to-nothing.png").symlink_to(tmp_path / "nothing.png")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    monkeypatch.setenv("HOME", str(home))
    # Inside the allowed folder, to show that it grants nothing: no working directory is implied.
    monkeypatch.chdir(root)
    return Tree(root, tmp_path / "outside.png", home)


# name: (the path as the LLM writes it, given the tree; whether it exists)
OUTSIDE_PATHS: dict[str, tuple[Callable[[Tree], str], bool, tuple[pytest.MarkDecorator, ...]]] = {
    "etc-passwd": (lambda t: "/etc/passwd", True, ()),
    "etc-missing": (lambda t: "/etc/does-not-exist-xyz", False, ()),
    "home-ssh-key": (lambda t: "~/.ssh/id_rsa", True, ()),
    "home-ssh-missing": (lambda t: "~/.ssh/nothere", False, ()),
    "root-ssh-missing": (lambda t: "/root/.ssh/nothere", False, ()),
    "dotdot-existing": (lambda t: f"{t.root}/../../outside.png", True, ()),
    "dotdot-missing": (lambda t: f"{t.root}/../../nothing.png", False, ()),
    "relative-dotdot-existing": (lambda t: "../../outside.png", True, ()),
    "relative-dotdot-missing": (lambda t: "../../nothing.png", False, ()),
    "relative-in-cwd-existing": (lambda t: "photo.png", True, ()),
    "relative-in-cwd-missing": (lambda t: "nothing.png", False, ()),
    "symlink-to-outside-file": (lambda t: f"{t.root}/to-outside.png", True, ()),
    "symlink-to-missing-outside-file": (
        lambda t: f"{t.root}/to-nothing.png",
        False,
        (),
    ),
    "symlinked-folder-existing": (lambda t: f"{t.root}/shared/secret.png", True, ()),
    "symlinked-folder-missing": (
        lambda t: f"{t.root}/shared/nothing.png",
        False,
        (),
    ),
}
PATH_WAYS = ("check_local_path", *TOOL_WAYS)


async def _refusal(
    way: str, path: str, tree: Tree, clients: Clients, fake: FakeClawRouter
) -> tuple[str, str]:
    """What refusing ``path`` looks like one way: (the error class or tool status, the text)."""
    if way == "check_local_path":
        roots = list(dict.fromkeys([tree.root, tree.root.resolve()]))
        with pytest.raises(InputImageError) as caught:
            check_local_path(path, roots)
        return type(caught.value).__name__, caught.value.message
    return await _edit(way, clients, tree.root, path)


def _exists(path: str) -> bool:
    return os.path.exists(os.path.expanduser(path))


@pytest.mark.parametrize("way", PATH_WAYS)
@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=marks) for name, (_, _, marks) in OUTSIDE_PATHS.items()],
)
async def test_outside_path_is_refused_alike_whether_it_exists_or_not(
    name: str, way: str, tree: Tree, recorded_clients: Clients, fake: FakeClawRouter
) -> None:
    """A path leading outside the allowed folder gets one message, existing or not, never 'not found'."""
    make, exists, _ = OUTSIDE_PATHS[name]
    path = make(tree)
    if name == "etc-passwd" and not _exists("/etc/passwd"):
        pytest.skip("no /etc/passwd here")
    assert _exists(path) is exists
    # The reference: a file that certainly exists outside, refused the same way.
    reference = str(tree.outside)
    raised, message = await _refusal(way, path, tree, recorded_clients, fake)
    _, expected = await _refusal(way, reference, tree, recorded_clients, fake)
    assert raised in ("InputImageError", "error"), (raised, message)
    assert "not found" not in message
    assert message.replace(path, "<path>") == expected.replace(reference, "<path>")
    assert fake.requests == []


INSIDE_MISSING: dict[str, Callable[[Tree], str]] = {
    "missing": lambda t: f"{t.root}/nothing.png",
    "missing-in-missing-folder": lambda t: f"{t.root}/sub/nothing.png",
    "dotdot-staying-inside": lambda t: f"{t.root}/sub/../nothing.png",
}


@pytest.mark.parametrize("way", PATH_WAYS)
@pytest.mark.parametrize("name", INSIDE_MISSING)
async def test_missing_inside_path_says_not_found(
    name: str, way: str, tree: Tree, recorded_clients: Clients, fake: FakeClawRouter
) -> None:
    """A missing file inside the allowed folder is reported as not found, nothing sent."""
    path = INSIDE_MISSING[name](tree)
    raised, message = await _refusal(way, path, tree, recorded_clients, fake)
    assert raised in ("InputImageError", "error"), (raised, message)
    assert "image file not found" in message
    assert "outside the folders" not in message
    assert fake.requests == []


def test_inside_paths_read_the_file(tree: Tree, png: bytes) -> None:
    """Inside the folder, absolute spellings (``..`` taken as written) read the file itself."""
    roots = [tree.root, tree.root.resolve()]
    for spelling in (f"{tree.root}/photo.png", f"{tree.root}/shared/../photo.png"):
        image = check_local_path(spelling, roots)
        assert not isinstance(image, str)
        assert (image.read(), image.name) == (png, spelling)

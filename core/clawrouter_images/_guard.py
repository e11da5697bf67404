"""httpcore network backends: the connect-time half of the address rule (``_network``), and
the total deadline of a call (``_deadline``) on every read, write and connect.

Imported with the first client built, not with the package: httpcore is slow to import.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn

import httpcore
import httpx

from ._deadline import remaining
from ._network import address_refusal

Resolver = Callable[[str, int], list[str]]
AsyncResolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedAddressError(httpcore.ConnectError):
    """The host resolves to an address the client must not connect to (httpx: ``ConnectError``)."""

    address_rule = True  # how _network.blocked recognises it without importing httpcore


def _checked(host: str, addresses: Iterable[str]) -> list[str]:
    found = list(dict.fromkeys(addresses))
    if not found:
        raise httpcore.ConnectError(f"{host} did not resolve to any address")
    for text in found:
        reason = address_refusal(ipaddress.ip_address(text.partition("%")[0]))
        if reason is not None:
            raise BlockedAddressError(f"{host} resolves to a {reason} address")
    return found


def _getaddrinfo(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from err
    return [str(info[4][0]) for info in infos]


async def _agetaddrinfo(host: str, port: int) -> list[str]:
    import anyio  # httpx's own dependency; its resolver works under asyncio and trio

    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from err
    return [str(info[4][0]) for info in infos]


def check_target(request: httpx.Request) -> None:
    """Resolve and check the host of ``request`` before it goes to a proxy, which connects
    in our place (so the backend would only ever see the proxy's address)."""
    host, port = _target(request)
    try:
        _checked(host, _getaddrinfo(host, port))
    except httpcore.ConnectError as err:
        raise httpx.ConnectError(str(err), request=request) from err


async def acheck_target(request: httpx.Request) -> None:
    """``check_target`` for async clients."""
    host, port = _target(request)
    try:
        _checked(host, await _agetaddrinfo(host, port))
    except httpcore.ConnectError as err:
        raise httpx.ConnectError(str(err), request=request) from err


def _target(request: httpx.Request) -> tuple[str, int]:
    url = request.url
    return url.host, url.port or (443 if url.scheme == "https" else 80)


# The connect methods take httpcore's arguments (timeout, local_address, socket_options)
# through as they come: only the host is this module's business.


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check every address, connect to a checked one (TLS still verifies the name)."""

    def __init__(self, inner: httpcore.NetworkBackend, resolve: Resolver = _getaddrinfo) -> None:
        self._inner = inner
        self._resolve = resolve

    def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in _checked(host, self._resolve(host, port)):
            try:
                return self._inner.connect_tcp(address, port, *args, **kwargs)
            except httpcore.ConnectError as err:  # try the next checked address
                error = err
        raise error or httpcore.ConnectError(host)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise BlockedAddressError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """``GuardedBackend`` for async clients."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend, resolve: AsyncResolver = _agetaddrinfo
    ) -> None:
        self._inner = inner
        self._resolve = resolve

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        error: Exception | None = None
        for address in _checked(host, await self._resolve(host, port)):
            try:
                return await self._inner.connect_tcp(address, port, *args, **kwargs)
            except httpcore.ConnectError as err:
                error = err
        raise error or httpcore.ConnectError(host)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise BlockedAddressError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def left(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of the call's deadline; a timeout once none is."""
    time_left = remaining()
    if time_left is None:
        return timeout
    if time_left <= 0:
        raise httpcore.ReadTimeout("the call's total deadline passed")
    return time_left if timeout is None else min(timeout, time_left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _socket_check() -> Callable[[Any], bool] | None:
    try:
        from httpcore._utils import is_socket_readable
    except ImportError:  # pragma: no cover - httpcore moved it: ask the stream as before
        return None
    return is_socket_readable


_IS_SOCKET_READABLE = _socket_check()

_UNASKED = object()


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: Any = _UNASKED

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, left(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, left(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, left(timeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> Any:
        # The pool asks "is_readable" of every idle connection on each request's start and
        # end.  anyio answers it by building the stream's whole attribute table (a
        # getpeername() syscall included); httpcore's own check on the socket, found
        # once, is the same answer.
        if info == "is_readable" and _IS_SOCKET_READABLE is not None:
            if self._socket is _UNASKED:
                self._socket = self._inner.get_extra_info("socket")
            return _IS_SOCKET_READABLE(self._socket)
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend whose connections keep to the deadline of the call using them."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, left(timeout), local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, left(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """``DeadlineBackend`` for async clients."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, left(timeout), local_address, socket_options
        )
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, left(timeout), socket_options)
        return _AsyncStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

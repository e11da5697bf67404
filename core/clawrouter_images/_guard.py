"""The connect-time half of the address rule (``_network``): httpcore network backends.

Imported with the first foreign client, not with the package: httpcore costs ~15 ms.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn

import httpcore

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

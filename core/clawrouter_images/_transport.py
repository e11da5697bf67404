"""The httpx clients this package builds for itself.

Two choices differ from httpx's defaults, both measured (benchmarks/bench_peers.py):

- Pool limits.  httpcore (1.0.9) re-plans its pool on every request start and finish:
  it polls every idle connection's socket (a syscall each) and, for each queued request,
  scans every connection again, so that work grows with the number of pooled
  connections.  Keeping many idle keep-alive connections makes bursts slower: under
  64 concurrent calls to a loopback stub, 100 kept-alive connections gave ~360 req/s,
  httpx's default 20 gave ~800, and 8 gave ~1,300.  So the pool may open many
  connections (slow generations run side by side) but keeps only a few idle.
  Idle connections expire after 4 s, before ClawRouter's (Node's) 5 s keep-alive timeout
  closes them: reusing a connection the server is closing would break a paid POST.
- Lazy TLS.  httpx loads the certificate bundle when a client is built (~15 ms), but
  ClawRouter is plain http on loopback; only remote result URLs need TLS, so the TLS
  transport is built on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from ._constants import KEEPALIVE_EXPIRY, MAX_CONNECTIONS, MAX_KEEPALIVE_CONNECTIONS

LIMITS = httpx.Limits(
    max_connections=MAX_CONNECTIONS,
    max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
    keepalive_expiry=KEEPALIVE_EXPIRY,
)


class _LazySyncTransport(httpx.BaseTransport):
    def __init__(self, factory: Callable[[], httpx.BaseTransport]) -> None:
        self._factory = factory
        self._transport: httpx.BaseTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            with self._lock:
                if self._transport is None:
                    self._transport = self._factory()
        return self._transport.handle_request(request)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class _LazyAsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, factory: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._factory = factory
        self._transport: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # No lock: nothing awaits between the check and the assignment.
        if self._transport is None:
            self._transport = self._factory()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


def sync_http_client(timeout: httpx.Timeout) -> httpx.Client:
    return httpx.Client(
        timeout=timeout,
        limits=LIMITS,
        transport=_LazySyncTransport(lambda: httpx.HTTPTransport(limits=LIMITS)),
        # Plain http never uses the TLS context, so skip loading certificates for it.
        mounts={"http://": httpx.HTTPTransport(limits=LIMITS, verify=False)},
    )


def async_http_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout,
        limits=LIMITS,
        transport=_LazyAsyncTransport(lambda: httpx.AsyncHTTPTransport(limits=LIMITS)),
        mounts={"http://": httpx.AsyncHTTPTransport(limits=LIMITS, verify=False)},
    )

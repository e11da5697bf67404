"""The httpx clients this package builds for itself.

Three choices differ from httpx's defaults, all measured (benchmarks/bench_peers.py and
bench_batch.py; the figures are in the README):

- Pool limits.  httpcore re-plans its pool on every request start and finish: it polls
  every idle connection's socket (a syscall each) and, for each queued request, scans
  every connection again, so that work grows with the number of pooled connections.
  Keeping many idle keep-alive connections makes bursts slower, so the pool may open many
  connections (slow generations run side by side) but keeps only a few idle.  Idle
  connections expire before ClawRouter's (Node's) keep-alive timeout closes them:
  reusing a connection the server is closing would break a paid POST.
- The pool plans without the connections live requests hold (``_pool``): httpcore hands
  one idle connection to every request that starts before the first of them runs.
- Lazy TLS.  httpx loads the certificate bundle when a client is built, but ClawRouter
  is plain http on loopback; only remote result URLs need TLS, so the TLS transport is
  built on first use.

Two kinds of client: one for ClawRouter (the base URL the caller configured) and one
for *foreign* URLs (input URLs, results ClawRouter could not localise), whose network
backend applies the address rule of ``_network`` at connect time.  Neither follows
redirects, reads proxy settings from the environment, or asks for compressed bodies.

Async clients belong to one event loop: their pooled connections are that loop's
sockets.  ``PerLoop`` keeps one client per loop and closes it when the loop shuts down.

``DefaultHttpxClient`` / ``DefaultAsyncHttpxClient`` are the public way to build an
``http_client`` with options of one's own (a proxy, certificates, a local address): the
same pool, headers and backends, and a twin for foreign URLs that keeps the address rule.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

import httpx

from ._constants import (
    DEFAULT_TIMEOUT,
    KEEPALIVE_EXPIRY,
    MAX_CONNECTIONS,
    MAX_KEEPALIVE_CONNECTIONS,
)
from ._pool import hide_held_connections

if TYPE_CHECKING:
    import asyncio

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


# Every body is read as sent: a compressed body could inflate without bound inside a
# single read, before any cap sees it (see _bodies).
HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity", "Connection": "keep-alive"}


def _backed(transport: Any, backend: Callable[[Any], Any]) -> Any:
    # httpx has no public hook for the network backend; if its pool moves, fail closed here
    # rather than fetch foreign URLs unguarded or wait past a deadline.
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx version hides its connection pool; cannot guard fetches")
    pool._network_backend = backend(pool._network_backend)
    hide_held_connections(pool)
    return transport


def _client_options(timeout: httpx.Timeout) -> dict[str, Any]:
    return {"timeout": timeout, "limits": LIMITS, "headers": HEADERS, "trust_env": False}


def sync_http_client(timeout: httpx.Timeout) -> httpx.Client:
    """A client for ClawRouter itself."""
    from ._guard import DeadlineBackend

    return httpx.Client(
        **_client_options(timeout),
        transport=_LazySyncTransport(
            lambda: _backed(httpx.HTTPTransport(limits=LIMITS), DeadlineBackend)
        ),
        # Plain http never uses the TLS context, so skip loading certificates for it.
        mounts={
            "http://": _backed(httpx.HTTPTransport(limits=LIMITS, verify=False), DeadlineBackend)
        },
    )


def async_http_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """A client for ClawRouter itself (one event loop's)."""
    from ._guard import AsyncDeadlineBackend

    return httpx.AsyncClient(
        **_client_options(timeout),
        transport=_LazyAsyncTransport(
            lambda: _backed(httpx.AsyncHTTPTransport(limits=LIMITS), AsyncDeadlineBackend)
        ),
        mounts={
            "http://": _backed(
                httpx.AsyncHTTPTransport(limits=LIMITS, verify=False), AsyncDeadlineBackend
            )
        },
    )


def sync_foreign_client(timeout: httpx.Timeout) -> httpx.Client:
    """A client for URLs nobody trusted: connects only to public addresses."""
    from ._guard import DeadlineBackend, GuardedBackend

    return httpx.Client(
        **_client_options(timeout),
        transport=_backed(
            httpx.HTTPTransport(limits=LIMITS),
            lambda inner: GuardedBackend(DeadlineBackend(inner)),
        ),
    )


def async_foreign_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """``sync_foreign_client`` for one event loop."""
    from ._guard import AsyncDeadlineBackend, AsyncGuardedBackend

    return httpx.AsyncClient(
        **_client_options(timeout),
        transport=_backed(
            httpx.AsyncHTTPTransport(limits=LIMITS),
            lambda inner: AsyncGuardedBackend(AsyncDeadlineBackend(inner)),
        ),
    )


# httpx.HTTPTransport's options: a builder passes them to both of its transports.
_TRANSPORT_OPTIONS = frozenset(
    {
        "verify",
        "cert",
        "http1",
        "http2",
        "limits",
        "proxy",
        "uds",
        "local_address",
        "retries",
        "socket_options",
    }
)


def _split_options(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A builder's keyword arguments as (the client's, the transports'), defaults applied."""
    if kwargs.pop("follow_redirects", False):
        raise ValueError(
            "follow_redirects=True is refused: ClawRouter never redirects, and a redirect "
            "could lead a download past the address rule"
        )
    for name in ("transport", "mounts", "app"):
        if name in kwargs:
            raise TypeError(
                f"{name}= would replace the transports that keep the address rule and the "
                "deadlines; pass transport options instead (proxy=, verify=, cert=, "
                "local_address=, socket_options=, retries=, http2=)"
            )
    transport = {key: value for key, value in kwargs.items() if key in _TRANSPORT_OPTIONS}
    transport.setdefault("limits", LIMITS)
    client = {key: value for key, value in kwargs.items() if key not in _TRANSPORT_OPTIONS}
    client.setdefault("timeout", DEFAULT_TIMEOUT)
    client.setdefault("trust_env", False)
    headers = httpx.Headers(HEADERS)
    headers.update(client.get("headers") or {})
    headers["Accept-Encoding"] = "identity"
    client["headers"] = headers
    return client, transport


def _foreign_options(client: dict[str, Any]) -> dict[str, Any]:
    # Only what is not a credential: auth, cookies and headers set for ClawRouter stay
    # with ClawRouter.  (A proxy's own credentials travel with the proxy option.)
    return {"timeout": client["timeout"], "trust_env": client["trust_env"], "headers": HEADERS}


class _ProxiedSync(httpx.BaseTransport):
    """A transport to a proxy: the target host is checked here, since the proxy connects."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from ._guard import check_target

        check_target(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _ProxiedAsync(httpx.AsyncBaseTransport):
    """``_ProxiedSync`` for async clients."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from ._guard import acheck_target

        await acheck_target(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class DefaultHttpxClient(httpx.Client):
    """An ``httpx.Client`` built as ``ImageClient`` builds its own, for ``http_client=``.

    Takes ``httpx.Client``'s keyword arguments (``proxy=``, ``verify=``, ``cert=``,
    ``local_address=``, ``socket_options=``, ``retries=``, ``http2=``, ``headers=``,
    ``auth=``, ``timeout=``, ...) over this package's defaults: the tuned pool limits,
    uncompressed bodies, no redirects, no proxy settings read from the environment, and
    every call's total deadline on each read.  Given one, an ``ImageClient`` fetches
    foreign image URLs with a twin of it (same transport options, none of its headers,
    auth or cookies) that connects only to public addresses; through a proxy, the host is
    resolved and checked here before the proxy is asked.  ``transport=`` and ``mounts=``
    are refused (they would bypass that); ``follow_redirects=True`` too.

    >>> client = ImageClient(http_client=DefaultHttpxClient(proxy="http://proxy:3128"))  # doctest: +SKIP
    """

    def __init__(self, **kwargs: Any) -> None:
        from ._guard import DeadlineBackend

        client, self._transport_options = _split_options(kwargs)
        self._foreign_client_options = _foreign_options(client)
        transport = httpx.HTTPTransport(**self._transport_options)
        super().__init__(**client, transport=_backed(transport, DeadlineBackend))

    def _for_foreign_urls(self) -> httpx.Client:
        """The twin for URLs nobody trusted (see the class docstring)."""
        from ._guard import DeadlineBackend, GuardedBackend

        transport = httpx.HTTPTransport(**self._transport_options)
        guarded: httpx.BaseTransport
        if self._transport_options.get("proxy") is None:
            guarded = _backed(transport, lambda inner: GuardedBackend(DeadlineBackend(inner)))
        else:
            guarded = _ProxiedSync(_backed(transport, DeadlineBackend))
        return httpx.Client(**self._foreign_client_options, transport=guarded)


class DefaultAsyncHttpxClient(httpx.AsyncClient):
    """``DefaultHttpxClient`` for ``AsyncImageClient`` (an ``httpx.AsyncClient``, bound to
    the event loop it is first used in, as any injected async client is)."""

    def __init__(self, **kwargs: Any) -> None:
        from ._guard import AsyncDeadlineBackend

        client, self._transport_options = _split_options(kwargs)
        self._foreign_client_options = _foreign_options(client)
        transport = httpx.AsyncHTTPTransport(**self._transport_options)
        super().__init__(**client, transport=_backed(transport, AsyncDeadlineBackend))

    def _for_foreign_urls(self) -> httpx.AsyncClient:
        """The twin for URLs nobody trusted, one per event loop (see ``DefaultHttpxClient``)."""
        from ._guard import AsyncDeadlineBackend, AsyncGuardedBackend

        transport = httpx.AsyncHTTPTransport(**self._transport_options)
        guarded: httpx.AsyncBaseTransport
        if self._transport_options.get("proxy") is None:
            guarded = _backed(
                transport, lambda inner: AsyncGuardedBackend(AsyncDeadlineBackend(inner))
            )
        else:
            guarded = _ProxiedAsync(_backed(transport, AsyncDeadlineBackend))
        return httpx.AsyncClient(**self._foreign_client_options, transport=guarded)


async def _closed_with_loop(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Suspended for the life of its loop.  The loop's ``shutdown_asyncgens()`` (run by
    ``asyncio.run``, ``asyncio.Runner`` and pytest-asyncio) resumes it to close the
    client while the loop can still close sockets; if its ``PerLoop`` is dropped first,
    ``_close_soon`` has the loop close it."""
    try:
        yield
    finally:
        await client.aclose()


class PerLoop:
    """One ``httpx.AsyncClient`` per running event loop, built on first use in that loop.

    A connection pooled by one loop must never be used from another (its socket belongs
    to the first loop, which may be closed): that failed *after* a paid request was sent.
    """

    def __init__(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()
        # Dropped without aclose(): each loop still running closes its client.  The
        # finaliser holds the clients, so they are never part of their owner's garbage,
        # where their sockets' own finalisers could run first and warn.
        weakref.finalize(self, _close_soon, self._clients)
        self._other: httpx.AsyncClient | None = None

    async def get(self) -> httpx.AsyncClient:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Not asyncio (trio, which httpx also runs on): one client, as httpx itself
            # would keep, closed by aclose().
            if self._other is None or self._other.is_closed:
                self._other = self._factory()
            return self._other
        entry = self._clients.get(loop)
        if entry is None or entry[0].is_closed:
            client = self._factory()
            keeper = _closed_with_loop(client)
            await anext(keeper)  # registers it with this loop's shutdown
            with self._lock:
                self._clients[loop] = entry = (client, keeper)
        return entry[0]

    async def aclose(self) -> None:
        """Close this loop's client now; other loops' close when those loops shut down."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._other is not None:
                await self._other.aclose()
            return
        with self._lock:
            entry = self._clients.pop(loop, None)
        if entry is not None:
            await entry[1].aclose()


# Tasks closing dropped clients: the event loop keeps only weak references to tasks.
_closing: set[Any] = set()


def _close_soon(
    clients: weakref.WeakKeyDictionary[
        asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None, None]]
    ],
) -> None:
    for loop, (client, keeper) in list(clients.items()):
        if client.is_closed or loop.is_closed():
            continue  # closed already, or by its loop's shutdown
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(_start_closing, loop, keeper)
    clients.clear()


def _start_closing(loop: asyncio.AbstractEventLoop, keeper: AsyncGenerator[None, None]) -> None:
    task = loop.create_task(keeper.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)

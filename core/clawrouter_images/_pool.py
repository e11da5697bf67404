"""httpcore's connection pool, kept from handing one HTTP/1.1 connection to two requests.

httpcore assigns an idle connection to a waiting request, but the connection reports
itself idle until that request's task (or thread) runs and starts on it.  Every pass the
pool makes in between (one per request started or finished) still sees it idle, so it:

- hands it to the next request too; all but the first then fail with
  ``ConnectionNotAvailable`` and go round again, each round a full pass that polls every
  idle socket.  When many requests start in one event-loop turn (a batch's workers woken
  together), this cascades: 11,468 extra rounds for 4,000 requests in
  ``benchmarks/bench_batch.py``;
- or closes it as surplus keep-alive, or to make room.  The request then starts on a
  closed connection and goes round again; with the sync pool under threads it can
  already have started, and its socket is closed under it while it waits for the answer
  (encode/httpcore#1110; the fix, #1111, is not released).  For a paid POST that turns a
  delivered image into "may have been paid".

httpcore's pass also gives every request still waiting the same first available
connection.  So each pass runs without the connections that live requests hold, for one
waiting request at a time.  What a request holds it keeps until its response is closed; a
connection nobody holds is planned as before.

This relies on httpcore's pool internals (``_requests``, ``_connections``,
``_max_connections``, ``_http2``, and a waiting request's ``connection``), as read in
httpcore 1.0.9.  Where they are not as
expected the pool is left as httpcore made it: slower under load, still correct.  HTTP/2
pools are left alone too: there a held connection still takes more requests.
"""

from __future__ import annotations

from typing import Any

_INTERNALS = ("_connections", "_max_connections", "_assign_requests_to_connections")


class _HeldConnectionsHidden:
    """Mixed in before an httpcore pool class (see the module docstring)."""

    _requests: list[Any]
    _connections: list[Any]
    _max_connections: int

    def _assign_requests_to_connections(self) -> list[Any]:
        requests = self._requests
        queued = [request for request in requests if _held_by(request) is None]
        if len(queued) <= 1:
            return self._plan_without_held(requests)
        # httpcore's pass gives every queued request the first available connection: plan
        # for one queued request at a time, each seeing what the one before it took.
        closing: list[Any] = []
        try:
            for request in queued:
                self._requests = [request]
                closing += self._plan_without_held(requests)
        finally:
            self._requests = requests
        return closing

    def _plan_without_held(self, requests: list[Any]) -> list[Any]:
        held = {id(connection) for connection in map(_held_by, requests) if connection is not None}
        if not held:
            return super()._assign_requests_to_connections()  # type: ignore[misc, no-any-return]
        everything = self._connections
        limit = self._max_connections
        self._connections = [connection for connection in everything if id(connection) not in held]
        # The held connections still count against the limit.
        self._max_connections = limit - (len(everything) - len(self._connections))
        try:
            return super()._assign_requests_to_connections()  # type: ignore[misc, no-any-return]
        finally:
            self._max_connections = limit
            planned = self._connections
            left = {id(connection) for connection in planned}
            before = {id(connection) for connection in everything}
            self._connections = [
                connection
                for connection in everything
                if id(connection) in held or id(connection) in left
            ] + [connection for connection in planned if id(connection) not in before]


def _held_by(request: Any) -> Any:
    return getattr(request, "connection", None)


# One subclass per pool class (a proxy pool keeps its own way of connecting).
_HIDING: dict[type, type] = {}


def hide_held_connections(pool: object) -> None:
    """Make ``pool`` (an httpcore connection pool) plan without the connections that live
    requests hold; leave it alone where its internals are not as expected."""
    if getattr(pool, "_http2", True) is not False:
        return
    if not all(hasattr(pool, name) for name in _INTERNALS):
        return
    if not isinstance(getattr(pool, "_requests", None), list):
        return
    if isinstance(pool, _HeldConnectionsHidden):
        return
    # The subclass adds no state, so the pool can change class in place and keep its
    # settings, its backend and whatever httpx set on it.
    pool_class = type(pool)
    hiding = _HIDING.get(pool_class)
    if hiding is None:
        hiding = _HIDING.setdefault(
            pool_class, type(pool_class.__name__, (_HeldConnectionsHidden, pool_class), {})
        )
    pool.__class__ = hiding

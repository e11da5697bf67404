"""A total deadline for every request, not only a limit on each read.

httpx's timeouts bound each network operation: a server that sends a byte just inside the
read timeout, again and again, holds a call forever.  The client sets a deadline around
each request (``deadline``); the network backends of the clients this package builds
(``_guard``) shorten every read, write and connect to the time left, and fail with a
timeout once it has passed.  A body is also checked against it after every chunk (``_client``), which
covers an injected ``http_client`` too.

The deadline travels in a context variable, so that it follows the request into httpcore
in the same thread or task without any change to httpx's API.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

Clock = Callable[[], float]
_DEADLINE: contextvars.ContextVar[tuple[float, Clock] | None] = contextvars.ContextVar(
    "clawrouter_images_deadline", default=None
)


class deadline:
    """Within this block, requests on this package's clients end ``seconds`` from now.

    A class, not ``@contextmanager``: it wraps every request of every client."""

    __slots__ = ("_clock", "_seconds", "_token")

    def __init__(self, seconds: float | None, clock: Clock) -> None:
        self._seconds, self._clock = seconds, clock
        self._token: contextvars.Token[tuple[float, Clock] | None] | None = None

    def __enter__(self) -> None:
        if self._seconds is not None:
            self._token = _DEADLINE.set((self._clock() + self._seconds, self._clock))

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _DEADLINE.reset(self._token)


def remaining() -> float | None:
    """Seconds left before the current deadline (0 or less once passed), or None."""
    current = _DEADLINE.get()
    if current is None:
        return None
    until, clock = current
    return until - clock()

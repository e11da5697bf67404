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

import contextlib
import contextvars
from collections.abc import Callable, Iterator

Clock = Callable[[], float]
_DEADLINE: contextvars.ContextVar[tuple[float, Clock] | None] = contextvars.ContextVar(
    "clawrouter_images_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float | None, clock: Clock) -> Iterator[float | None]:
    """Within this block, requests on this package's clients end ``seconds`` from now."""
    if seconds is None:
        yield None
        return
    until = clock() + seconds
    token = _DEADLINE.set((until, clock))
    try:
        yield until
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (0 or less once passed), or None."""
    current = _DEADLINE.get()
    if current is None:
        return None
    until, clock = current
    return until - clock()

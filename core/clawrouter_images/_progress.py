"""Progress reports while a slow call is in flight, for agent UIs that would show nothing.

Async calls get a timer task beside the awaited request (under asyncio; under other event
loops nothing is reported).  Sync calls are served by one daemon thread for the whole
process, parked while no call is in flight, rather than a thread per call.  A report that
fails is logged and dropped: progress never breaks the call it describes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from ._constants import LOGGER_NAME

log = logging.getLogger(LOGGER_NAME)
_T = TypeVar("_T")
Tick = Callable[[float], None]
AsyncTick = Callable[[float], Awaitable[None] | None]


@dataclass(frozen=True)
class ImageProgress:
    """One report: which tool, which model, how long so far, and a sentence saying it."""

    tool: str
    model: str
    elapsed_s: float
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _safely(tick: Tick, elapsed: float) -> None:
    try:
        tick(elapsed)
    except Exception:  # a broken progress handler must not fail a paid call
        log.warning("a progress report failed", exc_info=True)


class _Ticker:
    """The one thread that calls each watched sync call's tick every ``interval`` seconds.

    Registering a call only touches a dict: the thread wakes on its own schedule (the
    shortest interval in use), and is woken only when it was parked, after a minute with
    nothing in flight.  So a stream of fast calls costs no thread switch per call.
    """

    _PARK_AFTER_S = 60.0

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._watches: dict[int, tuple[Tick, float, float, float]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self._parked = True
        self._every = float("inf")

    def add(self, tick: Tick, interval: float) -> int:
        started = time.monotonic()
        with self._wake:
            key = next(self._ids)
            self._watches[key] = (tick, interval, started, started + interval)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="clawrouter-images-progress", daemon=True
                )
                self._thread.start()
            if self._parked or interval < self._every:
                self._wake.notify()
        return key

    def remove(self, key: int) -> None:
        with self._wake:
            del self._watches[key]

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            due: list[tuple[Tick, float]] = []
            with self._wake:
                now = time.monotonic()
                for key, (tick, interval, started, at) in list(self._watches.items()):
                    if at <= now:
                        due.append((tick, now - started))
                        self._watches[key] = (tick, interval, started, now + interval)
                if self._watches:
                    idle_since = now
                if not due:
                    self._every = min((w[1] for w in self._watches.values()), default=1.0)
                    self._parked = now - idle_since > self._PARK_AFTER_S
                    soonest = min((w[3] for w in self._watches.values()), default=now + 1.0)
                    timeout = None if self._parked else max(0.0, min(soonest - now, self._every))
                    self._wake.wait(timeout)
                    self._parked = False
                    continue
            for tick, elapsed in due:
                _safely(tick, elapsed)


_TICKER = _Ticker()


class watching:
    """While the ``with`` body runs (a blocking call), call ``tick(elapsed)`` every interval."""

    # A class, not @contextmanager: it runs on every sync tool call.
    __slots__ = ("_interval", "_key", "_tick")

    def __init__(self, tick: Tick | None, interval: float) -> None:
        self._tick, self._interval, self._key = tick, interval, -1

    def __enter__(self) -> None:
        if self._tick is not None:
            self._key = _TICKER.add(self._tick, self._interval)

    def __exit__(self, *exc_info: object) -> None:
        if self._tick is not None:
            _TICKER.remove(self._key)


async def awaiting(awaitable: Awaitable[_T], tick: AsyncTick | None, interval: float) -> _T:
    """Await ``awaitable`` while a timer task beside it calls ``tick(elapsed)`` every interval."""
    if tick is None or not _under_asyncio():
        return await awaitable
    started = time.monotonic()

    async def ticking() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                result = tick(time.monotonic() - started)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.warning("a progress report failed", exc_info=True)

    timer = asyncio.ensure_future(ticking())
    try:
        return await awaitable
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer


def _under_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True

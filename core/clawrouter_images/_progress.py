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


class _Watch:
    __slots__ = ("due", "interval", "started", "tick")

    def __init__(self, tick: Tick, interval: float) -> None:
        self.tick, self.interval = tick, interval
        self.started = time.monotonic()
        self.due = self.started + interval


class _Ticker:
    """The one thread that calls each watched sync call's tick every ``interval`` seconds.

    Registering a call only puts it in a dict (single dict operations are atomic, so no
    lock is taken): the thread wakes on its own schedule (the shortest interval in use),
    and is woken only when it was parked, after a minute with nothing in flight, or when
    a shorter interval arrives.  So a stream of fast calls costs no lock and no thread
    switch per call.
    """

    _PARK_AFTER_S = 60.0

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._watches: dict[int, _Watch] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self._parked = True
        self._every = float("inf")

    def add(self, tick: Tick, interval: float) -> int:
        key = next(self._ids)
        self._watches[key] = _Watch(tick, interval)
        if self._parked or interval < self._every:
            with self._wake:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="clawrouter-images-progress", daemon=True
                    )
                    self._thread.start()
                self._wake.notify()
        return key

    def remove(self, key: int) -> None:
        del self._watches[key]

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            now = time.monotonic()
            # Copies: calls come and go while the thread looks.  One that ended meanwhile
            # may still get this last report (as it could while its tick was running).
            due = []
            for watch in list(self._watches.values()):
                if watch.due <= now:
                    due.append((watch.tick, now - watch.started))
                    watch.due = now + watch.interval
            for tick, elapsed in due:
                _safely(tick, elapsed)
            if due:
                continue
            with self._wake:
                # Until this wait's schedule is set, a call that arrives wakes the thread:
                # add() reads these two after putting its watch where the copy below looks.
                self._parked, self._every = True, float("inf")
                watches = list(self._watches.values())
                if watches:
                    idle_since = now
                parked = not watches and now - idle_since > self._PARK_AFTER_S
                every = min((w.interval for w in watches), default=1.0)
                soonest = min((w.due for w in watches), default=now + every)
                self._parked, self._every = parked, every
                self._wake.wait(None if parked else max(0.0, min(soonest - now, every)))
                self._parked = False


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

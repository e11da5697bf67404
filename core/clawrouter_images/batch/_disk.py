"""A batch's disk work (committing images, syncing the results file) on one thread, in groups.

Each image a batch saves ends in blocking disk calls (an fsync above all), which must not
stall the event loop.  A worker thread per call (``anyio.to_thread``) costs a thread wake,
a loop wake and a contest for the GIL per image: on a small virtual machine that was
about a third of a batch's CPU per request (benchmarks/bench_batch.py).  Here one thread
serves the whole run: it takes every job queued since it last looked, runs them, and
hands their outcomes back to the loop in one call, so a burst of images costs one round
trip, not one per image.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")
_Job = tuple[Callable[[], Any], "asyncio.Future[Any]", threading.Event]


class DiskWorker:
    """Runs blocking disk work for one event loop, on one thread, a group at a time.

    ``await run(work)`` behaves as ``off_loop(work)`` (``_files``): the work runs off the
    loop, and if the await is cancelled, the caller still waits until the work has run
    (a save plan is closed only once its step left the files).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._jobs: collections.deque[_Job] = collections.deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(
            target=self._serve, name="clawrouter-images-batch-disk", daemon=True
        )
        self._thread.start()

    async def run(self, work: Callable[[], _T], *, first: bool = False) -> _T:
        """``work()`` on the disk thread; ``first``: ahead of the jobs already queued (the
        results file's sync, which a request waits for before it is sent)."""
        future: asyncio.Future[_T] = self._loop.create_future()
        done = threading.Event()
        with self._wake:
            if self._closing:
                raise RuntimeError("the batch's disk worker is closed")
            (self._jobs.appendleft if first else self._jobs.append)((work, future, done))
            self._wake.notify()
        try:
            return await future
        except BaseException:
            done.wait()  # cancelled: at most until the groups ahead of it have run
            raise

    def close(self) -> None:
        """Run what is queued, then stop the thread."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._jobs and not self._closing:
                    self._wake.wait()
                if not self._jobs:
                    return
                jobs = list(self._jobs)
                self._jobs.clear()
            outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            for work, future, done in jobs:
                try:
                    outcomes.append((future, work(), None))
                except BaseException as err:  # handed to the awaiting request, whatever it is
                    if isinstance(err, StopIteration):
                        # A future refuses StopIteration (TypeError), which would strand
                        # the rest of the group: raised as a coroutine would raise it.
                        wrapped = RuntimeError(f"disk work raised StopIteration: {err!r}")
                        wrapped.__cause__ = err
                        err = wrapped
                    outcomes.append((future, None, err))
                finally:
                    done.set()
            try:
                self._loop.call_soon_threadsafe(_settle, outcomes)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
                return


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():  # cancelled meanwhile
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

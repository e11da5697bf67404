"""A batch's disk work runs on one thread, in groups, and keeps ``off_loop``'s promises."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from clawrouter_images import _files
from clawrouter_images.batch import _journal
from clawrouter_images.batch._disk import DiskWorker

from .conftest import Jsonl, Run, results

EIGHT = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(8)]


async def test_a_batch_commits_and_syncs_on_its_one_disk_thread(
    jsonl: Jsonl, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every image's commit and every fsync of the results file run on the batch's disk
    thread: never on the event loop, and not on a worker thread each."""
    seen: list[tuple[str, str]] = []
    commit, sync = _files.AtomicImageFile.commit, _journal.Journal.sync

    def commit_noted(self: _files.AtomicImageFile) -> Path:
        seen.append(("commit", threading.current_thread().name))
        return commit(self)

    def sync_noted(self: _journal.Journal, number: int | None = None) -> None:
        seen.append(("sync", threading.current_thread().name))
        sync(self, number)

    monkeypatch.setattr(_files.AtomicImageFile, "commit", commit_noted)
    monkeypatch.setattr(_journal.Journal, "sync", sync_noted)
    out = tmp_path / "out"
    summary = await run(jsonl(EIGHT), out, concurrency=4)
    assert summary.ok == 8
    assert [kind for kind, _ in seen].count("commit") == 8
    assert "sync" in {kind for kind, _ in seen}
    # The run's close syncs the file on its own thread, after the disk thread has stopped.
    during = [name for kind, name in seen if kind == "commit"] + [
        name for kind, name in seen[:-1] if kind == "sync"
    ]
    assert set(during) == {"clawrouter-images-batch-disk"}
    assert _saved(out) == 8


def _saved(out: Path) -> int:
    return sum(os.path.exists(out / path) for r in results(out) for path in r["paths"])


async def test_jobs_queued_together_come_back_in_one_loop_wake() -> None:
    """A group costs one hand-back to the loop, whatever its size; outcomes, errors
    included, reach each job's caller, and ``first`` jobs run ahead of the queue."""
    loop = asyncio.get_running_loop()
    disk = DiskWorker(loop)
    gate, order = threading.Event(), []
    wakes = 0
    handing_back = loop.call_soon_threadsafe

    def counted(*args: object) -> asyncio.Handle:
        nonlocal wakes
        wakes += 1
        return handing_back(*args)  # type: ignore[arg-type]

    taken = threading.Event()

    def blocking() -> None:
        taken.set()
        gate.wait()

    try:
        blocker = asyncio.ensure_future(disk.run(blocking))
        await asyncio.to_thread(taken.wait)  # the disk thread took the blocker alone

        def job(name: str) -> str:
            order.append(name)
            if name == "bad":
                raise OSError("disk full")
            return name

        later = [
            asyncio.ensure_future(disk.run(functools.partial(job, n))) for n in ("a", "bad", "c")
        ]
        urgent = asyncio.ensure_future(disk.run(functools.partial(job, "sync"), first=True))
        await asyncio.sleep(0)  # all four queued behind the blocker
        loop.call_soon_threadsafe = counted  # type: ignore[method-assign,assignment]
        gate.set()
        await blocker
        outcomes = await asyncio.gather(urgent, *later, return_exceptions=True)
    finally:
        loop.call_soon_threadsafe = handing_back  # type: ignore[method-assign]
        disk.close()
    assert [outcomes[0], outcomes[1], outcomes[3]] == ["sync", "a", "c"]
    assert isinstance(outcomes[2], OSError)
    assert order == ["sync", "a", "bad", "c"]
    assert wakes <= 2  # the blocker's group, then the four together


async def test_a_cancelled_wait_still_waits_for_its_work() -> None:
    """As with ``off_loop``: the caller moves on only once the work has left its files."""
    disk = DiskWorker(asyncio.get_running_loop())
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        release.wait()
        finished.set()

    try:
        task = asyncio.ensure_future(disk.run(work))
        await asyncio.to_thread(started.wait)
        task.cancel()
        # Released only once the loop's thread is waiting for the work, not before.
        threading.Thread(target=_release_when_waiting, args=(release,), daemon=True).start()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished.is_set()
    finally:
        release.set()
        disk.close()


def _release_when_waiting(release: threading.Event) -> None:
    main = threading.main_thread().ident
    assert main is not None
    while True:
        frame = sys._current_frames().get(main)
        codes = []
        while frame is not None:
            codes.append(frame.f_code.co_name)
            frame = frame.f_back
        if codes[:2] == ["wait", "wait"] and "run" in codes:  # Condition.wait in Event.wait
            release.set()
            return
        time.sleep(0)  # yield the GIL only: no time passes in the test


async def test_close_runs_what_is_queued_then_refuses_more() -> None:
    disk = DiskWorker(asyncio.get_running_loop())
    done: list[int] = []
    pending = [asyncio.ensure_future(disk.run(functools.partial(done.append, i))) for i in range(5)]
    await asyncio.sleep(0)
    disk.close()
    assert done == [0, 1, 2, 3, 4]
    await asyncio.gather(*pending)
    with pytest.raises(RuntimeError, match="closed"):
        await disk.run(lambda: None)


async def test_work_that_raises_stop_iteration_fails_its_caller_alone() -> None:
    """An asyncio future refuses StopIteration: it reaches the caller as a RuntimeError,
    and the other jobs of its group are settled all the same."""
    disk = DiskWorker(asyncio.get_running_loop())
    gate, taken = threading.Event(), threading.Event()

    def blocking() -> None:
        taken.set()
        gate.wait()

    try:
        blocker = asyncio.ensure_future(disk.run(blocking))
        await asyncio.to_thread(taken.wait)
        bad = asyncio.ensure_future(disk.run(functools.partial(next, iter(()))))
        good = asyncio.ensure_future(disk.run(lambda: "fine"))
        await asyncio.sleep(0)  # both queued behind the blocker: one group
        gate.set()
        await blocker
        # Bounded: a stranded future would otherwise hang the test instead of failing it.
        outcomes = await asyncio.wait_for(asyncio.gather(bad, good, return_exceptions=True), 30)
    finally:
        disk.close()
    assert isinstance(outcomes[0], RuntimeError)
    assert isinstance(outcomes[0].__cause__, StopIteration)
    assert outcomes[1] == "fine"

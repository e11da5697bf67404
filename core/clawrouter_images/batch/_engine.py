"""Running a batch: the async engine, its sync wrapper, and the unit of work for engines.

``AsyncBatch`` reads the input as a stream into a small queue that ``concurrency``
workers drain; each request goes through a ``Unit`` (``_unit``) and its record comes out
of the iterator as it is written.  Memory stays flat in the batch's size: one line at a
time is read, at most a few requests wait in the queue, and no record is kept once it is
written (the folder's ids are, as one int each).  ``Batch`` runs the same engine on an
event loop in a helper thread, for code that is not async (a notebook cell, a script).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _constants as c
from .._exceptions import InvalidRequestError
from ._disk import DiskWorker
from ._journal import FAILED, OK, UNCERTAIN, Journal, Record
from ._requests import BadLine, BatchRequest, count_lines, read_lines, shard_of
from ._unit import Settings, Unit, as_request, bad_line_record, skipped

if TYPE_CHECKING:
    from .._client import AsyncImageClient, ImageClient

Source = str | os.PathLike[str] | Iterable[BatchRequest | Mapping[str, Any]]
"""A JSONL file's path, or the requests themselves."""
Observer = Callable[["BatchSummary"], None]
"""Called with the summary after every change and about once a second (a progress display)."""


@dataclass
class BatchSummary:
    """What a run did, counted as it goes.  ``spent_usd`` is this run's estimated spend
    (what may have been paid included); ``spent_before_usd`` what earlier runs into the
    folder spent or may have spent."""

    directory: Path
    total: int | None = None
    ok: int = 0
    failed: int = 0
    uncertain: int = 0
    bad_lines: int = 0
    skipped_ok: int = 0
    skipped_uncertain: int = 0
    other_shards: int = 0
    in_flight: int = 0
    spent_usd: float = 0.0
    spent_before_usd: float = 0.0
    started_at: float = field(default_factory=time.monotonic)

    @property
    def all_ok(self) -> bool:
        """Whether every request of the input (of this shard) is ``ok``, earlier runs' included."""
        return not (self.failed or self.uncertain or self.skipped_uncertain)

    @property
    def done(self) -> int:
        """Requests settled so far, this run or before (skipped ones included)."""
        return self.ok + self.failed + self.uncertain + self.skipped_ok + self.skipped_uncertain

    @property
    def results(self) -> Path:
        return self.directory / c.BATCH_RESULTS_NAME

    @property
    def index(self) -> Path:
        return self.directory / c.BATCH_INDEX_NAME

    def count(self, record: Record) -> None:
        status = record["status"]
        if status == OK:
            self.ok += 1
        elif status == UNCERTAIN:
            self.uncertain += 1
        elif status == FAILED:
            self.failed += 1
            if record.get("error_type") == "BadLine":
                self.bad_lines += 1
        if record.get("may_have_been_paid"):
            self.spent_usd = round(self.spent_usd + float(record["estimated_cost_usd"] or 0), 6)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``: the second of five shards (1-based, as Jest and Playwright
    count them).  Raises ``InvalidRequestError``."""
    head, _, tail = text.partition("/")
    if head.isdigit() and tail.isdigit() and 1 <= int(head) <= int(tail):
        return int(head), int(tail)
    raise InvalidRequestError(f"--shard must be I/N with 1 <= I <= N (like 2/5), not {text!r}")


class _End:
    pass


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class AsyncBatch:
    """A batch run: ``async with AsyncBatch(...) as batch: async for record in batch``.

    ``source``: a JSONL file (relative paths in it are from its folder) or an iterable of
    ``BatchRequest`` / mappings.  ``directory``: where images, ``results.jsonl`` and
    ``index.html`` go; a rerun into it skips ids that are ``ok``, does not send ``uncertain``
    ones again unless ``retry_uncertain``, and retries ids that failed before sending.
    ``budget_usd`` caps the folder's spending across runs; ``max_cost_usd`` each request.
    ``shard=(i, n)`` runs only the ids whose hash falls in shard ``i`` of ``n`` (1-based).
    ``client``: an ``AsyncImageClient`` to use (left open), else one is built for
    ``base_url``.  The iterator yields each record this run writes, as it is written;
    ``summary`` counts them.  Leaving the block early stops the run: requests in flight
    are recorded as ``uncertain``.
    """

    def __init__(
        self,
        source: Source,
        directory: str | os.PathLike[str],
        *,
        client: AsyncImageClient | None = None,
        base_url: str | None = None,
        concurrency: int = c.DEFAULT_BATCH_CONCURRENCY,
        budget_usd: float | None = None,
        max_cost_usd: float | None = None,
        retry_uncertain: bool = False,
        shard: tuple[int, int] | None = None,
        observer: Observer | None = None,
        contact_sheet: bool = True,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(
                f"concurrency must be a whole number from 1, not {concurrency!r}"
            )
        if shard is not None:
            parse_shard(f"{shard[0]}/{shard[1]}")
        self._source = source
        self._directory = Path(directory).expanduser()
        self._client = client
        self._base_url = base_url
        self._concurrency = concurrency
        self._budget_usd = budget_usd
        self._shard = shard
        self._observer = observer
        self._contact_sheet = contact_sheet
        self._settings = Settings(self._directory, max_cost_usd, retry_uncertain)
        self.summary = BatchSummary(self._directory)
        self._journal: Journal | None = None
        self._own_client: AsyncImageClient | None = None
        self._out: asyncio.Queue[Record | _End | _Failure] = asyncio.Queue(concurrency * 2)
        self._engine: asyncio.Task[None] | None = None
        self._seen: set[str] = set()
        self._syncing: asyncio.Future[None] | None = None
        self._disk: DiskWorker | None = None

    async def __aenter__(self) -> AsyncBatch:
        # In a thread: reading a large results file takes a while, and blocks nothing then.
        await asyncio.to_thread(self._open)
        if self._client is None:
            from .._client import AsyncImageClient

            self._own_client = self._client = AsyncImageClient(self._base_url)
        self._disk = DiskWorker(asyncio.get_running_loop())
        self._engine = asyncio.ensure_future(self._run())
        return self

    def _open(self) -> None:
        from .._files import prepare_save_dir

        # Checked before anything is sent: an unusable folder costs nothing.
        prepare_save_dir(self._directory)
        source = self._source
        if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
            raise InvalidRequestError(f"input file not found: {os.fspath(source)}")
        self._journal = journal = Journal(self._directory, budget_usd=self._budget_usd).open()
        self.summary.spent_before_usd = journal.spent_before_usd
        if isinstance(source, (str, os.PathLike)):
            self.summary.total = count_lines(Path(source))

    async def __aexit__(self, *exc_info: object) -> None:
        engine = self._engine
        try:
            if engine is not None and not engine.done():
                engine.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await engine
        finally:
            if self._disk is not None:
                self._disk.close()  # idle by now: every request waited for its disk work
            if self._own_client is not None:
                await self._own_client.aclose()
            journal = self._journal
            if journal is not None:
                try:
                    if self._contact_sheet:
                        from ._sheet import write_contact_sheet

                        write_contact_sheet(journal, self.summary)
                finally:
                    journal.close()

    def __aiter__(self) -> AsyncBatch:
        return self

    async def __anext__(self) -> Record:
        if self._engine is None:
            raise RuntimeError("use AsyncBatch in `async with` before iterating it")
        item = await self._out.get()
        if isinstance(item, _End):
            self._out.put_nowait(item)  # later calls end too
            raise StopAsyncIteration
        if isinstance(item, _Failure):
            self._out.put_nowait(_End())
            raise item.error
        return item

    async def wait(self) -> BatchSummary:
        """Run to the end, discarding the records; the summary."""
        async for _ in self:
            pass
        return self.summary

    # -- the engine ---------------------------------------------------------------------

    def _requests(self) -> Iterator[BatchRequest | BadLine]:
        source = self._source
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            with path.open("rb") as file:
                yield from read_lines(file, path.resolve().parent)
            return
        for number, item in enumerate(source, start=1):
            try:
                yield as_request(item, number)
            except BadLine as bad:
                yield bad

    def _changed(self) -> None:
        if self._observer is not None:
            self._observer(self.summary)

    async def _emit(self, record: Record) -> None:
        self.summary.count(record)
        self._changed()
        await self._out.put(record)

    async def _run(self) -> None:
        try:
            await self._feed()
        except asyncio.CancelledError:
            raise
        except BaseException as err:
            await self._out.put(_Failure(err))
            return
        await self._out.put(_End())

    async def _feed(self) -> None:
        queue: asyncio.Queue[BatchRequest | None] = asyncio.Queue(self._concurrency)
        workers = [asyncio.ensure_future(self._worker(queue)) for _ in range(self._concurrency)]
        ticker = asyncio.ensure_future(self._tick())
        try:
            for item in self._requests():
                request = await self._admit(item)
                if request is not None:
                    await queue.put(request)
                if any(worker.done() for worker in workers):
                    break  # a worker failed: its error is raised below
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        finally:
            ticker.cancel()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(ticker, *workers, return_exceptions=True)
        self._changed()

    async def _admit(self, item: BatchRequest | BadLine) -> BatchRequest | None:
        """The request to queue, or None when it is settled here (bad, skipped, another shard)."""
        journal = self._journal
        assert journal is not None
        request_id = item.request_id if isinstance(item, BadLine) else item.id
        if self._shard is not None and shard_of(request_id, self._shard[1]) != self._shard[0] - 1:
            self.summary.other_shards += 1
            return None
        key = str(request_id)
        if key in self._seen and not isinstance(item, BadLine):
            item = BadLine(f"duplicate id {key!r}: an earlier line has it", request_id, item.line)
        self._seen.add(key)
        if isinstance(item, BadLine):
            record = bad_line_record(item)
            journal.write(record, durable=False)
            await self._emit(record)
            return None
        status = skipped(journal, item.id, self._settings.retry_uncertain)
        if status is not None:
            if status == OK:
                self.summary.skipped_ok += 1
            else:
                self.summary.skipped_uncertain += 1
            self._changed()
            return None
        return item

    async def _worker(self, queue: asyncio.Queue[BatchRequest | None]) -> None:
        while (request := await queue.get()) is not None:
            record = await self._one(request)
            await self._emit(record)

    async def _one(self, request: BatchRequest) -> Record:
        journal, client = self._journal, self._client
        assert journal is not None
        assert client is not None
        unit = Unit(journal, request, self._settings)
        decided = unit.begin(durable=False)
        if decided is not None:
            return decided
        # On disk before the POST.  Cancelled meanwhile, the record may still land: the
        # next run then reads the id as uncertain.
        try:
            await self._synced(unit.number)
        except OSError as err:
            raise unit.unwritable(err) from err
        args, kwargs = unit.arguments()
        self.summary.in_flight += 1
        try:
            if request.editing:
                response = await client.edit(*args, **kwargs)
            else:
                response = await client.generate(*args, **kwargs)
            # The folder was proven in _open, before anything was sent: once is enough.
            paths = await client._save(
                response, self._directory, proven=True, offload=self._disk_worker().run
            )
        except Exception as err:
            return unit.failed(err)
        except BaseException:  # cancelled (the run stopped), KeyboardInterrupt
            record = unit.abandon()
            if record is not None:
                self.summary.count(record)
            raise
        finally:
            self.summary.in_flight -= 1
        return unit.succeeded(response, paths)

    async def _synced(self, number: int) -> None:
        """Wait until record ``number`` of the journal is on disk.  One fsync at a time, on
        the disk thread (ahead of the images) so that it does not stall the loop; each
        covers every record written before it began, so the requests in flight share it
        (a group commit)."""
        journal = self._journal
        assert journal is not None
        while not journal.synced(number):
            if self._syncing is None or self._syncing.done():
                sync = self._disk_worker().run(journal.sync, first=True)
                self._syncing = asyncio.ensure_future(sync)
            # Shielded: one waiter cancelled (the run stopping) leaves the fsync to the others.
            await asyncio.shield(self._syncing)

    def _disk_worker(self) -> DiskWorker:
        disk = self._disk
        assert disk is not None
        return disk

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(c.BATCH_TICK_SECONDS)
            self._changed()


class Batch:
    """``AsyncBatch`` for code that is not async: ``with Batch(...) as batch: for record in
    batch``.  Same arguments; the engine runs on an event loop in a helper thread, so this
    works inside a running event loop too (a notebook).  ``client``, if given, is an
    ``AsyncImageClient``."""

    def __init__(self, source: Source, directory: str | os.PathLike[str], **options: Any) -> None:
        self._batch = AsyncBatch(source, directory, **options)
        self._stack = contextlib.ExitStack()

    @property
    def summary(self) -> BatchSummary:
        return self._batch.summary

    def __enter__(self) -> Batch:
        from anyio.from_thread import start_blocking_portal

        with contextlib.ExitStack() as stack:
            self._portal = stack.enter_context(start_blocking_portal())
            stack.enter_context(self._portal.wrap_async_context_manager(self._batch))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def __iter__(self) -> Iterator[Record]:
        while True:
            try:
                yield self._portal.call(self._batch.__anext__)
            except StopAsyncIteration:
                return

    def wait(self) -> BatchSummary:
        for _ in self:
            pass
        return self.summary


async def arun_batch(
    source: Source, directory: str | os.PathLike[str], **options: Any
) -> BatchSummary:
    """Run a whole batch (``AsyncBatch``'s arguments) and return its summary."""
    async with AsyncBatch(source, directory, **options) as batch:
        return await batch.wait()


def run_batch(source: Source, directory: str | os.PathLike[str], **options: Any) -> BatchSummary:
    """Run a whole batch from code that is not async (``AsyncBatch``'s arguments)."""
    with Batch(source, directory, **options) as batch:
        return batch.wait()


# -- the unit of work for engines (Dask, Ray, a queue's consumers) ---------------------------

_open: dict[Path, tuple[Journal, int]] = {}
_open_lock = threading.Lock()


@contextlib.contextmanager
def _shared_journal(directory: Path, budget_usd: float | None) -> Iterator[Journal]:
    """The folder's journal, shared by every task of this process (one lock per folder)."""
    key = directory.resolve()
    with _open_lock:
        journal, users = _open.get(key, (None, 0))
        if journal is None:
            journal = Journal(directory, budget_usd=budget_usd).open()
        elif journal.budget.limit_usd != budget_usd:
            raise InvalidRequestError(
                f"{directory} is in use by this process with budget_usd="
                f"{journal.budget.limit_usd}, not {budget_usd}"
            )
        _open[key] = (journal, users + 1)
    try:
        yield journal
    finally:
        with _open_lock:
            journal, users = _open[key]
            if users == 1:
                del _open[key]
                journal.close()
            else:
                _open[key] = (journal, users - 1)


def run_request(
    request: BatchRequest | Mapping[str, Any],
    directory: str | os.PathLike[str],
    *,
    client: ImageClient | None = None,
    base_url: str | None = None,
    budget_usd: float | None = None,
    max_cost_usd: float | None = None,
    retry_uncertain: bool = False,
) -> Record:
    """One request in, its record out (plain JSON data): the unit of work to hand an engine.

    Idempotent by id within ``directory``: an id that is ``ok`` there returns its record
    unsent, an ``uncertain`` one too unless ``retry_uncertain``.  The same rules as a batch
    (``"sending"`` on disk before the POST, the budget across runs), with the blocking
    client; the tasks of one process share the folder.  Errors are records, not
    exceptions, except a results file that cannot be written (``JournalError``).
    """
    folder = Path(directory).expanduser()
    from .._files import prepare_save_dir

    prepare_save_dir(folder)
    try:
        request = as_request(request, 1)
    except BadLine as bad:
        return bad_line_record(bad)
    with _shared_journal(folder, budget_usd) as journal, contextlib.ExitStack() as stack:
        unit = Unit(journal, request, Settings(folder, max_cost_usd, retry_uncertain))
        decided = unit.begin()
        if decided is not None:
            return decided
        if client is None:
            from .._client import ImageClient

            client = stack.enter_context(ImageClient(base_url))
        args, kwargs = unit.arguments()
        try:
            if request.editing:
                response = client.edit(*args, **kwargs)
            else:
                response = client.generate(*args, **kwargs)
            paths = client.save(response, folder)
        except Exception as err:
            return unit.failed(err)
        except BaseException:
            unit.abandon()
            raise
        return unit.succeeded(response, paths)

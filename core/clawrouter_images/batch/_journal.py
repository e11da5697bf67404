"""``DIR/results.jsonl``: a batch's memory across runs, and the one rule of what it says.

The file is append-only, one JSON object a line.  Before a request's POST goes out, a
``"sending"`` record is written and made durable (fsync); when the request ends, its
``"ok"``, ``"failed"`` or ``"uncertain"`` record follows (flushed, so the file can be read
while the run goes on).  So a run killed at any instant leaves either nothing about a
request it never sent, or a ``"sending"`` record whose request may have been paid.

What an id's records say (``Journal.status``): the best of its outcomes, ``ok`` over
``uncertain`` over ``failed``, and a ``"sending"`` with no outcome after it counts as
``uncertain``.  The best, not the last: an id that may have been paid stays so even if a
later retry failed before sending, and a merged file keeps every attempt.  What the folder
spent: every record with ``may_have_been_paid`` (an ``ok``, an ``uncertain``) at its
estimate, plus each unanswered ``"sending"``.

One run writes into a folder at a time (an exclusive lock on the file, released by the
system if the process dies).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._budget import Budget
from .._constants import BATCH_RESULTS_NAME
from .._exceptions import ClawRouterError, quote

SENDING = "sending"
OK = "ok"
FAILED = "failed"
UNCERTAIN = "uncertain"
_RANK = {FAILED: 1, UNCERTAIN: 2, OK: 3}
_STATUS = {rank: status for status, rank in _RANK.items()}

Record = dict[str, Any]
"""One line of ``results.jsonl``: plain JSON data."""

ORPHAN_ERROR = (
    "it was being sent when an earlier run stopped, so it may have been paid; check before "
    "sending it again (--retry-uncertain / retry_uncertain=True sends it again)"
)


class JournalError(ClawRouterError):
    """The results file cannot be used: another run holds it, or a line in it is unreadable."""


def key_of(request_id: object) -> str:
    """The id as results are keyed: ``7`` and ``"7"`` are one id."""
    return str(request_id)


def encode(record: Record) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def read_records(path: Path) -> Iterator[tuple[int, Record]]:
    """Each record of a results file with its byte offset, streamed.  A last line with no
    newline is left out: every record is written with its newline in one write, so that
    write never completed (a full disk, a power cut) and nothing was sent after it.  Any
    other unreadable line raises ``JournalError``."""
    offset = 0
    with path.open("rb") as file:
        for line in file:
            if not line.endswith(b"\n"):
                return
            start, offset = offset, offset + len(line)
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or "id" not in record or "status" not in record:
                raise JournalError(
                    f"{path} has an unreadable record at byte {start} "
                    f"({quote(line.decode('utf-8', 'replace'), 80)}); a batch cannot tell from it "
                    "what was paid: repair or remove that line, then run again"
                )
            yield start, record


class Journal:
    """The results file of one folder, open for one run.  Thread-safe.

    ``budget`` is the run's cap with what the folder spent before already counted.
    """

    def __init__(self, directory: Path, *, budget_usd: float | None = None) -> None:
        self.directory = directory
        self.path = directory / BATCH_RESULTS_NAME
        self.budget = Budget(
            budget_usd,
            advice="Earlier runs into this folder count too: raise the budget, or start a "
            "new folder.",
        )
        # id -> offset * 4 + rank of its deciding record (the best outcome, the latest of
        # equals): an int per id keeps memory small for large batches.
        self._best: dict[str, int] = {}
        self._sending: dict[str, Record] = {}
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._end = -1  # the file's size, when known
        self._synced = 0
        self._fd = -1
        self.spent_before_usd = 0.0
        self.orphans = 0

    # -- opening ------------------------------------------------------------------------

    def open(self) -> Journal:
        """Lock the file, read what earlier runs wrote, and record their unanswered sends
        as ``uncertain``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _lock(fd, self.path)
            self._fd = fd
            self._load()
        except BaseException:
            self._fd = -1
            os.close(fd)
            raise
        return self

    def _load(self) -> None:
        spent = 0.0
        for offset, record in read_records(self.path):
            key = key_of(record["id"])
            status = record["status"]
            earlier = self._sending.pop(key, None)
            if status == SENDING:
                if earlier is not None:  # sent again without an answer to the first
                    spent += _estimate(earlier)
                self._sending[key] = record
                continue
            if record.get("may_have_been_paid"):
                spent += _estimate(record)
            self._note(key, status, offset)
        self._drop_cut_tail()
        for key, record in list(self._sending.items()):
            self._sending.pop(key)
            self.orphans += 1
            orphan = {**record, "status": UNCERTAIN, "may_have_been_paid": True}
            orphan["error"] = ORPHAN_ERROR
            orphan["error_type"] = "Interrupted"
            self.write(orphan, durable=False)
            spent += _estimate(record)
        self.spent_before_usd = round(spent, 6)
        self.budget.count(spent)

    def _drop_cut_tail(self) -> None:
        """Cut a last line whose write never completed, so that what is appended next
        starts on a line of its own."""
        with self.path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            if size == 0:
                return
            file.seek(size - 1)
            if file.read(1) == b"\n":
                return
            # Find the start of the last line.
            position = size
            while position > 0:
                step = min(65536, position)
                file.seek(position - step)
                chunk = file.read(step)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    position = position - step + newline + 1
                    break
                position -= step
        os.ftruncate(self._fd, position)

    def close(self) -> None:
        # Under the sync lock: a sync still running in a worker thread (its run stopped)
        # ends before the descriptor goes, and one that starts later finds it gone.
        with self._sync_lock:
            if self._fd >= 0:
                with contextlib.suppress(OSError):
                    os.fsync(self._fd)
                os.close(self._fd)  # also releases the lock
                self._fd = -1

    def __enter__(self) -> Journal:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------

    def status(self, request_id: object) -> str | None:
        """What the folder's records say of this id: ``ok``, ``uncertain``, ``failed``, or
        None when it has none.  An id being sent now is not yet decided."""
        packed = self._best.get(key_of(request_id))
        return None if packed is None else _STATUS[packed & 3]

    def record(self, request_id: object) -> Record | None:
        """The id's deciding record (its best outcome, the latest of equals)."""
        packed = self._best.get(key_of(request_id))
        if packed is None:
            return None
        return _read_line(self._fd, packed >> 2)

    def deciding(self) -> Iterator[tuple[str, int]]:
        """Each id with the offset of its deciding record (a snapshot)."""
        with self._lock:
            items = list(self._best.items())
        for key, packed in items:
            yield key, packed >> 2

    def read_at(self, offset: int) -> Record:
        return _read_line(self._fd, offset)

    # -- writing ------------------------------------------------------------------------

    def write(self, record: Record, *, durable: bool) -> int:
        """Append ``record``; ``durable``: also on disk (fsync) before returning.  Its
        number, for ``sync`` (records are numbered as they are appended).

        Concurrent durable writes share their fsyncs: a write waits at most for the one
        in progress and the next, which covers every record appended meanwhile."""
        data = encode(record)
        key = key_of(record["id"])
        with self._lock:
            # This run is the file's only writer (the lock): its end is known without
            # asking the system, once per run or after a write that failed.
            offset = self._end
            if offset < 0:
                offset = os.lseek(self._fd, 0, os.SEEK_END)
            self._end = -1
            _write_all(self._fd, data)
            self._end = offset + len(data)
            self._written += 1
            mine = self._written
            status = record["status"]
            if status == SENDING:
                self._sending[key] = record
            else:
                self._sending.pop(key, None)
                self._note(key, status, offset)
        if durable:
            self.sync(mine)
        return mine

    def synced(self, number: int) -> bool:
        """Whether record ``number`` is on disk."""
        return self._synced >= number

    def sync(self, number: int | None = None) -> None:
        """Put record ``number`` (default: every record written so far) on disk, with
        whatever was appended before it; a record synced already costs nothing."""
        with self._sync_lock:
            if self._fd < 0:
                raise OSError(errno.EBADF, "the results file is closed")
            upto = self._written
            if self._synced < (upto if number is None else number):
                os.fsync(self._fd)
                self._synced = upto

    def _note(self, key: str, status: str, offset: int) -> None:
        rank = _RANK.get(status)
        if rank is None:
            return
        known = self._best.get(key)
        if known is None or rank >= known & 3:
            self._best[key] = offset * 4 + rank


def _estimate(record: Record) -> float:
    value = record.get("estimated_cost_usd")
    return float(value) if isinstance(value, (int, float)) else 0.0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_line(fd: int, offset: int) -> Record:
    chunks = []
    while True:
        chunk = os.pread(fd, 65536, offset)
        if not chunk:
            break
        newline = chunk.find(b"\n")
        if newline >= 0:
            chunks.append(chunk[:newline])
            break
        chunks.append(chunk)
        offset += len(chunk)
    record: Record = json.loads(b"".join(chunks))
    return record


if sys.platform == "win32":  # pragma: no cover - no flock: one run per folder is on the user

    def _lock(fd: int, path: Path) -> None:
        return

else:
    import fcntl

    def _lock(fd: int, path: Path) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JournalError(
                f"another batch is writing into {path.parent}; wait for it to finish, or "
                "use another folder (-o)"
            ) from None

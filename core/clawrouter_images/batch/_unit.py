"""One request's way through a batch, the same for the sync and the async client.

``begin`` decides everything that costs nothing: whether the id is done already, whether
the request is valid (model, size, ``n``, inputs, the per-call cap) and fits in the
budget.  If it is to be sent, its ``"sending"`` record is on disk (fsync) before ``begin``
returns, and the budget holds its estimate.  The caller then makes the one paid call and
saves its images, and hands the answer or the error to ``succeeded`` / ``failed``, which
write the request's record.  The I/O in between is two lines in each twin.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _constants as c
from .._call import PricedCall, plan_call
from .._exceptions import ClawRouterError
from ._journal import FAILED, OK, SENDING, UNCERTAIN, Journal, JournalError, Record
from ._requests import BadLine, BatchRequest, client_input

if TYPE_CHECKING:
    from .._budget import _Hold
    from .._models import ImageResponse

INTERRUPTED_ERROR = (
    "interrupted while in flight, so it may have been paid; check before sending it again "
    "(--retry-uncertain / retry_uncertain=True sends it again)"
)


@dataclass(frozen=True)
class Settings:
    """What every request of one run shares."""

    directory: Path
    max_cost_usd: float | None = None
    retry_uncertain: bool = False


def skipped(journal: Journal, request_id: object, retry_uncertain: bool) -> str | None:
    """The status that keeps this id from being sent (``ok``, or ``uncertain`` unless
    retried), or None: the one place the resume rule is decided."""
    status = journal.status(request_id)
    if status == OK or (status == UNCERTAIN and not retry_uncertain):
        return status
    return None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def bad_line_record(bad: BadLine) -> Record:
    """The record of a line that is not a request: failed, nothing sent."""
    return {
        "id": bad.request_id,
        "status": FAILED,
        "paths": [],
        "urls": [],
        "model": None,
        "size": None,
        "n": None,
        "estimated_cost_usd": None,
        "may_have_been_paid": False,
        "error": f"bad line: {bad.reason}",
        "error_type": "BadLine",
        "prompt": None,
        "line": bad.line,
        "at": now(),
    }


class Unit:
    """One request of a run, from ``begin`` to its record."""

    def __init__(self, journal: Journal, request: BatchRequest, settings: Settings) -> None:
        self.journal = journal
        self.request = request
        self.settings = settings
        self.call: PricedCall | None = None
        self.skipped: str | None = None
        self._hold: _Hold | None = None
        self.number = 0  # of the "sending" record in the journal, once written
        self._sent = False
        self._done = False

    def begin(self, *, durable: bool = True) -> Record | None:
        """None when the request is to be sent (its ``"sending"`` record is durable);
        otherwise its record: the earlier one when ``skipped`` says why, else a new
        ``failed`` one (invalid, over a cap or the budget).

        ``durable=False``: the ``"sending"`` record is written but not yet synced; the
        caller makes ``journal.synced(unit.number)`` true (``journal.sync``) before the
        POST, and hands a failure to do so to ``unwritable``."""
        request, journal = self.request, self.journal
        self.skipped = skipped(journal, request.id, self.settings.retry_uncertain)
        if self.skipped is not None:
            return journal.record(request.id)
        try:
            self.call = call = plan_call(
                c.IMAGE2IMAGE_PATH if request.editing else c.GENERATIONS_PATH,
                request.prompt,
                model=request.model,
                size=request.size,
                n=request.n,
                max_cost_usd=self.settings.max_cost_usd,
                timeout=c.DEFAULT_TIMEOUT,
                budget=journal.budget,
                extra_body=request.extra_body,
                image=request.image,
                mask=request.mask,
            )
            hold = journal.budget.spending(call)
            hold.__enter__()  # checks again and reserves, as one step under the budget's lock
        except ClawRouterError as err:
            return self._finish(FAILED, paid=False, error=err)
        self._hold = hold
        try:
            self.number = journal.write(self._record(SENDING, paid=True), durable=durable)
        except OSError as err:
            raise self.unwritable(err) from err
        self._sent = True
        return None

    def unwritable(self, err: OSError) -> JournalError:
        """The error to raise when the ``"sending"`` record could not be written or synced:
        nothing is sent, and the budget no longer holds the request's estimate."""
        failure = JournalError(f"cannot write {self.journal.path}: {err.strerror or err}")
        self._release(failure)
        return failure

    def arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The client call's arguments (``edit`` when ``request.editing``, else ``generate``)."""
        request, call = self.request, self.call
        assert call is not None
        kwargs: dict[str, Any] = {
            "model": call.model,
            "size": call.size,
            "n": call.n,
            "max_cost_usd": self.settings.max_cost_usd,
            "extra_body": request.extra_body,
        }
        if not request.editing:
            return (request.prompt,), kwargs
        image = request.image
        assert image is not None
        inputs = (
            [client_input(item) for item in image]
            if isinstance(image, list)
            else client_input(image)
        )
        if request.mask is not None:
            kwargs["mask"] = client_input(request.mask)
        return (request.prompt, inputs), kwargs

    def succeeded(self, response: ImageResponse, paths: list[Path]) -> Record:
        self._release(None)
        return self._finish(
            OK,
            paid=True,
            paths=[self._relative(path) for path in paths],
            urls=response.urls,
            estimate=response.estimated_cost_usd,
        )

    def failed(self, err: BaseException) -> Record:
        """The record of a call that raised: ``uncertain`` if it may have been paid (any
        error that does not say otherwise), ``failed`` if it cannot have been."""
        self._release(err)
        paid = err.may_have_been_paid if isinstance(err, ClawRouterError) else True
        result = getattr(err, "result", None)
        saved = getattr(err, "saved_paths", None) or []
        return self._finish(
            UNCERTAIN if paid else FAILED,
            paid=paid,
            error=err,
            paths=[self._relative(Path(path)) for path in saved],
            urls=list(result.urls) if result is not None else [],
        )

    def abandon(self) -> Record | None:
        """The run stopped with this request in flight: it may have been paid.  Its
        ``uncertain`` record, or None if it was not in flight."""
        if not self._sent or self._done:
            return None
        self._release(None)
        self._done = True
        record = self._record(UNCERTAIN, paid=True)
        record.update(error=INTERRUPTED_ERROR, error_type="Interrupted")
        # Unwritten, the "sending" record stands: the next run reads it as uncertain.
        with contextlib.suppress(OSError):
            self.journal.write(record, durable=False)
        return record

    # -- records ------------------------------------------------------------------------

    def _release(self, err: BaseException | None) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.__exit__(type(err) if err else None, err, None)

    def _finish(
        self,
        status: str,
        *,
        paid: bool,
        error: BaseException | None = None,
        paths: list[str] | None = None,
        urls: list[str] | None = None,
        estimate: float | None = None,
    ) -> Record:
        self._done = True
        record = self._record(status, paid=paid, paths=paths, urls=urls, estimate=estimate)
        if error is not None:
            message = error.message if isinstance(error, ClawRouterError) else str(error)
            record["error"] = message or type(error).__name__
            record["error_type"] = type(error).__name__
        self.journal.write(record, durable=False)
        return record

    def _record(
        self,
        status: str,
        *,
        paid: bool,
        paths: list[str] | None = None,
        urls: list[str] | None = None,
        estimate: float | None = None,
    ) -> Record:
        request, call = self.request, self.call
        return {
            "id": request.id,
            "status": status,
            "paths": paths or [],
            "urls": urls or [],
            "model": call.model.id if call else request.model,
            "size": call.size if call else request.size,
            "n": call.n if call else request.n,
            "estimated_cost_usd": estimate
            if estimate is not None
            else (call.estimate if call else None),
            "may_have_been_paid": paid,
            "error": None,
            "error_type": None,
            "prompt": request.prompt,
            "line": request.line,
            "at": now(),
        }

    def _relative(self, path: Path) -> str:
        """A saved file as the record names it: relative to the results file's folder, so
        the folder can be moved or merged as it is."""
        try:
            # Saves return the folder joined with a name: cut it off without relpath's
            # two getcwd calls per file.
            return path.relative_to(self.settings.directory).as_posix()
        except ValueError:  # not spelt beneath the folder
            pass
        try:
            return Path(os.path.relpath(path, self.settings.directory)).as_posix()
        except ValueError:  # another drive (Windows)
            return str(path)


def as_request(item: BatchRequest | Mapping[str, Any], number: int) -> BatchRequest:
    """A request from what a Python caller passed: a ``BatchRequest``, or a mapping as one
    input line holds it (relative paths from the working directory)."""
    if isinstance(item, BatchRequest):
        return item
    try:
        return BatchRequest.from_json(item, line=number)
    except BadLine as bad:
        bad.line = number
        raise

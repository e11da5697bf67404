"""What a batch shows while it runs: a bar redrawn in place on a terminal, a line every few
seconds anywhere else (a log file, CI), and the summary at the end.

The clock is injected, so what is shown when can be tested without waiting.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .. import _constants as c
from .._catalog import format_usd

if TYPE_CHECKING:
    from ._engine import BatchSummary

_BAR_CELLS = 20


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def status_text(summary: BatchSummary, elapsed: float) -> str:
    """``120/1000 done, 3 failed, 1 uncertain, $6.30 spent, 4.1/s, ETA 3m35s``."""
    settled = summary.ok + summary.failed + summary.uncertain
    parts = [
        f"{summary.done}/{summary.total}" if summary.total is not None else str(summary.done),
        "done",
    ]
    text = " ".join(parts)
    text += f", {summary.failed} failed, {summary.uncertain} uncertain"
    text += f", {format_usd(round(summary.spent_usd, 6))} spent"
    rate = settled / elapsed if elapsed > 0 else 0.0
    text += f", {rate:.1f}/s"
    if summary.total is not None and rate > 0:
        left = max(summary.total - summary.done - summary.other_shards, 0)
        text += f", ETA {_duration(left / rate)}"
    return text


def _bar(summary: BatchSummary) -> str:
    if not summary.total:
        return ""
    seen = summary.done + summary.other_shards
    filled = min(_BAR_CELLS, _BAR_CELLS * seen // summary.total)
    return "[" + "#" * filled + "." * (_BAR_CELLS - filled) + "] "


class Progress:
    """An observer for a batch (``AsyncBatch(observer=...)``) writing to ``stream``.

    On a terminal (``tty``, default: ``stream.isatty()``) a bar is redrawn in place at most
    every ``redraw`` seconds; elsewhere a line is written every ``every`` seconds.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = c.BATCH_LOG_EVERY_SECONDS,
        redraw: float = c.BATCH_REDRAW_SECONDS,
    ) -> None:
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._clock = clock
        self._interval = redraw if self._tty else every
        self._started = clock()
        self._last: float | None = None
        self._drawn = False

    def __call__(self, summary: BatchSummary) -> None:
        now = self._clock()
        if self._tty:
            if self._last is None or now - self._last >= self._interval:
                self._draw(summary, now)
        elif now - (self._started if self._last is None else self._last) >= self._interval:
            self._last = now
            self._stream.write(f"batch: {status_text(summary, now - self._started)}\n")
            self._stream.flush()

    def _draw(self, summary: BatchSummary, now: float) -> None:
        self._last = now
        text = _bar(summary) + status_text(summary, now - self._started)
        width = shutil.get_terminal_size((100, 24)).columns
        # Wider than the terminal, the line would wrap and \r would no longer redraw it.
        self._stream.write("\r" + text[: max(width - 1, 20)] + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def close(self, summary: BatchSummary) -> None:
        """The bar's last state, then a new line (nothing off a terminal: the summary follows)."""
        if self._tty:
            self._draw(summary, self._clock())
            self._stream.write("\n")
            self._stream.flush()


def summary_text(summary: BatchSummary) -> str:
    """The lines printed when a run ends."""
    lines = [
        f"{summary.ok} ok, {summary.failed} failed"
        + (f" ({summary.bad_lines} bad lines)" if summary.bad_lines else "")
        + f", {summary.uncertain} uncertain this run; "
        f"estimated spend {format_usd(round(summary.spent_usd, 6))} this run, "
        f"{format_usd(round(summary.spent_before_usd + summary.spent_usd, 6))} in all runs "
        "into this folder",
    ]
    skipped = []
    if summary.skipped_ok:
        skipped.append(f"{summary.skipped_ok} ok before")
    if summary.skipped_uncertain:
        skipped.append(
            f"{summary.skipped_uncertain} uncertain before, not sent again "
            "(--retry-uncertain sends them)"
        )
    if summary.other_shards:
        skipped.append(f"{summary.other_shards} in other shards")
    if skipped:
        lines.append("skipped: " + ", ".join(skipped))
    lines.append(f"results: {summary.results}")
    lines.append(f"contact sheet: {summary.index}")
    return "\n".join(lines)

"""The progress display, on a fake clock: a bar on a terminal, a line every few seconds elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

from clawrouter_images.batch import BatchSummary, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _summary(**counts: int) -> BatchSummary:
    summary = BatchSummary(Path("out"), total=100)
    for name, value in counts.items():
        setattr(summary, name, value)
    return summary


def test_off_a_terminal_a_line_is_written_every_few_seconds() -> None:
    """Updates within the interval write nothing; the first after it writes one line."""
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, tty=False, clock=clock, every=5.0)
    progress(_summary(ok=1))
    clock.now += 4.9
    progress(_summary(ok=2))
    assert stream.getvalue() == ""
    clock.now += 0.2
    progress(_summary(ok=10, failed=2, uncertain=1))
    assert stream.getvalue() == (
        "batch: 13/100 done, 2 failed, 1 uncertain, $0.00 spent, 2.5/s, ETA 34s\n"
    )
    progress.close(_summary(ok=10))
    assert stream.getvalue().count("\n") == 1


def test_on_a_terminal_the_bar_is_redrawn_in_place_at_most_so_often() -> None:
    """The first update draws; one within the redraw interval does not; later ones do, with \\r."""
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, tty=True, clock=clock, redraw=0.2)
    progress(_summary(ok=0))
    clock.now += 0.1
    progress(_summary(ok=1))
    assert stream.getvalue().count("\r") == 1
    clock.now += 10
    summary = _summary(ok=50)
    summary.spent_usd = 2.625
    progress(summary)
    last = stream.getvalue().split("\r")[-1]
    assert (
        last
        == "[##########..........] 50/100 done, 0 failed, 0 uncertain, $2.625 spent, 5.0/s, ETA 10s\x1b[K"
    )
    progress.close(summary)
    assert stream.getvalue().endswith("\x1b[K\n")


def test_the_eta_counts_skipped_and_other_shards_as_seen() -> None:
    """Ids done before or in other shards are not work left: ETA covers only the rest."""
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, tty=False, clock=clock, every=1.0)
    clock.now += 10
    progress(_summary(ok=10, skipped_ok=40, other_shards=40))
    assert "ETA 10s" in stream.getvalue()

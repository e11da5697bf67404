"""The progress thread that serves every sync call: it wakes for the calls it watches,
whatever moment they arrive at, and keeps nothing once they end."""

from __future__ import annotations

import threading

import pytest

from clawrouter_images import _progress
from clawrouter_images._progress import _Ticker

QUICK = 0.001  # seconds between reports: each test waits for reports, not for a clock
PATIENCE = 10.0  # how long a test waits for a report before calling it lost


@pytest.fixture
def ticker() -> _Ticker:
    return _Ticker()


def _first_report(ticker: _Ticker, interval: float) -> bool:
    """Watch a call until it reports once; whether it did within PATIENCE."""
    reported = threading.Event()
    key = ticker.add(lambda elapsed: reported.set(), interval)
    try:
        return reported.wait(PATIENCE)
    finally:
        ticker.remove(key)


def test_a_parked_thread_wakes_for_every_new_call(ticker: _Ticker) -> None:
    """Parking right away when idle puts the thread to sleep between every two calls: a
    call registered while it is deciding to park must still wake it (a lost wake-up would
    leave that call with no progress for as long as it runs)."""
    ticker._PARK_AFTER_S = 0.0
    for _ in range(300):
        assert _first_report(ticker, QUICK)
    assert ticker._watches == {}


def test_a_shorter_interval_does_not_wait_for_a_longer_one(ticker: _Ticker) -> None:
    """A call asking for reports every millisecond gets them while the thread is waiting
    out another call's hour."""
    slow = ticker.add(lambda elapsed: None, 3600.0)
    try:
        for _ in range(50):
            assert _first_report(ticker, QUICK)
    finally:
        ticker.remove(slow)


def test_calls_from_many_threads_each_get_their_reports(ticker: _Ticker) -> None:
    results: list[bool] = []

    def worker() -> None:
        for _ in range(30):
            results.append(_first_report(ticker, QUICK))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE * 4)
    assert results == [True] * 240
    assert ticker._watches == {}


def test_watching_without_a_tick_registers_nothing() -> None:
    with _progress.watching(None, QUICK):
        assert _progress._TICKER._watches == {}

"""Soak: 5,000 async calls, 32 at a time, against the emulator on a real port, 5% faulty.

The run itself is ``run_soak`` from benchmarks/bench_soak.py (``--calls N`` runs it
longer); this test holds it to its checks.  It takes about ten seconds on two cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.reliability.conftest import RunSoak

CALLS = 5000
CONCURRENCY = 32
FAULT_RATE = 0.05
SEED = 8
# Every scripted fault that must show up among the outcomes.
TYPED_ERRORS = {
    "APIConnectionError",
    "BadRequestError",
    "GenerationTimeoutError",
    "InternalServerError",
    "PaymentRequiredError",
    "ResponseValidationError",
    "UpstreamError",
}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_soak_ends_every_call_pays_once_and_leaks_nothing(soak: RunSoak) -> None:
    """5,000 faulty calls end typed, pay once, and leave fds, sockets, memory and files as they were."""
    report = soak(calls=CALLS, concurrency=CONCURRENCY, fault_rate=FAULT_RATE, seed=SEED)
    print(report.summary())  # shown with -s, and on failure
    assert report.problems() == []
    # The same checks, spelt out.
    assert sum(report.outcomes.values()) == CALLS
    assert report.unexpected == 0
    # SaveError: a result that could not be saved (a dead URL), when the faults hit a save.
    assert set(report.outcomes) - {"result"} <= TYPED_ERRORS | {
        "RateLimitError",
        "SaveError",
        "ServiceUnavailableError",
    }
    assert set(report.outcomes) >= TYPED_ERRORS
    assert 0.03 * CALLS < report.faults < 0.07 * CALLS
    assert report.paid_retried == 0
    assert report.paid_posts <= CALLS
    assert report.fds_after == report.fds_before
    assert report.client_sockets_after_close == 0
    assert len(report.rss_kb_by_thousand) == CALLS // 1000
    assert report.rss_growth < 0.10
    assert report.partial_files == []
    assert report.saved_files > 0

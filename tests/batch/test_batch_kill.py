"""kill -9 at random points, then resume: no id is ever POSTed twice.

The batch runs in a subprocess against an emulator this test serves on a loopback port, so
the emulator's ledger (every POST it received, with its prompt) outlives each kill.
"""

from __future__ import annotations

import collections
import contextlib
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from clawrouter_images.emulator import Emulator, Fault

from .conftest import Jsonl, final, posts

REQUESTS = 60
KILLS = 4


def _start(source: Path, out: Path, base_url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clawrouter_images",
            "batch",
            str(source),
            "-o",
            str(out),
            "--base-url",
            base_url,
            "--concurrency",
            "6",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_kill_9_at_random_points_then_resume_never_pays_twice(
    jsonl: Jsonl, emulator: Emulator, served: str, tmp_path: Path
) -> None:
    """After several kill -9s and a final run, every id was POSTed at most once, and each
    id is ok, or uncertain exactly when it was in flight at a kill."""
    emulator.add_fault(Fault("slow", delay=0.1), times=None)  # keeps requests in flight
    source = jsonl([{"id": f"r{i}", "prompt": f"request r{i}"} for i in range(REQUESTS)])
    out = tmp_path / "out"
    chance = random.Random()
    seed = chance.randrange(1 << 30)
    chance.seed(seed)
    for kill in range(KILLS):
        before = len(posts(emulator))
        process = _start(source, out, served)
        # The clock starts at the run's first POST, not at its start: a loaded machine may
        # take longer to import than any fixed window. The first kill lands on that POST.
        deadline = time.monotonic() + 60
        while len(posts(emulator)) == before and process.poll() is None:
            assert time.monotonic() < deadline, "the batch sent nothing for 60 s"
            time.sleep(0.01)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=chance.uniform(0, 0.4) if kill else 0)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert _start(source, out, served).wait(timeout=120) in (0, 1)
    sent = collections.Counter(posts(emulator))
    assert [prompt for prompt, times in sent.items() if times > 1] == [], f"seed {seed}"
    statuses = final(out)
    assert set(statuses.values()) <= {"ok", "uncertain"}, f"seed {seed}"
    assert len(statuses) == REQUESTS
    # Uncertain ids are the ones cut off: each either reached the emulator or never left.
    for key, status in statuses.items():
        if status == "ok":
            assert sent[f"request {key}"] == 1, f"seed {seed}"
    # --retry-uncertain sends the uncertain ones once more, and only them.
    retried = _start(source, out, served, "--retry-uncertain").wait(timeout=120)
    assert retried == 0
    again = collections.Counter(posts(emulator))
    uncertain = {f"request {key}" for key, status in statuses.items() if status == "uncertain"}
    assert uncertain, f"seed {seed}: no kill cut a request off"
    assert {p for p in again if again[p] > sent[p]} == uncertain
    assert max(again.values()) <= 2

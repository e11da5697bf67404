"""Soak: many async calls against the emulator on a real port, with seeded random faults.

Run from the repository root::

    python benchmarks/bench_soak.py [--calls 50000] [--concurrency 32] [--fault-rate 0.05] [--seed 8]

tests/reliability/test_reliability_soak.py runs ``run_soak`` with 5,000 calls; this script
runs it longer.  One ``AsyncImageClient`` makes the calls, at most ``concurrency`` at once:
nine in ten generate (cogview at 512x512, eight prompts, so the emulator's picture cache
answers most of them), one in ten edit a small PNG (nano-banana-pro at 256x256), and one
result in 25 is saved to disk.  Before a call, with probability ``fault_rate`` (from
``random.Random(seed)``), one fault of a random kind is scripted on the emulator; it hits
whichever request reaches the emulator next.  Retries do not sleep (the delays are
recorded).  Calls run in windows of a thousand; between two windows nothing is in flight,
so the emulator's ledger is summed up and cleared (it would otherwise grow with every
request and hide the client's own memory use) and memory is sampled.  The report says:

- how every call ended: a result, or which ``ClawRouterError`` (anything else is a bug);
- whether anything was paid twice: every call must end in exactly one POST that is not a
  retried 429/503, and no 429/503 may be paid;
- open file descriptors before the emulator and the client start, and after both stop;
  sockets of this process still connected to the emulator after the client closed;
- resident memory (VmRSS) after each thousand calls, and the growth from the first
  thousand to the last;
- partial files left in the save directory, and the wall time.

Exits 1 when any of those checks fails.  Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "core") not in sys.path:
    sys.path.insert(0, str(ROOT / "core"))

from clawrouter_images import AsyncImageClient, ClawRouterError  # noqa: E402
from clawrouter_images.emulator import FAULT_KINDS, Emulator, Fault, FaultKind, serve  # noqa: E402

# Every fault that ends at once (``slow`` waits for the idle limit: tests/reliability has it),
# and none whose result points off this machine (``remote_url``).
SOAK_FAULTS: tuple[FaultKind, ...] = tuple(
    kind for kind in FAULT_KINDS if kind not in ("slow", "remote_url")
)
PROMPTS = tuple(f"soak picture {index}" for index in range(8))
RETRIED_STATUSES = frozenset({429, 503})
RETRIED_ERRORS = frozenset({"RateLimitError", "ServiceUnavailableError"})
EDIT_EVERY = 10
SAVE_EVERY = 25
RSS_WINDOW = 1000
MAX_RSS_GROWTH = 0.10


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def rss_kb() -> int:
    """This process's resident memory (VmRSS) in kB."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def sockets_to(port: int) -> int:
    """Open sockets of this process whose remote end is ``port`` on this machine."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] != "0":
                inodes.add(fields[9])
    count = 0
    for link in Path("/proc/self/fd").iterdir():
        try:
            target = str(link.readlink())
        except OSError:  # closed since the listing
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(out, format="PNG")
    return out.getvalue()


@dataclass
class SoakReport:
    """What one soak run measured; ``problems()`` lists the checks that failed."""

    calls: int
    concurrency: int
    faults: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    retried_posts: int = 0
    paid_posts: int = 0
    paid_retried: int = 0
    final_posts: int = 0
    sleeps: int = 0
    client_spent_usd: float = 0.0
    emulator_spent_usd: float = 0.0
    fds_before: int = 0
    fds_after: int = 0
    client_sockets_after_close: int = 0
    rss_kb_by_thousand: list[int] = field(default_factory=list)
    saved_files: int = 0
    partial_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unexpected(self) -> int:
        """Calls that ended in something other than a result or a ``ClawRouterError``."""
        return sum(count for name, count in self.outcomes.items() if name.startswith("other:"))

    @property
    def rss_growth(self) -> float:
        """Growth of RSS from the end of the first thousand calls to the end of the last."""
        if len(self.rss_kb_by_thousand) < 2:
            return 0.0
        first, last = self.rss_kb_by_thousand[0], self.rss_kb_by_thousand[-1]
        return (last - first) / first

    def problems(self) -> list[str]:
        found = []
        if sum(self.outcomes.values()) != self.calls:
            found.append(f"{sum(self.outcomes.values())} of {self.calls} calls ended")
        if self.unexpected:
            found.append(f"{self.unexpected} calls ended in an exception outside the tree")
        retried_out = sum(self.outcomes[name] for name in RETRIED_ERRORS)
        if self.final_posts + retried_out != self.calls:
            found.append(
                f"{self.final_posts} final POSTs + {retried_out} calls out of retries "
                f"!= {self.calls} calls: a request was sent twice, or never"
            )
        if self.paid_retried:
            found.append(f"{self.paid_retried} retried 429/503 answers were paid")
        if self.paid_posts > self.calls:
            found.append(f"{self.paid_posts} paid POSTs for {self.calls} calls")
        if self.client_spent_usd + 1e-9 < self.emulator_spent_usd:
            found.append("the client counted less spend than the emulator's ledger")
        if self.fds_after != self.fds_before:
            found.append(f"open fds {self.fds_before} before, {self.fds_after} after")
        if self.client_sockets_after_close:
            found.append(f"{self.client_sockets_after_close} client sockets open after close")
        if self.rss_growth >= MAX_RSS_GROWTH:
            found.append(f"RSS grew {self.rss_growth:.1%} from the first to the last thousand")
        if self.partial_files:
            found.append(f"partial files left: {self.partial_files}")
        return found

    def summary(self) -> str:
        samples = self.rss_kb_by_thousand or [0]
        rss = (
            f"first {samples[0] / 1024:.1f}, max {max(samples) / 1024:.1f}, "
            f"last {samples[-1] / 1024:.1f}"
        )
        outcomes = ", ".join(f"{name} {count}" for name, count in self.outcomes.most_common())
        return "\n".join(
            [
                f"calls {self.calls} (concurrency {self.concurrency}) in {self.seconds:.1f} s "
                f"= {self.calls / max(self.seconds, 1e-9):.0f} calls/s",
                f"faults scripted {self.faults}; outcomes: {outcomes}",
                f"POSTs {self.posts} (retried 429/503 {self.retried_posts}, final "
                f"{self.final_posts}); paid {self.paid_posts}; retry sleeps recorded "
                f"{self.sleeps}",
                f"spend: client ${self.client_spent_usd:.2f}, emulator ledger "
                f"${self.emulator_spent_usd:.2f}",
                f"fds before {self.fds_before}, after {self.fds_after}; client sockets "
                f"after close {self.client_sockets_after_close}",
                f"RSS MB after each thousand calls: {rss} (growth {self.rss_growth:+.1%})",
                f"saved {self.saved_files} files, partial files {len(self.partial_files)}",
            ]
        )


@dataclass
class _Ledger:
    """The emulator's ledger, summed up a window at a time (so that it does not grow)."""

    posts: int = 0
    retried: int = 0
    paid: int = 0
    paid_retried: int = 0
    spent_usd: float = 0.0

    def take(self, emulator: Emulator) -> None:
        """Count what the emulator recorded and forget it; call only when no call is in flight."""
        if emulator.pending_faults:
            raise RuntimeError("a scripted fault was never used")
        posts = [entry for entry in emulator.ledger if entry.method == "POST"]
        retried = [entry for entry in posts if entry.status in RETRIED_STATUSES]
        self.posts += len(posts)
        self.retried += len(retried)
        self.paid += sum(1 for entry in posts if entry.paid)
        self.paid_retried += sum(1 for entry in retried if entry.paid)
        self.spent_usd += emulator.spent_usd
        emulator.reset()


async def _drive(
    emulator: Emulator,
    base_url: str,
    report: SoakReport,
    plan: list[FaultKind | None],
    save_dir: Path,
    ledger: _Ledger,
) -> None:
    picture = _tiny_png()
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    client = AsyncImageClient(base_url, timeout=60.0)
    client._sleep = record

    async def one(index: int) -> str:
        prompt = PROMPTS[index % len(PROMPTS)]
        fault = plan[index]
        if fault is not None:
            emulator.add_fault(Fault(fault))
        try:
            if index % EDIT_EVERY == EDIT_EVERY - 1:
                response = await client.edit(prompt, picture, model="banana-pro", size="256x256")
            else:
                response = await client.generate(prompt, model="cogview", size="512x512")
            if index % SAVE_EVERY == 0:
                await client.save(response, save_dir)
        except ClawRouterError as err:
            return type(err).__name__
        except Exception as err:  # counted: the soak fails on any of these
            return f"other:{type(err).__name__}"
        return "result"

    async def worker(indices: Iterator[int]) -> None:
        for index in indices:
            report.outcomes[await one(index)] += 1

    try:
        # A window at a time: between windows nothing is in flight, so the ledger can be
        # summed up and cleared, and memory is sampled at a quiet moment.
        for start in range(0, report.calls, RSS_WINDOW):
            indices = iter(range(start, min(start + RSS_WINDOW, report.calls)))
            await asyncio.gather(*(worker(indices) for _ in range(report.concurrency)))
            ledger.take(emulator)
            report.rss_kb_by_thousand.append(rss_kb())
        report.client_spent_usd = client.spent_usd
    finally:
        await client.aclose()
    report.sleeps = len(sleeps)


def run_soak(
    *, calls: int = 5000, concurrency: int = 32, fault_rate: float = 0.05, seed: int = 8
) -> SoakReport:
    """Run the soak (see the module docstring) and return what it measured."""
    rng = random.Random(seed)
    plan: list[FaultKind | None] = [
        rng.choice(SOAK_FAULTS) if rng.random() < fault_rate else None for _ in range(calls)
    ]
    report = SoakReport(calls=calls, concurrency=concurrency)
    report.faults = sum(1 for kind in plan if kind is not None)
    ledger = _Ledger()
    with tempfile.TemporaryDirectory(prefix="clawrouter-soak-") as scratch:
        save_dir = Path(scratch) / "saved"
        report.fds_before = open_fds()
        started = time.perf_counter()
        with Emulator(image_dir=Path(scratch) / "emulator") as emulator:
            with serve(emulator, port=0) as base_url:
                asyncio.run(_drive(emulator, base_url, report, plan, save_dir, ledger))
                report.client_sockets_after_close = sockets_to(emulator.port)
            report.seconds = time.perf_counter() - started
        report.fds_after = open_fds()
        report.posts = ledger.posts
        report.retried_posts = ledger.retried
        report.final_posts = ledger.posts - ledger.retried
        report.paid_posts = ledger.paid
        report.paid_retried = ledger.paid_retried
        report.emulator_spent_usd = round(ledger.spent_usd, 6)
        if save_dir.is_dir():
            names = [path.name for path in save_dir.iterdir()]
            report.partial_files = [name for name in names if name.startswith(".")]
            report.saved_files = len(names) - len(report.partial_files)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    report = run_soak(
        calls=args.calls,
        concurrency=args.concurrency,
        fault_rate=args.fault_rate,
        seed=args.seed,
    )
    print(report.summary())
    problems = report.problems()
    for problem in problems:
        print(f"FAILED: {problem}")
    if problems:
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()

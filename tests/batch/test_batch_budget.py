"""One budget for the whole batch, across runs into the same folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from clawrouter_images.emulator import Emulator

from .conftest import Jsonl, Run, posts, results

THREE = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(3)]  # $0.0525 each


async def test_a_request_over_the_budget_is_failed_and_not_sent(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """With room for two, the third is failed with the budget's reason and never POSTed."""
    summary = await run(jsonl(THREE), tmp_path / "out", budget_usd=0.11, concurrency=1)
    assert (summary.ok, summary.failed) == (2, 1)
    assert len(posts(emulator)) == 2
    [refused] = [r for r in results(tmp_path / "out") if r["status"] == "failed"]
    assert refused["error_type"] == "BudgetExceededError"
    assert "budget of $0.11 reached" in refused["error"]
    assert refused["may_have_been_paid"] is False


async def test_what_earlier_runs_spent_counts_against_the_budget(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """A rerun with the same budget cannot spend it again; a larger one lets the rest go."""
    source, out = jsonl(THREE), tmp_path / "out"
    await run(source, out, budget_usd=0.11, concurrency=1)
    again = await run(source, out, budget_usd=0.11)
    assert again.failed == 1
    assert again.spent_before_usd == pytest.approx(0.105)
    assert len(posts(emulator)) == 2
    raised = await run(source, out, budget_usd=0.16)
    assert (raised.ok, raised.skipped_ok) == (1, 2)
    assert len(posts(emulator)) == 3


async def test_what_may_have_been_paid_counts_against_the_budget(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """An uncertain request (a 502 after payment) is counted as spent by later runs."""
    emulator.add_fault("generation_failed")
    source, out = jsonl(THREE[:1]), tmp_path / "out"
    await run(source, out)
    summary = await run(jsonl(THREE[1:], name="more.jsonl"), out, budget_usd=0.11)
    assert (summary.ok, summary.failed) == (1, 1)
    assert summary.spent_before_usd == pytest.approx(0.0525)


async def test_a_failure_that_cannot_have_been_paid_costs_nothing(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """Budget held for a request refused before payment (429) is released."""
    emulator.add_fault("rate_limited")
    source, out = jsonl(THREE[:1]), tmp_path / "out"
    first = await run(source, out, budget_usd=0.06)
    second = await run(source, out, budget_usd=0.06)
    assert (first.failed, first.spent_usd, second.ok) == (1, 0.0, 1)


async def test_max_cost_refuses_an_expensive_request_alone(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """--max-cost-usd fails a request estimated above it, with its reason; the rest run."""
    lines = [*THREE[:1], {"id": "big", "prompt": "big", "model": "banana-pro", "size": "4096x4096"}]
    summary = await run(jsonl(lines), tmp_path / "out", max_cost_usd=0.10)
    assert (summary.ok, summary.failed) == (1, 1)
    [refused] = [r for r in results(tmp_path / "out") if r["status"] == "failed"]
    assert (refused["id"], refused["error_type"]) == ("big", "BudgetExceededError")
    assert posts(emulator) == ["picture 0"]

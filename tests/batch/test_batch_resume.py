"""Resuming into the same folder: what is skipped, what is sent again, what is never paid twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clawrouter_images.batch import JournalError
from clawrouter_images.emulator import Emulator

from .conftest import Jsonl, Run, final, posts, results

THREE = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(3)]


async def test_a_rerun_skips_ids_that_are_ok(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """The second run of a finished batch sends nothing and reports every id as ok before."""
    source, out = jsonl(THREE), tmp_path / "out"
    first = await run(source, out)
    second = await run(source, out)
    assert (first.ok, second.ok, second.skipped_ok) == (3, 0, 3)
    assert len(posts(emulator)) == 3
    assert second.all_ok


async def test_every_send_is_preceded_by_its_sending_record(
    jsonl: Jsonl, run: Run, tmp_path: Path
) -> None:
    """Each id's "sending" record comes before its outcome, and carries the estimate."""
    out = tmp_path / "out"
    await run(jsonl(THREE), out)
    order = [(r["id"], r["status"]) for r in results(out)]
    for request in THREE:
        sending = order.index((request["id"], "sending"))
        assert order.index((request["id"], "ok")) > sending
    assert {r["estimated_cost_usd"] for r in results(out)} == {0.0525}


async def test_ids_that_failed_before_sending_are_retried(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """A 402 (payment refused, nothing paid) is failed; the rerun sends that id again."""
    emulator.add_fault("payment_rejected")
    source, out = jsonl(THREE[:1]), tmp_path / "out"
    first = await run(source, out)
    second = await run(source, out)
    assert (first.failed, second.ok) == (1, 1)
    assert posts(emulator) == ["picture 0", "picture 0"]
    assert results(out)[1]["may_have_been_paid"] is False


async def test_uncertain_ids_are_not_sent_again_unless_asked(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """A 500 after payment is uncertain: kept from reruns until retry_uncertain=True."""
    emulator.add_fault("server_error")
    source, out = jsonl(THREE[:1]), tmp_path / "out"
    first = await run(source, out)
    second = await run(source, out)
    third = await run(source, out, retry_uncertain=True)
    assert (first.uncertain, second.skipped_uncertain, third.ok) == (1, 1, 1)
    assert not second.all_ok
    assert posts(emulator) == ["picture 0", "picture 0"]


async def test_a_failed_retry_of_an_uncertain_id_leaves_it_uncertain(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """An id that may have been paid stays uncertain when its retry fails before sending."""
    emulator.add_fault("server_error")
    emulator.add_fault("payment_rejected")
    source, out = jsonl(THREE[:1]), tmp_path / "out"
    await run(source, out)
    await run(source, out, retry_uncertain=True)
    assert final(out) == {"r0": "uncertain"}


async def test_an_unanswered_send_of_a_stopped_run_becomes_uncertain(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """A "sending" record with no outcome (the process died) is uncertain and not re-sent."""
    out = tmp_path / "out"
    out.mkdir()
    sending = {"id": "r0", "status": "sending", "estimated_cost_usd": 0.0525, "prompt": "x"}
    (out / "results.jsonl").write_text(json.dumps(sending) + "\n")
    summary = await run(jsonl(THREE), out)
    assert (summary.ok, summary.skipped_uncertain) == (2, 1)
    assert summary.spent_before_usd == pytest.approx(0.0525)
    assert "picture 0" not in posts(emulator)
    orphan = next(r for r in results(out) if r["status"] == "uncertain")
    assert orphan["id"] == "r0"
    assert orphan["may_have_been_paid"] is True


async def test_a_last_line_cut_short_is_dropped(jsonl: Jsonl, run: Run, tmp_path: Path) -> None:
    """A record whose write never completed (no newline) was never followed by a POST: the
    run drops it and appends on a line of its own."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_bytes(b'{"id":"r0","status":"send')
    summary = await run(jsonl(THREE), out)
    assert summary.ok == 3
    assert all(isinstance(r, dict) for r in results(out))


async def test_an_unreadable_record_stops_the_run_before_anything_is_sent(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """A damaged line in the middle could have been any id's "sending": nothing is sent."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_text('garbage\n{"id":"r9","status":"ok"}\n')
    with pytest.raises(JournalError, match="unreadable record at byte 0"):
        await run(jsonl(THREE), out)
    assert posts(emulator) == []


async def test_two_runs_cannot_write_into_one_folder(
    jsonl: Jsonl, run: Run, tmp_path: Path
) -> None:
    """While one run holds a folder, a second is refused before sending anything."""
    from clawrouter_images.batch._journal import Journal

    out = tmp_path / "out"
    with Journal(out), pytest.raises(JournalError, match="another batch is writing"):
        await run(jsonl(THREE), out)


async def test_records_name_saved_files_relative_to_the_folder(
    jsonl: Jsonl, run: Run, tmp_path: Path
) -> None:
    """An ok record's paths are relative to DIR and exist there; its URLs are kept."""
    out = tmp_path / "out"
    await run(jsonl(THREE[:1]), out)
    [ok] = [r for r in results(out) if r["status"] == "ok"]
    assert ok["paths"] == ["picture-0.png"]
    assert (out / "picture-0.png").is_file()
    assert ok["urls"][0].startswith("http")
    assert (ok["model"], ok["size"], ok["error"]) == ("google/nano-banana", "1024x1024", None)

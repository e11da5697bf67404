"""A bad line fails alone, with its reason, and the rest of the batch runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from clawrouter_images.emulator import Emulator

from .conftest import Jsonl, Run, posts, results

GOOD = {"id": "good", "prompt": "a good line"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "bad line: not JSON"),
        ('["a", "list"]', "bad line: a line must be a JSON object, not a list"),
        ({"id": "x"}, 'bad line: no prompt: each line needs a non-empty "prompt" string'),
        ({"id": "x", "prompt": "  "}, "bad line: no prompt"),
        ({"id": "x", "prompt": "p", "modle": "banana-pro"}, "bad line: unknown field modle"),
        ({"id": "x", "prompt": "p", "model": "imagine-9"}, "unknown model"),
        ({"id": "x", "prompt": "p", "model": "dall-e-3"}, "openai/dall-e-3 is not available"),
        ({"id": "x", "prompt": "p", "size": "3x3"}, "does not take size 3x3"),
        ({"id": "x", "prompt": "p", "n": 99}, "n must be a whole number from 1"),
        ({"id": "x", "prompt": "p", "image": "nowhere.png"}, "bad line: image file not found"),
        (
            {"id": "x", "prompt": "p", "image": "photo.png", "mask": "gone.png"},
            "mask file not found",
        ),
        ({"id": "x", "prompt": "p", "image": "photo.png", "model": "seedream"}, "cannot edit"),
        ({"id": True, "prompt": "p"}, "id must be a string or a whole number"),
        ({"id": "x", "prompt": "p", "extra_body": {"model": "y"}}, "extra_body may not set model"),
    ],
)
async def test_a_bad_line_fails_alone_with_its_reason(
    line: object,
    reason: str,
    jsonl: Jsonl,
    run: Run,
    emulator: Emulator,
    tmp_path: Path,
    png: bytes,
) -> None:
    """The bad line is one failed record saying why, nothing is sent for it, the good runs."""
    (tmp_path / "photo.png").write_bytes(png)
    summary = await run(jsonl([line, GOOD]), tmp_path / "out")
    assert (summary.ok, summary.failed) == (1, 1)
    [bad] = [r for r in results(tmp_path / "out") if r["status"] == "failed"]
    assert reason in bad["error"]
    assert bad["may_have_been_paid"] is False
    assert posts(emulator) == ["a good line"]


async def test_a_line_without_an_id_is_keyed_by_its_line_number(
    jsonl: Jsonl, run: Run, tmp_path: Path
) -> None:
    """Lines are numbered from 1, blank lines counted; the number is the id."""
    await run(jsonl(["", {"prompt": "third line"}]), tmp_path / "out")
    [ok] = [r for r in results(tmp_path / "out") if r["status"] == "ok"]
    assert (ok["id"], ok["line"]) == (2, 2)


async def test_a_second_line_with_the_same_id_fails(
    jsonl: Jsonl, run: Run, emulator: Emulator, tmp_path: Path
) -> None:
    """Ids are unique within a file (7 and "7" are the same id)."""
    summary = await run(
        jsonl([{"id": 7, "prompt": "one"}, {"id": "7", "prompt": "two"}]), tmp_path / "out"
    )
    assert (summary.ok, summary.bad_lines) == (1, 1)
    assert posts(emulator) == ["one"]


async def test_relative_paths_are_read_from_the_input_files_folder(
    jsonl: Jsonl,
    run: Run,
    emulator: Emulator,
    tmp_path: Path,
    png: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit's local image is found beside the input file, whatever the working directory."""
    (tmp_path / "photo.png").write_bytes(png)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    summary = await run(
        jsonl([{"id": "e", "prompt": "edit it", "image": "photo.png"}]), tmp_path / "out"
    )
    assert summary.ok == 1
    [entry] = [e for e in emulator.ledger if e.method == "POST"]
    assert entry.path == "/v1/images/image2image"
    assert str(entry.body["image"]).startswith("data:image/png")  # type: ignore[index]


async def test_a_line_longer_than_the_cap_fails_alone(
    jsonl: Jsonl, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An over-long line is refused without being held whole; the next line still runs."""
    from clawrouter_images.batch import _requests

    monkeypatch.setattr(_requests, "MAX_BATCH_LINE_BYTES", 1024)
    long = {"id": "long", "prompt": "x" * 5000}
    summary = await run(jsonl([long, GOOD]), tmp_path / "out")
    assert (summary.ok, summary.bad_lines) == (1, 1)

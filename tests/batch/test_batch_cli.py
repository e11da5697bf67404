"""``clawrouter-images batch`` and ``merge``: exit codes, what the user sees, the contact sheet."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from clawrouter_images._cli import main

from .conftest import Jsonl

GOOD = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(3)]
BAD = "{not json"


def test_exit_code_is_0_when_every_request_is_ok(
    jsonl: Jsonl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All ok: 0, and the summary on stdout says so."""
    assert main(["batch", str(jsonl(GOOD)), "-o", str(tmp_path / "out"), "--emulator"]) == 0
    out = capsys.readouterr().out
    assert "3 ok, 0 failed, 0 uncertain this run" in out
    assert "estimated spend $0.1575 this run" in out


def test_exit_code_is_1_when_any_request_is_not_ok(
    jsonl: Jsonl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bad line among good ones: 1, and the rest were made."""
    assert main(["batch", str(jsonl([*GOOD, BAD])), "-o", str(tmp_path / "out"), "--emulator"]) == 1
    assert "3 ok, 1 failed (1 bad lines)" in capsys.readouterr().out


def test_exit_code_stays_1_while_uncertain_ids_are_skipped(
    jsonl: Jsonl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rerun that leaves an uncertain id unsent has not finished the batch: 1."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_text('{"id":"r0","status":"sending","estimated_cost_usd":0.05}\n')
    assert main(["batch", str(jsonl(GOOD)), "-o", str(out), "--emulator"]) == 1
    assert "1 uncertain before, not sent again" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.jsonl", "-o", "out"], "input file not found: missing.jsonl"),
        (["{input}"], "-o DIR is required"),
        (["{input}", "-o", "out", "--concurrency", "0"], "--concurrency must be a whole number"),
        (["{input}", "-o", "out", "--budget-usd", "lots"], "--budget-usd must be a number of USD"),
        (["{input}", "-o", "out", "--max-cost-usd", "-1"], "--max-cost-usd must be a number"),
        (["{input}", "-o", "out", "--shard", "0/3"], "--shard must be I/N"),
        (["{input}", "-o", "{input}"], "it exists and is not a folder"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_code_2(
    arguments: list[str],
    message: str,
    jsonl: Jsonl,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad option or a missing input: 2, one line on stderr, no traceback, nothing run."""
    monkeypatch.chdir(tmp_path)
    source = str(jsonl(GOOD))
    code = main(["batch", *(a.replace("{input}", source) for a in arguments), "--emulator"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out" / "results.jsonl").exists()


def _command(source: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "clawrouter_images",
        "batch",
        str(source),
        "-o",
        str(out),
        "--emulator",
    ]


def test_off_a_terminal_progress_is_plain_lines(jsonl: Jsonl, tmp_path: Path) -> None:
    """Through a pipe: no carriage returns or escape codes on stderr; the summary on stdout."""
    done = subprocess.run(
        _command(jsonl(GOOD), tmp_path / "out"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    assert "\x1b" not in done.stderr
    assert "3 ok, 0 failed, 0 uncertain this run" in done.stdout


def test_on_a_terminal_progress_is_a_bar_redrawn_in_place(jsonl: Jsonl, tmp_path: Path) -> None:
    """On a pty: the bar (done, failed, uncertain, spent, rate, ETA) redrawn with \\r."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            _command(jsonl([*GOOD, BAD]), tmp_path / "out"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            seen += chunk
        assert process.wait(timeout=120) == 1
        assert process.stdout is not None
        process.stdout.close()
    finally:
        os.close(leader)
    text = seen.decode()
    assert "\r[####################] 4/4 done, 1 failed, 0 uncertain, $0.1575 spent" in text
    assert "/s" in text
    assert "\x1b[K" in text


def test_the_contact_sheet_shows_prompt_model_size_and_cost(
    jsonl: Jsonl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """index.html has a card per image with its prompt, model, size and cost, and the failures."""
    lines = [
        {"id": "fox", "prompt": "a red <fox>", "model": "banana-pro", "size": "2048x2048"},
        {"id": "old", "prompt": "x", "model": "dall-e-3"},
    ]
    out = tmp_path / "out"
    main(["batch", str(jsonl(lines)), "-o", str(out), "--emulator"])
    page = (out / "index.html").read_text()
    assert "a red &lt;fox&gt;" in page
    assert "<li>banana-pro</li><li>2048x2048</li>" in page
    assert "est. $0.105" in page
    assert 'src="a-red-fox.png"' in page
    assert "openai/dall-e-3 is not available" in page
    assert "<script" not in page


def test_shards_run_apart_and_merge_into_one_folder(
    jsonl: Jsonl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--shard 1/2 and 2/2 split the ids; merge puts every id and image in one folder."""
    lines = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(12)]
    source = jsonl(lines)
    for shard in ("1/2", "2/2"):
        assert (
            main(
                [
                    "batch",
                    str(source),
                    "-o",
                    str(tmp_path / shard[0]),
                    "--emulator",
                    "--shard",
                    shard,
                ]
            )
            == 0
        )
    capsys.readouterr()
    merged = tmp_path / "all"
    assert main(["merge", str(tmp_path / "1"), str(tmp_path / "2"), "-o", str(merged)]) == 0
    assert (
        "12 ok, 0 failed, 0 uncertain (0 ids in several folders); 12 images"
        in capsys.readouterr().out
    )
    assert len(list(merged.glob("*.png"))) == 12
    # Resuming in the merged folder sends nothing.
    assert main(["batch", str(source), "-o", str(merged), "--emulator"]) == 0
    assert "skipped: 12 ok before" in capsys.readouterr().out


def test_merge_refuses_a_folder_with_results_already(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Merging into a folder that has results is a usage error: 2, one line."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.jsonl").write_text("")
    assert main(["merge", str(tmp_path / "a"), "-o", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.count("\n") == 1

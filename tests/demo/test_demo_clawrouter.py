"""The demo pointed at a running ClawRouter (here: the emulator on a loopback port).

The emulator's ledger shows what a real ClawRouter would have been asked and paid, so
these tests check the wire: the brief's models and sizes, the edits sent the earlier
results' bytes, and the refused model never reached the server.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from clawrouter_images import estimate_cost

if TYPE_CHECKING:
    from pathlib import Path

    from tests.demo.conftest import RunDemo

    from clawrouter_images.emulator import Emulator

pytest_plugins = ["clawrouter_images.testing"]

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
PER_AGENT = [
    (GENERATIONS, "google/nano-banana", "1024x1024"),
    (GENERATIONS, "google/nano-banana-pro", "1024x1792"),
    (IMAGE2IMAGE, "openai/gpt-image-1", "1024x1024"),
    (IMAGE2IMAGE, "openai/gpt-image-1", "1024x1024"),
]


def _data_uri_chars(path: Path) -> int:
    """How long the data URI of a PNG file is (what the ledger keeps of a sent image)."""
    size = path.stat().st_size
    return len("data:image/png;base64,") + 4 * ((size + 2) // 3)


def test_base_url_runs_against_that_clawrouter(
    run_demo: RunDemo, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """--base-url sends each agent's four requests there, with the brief's models and sizes."""
    from clawrouter_images.emulator import serve

    with serve(clawrouter_emulator, port=0) as base_url:
        code, out, err = run_demo(["--base-url", base_url, "-o", str(tmp_path / "out")])
    assert code == 0, out + err
    posts = [entry for entry in clawrouter_emulator.ledger if entry.method == "POST"]
    assert [(entry.path, entry.model, entry.size) for entry in posts] == PER_AGENT * 2
    assert all(entry.status == 200 for entry in posts)
    assert not [entry for entry in clawrouter_emulator.ledger if entry.model == "openai/dall-e-3"]


def test_health_is_checked_before_anything_is_paid(
    run_demo: RunDemo, clawrouter_server: str, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """The first request the demo makes to a real ClawRouter is GET /health."""
    code, _, _ = run_demo(["--base-url", clawrouter_server, "-o", str(tmp_path / "out")])
    assert code == 0
    assert clawrouter_emulator.ledger[0].method == "GET"
    assert clawrouter_emulator.ledger[0].path == "/health"


def test_the_edits_send_the_earlier_results(
    run_demo: RunDemo, clawrouter_server: str, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """The URL edit sends the city picture; the file edit sends the saved samurai portrait."""
    out = tmp_path / "out"
    code, _, _ = run_demo(["--base-url", clawrouter_server, "-o", str(out)])
    assert code == 0
    edits = [entry for entry in clawrouter_emulator.ledger if entry.path == IMAGE2IMAGE]
    assert len(edits) == 4
    for framework, (from_url, from_file) in zip(
        ("langchain", "llamaindex"), (edits[:2], edits[2:]), strict=True
    ):
        city = out / framework / "a-cyberpunk-city-at-night.png"
        samurai = out / framework / "a-high-res-portrait-of-a-samurai.png"
        for entry, source in ((from_url, city), (from_file, samurai)):
            assert isinstance(entry.body, dict)
            sent = entry.body["image"]
            assert sent.startswith("data:image/png;base64,")
            assert sent.endswith(f"({_data_uri_chars(source)} chars)")


def test_it_says_the_run_is_paid_and_costs_what_the_catalogue_says(
    run_demo: RunDemo, clawrouter_server: str, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """Against ClawRouter the demo warns that it pays, and spends the brief's estimate per agent."""
    code, _, err = run_demo(["--base-url", clawrouter_server, "-o", str(tmp_path / "out")])
    assert code == 0
    per_agent = sum(estimate_cost(model, size) for _, model, size in PER_AGENT)
    assert f"these requests are paid, estimated ${2 * per_agent:.2f}" in err
    assert clawrouter_emulator.spent_usd == pytest.approx(2 * per_agent)
    assert f"ClawRouter at {clawrouter_server}" in (tmp_path / "out" / "index.html").read_text()


def test_clawrouter_base_url_from_the_environment_is_used(
    run_demo: RunDemo, clawrouter_server: str, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """With CLAWROUTER_BASE_URL set (by the fixture) and no option, the demo uses that server."""
    code, _, _ = run_demo(["-o", str(tmp_path / "out")])
    assert code == 0
    assert len([entry for entry in clawrouter_emulator.ledger if entry.method == "POST"]) == 8


def test_emulator_option_wins_over_the_environment(
    run_demo: RunDemo, clawrouter_server: str, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """--emulator runs offline even when CLAWROUTER_BASE_URL points at a server."""
    code, _, _ = run_demo(["--emulator", "-o", str(tmp_path / "out")])
    assert code == 0
    assert clawrouter_emulator.ledger == []


def test_a_clawrouter_that_is_not_running_is_one_clear_error(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    """An unreachable --base-url fails the health check: exit 1, one line, nothing written."""
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run_demo(
        ["--base-url", f"http://127.0.0.1:{port}", "-o", str(tmp_path / "out")]
    )
    assert code == 1
    assert out == ""
    assert err.startswith(
        f"clawrouter-images: error: ClawRouter is not running at http://127.0.0.1:{port}"
    )
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()

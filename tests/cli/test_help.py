"""Every subcommand's --help says what it does and what its options default to."""

from __future__ import annotations

import pytest

from clawrouter_images._cli import main


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("models", ["List the image models: alias, id, price per image"]),
        (
            "health",
            [
                "Check that ClawRouter is running and print its status",
                "--base-url BASE_URL ClawRouter URL (default: CLAWROUTER_BASE_URL or "
                "127.0.0.1:8402)",
            ],
        ),
        (
            "emulate",
            [
                "Serve the offline ClawRouter emulator on a port",
                "address to listen on (default 127.0.0.1)",
                "port to listen on (default 8402, ClawRouter's; 0 picks a free port)",
                "where to keep the images (default: a temporary folder, removed on exit)",
            ],
        ),
    ],
)
def test_subcommand_help_describes_it_and_its_defaults(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    expected: list[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([command, "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for text in expected:
        assert text in shown

"""Every subcommand's --help says what it does and what its options default to."""

from __future__ import annotations

import argparse

import pytest

from clawrouter_images._cli import _parser, main


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


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every option but --help and hidden aliases (an old name of an option that is shown)."""
    shown = {a.dest for a in parser._actions if a.help != argparse.SUPPRESS}
    return [
        a
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction)
        and not (a.help == argparse.SUPPRESS and a.dest in shown)
    ]


def test_the_old_max_cost_option_still_works() -> None:
    """--max-cost, the old spelling, sets what --max-cost-usd sets, and is not shown."""
    from clawrouter_images._cli import _parser

    for command in ("generate", "edit"):
        extra = ["--image", "x.png"] if command == "edit" else []
        old = _parser().parse_args([command, "a fox", *extra, "--max-cost", "0.2"])
        new = _parser().parse_args([command, "a fox", *extra, "--max-cost-usd", "0.2"])
        assert old.max_cost_usd == new.max_cost_usd == 0.2


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_subcommand_and_option_says_what_it_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """`COMMAND --help` shows the command's description and a help text for every option."""
    monkeypatch.setenv("COLUMNS", "200")
    sub = _commands()[command]
    assert sub.description, f"{command} has no description"
    assert main([command, "--help"]) == 0
    shown = _flat(capsys.readouterr().out)
    assert _flat(sub.description) in shown
    for action in _options(sub):
        name = action.option_strings[-1] if action.option_strings else action.dest
        assert action.help not in (None, "", argparse.SUPPRESS), f"{command} {name} has no help"
        assert _flat(action.help) in shown, f"{command} {name}: help not shown"


def test_top_level_help_gives_each_subcommand_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`clawrouter-images --help` lists every subcommand with its one-line summary."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in _commands():
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        assert len(line.split()) > 3, f"{name} has no summary: {line!r}"


def test_emulator_module_options_all_have_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m clawrouter_images.emulator --help` explains every option, as `emulate` does."""
    from clawrouter_images.emulator.__main__ import _parser as emulator_parser
    from clawrouter_images.emulator.__main__ import main as emulator_main

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        emulator_main(["--help"])
    assert exited.value.code == 0
    shown = _flat(capsys.readouterr().out)
    for action in _options(emulator_parser()):
        assert action.help not in (None, "", argparse.SUPPRESS), f"{action.dest} has no help"
        assert _flat(action.help) in shown

"""What the command does when things go wrong around a paid request.

Nothing is paid when the failure could have been found for free; a paid answer that
could not be saved still reaches stdout; every failure is one line on stderr.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from clawrouter_images import ImageClient, ImageResponse
from clawrouter_images._cli import main
from clawrouter_images._exceptions import paid_result_error
from clawrouter_images.emulator import Emulator

PREFIX = "clawrouter-images: error: "
EMULATOR_FIX = 'pip install "clawrouter-images[emulator]"'


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "in.png"
    Image.new("RGB", (64, 64), "red").save(path)
    return path


def _not_a_folder(tmp_path: Path, where: str) -> Path:
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    return file if where == "is a file" else file / "out"


def _paid_argv(command: str, picture: Path, *more: str) -> list[str]:
    edit = ["--image", str(picture)] if command == "edit" else []
    return [command, "a red fox", *edit, *more]


def _one_error_line(err: str) -> str:
    assert err.startswith(PREFIX), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("where", ["is a file", "is under a file"])
@pytest.mark.parametrize("command", ["generate", "edit"])
def test_unusable_output_folder_fails_before_anything_is_sent(
    served: tuple[Emulator, str],
    tmp_path: Path,
    picture: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    where: str,
) -> None:
    """`-o` that is a file, or cannot be created: one line, exit 1, and the server saw nothing."""
    emulator, base_url = served
    output = _not_a_folder(tmp_path, where)
    code = main(_paid_argv(command, picture, "--base-url", base_url, "-o", str(output)))
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "cannot save into" in _one_error_line(err)
    assert emulator.ledger == []


def test_installed_command_checks_the_output_folder_first(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """From a shell as well: one stderr line, exit 1, no request reached the server."""
    script = Path(sys.executable).with_name("clawrouter-images")
    if not script.exists():
        pytest.skip("the package is not installed in this environment (pip install -e .)")
    emulator, base_url = served
    output = _not_a_folder(tmp_path, "is a file")
    done = subprocess.run(
        [str(script), "generate", "a red fox", "--base-url", base_url, "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    _one_error_line(done.stderr)
    assert emulator.ledger == []


@pytest.mark.parametrize("as_json", [False, True], ids=["urls", "json"])
def test_a_paid_answer_that_cannot_be_saved_reaches_stdout(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    as_json: bool,
) -> None:
    """Saving fails after the answer arrived: the error on stderr, the answer on stdout."""
    answers: list[ImageResponse] = []

    def disk_full(self: ImageClient, response: ImageResponse, directory: object) -> list[Path]:
        answers.append(response)
        raise paid_result_error(OSError(28, "No space left on device"), response)

    monkeypatch.setattr(ImageClient, "save", disk_full)
    argv = ["generate", "a lamp", "--emulator", "-n", "2", "-o", str(tmp_path)]
    code = main([*argv, "--json"] if as_json else argv)
    out, err = capsys.readouterr()
    (answer,) = answers
    assert code == 1
    assert "No space left on device" in _one_error_line(err)
    assert len(answer.urls) == 2
    if as_json:
        assert json.loads(out) == json.loads(answer.model_dump_json())
    else:
        assert out.splitlines() == answer.urls


@pytest.mark.parametrize("missing", ["clawrouter_images.emulator", "starlette"])
@pytest.mark.parametrize("command", ["emulate", "generate --emulator"])
def test_missing_emulator_extra_names_the_fix(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    missing: str,
) -> None:
    """Without the [emulator] extra: one line with the pip command, exit 1."""
    if missing != "clawrouter_images.emulator":
        # Imported already by this module: drop it so its import guard runs again.
        monkeypatch.delitem(sys.modules, "clawrouter_images.emulator")
    monkeypatch.setitem(sys.modules, missing, None)
    argv = command.split() + (["x", "-o", str(tmp_path)] if "generate" in command else [])
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert EMULATOR_FIX in _one_error_line(err)


def test_missing_demo_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the demo package: one line with the [demo] extra's pip command, exit 1."""
    monkeypatch.setitem(sys.modules, "clawrouter_images_demo", None)
    code = main(["demo", "-o", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert 'pip install "clawrouter-images[demo]"' in _one_error_line(err)


@pytest.mark.skipif(
    sys.platform == "win32", reason="Windows' SO_REUSEADDR lets a second socket take the port"
)
def test_emulate_on_a_port_in_use_says_to_pick_another(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A port someone listens on: one line naming the port and `--port`, exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["emulate", "--port", str(port)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    line = _one_error_line(err)
    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert "--port 0" in line


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", ["generate", "edit"])
def test_ctrl_c_during_a_paid_call_says_it_may_have_been_paid(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    picture: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """Ctrl+C while the request is out: exit 130 and a warning not to send it blindly again."""
    monkeypatch.setattr(ImageClient, command, _interrupt)
    code = main(_paid_argv(command, picture, "--emulator", "-o", str(tmp_path)))
    out, err = capsys.readouterr()
    assert code == 130
    assert out == ""
    assert err.startswith("clawrouter-images: interrupted")
    assert err.count("\n") == 1
    assert "may have been paid" in err
    assert "check before sending it again" in err


def test_ctrl_c_while_saving_prints_the_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl+C once the answer arrived: its URLs still reach stdout."""
    answers: list[ImageResponse] = []

    def interrupted_save(self: ImageClient, response: ImageResponse, directory: object) -> None:
        answers.append(response)
        raise KeyboardInterrupt

    monkeypatch.setattr(ImageClient, "save", interrupted_save)
    code = main(["generate", "a lamp", "--emulator", "-o", str(tmp_path)])
    out, err = capsys.readouterr()
    (answer,) = answers
    assert code == 130
    assert out.splitlines() == answer.urls
    assert err.startswith("clawrouter-images: interrupted while saving")
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["models", "health", "emulate"])
def test_ctrl_c_elsewhere_is_plain_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Nothing paid is in flight for these: the plain word, exit 130."""
    import clawrouter_images._cli as cli
    import clawrouter_images.emulator as emulator_module

    monkeypatch.setattr(cli, "models_table", _interrupt)
    monkeypatch.setattr(ImageClient, "health", _interrupt)
    monkeypatch.setattr(emulator_module, "serve", _interrupt)
    argv = [command, "--port", "0"] if command == "emulate" else [command]
    assert main(argv) == 130
    assert capsys.readouterr() == ("", "clawrouter-images: interrupted\n")


@pytest.mark.parametrize(
    ("model", "size"),
    [("nano-banana", "2x2"), ("banana-pro", "2x2"), ("banana-pro", "99999999999x1")],
)
def test_refused_size_says_why_and_what_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, size: str
) -> None:
    """`--size` the model cannot take: the catalogue's one-line reason, nothing sent or saved."""
    from clawrouter_images import resolve_model

    argv = ["generate", "x", "--emulator", "--model", model, "--size", size, "-o", str(tmp_path)]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"{PREFIX}{resolve_model(model).size_problem(size)}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["mcp", "PIL"])
def test_missing_mcp_extra_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    """Without the [mcp] extra (the SDK, or Pillow for the image parts): one line, exit 1."""
    monkeypatch.delitem(sys.modules, "clawrouter_images._mcp", raising=False)
    monkeypatch.setitem(sys.modules, missing, None)
    code = main(["mcp", "--emulator"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    line = _one_error_line(err)
    assert f"the MCP server needs the [mcp] extra (cannot import {missing})" in line
    assert 'pip install "clawrouter-images[mcp]"' in line

"""The clawrouter-images command: results on stdout, one-line errors on stderr, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from clawrouter_images import MODELS
from clawrouter_images._cli import _waiting, main
from clawrouter_images.emulator import Emulator, Fault


def test_generate_with_emulator_saves_a_real_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`generate --emulator -o DIR` writes a PNG of the asked size and prints only its path."""
    code = main(["generate", "a red fox", "--emulator", "--size", "1216x832", "-o", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    paths = out.split()
    assert len(paths) == 1
    with Image.open(paths[0]) as image:
        assert image.format == "PNG"
        assert image.size == (1216, 832)


def test_json_output_is_the_response(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` prints the whole response, with the resolved model id and the saved paths."""
    code = main(
        [
            "generate",
            "a lamp",
            "--emulator",
            "--model",
            "gpt-image",
            "-n",
            "2",
            "--json",
            "-o",
            str(tmp_path),
        ]
    )
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["model"] == "openai/gpt-image-1"
    assert len(body["data"]) == 2
    assert [Path(p).parent for p in body["saved_paths"]] == [tmp_path, tmp_path]
    # The in-process emulator's URLs answer nothing once the command ends: said so.
    assert "not served" in body["note"]


def test_json_output_of_a_real_clawrouter_has_no_emulator_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against a served ClawRouter (here the emulator on a port), the URLs are real: no note."""
    from clawrouter_images.emulator import serve

    with Emulator(image_dir=tmp_path / "srv") as emulator, serve(emulator, port=0) as url:
        code = main(["generate", "a lamp", "--base-url", url, "--json", "-o", str(tmp_path)])
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "note" not in body


def test_edit_takes_several_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`edit --image A --image B` sends both and saves the result."""
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("RGB", (64, 64), "red").save(first)
    Image.new("RGB", (64, 64), "blue").save(second)
    code = main(
        [
            "edit",
            "blend them",
            "--image",
            str(first),
            "--image",
            str(second),
            "--emulator",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    assert Path(capsys.readouterr().out.strip()).is_file()


def test_errors_are_one_line_on_stderr_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A refused request prints one stderr line naming the fix, nothing on stdout, exit 1."""
    code = main(["generate", "x", "--model", "dall-e-3", "--emulator"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "openai/gpt-image-1" in err


def test_not_running_says_how_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    """With nothing listening, the error says ClawRouter is not running and how to start it."""
    code = main(["generate", "x", "--base-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1
    assert "ClawRouter is not running at http://127.0.0.1:9" in err
    assert "npx @blockrun/clawrouter" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing prompt is a usage error: exit code 2."""
    assert main(["generate"]) == 2
    assert "prompt" in capsys.readouterr().err


def test_models_lists_every_model(capsys: pytest.CaptureFixture[str]) -> None:
    """`models` prints a row per catalogue model, with status for delisted ones."""
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for model in MODELS.values():
        assert model.id in out
    assert "delisted upstream 2026-05-25" in out


def test_models_json_is_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    """`models --json` is machine-readable: ids, prices and sizes."""
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows] == list(MODELS)
    assert rows[0]["sizes"] == list(MODELS[rows[0]["id"]].sizes)


def test_health_against_a_served_emulator(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`health --full` reports the wallet and balance of the server it is pointed at."""
    emulator, base_url = served
    assert main(["health", "--full", "--base-url", base_url]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["status"] == "ok"
    assert body["wallet"] == emulator.wallet


def test_generate_against_a_served_emulator_with_a_fault(
    served: tuple[Emulator, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 402 from the server becomes the wallet-funding message, and nothing is saved."""
    emulator, base_url = served
    emulator.add_fault(Fault("payment_rejected"))
    code = main(["generate", "x", "--base-url", base_url, "-o", str(tmp_path / "out")])
    assert code == 1
    assert "fund the ClawRouter wallet" in capsys.readouterr().err
    # The folder itself is made (and proved writable) before the request is sent.
    assert list((tmp_path / "out").iterdir()) == []


class _Terminal(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.ticked = threading.Event()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if "s " in text:
            self.ticked.set()
        return super().write(text)


def test_terminal_shows_elapsed_time_while_waiting() -> None:
    """On a terminal, the elapsed time is shown while the call runs, then the line is cleared."""
    terminal = _Terminal()
    result = _waiting("generating", lambda: terminal.ticked.wait(5), terminal, interval=0.001)
    assert result is True
    assert "generating… 0s" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K")


def test_pipe_shows_nothing_while_waiting() -> None:
    """On a pipe, nothing but the result: no progress text."""
    pipe = io.StringIO()
    assert _waiting("generating", lambda: 42, pipe, interval=0.001) == 42
    assert pipe.getvalue() == ""


def test_installed_command_runs_as_a_subprocess(tmp_path: Path) -> None:
    """The installed console script works from a shell, offline, with results on stdout."""
    script = Path(sys.executable).with_name("clawrouter-images")
    if not script.exists():
        pytest.skip("the package is not installed in this environment (pip install -e .)")
    done = subprocess.run(
        [str(script), "generate", "a red fox", "--emulator", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_file()
    assert done.stderr == ""


def test_python_dash_m_is_the_same_command() -> None:
    """`python -m clawrouter_images models` runs the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "clawrouter_images", "models", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=True,
    )
    assert len(json.loads(done.stdout)) == len(MODELS)


def test_emulate_serves_the_client_on_a_port(tmp_path: Path) -> None:
    """`emulate --port 0` names its URL once listening, serves ImageClient end to end and
    logs each request on stderr."""
    from clawrouter_images import ImageClient, estimate_cost
    from clawrouter_images._catalog import format_usd

    command = [sys.executable, "-m", "clawrouter_images", "emulate", "--port", "0"]
    command += ["--image-dir", str(tmp_path / "srv")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stderr is not None
            banner = process.stderr.readline()
            base_url = banner.split("CLAWROUTER_BASE_URL=", 1)[1].split(";", 1)[0]
            with ImageClient(base_url, max_retries=0) as client:
                health = client.health()
                response = client.generate("a lighthouse", model="cogview", size="512x512")
                (path,) = client.save(response, tmp_path / "out")
        finally:
            process.terminate()
        log = process.stderr.read()
    assert health.ok
    with Image.open(path) as image:
        assert image.size == (512, 512)
    assert any((tmp_path / "srv").iterdir())
    # One line per request, each after the time of day.
    cost = format_usd(estimate_cost("cogview", "512x512"))
    requests = [line.split(" ", 1)[1] for line in log.splitlines()]
    assert requests[:2] == [
        "GET /health 200",
        f"POST /v1/images/generations 200 zai/cogview-4 {cost}",
    ]

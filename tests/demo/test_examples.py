"""The examples run as they are, offline (``--emulator``), and save the images they report."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path

import pytest
from tests.support.png import png_size

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The LlamaIndex example builds and runs a FunctionAgent, and llama-index-workflows reads
# every attribute of it with inspect.getmembers; pydantic warns for the deprecated ones.
# Only those four warnings are ignored (as in tests/integrations/llama_index).
pytestmark = [
    pytest.mark.filterwarnings(rf"ignore:{message}:pydantic.warnings.{category}:inspect$")
    for message, category in (
        (r"The `__fields__` attribute is deprecated", "PydanticDeprecatedSince20"),
        (r"The `__fields_set__` attribute is deprecated", "PydanticDeprecatedSince20"),
        (r"Accessing the 'model_fields' attribute on the instance", "PydanticDeprecatedSince211"),
        (r"Accessing the 'model_computed_fields' attribute", "PydanticDeprecatedSince211"),
    )
]


def run_example(
    name: str, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """Run ``examples/<name>`` as ``python examples/<name> ARGS`` would, in this process."""
    code, out, _ = run_example_streams(name, args, monkeypatch, capsys)
    return code, out


def run_example_streams(
    name: str, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """``run_example``, with what it wrote on stderr too."""
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / name), *args])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    code = exit_.value.code
    captured = capsys.readouterr()
    return code if isinstance(code, int) else 1, captured.out, captured.err


@pytest.mark.parametrize("name", ["langchain_agent.py", "llamaindex_agent.py"])
def test_example_draws_the_default_request_offline(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--emulator`` runs the agent on "Draw me a cyberpunk city at night" and saves the image."""
    monkeypatch.delenv("CLAWROUTER_BASE_URL", raising=False)
    code, out = run_example(name, ["--emulator", "-o", str(tmp_path)], monkeypatch, capsys)
    assert code == 0
    saved = tmp_path / "a-cyberpunk-city-at-night.png"
    assert [path.name for path in tmp_path.iterdir()] == [saved.name]
    assert png_size(saved) == (1024, 1024)
    assert "1 image from google/nano-banana at 1024x1024" in out
    assert f"Saved: {saved}" in out


@pytest.mark.parametrize("name", ["langchain_agent.py", "llamaindex_agent.py"])
def test_example_takes_the_request_from_the_command_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The brief's samurai request reaches banana-pro at 1024x1792 through the example's agent."""
    request = "Generate a high-res portrait of a samurai"
    code, out = run_example(name, [request, "--emulator", "-o", str(tmp_path)], monkeypatch, capsys)
    assert code == 0
    assert png_size(tmp_path / "a-high-res-portrait-of-a-samurai.png") == (1024, 1792)
    assert "google/nano-banana-pro at 1024x1792" in out


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("langchain_agent.py", "langchain_openai"),
        ("llamaindex_agent.py", "llama_index.llms.openai"),
    ],
)
def test_example_without_its_model_says_what_to_install(
    name: str,
    package: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Online without the chat model's package: one line naming it, exit 2, nothing written."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda found, *a: None)
    code, _, err = run_example_streams(name, ["-o", str(tmp_path / "out")], monkeypatch, capsys)
    assert code == 2
    assert "pip install" in err
    assert "--emulator" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["langchain_agent.py", "llamaindex_agent.py"])
def test_example_without_a_key_says_so(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Online with the package but no OPENAI_API_KEY: one line, exit 2."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda found, *a: object())
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, _, err = run_example_streams(name, [], monkeypatch, capsys)
    assert code == 2
    assert "OPENAI_API_KEY" in err


def test_the_examples_default_folder_is_ignored_by_git() -> None:
    """Run from the repository, the examples write where .gitignore covers."""
    ignored = (EXAMPLES.parent / ".gitignore").read_text().split()
    for name in ("langchain_agent.py", "llamaindex_agent.py"):
        default = runpy.run_path(str(EXAMPLES / name))["OUTPUT"]
        assert f"{default}/" in ignored

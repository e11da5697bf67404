"""The demo's options and failure modes: --llm, --framework, missing packages, wrong turns."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from clawrouter_images_demo import _langchain, _llm, _run, scripted_chat_model, scripted_llm
from clawrouter_images_demo._langchain import ScriptedChatModel
from clawrouter_images_demo._llm import PROVIDERS, LLMChoice
from clawrouter_images_demo._script import STEPS

if TYPE_CHECKING:
    from pathlib import Path

    from tests.demo.conftest import RunDemo


def _steps_with(key: str, **arguments: Any) -> tuple[Any, ...]:
    """STEPS with the scripted model's arguments for one step changed."""
    return tuple(
        dataclasses.replace(step, arguments={**step.arguments, **arguments})
        if step.key == key
        else step
        for step in STEPS
    )


class _OwnChoiceLLM(LLMChoice):
    """Stands for a real model that draws the samurai with nano-banana instead of banana-pro."""

    def langchain_model(self) -> Any:
        return ScriptedChatModel(steps=_steps_with("portrait", model="nano-banana"))

    def llamaindex_llm(self) -> Any:
        from clawrouter_images_demo._llamaindex import scripted_llm

        return scripted_llm(_steps_with("portrait", model="nano-banana"))


def test_unknown_llm_provider_is_one_line_listing_the_choices(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    """--llm with an unknown provider exits 1 with the providers it knows; nothing is written."""
    code, out, err = run_demo(["--llm", "skynet", "-o", str(tmp_path / "out")])
    assert code == 1
    assert out == ""
    assert err == (
        "clawrouter-images: error: unknown --llm provider 'skynet'; choose one of: openai, "
        "anthropic, google, mistralai, groq, ollama (optionally PROVIDER:MODEL, e.g. openai:gpt-4.1)\n"
    )
    assert not (tmp_path / "out").exists()


def test_missing_provider_packages_say_what_to_install(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--llm openai without its packages names both, as one pip command."""
    monkeypatch.setattr(_llm, "_installed", lambda module: False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    code, _, err = run_demo(["--llm", "openai", "-o", str(tmp_path / "out")])
    assert code == 1
    assert err == (
        "clawrouter-images: error: --llm openai needs langchain-openai and "
        "llama-index-llms-openai: pip install langchain-openai llama-index-llms-openai\n"
    )


def test_only_the_packages_of_the_frameworks_that_run_are_needed(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --framework llamaindex, only LlamaIndex's provider package is asked for."""
    monkeypatch.setattr(_llm, "_installed", lambda module: False)
    code, _, err = run_demo(
        ["--llm", "anthropic", "--framework", "llamaindex", "-o", str(tmp_path / "out")]
    )
    assert code == 1
    assert "needs llama-index-llms-anthropic: pip install llama-index-llms-anthropic" in err
    assert "langchain-anthropic" not in err


def test_missing_api_key_names_the_variable(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--llm anthropic with its packages but no key says which variable to set."""
    monkeypatch.setattr(_llm, "_installed", lambda module: True)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code, _, err = run_demo(["--llm", "anthropic", "-o", str(tmp_path / "out")])
    assert code == 1
    assert err == (
        "clawrouter-images: error: --llm anthropic needs an API key: "
        "set ANTHROPIC_API_KEY in the environment\n"
    )


def test_llm_model_after_the_colon_is_used() -> None:
    """PROVIDER:MODEL picks that model; PROVIDER alone its default; ollama needs no key."""
    assert _llm.choose_llm("ollama:qwen3", ()).label == "ollama:qwen3"
    assert _llm.choose_llm("ollama", ()).model == PROVIDERS["ollama"].default_model


def test_a_real_model_may_choose_its_own_model(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --llm the run passes when each request gets an image, whichever model drew it."""
    chosen = _OwnChoiceLLM(PROVIDERS["openai"], "test-model")
    monkeypatch.setattr(_run, "choose_llm", lambda spec, frameworks: chosen)
    code, out, err = run_demo(["--llm", "openai:test-model", "-o", str(tmp_path / "out")])
    assert code == 0, out + err
    portrait_rows = [line for line in out.splitlines() if "portrait of a samurai" in line]
    assert len(portrait_rows) == 2
    assert all(" nano-banana " in row and "1024x1792" in row for row in portrait_rows)
    assert "chat model: <b>openai:test-model</b>" in (tmp_path / "out" / "index.html").read_text()


def test_a_chat_model_that_cannot_be_made_stops_before_anything_runs(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider refusing the model name is one line and exit 1, before any image is asked for."""

    class Unknown(LLMChoice):
        def llamaindex_llm(self) -> Any:
            raise ValueError("Unknown model 'gpt-9'")

    monkeypatch.setattr(
        _run, "choose_llm", lambda spec, frameworks: Unknown(PROVIDERS["openai"], "gpt-9")
    )
    code, out, err = run_demo(
        ["--llm", "openai:gpt-9", "--framework", "llamaindex", "-o", str(tmp_path / "out")]
    )
    assert code == 1
    assert out == ""
    assert err == (
        "clawrouter-images: error: --llm openai:gpt-9: cannot make the llamaindex chat model: "
        "Unknown model 'gpt-9'\n"
    )
    assert not (tmp_path / "out").exists()


def test_the_scripted_run_fails_when_a_step_goes_wrong(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the agent's call differs from what the step expects, it is reported and the exit code is 1."""
    expecting = tuple(
        dataclasses.replace(step, size="2048x2048") if step.key == "portrait" else step
        for step in STEPS
    )
    monkeypatch.setattr(_run, "STEPS", expecting)
    code, out, _ = run_demo(["--framework", "langchain", "-o", str(tmp_path / "out")])
    assert code == 1
    assert (
        "unexpected: LangChain, 'Generate a high-res portrait of a samurai': expected "
        "google/nano-banana-pro at 2048x2048, got google/nano-banana-pro at 1024x1792"
    ) in out
    assert "4 of 5 steps as expected" in out
    assert 'class="card unexpected"' in (tmp_path / "out" / "index.html").read_text()


def test_an_edit_whose_source_failed_is_skipped_not_crashed(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the first request makes no image, the edit of its URL is reported as skipped."""
    drawing_with_flux = _steps_with("draw", model="flux")  # not offered: the tool refuses it
    monkeypatch.setattr(
        _langchain, "ScriptedChatModel", lambda: ScriptedChatModel(steps=drawing_with_flux)
    )
    code, out, _ = run_demo(["--framework", "langchain", "-o", str(tmp_path / "out")])
    assert code == 1
    assert "unexpected: LangChain, 'Draw me a cyberpunk city at night': no image was saved" in out
    assert "skipped: it edits the result of 'draw', which made no image" in out
    assert "3 of 5 steps as expected" in out


def test_framework_option_runs_one_agent(run_demo: RunDemo, tmp_path: Path) -> None:
    """--framework llamaindex runs only the LlamaIndex agent."""
    code, out, _ = run_demo(["--framework", "llamaindex", "-o", str(tmp_path / "out")])
    assert code == 0
    assert "5 of 5 steps as expected" in out
    assert "LangChain" not in out
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "index.html",
        "llamaindex",
    ]


def test_a_relative_output_folder_runs_every_step(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's `clawrouter-images demo` saves under ./clawrouter-demo, a relative folder:
    the edit of a saved result still reads it (the tools take only absolute paths), and the
    output shows paths relative to the working directory."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_demo(["--framework", "langchain", "-o", "clawrouter-demo"])
    assert code == 0, out
    assert "5 of 5 steps as expected. Gallery: clawrouter-demo/index.html" in out
    assert str(tmp_path) not in out


def test_a_missing_framework_says_what_to_install(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without langchain installed the demo exits 1 naming the package and --framework."""
    monkeypatch.setattr(_run, "_importable", lambda module: module != "langchain")
    code, _, err = run_demo(["-o", str(tmp_path / "out")])
    assert code == 1
    assert err == (
        "clawrouter-images: error: the LangChain agent needs langchain: "
        'pip install "clawrouter-images[demo]" '
        "(or --framework to run the other agent only)\n"
    )


def test_offline_without_the_emulator_extra_says_what_to_install(
    run_demo: RunDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the [emulator] extra an offline run exits 1 with the pip line, or --base-url."""
    import clawrouter_images

    monkeypatch.setitem(sys.modules, "starlette", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "clawrouter_images.emulator", raising=False)
    monkeypatch.delattr(clawrouter_images, "emulator", raising=False)
    code, out, err = run_demo(["-o", str(tmp_path / "out")])
    assert code == 1
    assert out == ""
    assert err == (
        "clawrouter-images: error: the ClawRouter emulator needs extra packages: "
        'pip install "clawrouter-images[emulator]" '
        "(or point the demo at a running ClawRouter with --base-url)\n"
    )


def test_scripted_models_draw_any_other_request() -> None:
    """A request outside the script becomes a plain generate_image with it as the prompt."""
    from langchain_core.messages import HumanMessage

    reply = scripted_chat_model().invoke([HumanMessage("a red fox in the snow")])
    assert reply.tool_calls[0]["name"] == "generate_image"
    assert reply.tool_calls[0]["args"] == {"prompt": "a red fox in the snow"}
    assert scripted_llm() is not None


def test_importing_the_demo_imports_no_framework() -> None:
    """``import clawrouter_images_demo`` (and the testing plugin) loads neither framework nor the emulator."""
    code = (
        "import sys, clawrouter_images_demo, clawrouter_images.testing; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'langchain', 'langchain_core', 'llama_index', 'starlette'}))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "framework"),
    [("scripted_chat_model", "langchain"), ("scripted_llm", "llama_index")],
)
def test_a_scripted_model_without_its_framework_names_the_extra(
    name: str, framework: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The examples' scripted models, with their framework missing: the pip line to run."""
    import clawrouter_images_demo

    for module in [m for m in sys.modules if m.startswith(("clawrouter_images_demo._", framework))]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, framework, None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "clawrouter-images\[demo\]"') as caught:
        getattr(clawrouter_images_demo, name)()
    assert framework in str(caught.value)

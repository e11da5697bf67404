"""smolagents (with mcpadapt, on mcp 1.x) through the README's block: its MCPClient lists
the tools, and a ToolCallingAgent driven by a scripted model generates, edits and reads a
refusal; smolagents checks each call against the schemas on its own, and lets all of them
through."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from tests.support.stacks import check_outcome, run_readme_block, scenario

from clawrouter_images.emulator import Emulator

smolagents = pytest.importorskip("smolagents")
pytest.importorskip("mcpadapt.smolagents_adapter")
models = pytest.importorskip("smolagents.models")


Model: Any = models.Model


class Scripted(Model):  # type: ignore[misc]
    """Answers each step with the next call; then the final answer."""

    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        super().__init__(model_id="scripted")
        self.calls = calls
        self.made = 0

    def generate(self, messages: Any, **kwargs: Any) -> Any:
        if self.made < len(self.calls):
            name, arguments = self.calls[self.made]
            made = (name, arguments())
        else:
            made = ("final_answer", {"answer": "done"})
        self.made += 1
        function = models.ChatMessageToolCallFunction(name=made[0], arguments=made[1])
        call = models.ChatMessageToolCall(
            function=function, id=f"call-{self.made}", type="function"
        )
        return models.ChatMessage(role=models.MessageRole.ASSISTANT, content="", tool_calls=[call])


def test_lists_the_tools_with_inputs_it_reads(served: tuple[Emulator, str]) -> None:
    _, base_url = served
    block = run_readme_block("smolagents", base_url)
    with smolagents.MCPClient(block["server"], **block["options"]) as tools:
        inputs = {tool.name: tool.inputs for tool in tools}
    assert list(inputs) == ["generate_image", "edit_image"]
    # What smolagents reads: a type (a list where null or an array is allowed), and
    # nullable where an argument may be left out.
    assert inputs["edit_image"]["image"]["type"] == ["string", "array"]
    assert all(inputs["generate_image"][name]["nullable"] for name in ("model", "size", "n"))


def test_a_scripted_agent_generates_edits_and_reads_a_refusal(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    emulator, base_url = served
    block = run_readme_block("smolagents", base_url)
    outside = tmp_path / "elsewhere.png"
    calls = scenario(tmp_path / "images", outside)
    with smolagents.MCPClient(block["server"], **block["options"]) as tools:
        agent = smolagents.ToolCallingAgent(tools=tools, model=Scripted(calls), verbosity_level=0)
        answer = agent.run("Draw")
    steps = [step for step in agent.memory.steps if getattr(step, "tool_calls", None)]
    outputs = [step.observations for step in steps[: len(calls)]]
    assert [step.error for step in steps[: len(calls)]] == [None] * len(calls)
    # The structured result (a dict, shown as Python) for each image; the refusal's text.
    for output in outputs[:4]:
        assert ast.literal_eval(output)["saved_paths"], output
    check_outcome(emulator, tmp_path / "images", [*_as_text(outputs[:4]), outputs[4]], outside)
    assert answer == "done"


def _as_text(outputs: list[str]) -> list[str]:
    return ["Saved: " + ", ".join(ast.literal_eval(o)["saved_paths"]) for o in outputs]

"""PydanticAI (``pydantic-ai-slim[mcp]``) through the README's block: its MCPToolset lists
the tools, a scripted model generates, edits and reads a refusal as a failed call, and its
standard TestModel runs an agent to the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.stacks import check_outcome, run_readme_block, scenario

from clawrouter_images.emulator import Emulator

pytest.importorskip("pydantic_ai.mcp")
messages = pytest.importorskip("pydantic_ai.messages")
function_model = pytest.importorskip("pydantic_ai.models.function")
test_model = pytest.importorskip("pydantic_ai.models.test")


def _returns(history: list[Any]) -> list[Any]:
    return [
        part
        for message in history
        for part in message.parts
        if isinstance(part, messages.ToolReturnPart)
    ]


async def test_lists_the_tools_with_schemas_it_reads(served: tuple[Emulator, str]) -> None:
    _, base_url = served
    images = run_readme_block("pydantic_ai", base_url)["images"]
    async with images:
        listed = await images.list_tools()
    assert [tool.name for tool in listed] == ["generate_image", "edit_image"]


async def test_a_scripted_model_generates_edits_and_reads_a_refusal(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    emulator, base_url = served
    agent = run_readme_block("pydantic_ai", base_url)["agent"]
    outside = tmp_path / "elsewhere.png"
    calls = scenario(tmp_path / "images", outside)

    def model(history: list[Any], info: Any) -> Any:
        done = len(_returns(history))
        if done == len(calls):
            return messages.ModelResponse(parts=[messages.TextPart("done")])
        name, arguments = calls[done]
        call = messages.ToolCallPart(name, arguments(), tool_call_id=f"call-{done}")
        return messages.ModelResponse(parts=[call])

    result = await agent.run("Draw", model=function_model.FunctionModel(model))
    returns = _returns(result.all_messages())
    assert [part.outcome for part in returns] == ["success"] * 4 + ["failed"]
    outputs = [part.model_response_str() for part in returns]
    check_outcome(emulator, tmp_path / "images", outputs, outside)
    assert result.output == "done"


async def test_the_standard_test_model_runs_to_the_end(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """TestModel calls each tool with what the schema asks for: ``generate_image`` with a
    prompt alone, and ``edit_image`` with an image ``"a"``, which the file policy refuses;
    the refusal is a failed call the model reads (tool_error_behavior="failed"), not a
    retry of the same call that would end the run."""
    emulator, base_url = served
    agent = run_readme_block("pydantic_ai", base_url)["agent"]
    result = await agent.run("Draw", model=test_model.TestModel())
    returns = {part.tool_name: part for part in _returns(result.all_messages())}
    assert returns["generate_image"].outcome == "success"
    assert returns["edit_image"].outcome == "failed"
    assert "image path a is outside the folders" in returns["edit_image"].model_response_str()
    assert [e.path for e in emulator.ledger if e.method == "POST"] == ["/v1/images/generations"]
    assert "generate_image" in result.output

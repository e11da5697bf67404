"""The OpenAI Agents SDK (``openai-agents``) through the README's block: its MCPServerStdio
lists the tools, its ScriptedModel generates, edits and reads a refusal, and its strict
conversion of the schemas gives what OpenAI's strict mode accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.openai_strict import strict_violations
from tests.support.stacks import check_outcome, run_readme_block, scenario

from clawrouter_images.emulator import Emulator

agents = pytest.importorskip("agents")
testing = pytest.importorskip("agents.testing")
mcp_util = pytest.importorskip("agents.mcp.util")
# Nothing leaves the machine: no trace export.
agents.set_tracing_disabled(True)


def _text(output: Any) -> str:
    """What the model read: the text parts of a tool's output (its image parts left out)."""
    if isinstance(output, str):
        return output
    parts = output if isinstance(output, list) else [output]
    return "\n".join(part["text"] for part in parts if part.get("type") == "text")


async def test_lists_the_tools_and_their_strict_conversion_is_accepted(
    served: tuple[Emulator, str],
) -> None:
    """convert_schemas_to_strict turns the open schemas into strict ones (no fallback to
    non-strict), which pass OpenAI's documented subset."""
    _, base_url = served
    images = run_readme_block("openai_agents", base_url)["images"]
    async with images:
        listed = await images.list_tools()
    assert [tool.name for tool in listed] == ["generate_image", "edit_image"]
    for tool in listed:
        converted = mcp_util.MCPUtil.to_function_tool(tool, images, True)
        assert converted.strict_json_schema, tool.name
        assert strict_violations(converted.params_json_schema) == [], tool.name


@pytest.mark.parametrize("strict", [False, True], ids=["as served", "strict"])
async def test_a_scripted_model_generates_edits_and_reads_a_refusal(
    served: tuple[Emulator, str], tmp_path: Path, strict: bool
) -> None:
    emulator, base_url = served
    block = run_readme_block("openai_agents", base_url)
    outside = tmp_path / "elsewhere.png"
    calls = scenario(tmp_path / "images", outside)

    def step(index: int) -> Any:
        name, arguments = calls[index]
        return testing.ModelStep.respond(
            lambda _: [testing.function_call(name, arguments(), call_id=f"call-{index}")]
        )

    model = testing.ScriptedModel(
        [*(step(i) for i in range(len(calls))), [testing.assistant_message("done")]]
    )
    agent = block["agent"].clone(model=model, mcp_config={"convert_schemas_to_strict": strict})
    async with block["images"]:
        result = await agents.Runner.run(agent, "Draw")
    outputs = [
        _text(item.output) for item in result.new_items if item.type == "tool_call_output_item"
    ]
    check_outcome(emulator, tmp_path / "images", outputs, outside)
    assert result.final_output == "done"

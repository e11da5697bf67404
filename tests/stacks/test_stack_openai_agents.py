"""The OpenAI Agents SDK (``openai-agents``) through the README's block: its MCPServerStdio
lists the tools, its ScriptedModel generates, edits and reads a refusal, its strict
conversion of the schemas gives what OpenAI's strict mode accepts, and a call it times out
on is still saved and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.support.openai_strict import strict_violations
from tests.support.stacks import check_outcome, run_readme_block, scenario

from clawrouter_images.emulator import Emulator, Fault

agents = pytest.importorskip("agents")
testing = pytest.importorskip("agents.testing")
mcp_util = pytest.importorskip("agents.mcp.util")
mcp_server = pytest.importorskip("agents.mcp")
mcp_stdio = pytest.importorskip("mcp.client.stdio")
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


async def test_a_call_the_sdk_times_out_is_still_saved_and_reported(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """At the SDK's default 5 s (here 0.5 s, against a 3 s generation) the call times out
    and the SDK tells the server it gave up; the server still saves the image, says so on
    stderr, and the next call's output tells the model."""
    emulator, base_url = served
    emulator.add_fault(Fault("slow", delay=3.0), times=1)
    params = run_readme_block("openai_agents", base_url)["images"].params
    log = tmp_path / "stderr.txt"

    stdio_server: Any = mcp_server.MCPServerStdio

    class Logged(stdio_server):  # type: ignore[misc]
        def create_streams(self) -> Any:  # the server's stderr into a file
            return mcp_stdio.stdio_client(self.params, errlog=errlog)

    server = Logged(
        params={"command": params.command, "args": params.args},
        client_session_timeout_seconds=0.5,
    )

    def call(index: int, prompt: str) -> Any:
        arguments = {"prompt": prompt}
        return [testing.function_call("generate_image", arguments, call_id=f"call-{index}")]

    model = testing.ScriptedModel([call(0, "a slow fox"), [testing.assistant_message("gave up")]])
    agent = agents.Agent(name="illustrator", model=model, mcp_servers=[server])
    told = "stopped waiting for finished"
    with log.open("w") as errlog:
        async with server:
            first = await agents.Runner.run(agent, "Draw")
            outputs = [i.output for i in first.new_items if i.type == "tool_call_output_item"]
            # All the SDK tells the model of a timeout.
            assert _text(outputs[0]).startswith("An error occurred while running the tool.")
            # The server is another process: a bounded poll for what it writes.
            with anyio.fail_after(60):
                while told not in log.read_text():  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            assert len(list((tmp_path / "images").glob("*.png"))) == 1
            model.extend([call(1, "an owl"), [testing.assistant_message("done")]])
            second = await agents.Runner.run(agent, "Draw again")
    (output,) = [i.output for i in second.new_items if i.type == "tool_call_output_item"]
    assert told in _text(output)
    assert len(list((tmp_path / "images").glob("*.png"))) == 2

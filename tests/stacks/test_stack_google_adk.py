"""Google ADK (``google-adk[mcp]``) through the README's block: its McpToolset lists the
tools (their declarations built from the schemas), and an LlmAgent driven by a scripted
model generates, edits and reads a refusal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field
from tests.support.stacks import check_outcome, run_readme_block, scenario

from clawrouter_images.emulator import Emulator

pytest.importorskip("google.adk.tools.mcp_tool")
base_llm = pytest.importorskip("google.adk.models.base_llm")
llm_response = pytest.importorskip("google.adk.models.llm_response")
runners = pytest.importorskip("google.adk.runners")
genai = pytest.importorskip("google.genai.types")


def _responses(request: Any) -> list[dict[str, Any]]:
    """The tool results the model has been given so far, in order."""
    return [
        part.function_response.response
        for content in request.contents
        for part in content.parts or []
        if part.function_response is not None
    ]


BaseLlm: Any = base_llm.BaseLlm


class Scripted(BaseLlm):  # type: ignore[misc]
    """Answers each turn with the next call of ``calls``; then with text."""

    model: str = "scripted"
    calls: list[Any] = Field(default_factory=list)
    requests: list[Any] = Field(default_factory=list)

    async def generate_content_async(
        self, llm_request: Any, stream: bool = False
    ) -> AsyncIterator[Any]:
        self.requests.append(llm_request)
        done = len(_responses(llm_request))
        if done < len(self.calls):
            name, arguments = self.calls[done]
            part = genai.Part(function_call=genai.FunctionCall(name=name, args=arguments()))
        else:
            part = genai.Part(text="done")
        yield llm_response.LlmResponse(content=genai.Content(role="model", parts=[part]))


async def test_lists_the_tools_as_declarations_gemini_takes(served: tuple[Emulator, str]) -> None:
    _, base_url = served
    images = run_readme_block("google_adk", base_url)["images"]
    try:
        tools = await images.get_tools()
        declarations = {tool.name: tool._get_declaration() for tool in tools}
    finally:
        await images.close()
    assert sorted(declarations) == ["edit_image", "generate_image"]
    assert all(declaration is not None for declaration in declarations.values())


async def test_a_scripted_agent_generates_edits_and_reads_a_refusal(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    emulator, base_url = served
    block = run_readme_block("google_adk", base_url)
    outside = tmp_path / "elsewhere.png"
    model = Scripted(calls=scenario(tmp_path / "images", outside))
    agent = block["agent"].clone(update={"model": model})
    runner = runners.InMemoryRunner(agent)
    try:
        events = await runner.run_debug("Draw", quiet=True)
    finally:
        await runner.close()
        await block["images"].close()
    results = _responses(model.requests[-1])
    # What ADK hands the model: the whole result as JSON (with --no-images, no base64).
    outputs = [json.dumps(result) for result in results]
    assert [bool(result.get("isError")) for result in results] == [False] * 4 + [True]
    assert all(len(output) < 10_000 for output in outputs)
    check_outcome(emulator, tmp_path / "images", outputs, outside)
    assert events[-1].content.parts[0].text == "done"

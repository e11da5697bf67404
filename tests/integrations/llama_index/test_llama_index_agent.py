"""A LlamaIndex FunctionAgent runs the product brief's four examples end to end, offline.

The LLM is scripted (``MockFunctionCallingLLM``): for each user request it makes the tool
call the brief prescribes, then answers with what the tool said.  The fake ClawRouter
records what arrived, so the tests check the wire, not only the tool call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.agent.workflow import AgentOutput, FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from tests.support.png import png_bytes

from clawrouter_images.agent_tools import ImageToolResult

if TYPE_CHECKING:
    from tests.integrations.llama_index.conftest import SpecFactory
    from tests.support.server import FakeClawRouter

SEEDED_PORTRAIT = "portrait.png"

# llama-index-workflows 2.26 finds an agent's steps with inspect.getmembers(agent), which
# reads every attribute of the pydantic FunctionAgent, deprecated ones included; pydantic
# 2.14 warns for each (attributed to inspect).  Only those four warnings are ignored.
pytestmark = [
    pytest.mark.filterwarnings(rf"ignore:{message}:pydantic.warnings.{category}:inspect$")
    for message, category in (
        (r"The `__fields__` attribute is deprecated", "PydanticDeprecatedSince20"),
        (r"The `__fields_set__` attribute is deprecated", "PydanticDeprecatedSince20"),
        (r"Accessing the 'model_fields' attribute on the instance", "PydanticDeprecatedSince211"),
        (r"Accessing the 'model_computed_fields' attribute", "PydanticDeprecatedSince211"),
    )
]


def scripted_llm(request: str, tool_name: str, arguments: dict[str, Any]) -> MockFunctionCallingLLM:
    """An LLM that answers ``request`` with one tool call, then relays the tool's answer."""

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        offered = sorted(tool.metadata.name for tool in kwargs.get("tools", []))
        assert offered == ["edit_image", "generate_image"]
        last = messages[-1]
        if last.role == MessageRole.TOOL:
            return ChatMessage(role=MessageRole.ASSISTANT, content=f"Done.\n{last.content}")
        assert last.content == request
        call = ToolCallBlock(tool_call_id="call-1", tool_name=tool_name, tool_kwargs=arguments)
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])

    return MockFunctionCallingLLM(response_generator=respond)


async def run_agent(agent: FunctionAgent, request: str) -> tuple[list[ToolCallResult], str]:
    """The tool results of one run and the agent's final answer."""
    handler = agent.run(user_msg=request)
    results = [
        event async for event in handler.stream_events() if isinstance(event, ToolCallResult)
    ]
    answer: object = await handler
    assert isinstance(answer, AgentOutput)
    return results, str(answer.response.content)


@dataclass(frozen=True)
class Example:
    request: str
    tool_name: str
    arguments: dict[str, Any]
    route: str
    model: str
    size: str
    image: str | None = None  # what the image2image body must carry: "url" or "file"


EXAMPLES = [
    Example(
        "Draw me a cyberpunk city at night",
        "generate_image",
        {"prompt": "a cyberpunk city at night", "model": "nano-banana"},
        "/v1/images/generations",
        "google/nano-banana",
        "1024x1024",
    ),
    Example(
        "Generate a high-res portrait of a samurai",
        "generate_image",
        {"prompt": "a high-res portrait of a samurai", "model": "banana-pro", "size": "1024x1792"},
        "/v1/images/generations",
        "google/nano-banana-pro",
        "1024x1792",
    ),
    Example(
        "Edit this photo to add a sunset background: {url}",
        "edit_image",
        {"prompt": "add a warm sunset background", "image": "{url}", "model": "gpt-image"},
        "/v1/images/image2image",
        "openai/gpt-image-1",
        "1024x1024",
        image="url",
    ),
    Example(
        "Change the background in my image to a beach",
        "edit_image",
        {"prompt": "replace the background with a sunny beach", "image": "{file}"},
        "/v1/images/image2image",
        "openai/gpt-image-1",
        "1024x1024",
        image="file",
    ),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.request.split()[0].lower())
async def test_brief_example_end_to_end(
    example: Example, make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path
) -> None:
    """The agent's tool call reaches ClawRouter as the brief says, and the result is saved."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    attached = uploads / "me.png"
    attached.write_bytes(png_bytes(seed=900))
    url = fake.serve(SEEDED_PORTRAIT, png_bytes(seed=800))
    fill = {"{url}": url, "{file}": str(attached)}
    request = example.request.replace("{url}", url)
    arguments = {key: fill.get(value, value) for key, value in example.arguments.items()}
    spec = make_spec(save_dir=tmp_path / "saved", allowed_dirs=[uploads])
    llm = scripted_llm(request, example.tool_name, arguments)

    (result,), answer = await run_agent(
        FunctionAgent(tools=[*spec.to_tool_list()], llm=llm), request
    )

    (post,) = fake.posts
    body = fake.body()
    assert post.url.path == example.route
    sent = {key: body[key] for key in ("model", "size", "n", "prompt")}
    assert sent == {
        "model": example.model,
        "size": example.size,
        "n": 1,
        "prompt": arguments["prompt"],
    }
    if example.image == "url":
        assert body["image"] == fake.data_uri(png_bytes(seed=800))
    elif example.image == "file":
        assert body["image"] == fake.data_uri(png_bytes(seed=900))
    else:
        assert "image" not in body
    assert not result.tool_output.is_error
    artifact: ImageToolResult = result.tool_output.raw_output
    (saved,) = map(Path, artifact["saved_paths"])
    assert saved.parent == tmp_path / "saved"
    assert saved.read_bytes() == fake.served["1.png"]
    assert "](http://localhost:8402/images/1.png)" in answer


async def test_agent_reads_tool_errors(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """A refused call reaches the agent as an is_error result it can explain; nothing is sent."""
    request = "Edit my SSH key"
    llm = scripted_llm(request, "edit_image", {"prompt": "x", "image": "~/.ssh/id_rsa"})
    agent = FunctionAgent(tools=[*make_spec(allowed_dirs=[]).to_tool_list()], llm=llm)
    (result,), answer = await run_agent(agent, request)
    assert result.tool_output.is_error
    assert "id_rsa" in answer
    assert fake.requests == []


async def test_return_direct_ends_the_turn_with_the_tool_answer(
    make_spec: SpecFactory, fake: FakeClawRouter
) -> None:
    """With return_direct=True the agent's answer is the tool's text, without another LLM turn."""
    request = "Draw a fox"
    llm = scripted_llm(request, "generate_image", {"prompt": "a fox"})
    agent = FunctionAgent(tools=[*make_spec(return_direct=True).to_tool_list()], llm=llm)
    _, answer = await run_agent(agent, request)
    assert answer.startswith("1 image from google/nano-banana")
    assert "Done." not in answer
    assert len(fake.posts) == 1

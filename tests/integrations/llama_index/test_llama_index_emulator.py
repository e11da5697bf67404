"""A two-turn LlamaIndex conversation against the ClawRouter emulator, in-process.

The brief's URL example done the way an offline user meets it: the agent draws an image,
then edits that result by the URL it was given, and the emulator's ledger shows what
the real ClawRouter would have been asked and paid.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentOutput, FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.memory import ChatMemoryBuffer
from PIL import Image

from clawrouter_images import AsyncImageClient, ImageClient
from clawrouter_images.emulator import Emulator
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

# Same third-party warnings as in test_llama_index_agent.py (llama-index-workflows reading
# every attribute of the pydantic agent with inspect.getmembers); nothing else is ignored.
pytestmark = [
    pytest.mark.filterwarnings(rf"ignore:{message}:pydantic.warnings.{category}:inspect$")
    for message, category in (
        (r"The `__fields__` attribute is deprecated", "PydanticDeprecatedSince20"),
        (r"The `__fields_set__` attribute is deprecated", "PydanticDeprecatedSince20"),
        (r"Accessing the 'model_fields' attribute on the instance", "PydanticDeprecatedSince211"),
        (r"Accessing the 'model_computed_fields' attribute", "PydanticDeprecatedSince211"),
    )
]

DRAW = "Generate a high-res portrait of a samurai"
EDIT = "Edit this photo to add a sunset background: {url}"
MARKDOWN_URL = re.compile(r"\]\((http://localhost:\d+/images/[^)]+)\)")


def conversation_llm() -> MockFunctionCallingLLM:
    """Draws on the first request; on the second, edits the URL the first tool answer gave."""

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        last = messages[-1]
        if last.role == MessageRole.TOOL:
            return ChatMessage(role=MessageRole.ASSISTANT, content=str(last.content))
        if last.content == DRAW:
            name = "generate_image"
            arguments: dict[str, Any] = {
                "prompt": "a portrait of a samurai",
                "model": "banana-pro",
                "size": "1024x1792",
            }
        else:
            earlier = [m for m in messages if m.role == MessageRole.TOOL]
            match = MARKDOWN_URL.search(str(earlier[-1].content))
            assert match is not None
            assert last.content == EDIT.format(url=match.group(1))
            name = "edit_image"
            arguments = {
                "prompt": "add a warm sunset background",
                "image": match.group(1),
                "model": "gpt-image",
            }
        call = ToolCallBlock(
            tool_call_id=f"call-{len(messages)}", tool_name=name, tool_kwargs=arguments
        )
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])

    return MockFunctionCallingLLM(response_generator=respond)


@pytest.fixture
async def emulator_spec(tmp_path: Path) -> AsyncIterator[tuple[Emulator, ClawRouterImageToolSpec]]:
    """A spec whose two clients reach an in-process emulator; results saved in tmp_path/saved."""
    with Emulator(image_dir=tmp_path / "emulator") as emulator, emulator.sync_client() as http:
        async with emulator.async_client() as async_http:
            yield (
                emulator,
                ClawRouterImageToolSpec(
                    save_dir=tmp_path / "saved",
                    client=ImageClient(emulator.base_url, max_retries=0, http_client=http),
                    async_client=AsyncImageClient(
                        emulator.base_url, max_retries=0, http_client=async_http
                    ),
                ),
            )


async def ask(agent: FunctionAgent, memory: ChatMemoryBuffer, request: str) -> str:
    answer: object = await agent.run(user_msg=request, memory=memory)
    assert isinstance(answer, AgentOutput)
    return str(answer.response.content)


async def test_draw_then_edit_the_result_by_url(
    emulator_spec: tuple[Emulator, ClawRouterImageToolSpec], tmp_path: Path
) -> None:
    """The agent edits its own earlier result by URL; each call is paid once at the right model."""
    emulator, spec = emulator_spec
    agent = FunctionAgent(tools=[*spec.to_tool_list()], llm=conversation_llm())
    memory = ChatMemoryBuffer.from_defaults()

    drawn = await ask(agent, memory, DRAW)
    url = MARKDOWN_URL.search(drawn)
    assert url is not None
    edited = await ask(agent, memory, EDIT.format(url=url.group(1)))
    assert MARKDOWN_URL.search(edited) is not None

    posts = [entry for entry in emulator.ledger if entry.method == "POST"]
    assert [(entry.path, entry.model, entry.size, entry.paid) for entry in posts] == [
        ("/v1/images/generations", "google/nano-banana-pro", "1024x1792", True),
        ("/v1/images/image2image", "openai/gpt-image-1", "1024x1024", True),
    ]
    edit_body = posts[1].body
    assert isinstance(edit_body, dict)
    assert str(edit_body["image"]).startswith("data:image/png;base64,")

    saved = sorted((tmp_path / "saved").iterdir())
    assert len(saved) == 2
    sizes = {Image.open(io.BytesIO(path.read_bytes())).size for path in saved}
    assert sizes == {(1024, 1792), (1024, 1024)}

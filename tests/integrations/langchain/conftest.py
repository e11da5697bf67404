"""An offline agent and tool settings for the LangChain adapter's tests.

- ``fake`` (tests/conftest.py): ClawRouter's image routes in memory; ``loopback`` serves it
  on a real port, for clients built from the environment.
- ``settings``: keyword arguments for a tool or toolkit on the fake's clients, saving into
  ``saved`` and reading local images only from ``uploads``; ``refused``: clients of a
  ClawRouter that is not running.
- ``run_agent``: ``langchain.agents.create_agent`` with a scripted chat model, run sync
  and async (``mode``), returning the conversation; ``call``: one tool call, likewise.

Test modules import the types below only under ``TYPE_CHECKING``; everything used at run
time reaches them through these fixtures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langchain_core.tools import BaseTool
from tests.support.server import FakeClawRouter
from tests.support.twin import Mode
from typing_extensions import Self

if TYPE_CHECKING:
    # Only a type: langchain 1.3.8 has it, the 1.2.11 floor does not (the agents run there too).
    from langchain.agents.middleware.types import InputAgentState


class ScriptedChatModel(GenericFakeChatModel):
    """A chat model that answers from a script, and accepts tools without using them."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Self:
        return self


RunAgent = Callable[[Sequence[BaseTool], str, list[dict[str, Any]]], Awaitable[list[BaseMessage]]]
"""``run_agent(tools, user_message, tool_calls)``: the model makes the calls, then says done."""


@pytest.fixture
def run_agent(mode: Mode) -> RunAgent:
    async def run(
        tools: Sequence[BaseTool], user_message: str, tool_calls: list[dict[str, Any]]
    ) -> list[BaseMessage]:
        calls = [
            tool_call(name=call["name"], args=call["args"], id=f"call_{index}")
            for index, call in enumerate(tool_calls)
        ]
        script = iter([AIMessage(content="", tool_calls=calls), AIMessage(content="Done.")])
        agent = create_agent(ScriptedChatModel(messages=script), list(tools))
        state: InputAgentState = {"messages": [HumanMessage(user_message)]}
        if mode == "sync":
            result = agent.invoke(state)
        else:
            result = await agent.ainvoke(state)
        messages: list[BaseMessage] = result["messages"]
        return messages

    return run


Call = Callable[[BaseTool, dict[str, Any]], Awaitable[ToolMessage]]
"""``call(tool, args)``: the ``ToolMessage`` of one tool call, made sync or async."""


@pytest.fixture
def call(mode: Mode) -> Call:
    async def run(tool: BaseTool, args: dict[str, Any]) -> ToolMessage:
        tool_call = {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"}
        if mode == "sync":
            message = tool.invoke(tool_call)
        else:
            message = await tool.ainvoke(tool_call)
        assert isinstance(message, ToolMessage)
        return message

    return run


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    """The one folder local input images may come from."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """Where results are saved (created on the first save)."""
    return tmp_path / "saved"


@pytest.fixture
def settings(fake: FakeClawRouter, uploads: Path, saved: Path) -> dict[str, Any]:
    return {
        "client": fake.client(),
        "async_client": fake.async_client(),
        "save_dir": saved,
        "allowed_dirs": [uploads],
    }


@pytest.fixture
def refused() -> dict[str, Any]:
    """Clients of a ClawRouter that is not running: every connection is refused."""
    down = FakeClawRouter(otherwise=httpx.ConnectError("[Errno 111] Connection refused"))
    return {"client": down.client(), "async_client": down.async_client()}

"""The demo's LlamaIndex side: a scripted LLM and one ``FunctionAgent`` run per request.

Imported only when LlamaIndex is wanted.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from llama_index.core.agent.workflow import AgentOutput, FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.llms import LLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.tools import BaseTool

from llama_index.tools.clawrouter import ImageProgressEvent

from ._script import (
    STEPS,
    Step,
    ToolCallRecord,
    final_answer,
    looks_like_images,
    plan_call,
    tool_call_record,
)

SYSTEM_PROMPT = (
    "You make and edit images with your tools. Call a tool for every request, "
    "then tell the user what you made, or what went wrong."
)

# llama-index-workflows finds an agent's steps with inspect.getmembers(agent), which reads
# every attribute of the pydantic FunctionAgent, deprecated ones included, and pydantic
# warns for each.  Only those four warnings, attributed to inspect, are silenced.
_INSPECT_WARNINGS = (
    ("The `__fields__` attribute is deprecated", "PydanticDeprecatedSince20"),
    ("The `__fields_set__` attribute is deprecated", "PydanticDeprecatedSince20"),
    ("Accessing the 'model_fields' attribute on the instance", "PydanticDeprecatedSince211"),
    ("Accessing the 'model_computed_fields' attribute", "PydanticDeprecatedSince211"),
)


@contextlib.contextmanager
def quiet_agent_warnings() -> Iterator[None]:
    """Silence the pydantic deprecation warnings llama-index-workflows triggers, nothing else."""
    import pydantic.warnings

    with warnings.catch_warnings():
        for message, category in _INSPECT_WARNINGS:
            kind = getattr(pydantic.warnings, category, None)
            if isinstance(kind, type) and issubclass(kind, Warning):
                warnings.filterwarnings("ignore", message=message, category=kind, module="inspect")
        yield


def scripted_llm(steps: Sequence[Step] = STEPS) -> MockFunctionCallingLLM:
    """A function-calling LLM that makes the brief's tool call for each request, then relays the result."""

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        # FunctionAgent does not mark which tool results are errors: read them, as an LLM does.
        results: list[tuple[str, bool]] = []
        for message in reversed(messages):
            if message.role != MessageRole.TOOL:
                break
            text = str(message.content or "")
            results.insert(0, (text, not looks_like_images(text)))
        if results:
            return ChatMessage(role=MessageRole.ASSISTANT, content=final_answer(results))
        planned = plan_call(str(messages[-1].content or ""), steps)
        offered = [tool.metadata.name for tool in kwargs.get("tools", [])]
        if offered and planned.tool not in offered:
            raise ValueError(f"the agent was not given the {planned.tool} tool ({offered})")
        call = ToolCallBlock(
            tool_call_id=f"call_{len(messages)}",
            tool_name=planned.tool,
            tool_kwargs=planned.arguments,
        )
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])

    return MockFunctionCallingLLM(response_generator=respond)


def make_agent(llm: LLM, tools: Sequence[BaseTool]) -> FunctionAgent:
    with quiet_agent_warnings():  # the workflow inspects the agent when it is built, too
        return FunctionAgent(tools=list(tools), llm=llm, system_prompt=SYSTEM_PROMPT)


async def run_request(agent: FunctionAgent, message: str) -> tuple[list[ToolCallRecord], str]:
    """Send one user message to a fresh run of ``agent``; its tool calls and the final answer."""
    with quiet_agent_warnings():
        handler = agent.run(user_msg=message)
        records = []
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                output = event.tool_output
                error = str(output.content) if output.is_error else None
                records.append(
                    tool_call_record(event.tool_name, event.tool_kwargs, output.raw_output, error)
                )
        answer: object = await handler
    text = str(answer.response.content or "") if isinstance(answer, AgentOutput) else str(answer)
    return records, text


class _ProgressPrinter(BaseEventHandler):
    """Shows the tools' ``ImageProgressEvent``s as they arrive."""

    show: Callable[[str], None]

    @classmethod
    def class_name(cls) -> str:
        return "ClawRouterDemoProgress"

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, ImageProgressEvent):
            self.show(event.message)


@contextlib.contextmanager
def progress_printed(show: Callable[[str], None]) -> Iterator[None]:
    """While the ``with`` body runs, show the tools' progress events with ``show``."""
    import llama_index.core.instrumentation as instrument

    root = instrument.get_dispatcher()  # type: ignore[attr-defined]
    handler = _ProgressPrinter(show=show)
    root.add_event_handler(handler)
    try:
        yield
    finally:
        root.event_handlers.remove(handler)

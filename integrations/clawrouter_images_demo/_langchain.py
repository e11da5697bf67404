"""The demo's LangChain side: a scripted chat model and one agent run per request.

Imported only when LangChain is wanted (it needs ``langchain`` for ``create_agent``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.messages.tool import tool_call
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from pydantic import PrivateAttr
from typing_extensions import Self

from langchain_clawrouter._results import PROGRESS_EVENT

from ._script import STEPS, Step, ToolCallRecord, final_answer, plan_call, tool_call_record

SYSTEM_PROMPT = (
    "You make and edit images with your tools. Call a tool for every request, "
    "then tell the user what you made, or what went wrong."
)


class ScriptedChatModel(BaseChatModel):
    """A chat model that calls the tool the product brief prescribes for each request.

    It reads the conversation: a user message becomes the brief's tool call for that
    request (a plain ``generate_image`` for anything else), and tool results become a
    short answer relaying them, so an agent runs end to end offline.
    """

    steps: Sequence[Step] = STEPS
    _bound: list[str] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "clawrouter-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Self:
        # A copy per agent, like a real model's bind_tools returns a new runnable.
        bound = self.model_copy()
        bound._bound = [getattr(tool, "name", "") for tool in tools]
        return bound

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        results: list[tuple[str, bool]] = []
        for message in reversed(messages):
            if not isinstance(message, ToolMessage):
                break
            results.insert(0, (message.text, message.status == "error"))
        if results:
            return AIMessage(content=final_answer(results))
        planned = plan_call(messages[-1].text, self.steps)
        if self._bound and planned.tool not in self._bound:
            raise ValueError(f"the agent was not given the {planned.tool} tool ({self._bound})")
        call = tool_call(name=planned.tool, args=planned.arguments, id=f"call_{len(messages)}")
        return AIMessage(content="", tool_calls=[call])


class _ProgressPrinter(BaseCallbackHandler):
    """Shows the tools' progress events (``clawrouter_image_progress``) as they arrive."""

    def __init__(self, show: Callable[[str], None]) -> None:
        self._show = show

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == PROGRESS_EVENT:
            self._show(str(data["message"]))


def progress_printer(show: Callable[[str], None]) -> BaseCallbackHandler:
    return _ProgressPrinter(show)


def run_request(
    agent: Any, message: str, progress: BaseCallbackHandler | None = None
) -> tuple[list[ToolCallRecord], str]:
    """Send one user message to a fresh conversation; its tool calls and the final answer."""
    config = {"callbacks": [progress]} if progress is not None else None
    result = agent.invoke({"messages": [HumanMessage(message)]}, config=config)
    messages: list[BaseMessage] = result["messages"]
    asked: dict[str, ToolCall] = {}
    records = []
    for item in messages:
        if isinstance(item, AIMessage):
            asked.update({call["id"] or "": call for call in item.tool_calls})
        elif isinstance(item, ToolMessage):
            call = asked.get(item.tool_call_id)
            name = call["name"] if call else (item.name or "?")
            arguments = call["args"] if call else {}
            error = item.text if item.status == "error" else None
            records.append(tool_call_record(name, arguments, item.artifact, error))
    return records, messages[-1].text if messages else ""


def make_agent(model: Any, tools: Sequence[BaseTool]) -> Any:
    return create_agent(model, list(tools), system_prompt=SYSTEM_PROMPT)

"""Translating the contract's results, errors and progress into LangChain's terms."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.messages.content import create_image_block, create_text_block
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import ToolException

from clawrouter_images import ClawRouterError

if TYPE_CHECKING:
    from clawrouter_images.agent_tools import ImageProgress, ToolAnswer

PROGRESS_EVENT = "clawrouter_image_progress"
"""The name of the custom events the tools emit while a call is in flight."""

ToolContent = str | list[dict[str, object]]


def tool_content(answer: ToolAnswer) -> ToolContent:
    """The text alone, or, when images were fetched for a vision model, text then image blocks."""
    if not answer.images:
        return answer.text
    return answer.parts(
        lambda text: dict(create_text_block(text)),
        lambda data, mime_type: dict(create_image_block(base64=data, mime_type=mime_type)),
    )


def as_tool_exception(err: ClawRouterError) -> ToolException:
    """``err`` as the ``ToolException`` LangChain hands the agent: the core message, which
    says what to do next."""
    return ToolException(err.message)


# Progress: the reporter is made where the tool runs, and keeps that place's context (the
# run's config with its callbacks and, inside a LangGraph run, its stream writer); the
# reports come later from a timer task (async, which copies the context by itself) or the
# progress thread (sync, which runs them in the kept copy).  Nothing is looked up per call:
# a call that ends before its first report costs only the copy.


def progress_reporter(tool_name: str) -> Callable[[ImageProgress], None]:
    """Progress as custom events (``astream_events``: ``on_custom_event``) and on LangGraph's
    custom stream (``stream_mode="custom"``)."""
    context = contextvars.copy_context()

    def send(data: dict[str, Any]) -> None:
        dispatch_custom_event(PROGRESS_EVENT, data, config=ensure_config())
        _write(data)

    def report(update: ImageProgress) -> None:
        context.run(send, {**update.as_dict(), "tool": tool_name})

    return report


def aprogress_reporter(tool_name: str) -> Callable[[ImageProgress], Awaitable[None]]:
    """``progress_reporter`` for async calls."""

    async def report(update: ImageProgress) -> None:
        data = {**update.as_dict(), "tool": tool_name}
        await adispatch_custom_event(PROGRESS_EVENT, data, config=ensure_config())
        _write(data)

    return report


def _write(data: dict[str, Any]) -> None:
    """Also on LangGraph's custom stream, when this runs inside a graph."""
    # Only a loaded LangGraph can be running this tool: never import it just to ask.
    graph_config = sys.modules.get("langgraph.config")
    if graph_config is None:
        return
    try:
        writer: Callable[[Any], None] = graph_config.get_stream_writer()
    except (RuntimeError, KeyError):  # no runnable config at all, or not a graph's
        return
    writer({PROGRESS_EVENT: data})

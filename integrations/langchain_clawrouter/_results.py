"""Translating the contract's results, errors and progress into LangChain's terms."""

from __future__ import annotations

import base64
import contextvars
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.messages.content import create_image_block, create_text_block
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import ToolException

from clawrouter_images import ClawRouterError
from clawrouter_images.agent_tools import ImageProgress, ResultImage

PROGRESS_EVENT = "clawrouter_image_progress"
"""The name of the custom events the tools emit while a call is in flight."""

ToolContent = str | list[dict[str, object]]


def tool_content(text: str, images: list[ResultImage]) -> ToolContent:
    """The text alone, or, when images were fetched for a vision model, text then image blocks.

    The images travel only as standard image blocks, never as base64 inside the text.
    """
    if not images:
        return text
    blocks: list[dict[str, object]] = [dict(create_text_block(text))]
    for image in images:
        if image.data is not None:
            encoded = base64.b64encode(image.data).decode("ascii")
            blocks.append(dict(create_image_block(base64=encoded, mime_type=image.mime_type)))
        elif image.url is not None:
            blocks.append(dict(create_image_block(url=image.url, mime_type=image.mime_type)))
    return blocks


@contextmanager
def clawrouter_errors_as_tool_exceptions() -> Iterator[None]:
    """Raise ``ToolException`` with the core message, so the agent reads what to do next."""
    try:
        yield
    except ClawRouterError as err:
        raise ToolException(err.message) from err


# Progress: called where the tool runs, so that the run's config (its callbacks) and, inside
# a LangGraph run, its stream writer are captured there; the reports then come from a timer
# (async) or the progress thread (sync), where neither could be looked up.


def progress_reporter(tool_name: str) -> Callable[[ImageProgress], None]:
    """Progress as custom events (``astream_events``: ``on_custom_event``) and on LangGraph's
    custom stream (``stream_mode="custom"``)."""
    config, write = ensure_config(), _stream_writer()
    # LangGraph's writer reads the run's context variables: the reports run in a copy of
    # this thread's context (the async timer task copies it by itself).
    context = contextvars.copy_context()

    def send(data: dict[str, Any]) -> None:
        dispatch_custom_event(PROGRESS_EVENT, data, config=config)
        if write is not None:
            write({PROGRESS_EVENT: data})

    def report(update: ImageProgress) -> None:
        context.run(send, {**update.as_dict(), "tool": tool_name})

    return report


def aprogress_reporter(tool_name: str) -> Callable[[ImageProgress], Awaitable[None]]:
    """``progress_reporter`` for async calls."""
    config, write = ensure_config(), _stream_writer()

    async def report(update: ImageProgress) -> None:
        data = {**update.as_dict(), "tool": tool_name}
        await adispatch_custom_event(PROGRESS_EVENT, data, config=config)
        if write is not None:
            write({PROGRESS_EVENT: data})

    return report


def _stream_writer() -> Callable[[Any], None] | None:
    # Only a loaded LangGraph can be running this tool: never import it just to ask.
    graph_config = sys.modules.get("langgraph.config")
    if graph_config is None:
        return None
    try:
        writer: Callable[[Any], None] = graph_config.get_stream_writer()
    except (RuntimeError, KeyError):  # no runnable config at all, or not a graph's
        return None
    return writer

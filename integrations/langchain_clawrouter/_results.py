"""Translating the contract's results and errors into what a LangChain tool returns."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

from langchain_core.messages.content import create_image_block, create_text_block
from langchain_core.tools import ToolException

from clawrouter_images import ClawRouterError
from clawrouter_images.agent_tools import ResultImage

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

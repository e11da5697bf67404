"""``clawrouter-images demo`` and what it shares with the examples and tests.

- ``STEPS``: the product brief's four example requests and one that fails, each with the
  tool call the brief prescribes and what must come back.
- ``scripted_chat_model()`` (LangChain) and ``scripted_llm()`` (LlamaIndex): models that
  make those tool calls (or a plain ``generate_image`` for any other request), so an
  agent runs end to end with no API key.
- ``run_demo()``: the command itself; ``write_gallery()`` / ``format_table()``: its output.

Importing this package imports neither framework; the functions that need one import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._gallery import RunInfo, format_table, gallery_html, write_gallery
from ._run import FRAMEWORKS, run_demo
from ._script import DEMO_MODELS, STEPS, Step, StepOutcome, ToolCallRecord, plan_call

if TYPE_CHECKING:
    from llama_index.core.llms.mock import MockFunctionCallingLLM

    from ._langchain import ScriptedChatModel

__all__ = [
    "DEMO_MODELS",
    "FRAMEWORKS",
    "STEPS",
    "RunInfo",
    "Step",
    "StepOutcome",
    "ToolCallRecord",
    "format_table",
    "gallery_html",
    "plan_call",
    "run_demo",
    "scripted_chat_model",
    "scripted_llm",
    "write_gallery",
]


def scripted_chat_model() -> ScriptedChatModel:
    """A LangChain chat model that makes the brief's tool call for each request (needs ``langchain``)."""
    from ._langchain import ScriptedChatModel

    return ScriptedChatModel()


def scripted_llm() -> MockFunctionCallingLLM:
    """A LlamaIndex LLM that makes the brief's tool call for each request (needs ``llama-index-core``)."""
    from ._llamaindex import scripted_llm

    return scripted_llm()

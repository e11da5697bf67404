"""``clawrouter-images demo``, and the scripted models the examples and tests use.

- ``run_demo()`` / ``FRAMEWORKS``: the command itself (the CLI loads this package lazily).
- ``scripted_chat_model()`` (LangChain) and ``scripted_llm()`` (LlamaIndex): models that
  make the tool calls the product brief prescribes for its example requests (or a plain
  ``generate_image`` for any other request), so an agent runs end to end with no API key.

Everything else (the script of steps, the gallery, the table) is private to the demo.
Importing this package imports neither framework; the functions that need one import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._run import FRAMEWORKS, run_demo

if TYPE_CHECKING:
    from llama_index.core.llms.mock import MockFunctionCallingLLM

    from ._langchain import ScriptedChatModel

__all__ = ["FRAMEWORKS", "run_demo", "scripted_chat_model", "scripted_llm"]


_DEMO_INSTALL = 'pip install "clawrouter-images[demo]"'


def scripted_chat_model() -> ScriptedChatModel:
    """A LangChain chat model that makes the brief's tool call for each request (needs ``langchain``)."""
    try:
        from ._langchain import ScriptedChatModel
    except ImportError as err:
        raise ImportError(
            f"scripted_chat_model() needs LangChain's agents ({err.name} is missing): "
            f"{_DEMO_INSTALL}"
        ) from err
    return ScriptedChatModel()


def scripted_llm() -> MockFunctionCallingLLM:
    """A LlamaIndex LLM that makes the brief's tool call for each request (needs ``llama-index-core``)."""
    try:
        from ._llamaindex import scripted_llm
    except ImportError as err:
        raise ImportError(
            f"scripted_llm() needs LlamaIndex ({err.name} is missing): {_DEMO_INSTALL}"
        ) from err
    return scripted_llm()

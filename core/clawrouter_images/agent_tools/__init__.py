"""The agent-tool contract the adapters (LangChain, LlamaIndex, MCP) share, with no
framework imported.

It owns what an LLM sees and what it may touch:

- input schemas (``Literal`` enums of the offered models, field descriptions for an LLM,
  nothing the LLM should not control: no timeouts, save directory or base URL);
- descriptions built from the catalogue (which model for what, prices, sizes by shape),
  each at most 1024 characters (LlamaIndex's limit);
- the file policy: a local input must lie inside a folder the deployer allowed (never an
  implicit working directory) and is opened once, through no symlink, so a manipulated
  LLM cannot send ``~/.ssh/id_rsa`` upstream, nor learn whether it exists;
- running a call (sync on ``ImageClient``, async natively on ``AsyncImageClient``),
  saving results, and the result: short text for the LLM plus a structured artifact.

For deployers: ``ImageToolConfig`` (what the LLM may use), ``ImageToolSettings`` (that,
plus where ClawRouter is: every adapter's configuration model), ``Budget`` (one cap shared
by tools built apart, passed as ``budget=``), and ``ImageToolResult`` (the artifact).

For adapters: ``TOOLS`` declares the tools (``ImageTool``: name, argument model,
description, whether it edits).  An adapter loops over ``ImageTools(config).tools``,
checks a call with ``parse(name, raw)``, runs it with ``run`` / ``arun`` (progress as
``ImageProgress``), and hands the LLM ``ToolAnswer.parts(...)``; every refusal is a
``ClawRouterError`` whose ``message`` is what the LLM should read (``invalid_arguments``
words a framework's own validation error the same way).
"""

from .._budget import Budget
from .._progress import ImageProgress
from ._config import ImageToolConfig
from ._declared import EDIT_TOOL_NAME, GENERATE_TOOL_NAME, TOOLS, ImageTool
from ._results import ImageToolResult, ToolAnswer
from ._runner import ImageTools
from ._schemas import invalid_arguments
from ._settings import ImageToolSettings

__all__ = [
    "EDIT_TOOL_NAME",
    "GENERATE_TOOL_NAME",
    "TOOLS",
    "Budget",
    "ImageProgress",
    "ImageTool",
    "ImageToolConfig",
    "ImageToolResult",
    "ImageToolSettings",
    "ImageTools",
    "ToolAnswer",
    "invalid_arguments",
]

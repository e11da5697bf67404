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

import typing as _typing

from .._lazy import lazy_exports as _lazy_exports

# Each name with the module it loads from on first use: an adapter imports this package
# when it is imported, and needs the runner, the clients and httpx only once a tool is built.
_PUBLIC: dict[str, str] = {
    "EDIT_TOOL_NAME": "._names",
    "GENERATE_TOOL_NAME": "._names",
    "TOOLS": "._declared",
    "Budget": ".._budget",
    "ImageProgress": ".._progress",
    "ImageTool": "._declared",
    "ImageToolConfig": "._config",
    "ImageToolResult": "._results",
    "ImageToolSettings": "._settings",
    "ImageTools": "._runner",
    "ToolAnswer": "._results",
    "invalid_arguments": "._schemas",
}

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

# What type checkers see (they cannot read the table); a test checks both agree.
if _typing.TYPE_CHECKING:
    from .._budget import Budget as Budget
    from .._progress import ImageProgress as ImageProgress
    from ._config import ImageToolConfig as ImageToolConfig
    from ._declared import TOOLS as TOOLS
    from ._declared import ImageTool as ImageTool
    from ._names import EDIT_TOOL_NAME as EDIT_TOOL_NAME
    from ._names import GENERATE_TOOL_NAME as GENERATE_TOOL_NAME
    from ._results import ImageToolResult as ImageToolResult
    from ._results import ToolAnswer as ToolAnswer
    from ._runner import ImageTools as ImageTools
    from ._schemas import invalid_arguments as invalid_arguments
    from ._settings import ImageToolSettings as ImageToolSettings
else:
    __getattr__, __dir__ = _lazy_exports(__name__, _PUBLIC, globals())

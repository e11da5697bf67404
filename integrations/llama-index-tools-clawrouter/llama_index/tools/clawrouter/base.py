"""ClawRouter image tools for LlamaIndex agents: ``generate_image`` and ``edit_image``.

Everything the LLM sees or may touch (schemas, descriptions, file policy, result text)
comes from ``clawrouter_images.agent_tools``; this module only translates it into
``FunctionTool`` terms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, model_validator
from typing_extensions import Self

from clawrouter_images.agent_tools import EDIT_TOOL_NAME, GENERATE_TOOL_NAME, ImageToolSettings

if TYPE_CHECKING:
    from clawrouter_images.agent_tools import ImageProgress, ToolAnswer

try:
    import llama_index.core.instrumentation as instrument
    from llama_index.core.base.llms.types import ImageBlock, TextBlock
    from llama_index.core.instrumentation.events import BaseEvent
    from llama_index.core.instrumentation.span import active_span_id
    from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
    from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "llama_index.tools.clawrouter needs llama-index-core; install it with: "
        "pip install llama-index-tools-clawrouter"
    ) from err

__all__ = ["ClawRouterImageToolSpec", "ImageProgressEvent"]


class ImageProgressEvent(BaseEvent):
    """Sent every few seconds while an image call is in flight (an event handler or a
    workflow's event stream sees it): which tool, which model, how long so far."""

    # Its validator is built with the first report, not at import (most calls send none).
    model_config = ConfigDict(defer_build=True)

    tool: str
    model: str
    elapsed_s: float
    message: str

    @classmethod
    def class_name(cls) -> str:
        return "ImageProgressEvent"


# llama-index-core re-exports get_dispatcher without __all__, hence the ignore.
_dispatcher = instrument.get_dispatcher(__name__)  # type: ignore[attr-defined]


def _progress() -> Callable[[ImageProgress], None]:
    # The span is read here, where the tool runs: the reports come from a timer task or
    # the progress thread, where it is not set.
    span_id = active_span_id.get()

    def report(update: ImageProgress) -> None:
        _dispatcher.event(ImageProgressEvent(span_id=span_id, **update.as_dict()))

    return report


class ClawRouterImageToolSpec(ImageToolSettings, BaseToolSpec):
    """Generate and edit images through ClawRouter, as LlamaIndex tools.

    Setup:
        ``pip install llama-index-tools-clawrouter`` and run ClawRouter
        (``npx @blockrun/clawrouter``), or ``clawrouter-images emulate`` offline.
        ClawRouter is reached at ``base_url``, else an injected client's, else
        ``CLAWROUTER_BASE_URL``, else ``BLOCKRUN_PROXY_PORT`` on 127.0.0.1, else
        ``http://127.0.0.1:8402``.

    Instantiation:
        ``ClawRouterImageToolSpec(save_dir="images/", max_cost_usd=0.20)``: the fields of
        ``ImageToolSettings`` (the same as the LangChain tools'), plus ``return_direct``
        and the two tool names.  ``edit_image`` is left out when none of the offered
        ``models`` can edit.

    Invocation:
        ``FunctionAgent(tools=spec.to_tool_list(), llm=llm)``: each tool answers with a
        ``TextBlock`` (model, size, estimated cost, a markdown image per result), plus
        an ``ImageBlock`` per image if asked; ``ToolOutput.raw_output`` is the
        ``ImageToolResult``: plain JSON data (URLs, saved paths, cost, the answer).  Errors are
        raised as ``clawrouter_images`` exceptions whose messages say what to do next;
        LlamaIndex agents hand them to the LLM as ``is_error`` outputs.
    """

    return_direct: bool = False
    """End the agent's turn with the tool's answer."""
    generate_tool_name: str = GENERATE_TOOL_NAME
    edit_tool_name: str = EDIT_TOOL_NAME
    spec_functions: list[SPEC_FUNCTION_TYPE] = Field(default_factory=list, exclude=True)
    """BaseToolSpec's list (default: each offered tool with its native async twin)."""

    @model_validator(mode="after")
    def _offer(self) -> Self:
        # Runs after ImageToolSettings._connect has checked the models.
        if "spec_functions" not in self.model_fields_set:
            self.spec_functions = [(tool.name, f"a{tool.name}") for tool in self._runner.tools]
        return self

    # -- the tool functions ---------------------------------------------------------------
    # FunctionTool passes the LLM's arguments through unchecked (and a wrong or missing
    # one would otherwise be a TypeError), so each function takes them as they come and
    # the contract checks them against the schema the LLM was shown.

    def generate_image(self, **arguments: Any) -> ToolAnswer:
        """Generate images from a text prompt."""
        return self._runner.run(self._runner.parse(GENERATE_TOOL_NAME, arguments), _progress())

    async def agenerate_image(self, **arguments: Any) -> ToolAnswer:
        """Generate images from a text prompt (on the async client)."""
        args = self._runner.parse(GENERATE_TOOL_NAME, arguments)
        return await self._runner.arun(args, _progress())

    def edit_image(self, **arguments: Any) -> ToolAnswer:
        """Edit an existing image (a URL, an allowed local file or an earlier result)."""
        return self._runner.run(self._runner.parse(EDIT_TOOL_NAME, arguments), _progress())

    async def aedit_image(self, **arguments: Any) -> ToolAnswer:
        """Edit an existing image (on the async client)."""
        return await self._runner.arun(self._runner.parse(EDIT_TOOL_NAME, arguments), _progress())

    def close(self) -> None:
        """Close the sync client this spec built (injected clients are yours to close)."""
        self._runner.close()

    async def aclose(self) -> None:
        """Close both clients this spec built."""
        await self._runner.aclose()

    # -- tools ----------------------------------------------------------------------------

    def to_tool_list(
        self,
        spec_functions: list[SPEC_FUNCTION_TYPE] | None = None,
        func_to_metadata_mapping: dict[str, ToolMetadata] | None = None,
    ) -> list[FunctionTool]:
        """One ``FunctionTool`` per spec function, with native sync and async functions.

        A plain name (``"edit_image"``) selects that tool with its async twin; metadata
        defaults to the contract's name, description and schema.
        """
        offered = {tool.name: tool for tool in self._runner.tools}
        names = {GENERATE_TOOL_NAME: self.generate_tool_name, EDIT_TOOL_NAME: self.edit_tool_name}
        mapping = func_to_metadata_mapping or {}
        tools: list[FunctionTool] = []
        for spec in spec_functions or self.spec_functions:
            sync_name, async_name = spec if isinstance(spec, tuple) else (spec, f"a{spec}")
            if sync_name not in names:
                raise ValueError(f"unknown spec function {spec!r}; choose from {sorted(names)}")
            if sync_name not in offered:
                raise ValueError(f"{sync_name}: none of the offered models can edit images")
            tool = offered[sync_name]
            metadata = (
                mapping.get(sync_name)
                or mapping.get(async_name)
                or ToolMetadata(
                    name=names[sync_name],
                    description=tool.description,
                    fn_schema=tool.schema,
                    return_direct=self.return_direct,
                )
            )
            tools.append(
                _AnswerTool.from_defaults(
                    fn=getattr(self, sync_name),
                    async_fn=getattr(self, async_name),
                    tool_metadata=metadata,
                )
            )
        return tools


class _AnswerTool(FunctionTool):
    """A FunctionTool whose functions answer a ``ToolAnswer``: the LLM is shown its text and
    images, while ``raw_output`` is its JSON artifact.

    ``call`` and ``acall`` are FunctionTool's public entry points; translating what they
    return, rather than building a ToolOutput in a callback, keeps ``raw_input`` as
    FunctionTool recorded it.
    """

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        return _shown(super().call(*args, **kwargs))

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        return _shown(await super().acall(*args, **kwargs))


def _shown(output: ToolOutput) -> ToolOutput:
    answer: ToolAnswer = output.raw_output
    # Bytes, never the URL: a hosted LLM cannot reach ClawRouter's localhost URLs.
    output.blocks = answer.parts(
        lambda text: TextBlock(text=text),
        lambda data, mime_type: ImageBlock(image=data.encode("ascii"), image_mimetype=mime_type),
    )
    output.raw_output = answer.artifact
    return output

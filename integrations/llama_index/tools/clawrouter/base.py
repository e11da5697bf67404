"""ClawRouter image tools for LlamaIndex agents: ``generate_image`` and ``edit_image``.

Everything the LLM sees or may touch (schemas, descriptions, file policy, result text)
comes from ``clawrouter_images.agent_tools``; this module only translates it into
``FunctionTool`` terms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from pydantic import ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from typing_extensions import Self

from clawrouter_images import InvalidRequestError
from clawrouter_images.agent_tools import (
    EDIT_TOOL_NAME,
    GENERATE_TOOL_NAME,
    EditArgs,
    GenerateArgs,
    ImageProgress,
    ImageToolResult,
    ImageToolSettings,
    ToolAnswer,
    edit_description,
    edit_schema,
    generate_description,
    generate_schema,
    invalid_arguments,
)

try:
    import llama_index.core.instrumentation as instrument
    from llama_index.core.base.llms.types import ContentBlock, ImageBlock, TextBlock
    from llama_index.core.instrumentation.events import BaseEvent
    from llama_index.core.instrumentation.span import active_span_id
    from llama_index.core.tools import FunctionTool, ToolMetadata
    from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "llama_index.tools.clawrouter needs llama-index-core; install it with: "
        'pip install "clawrouter-images[llama-index]"'
    ) from err

__all__ = ["ClawRouterImageToolSpec", "ImageProgressEvent"]

ArgsT = TypeVar("ArgsT", GenerateArgs, EditArgs)

# Each sync tool function and its native async twin, so that no tool ever falls back
# to running the blocking client in an executor (or the async one in a new loop).
_ASYNC_TWINS = {"generate_image": "agenerate_image", "edit_image": "aedit_image"}


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
        ``pip install "clawrouter-images[llama-index]"`` and run ClawRouter
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

    _metadata: dict[str, ToolMetadata] = PrivateAttr()

    # Cached properties rather than PrivateAttr: read on every call (see ImageToolConfig).

    @functools.cached_property
    def _generate_schema(self) -> type[GenerateArgs]:
        return generate_schema(self)

    @functools.cached_property
    def _edit_schema(self) -> type[EditArgs] | None:
        if not self.offers_editing():
            return None
        return edit_schema(self)

    @model_validator(mode="after")
    def _describe_for_the_llm(self) -> Self:
        # Runs after ImageToolSettings._connect has checked the models.
        self._metadata = {
            "generate_image": ToolMetadata(
                name=self.generate_tool_name,
                description=generate_description(self),
                fn_schema=self._generate_schema,
                return_direct=self.return_direct,
            )
        }
        if self._edit_schema is not None:
            self._metadata["edit_image"] = ToolMetadata(
                name=self.edit_tool_name,
                description=edit_description(self),
                fn_schema=self._edit_schema,
                return_direct=self.return_direct,
            )
        if "spec_functions" not in self.model_fields_set:
            self.spec_functions = [
                (name, _ASYNC_TWINS[name]) for name in _ASYNC_TWINS if name in self._metadata
            ]
        return self

    # -- the tool functions ---------------------------------------------------------------
    # FunctionTool passes the LLM's arguments through unchecked (and a wrong or missing
    # one would otherwise be a TypeError), so each function takes them as they come and
    # validates them against the schema the LLM was shown.

    def generate_image(self, **arguments: Any) -> ImageToolResult:
        """Generate images from a text prompt."""
        args = _validated(self._generate_schema, arguments)
        return _output(self._runner.run(args, _progress()))

    async def agenerate_image(self, **arguments: Any) -> ImageToolResult:
        """Generate images from a text prompt (on the async client)."""
        args = _validated(self._generate_schema, arguments)
        return _output(await self._runner.arun(args, _progress()))

    def edit_image(self, **arguments: Any) -> ImageToolResult:
        """Edit an existing image (a URL, an allowed local file or an earlier result)."""
        args = _validated(self._checked_edit_schema(), arguments)
        return _output(self._runner.run(args, _progress()))

    async def aedit_image(self, **arguments: Any) -> ImageToolResult:
        """Edit an existing image (on the async client)."""
        args = _validated(self._checked_edit_schema(), arguments)
        return _output(await self._runner.arun(args, _progress()))

    def close(self) -> None:
        """Close the sync client this spec built (injected clients are yours to close)."""
        self._runner.close()

    async def aclose(self) -> None:
        """Close both clients this spec built."""
        await self._runner.aclose()

    def _checked_edit_schema(self) -> type[EditArgs]:
        if self._edit_schema is None:
            raise InvalidRequestError(
                f"no editing model among the configured models {self.models}; "
                "add one that can edit, such as gpt-image"
            )
        return self._edit_schema

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
        mapping = {**self._metadata, **(func_to_metadata_mapping or {})}
        tools: list[FunctionTool] = []
        for spec in spec_functions or self.spec_functions:
            sync_name, async_name = _twins(spec)
            if sync_name not in mapping and async_name not in mapping:
                raise ValueError(f"{sync_name}: none of the offered models can edit images")
            tools.append(
                _ImageFunctionTool.from_defaults(
                    fn=getattr(self, sync_name),
                    async_fn=getattr(self, async_name),
                    tool_metadata=mapping.get(sync_name) or mapping.get(async_name),
                )
            )
        return tools


class _Output(dict):  # type: ignore[type-arg]
    """The artifact (plain JSON data: what ``raw_output`` keeps and serialises), carrying
    beside its data the blocks the LLM reads."""

    blocks: list[ContentBlock]


def _output(answer: ToolAnswer) -> ImageToolResult:
    output = _Output(answer.artifact)
    # Bytes, never the URL: a hosted LLM cannot reach ClawRouter's localhost URLs.
    output.blocks = [
        TextBlock(text=answer.text),
        *(
            ImageBlock(image=image.data, image_mimetype=image.mime_type)
            for image in answer.images
            if image.data is not None
        ),
    ]
    return cast("ImageToolResult", output)


class _ImageFunctionTool(FunctionTool):
    """A FunctionTool that shows a result to the LLM as its text and images, while
    ``raw_output`` stays the JSON artifact."""

    # FunctionTool turns what the function returned into blocks here.  Doing it here,
    # rather than in a callback returning a new ToolOutput, keeps raw_input as recorded.
    def _parse_tool_output(self, raw_output: Any) -> list[ContentBlock]:
        if isinstance(raw_output, _Output):
            return raw_output.blocks
        return super()._parse_tool_output(raw_output)


def _twins(spec: SPEC_FUNCTION_TYPE) -> tuple[str, str]:
    if isinstance(spec, tuple):
        return spec
    if spec in _ASYNC_TWINS:
        return spec, _ASYNC_TWINS[spec]
    raise ValueError(f"unknown spec function {spec!r}; choose from {sorted(_ASYNC_TWINS)}")


def _validated(schema: type[ArgsT], values: dict[str, Any]) -> ArgsT:
    """The arguments checked and coerced by ``schema``, or an error the LLM can act on."""
    try:
        return schema.model_validate(values)
    except ValidationError as err:
        raise InvalidRequestError(invalid_arguments(err)) from None

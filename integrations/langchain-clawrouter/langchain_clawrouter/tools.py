"""``generate_image`` and ``edit_image`` as LangChain tools."""

# No ``from __future__ import annotations`` here: LangChain reads ``_run``'s type hints on
# every call, and string annotations are compiled again each time (~85 µs a call, measured
# by benchmarks/bench_tools.py).

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

from langchain_core.tools import BaseTool, ToolException
from langchain_core.tools.base import ArgsSchema, ToolExceptionHandlerOutput
from pydantic import ConfigDict, ValidationError, model_validator
from pydantic.v1 import ValidationError as ValidationErrorV1
from typing_extensions import Self

from clawrouter_images import ClawRouterError
from clawrouter_images.agent_tools import (
    EDIT_TOOL_NAME,
    GENERATE_TOOL_NAME,
    ImageToolSettings,
    invalid_arguments,
)

from ._results import (
    ToolContent,
    aprogress_reporter,
    as_tool_exception,
    progress_reporter,
    tool_content,
)

if TYPE_CHECKING:
    from clawrouter_images.agent_tools import ImageToolResult


class ToolOutput(NamedTuple):
    """What ``_run`` gives LangChain for ``content_and_artifact``: a 2-tuple.

    A class, not a ``tuple[...]`` alias: LangChain resolves ``_run``'s type hints on every
    call, and a nested generic return type costs ~10 µs a call to resolve.
    """

    content: ToolContent
    # A string: the artifact's module (and the URL rules behind it) loads with the first call.
    artifact: "ImageToolResult"


class _ClawRouterImageTool(ImageToolSettings, BaseTool):
    """What both tools share: configuration, the runner, results and errors."""

    # A misspelt setting (say, max_cost instead of max_cost_usd) must not be dropped silently.
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    """Built from the catalogue for the offered models unless given."""
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool | str | Callable[[ToolException], ToolExceptionHandlerOutput] | None = (
        True
    )
    handle_validation_error: (
        bool | str | Callable[[ValidationError | ValidationErrorV1], str] | None
    ) = invalid_arguments

    declared: ClassVar[str]
    """The contract's tool this class offers (its ``name`` may differ)."""

    @model_validator(mode="after")
    def _describe_for_the_llm(self) -> Self:
        # ImageToolSettings._connect, which runs first, has checked the models.
        offered = self._runner.tool(self.declared)
        if "description" not in self.model_fields_set:
            self.description = offered.description
        if self.args_schema is None:
            self.args_schema = offered.schema
        return self

    # Cached rather than a PrivateAttr: read on every call (see ImageToolConfig).
    @functools.cached_property
    def _call_schema(self) -> dict[str, Any]:
        return self._runner.tool(self.declared).schema.model_json_schema()

    @property
    def tool_call_schema(self) -> ArgsSchema:
        """What the LLM is shown: the contract's JSON schema, which keeps within OpenAI's
        strict mode and Anthropic's rules (LangChain's own copy of the model would bring
        back defaults and length limits).  The arguments are still validated in full."""
        if self.args_schema is self._runner.tool(self.declared).schema:
            return self._call_schema
        return super().tool_call_schema

    # LangChain validated the arguments against args_schema; the contract checks them again
    # (a deployer's own args_schema may let through what it refuses), which pydantic-core
    # does in about half the time model_construct takes to trust them.
    # No run_manager parameter: the tools start no child runs (progress events find the run
    # through the context), and each annotated parameter is resolved again on every call.

    # try/except rather than a context manager: one fewer generator on every call.
    def _run(self, **arguments: Any) -> ToolOutput:
        try:
            args = self._runner.parse(self.declared, arguments)
            answer = self._runner.run(args, progress_reporter(self.name))
        except ClawRouterError as err:
            raise as_tool_exception(err) from err
        return ToolOutput(tool_content(answer), answer.artifact)

    async def _arun(self, **arguments: Any) -> ToolOutput:
        try:
            args = self._runner.parse(self.declared, arguments)
            answer = await self._runner.arun(args, aprogress_reporter(self.name))
        except ClawRouterError as err:
            raise as_tool_exception(err) from err
        return ToolOutput(tool_content(answer), answer.artifact)


class ClawRouterGenerateImage(_ClawRouterImageTool):
    """Generate images from a text prompt through ClawRouter (x402-paid image models).

    Setup:
        Install ``clawrouter-images`` with the LangChain extra and run ClawRouter
        (or its offline emulator). The tool reaches ClawRouter at ``CLAWROUTER_BASE_URL``,
        else on 127.0.0.1 at ``BLOCKRUN_PROXY_PORT``, else at http://127.0.0.1:8402.

        ```bash
        pip install -U langchain-clawrouter
        npx @blockrun/clawrouter        # or: clawrouter-images emulate
        ```

    Instantiation:
        ```python
        from langchain_clawrouter import ClawRouterGenerateImage

        tool = ClawRouterGenerateImage(
            save_dir="images/",  # optional: keep the files
            max_cost_usd=0.20,  # optional: refuse pricier calls
            # models=["nano-banana", "banana-pro"], default_model="nano-banana",
            # return_image_block=True,  # also hand the images to a vision model
        )
        ```

    Invocation with args:
        ```python
        tool.invoke({"prompt": "a cyberpunk city at night", "model": "nano-banana"})
        ```

        ```python
        '1 image from google/nano-banana at 1024x1024, estimated cost $0.0525.\\n'
        '![a cyberpunk city at night](http://localhost:8402/images/1795503044964-xm1yzv09.png)\\n'
        'Saved: images/a-cyberpunk-city-at-night.png'
        ```

    Invocation with ToolCall:
        ```python
        tool.invoke(
            {
                "args": {"prompt": "a portrait of a samurai", "model": "banana-pro", "size": "1024x1792"},
                "id": "1",
                "name": tool.name,
                "type": "tool_call",
            }
        )
        ```

        ```python
        ToolMessage(
            content="1 image from google/nano-banana-pro at 1024x1792, estimated cost $0.105.\\n"
            "![a portrait of a samurai](http://localhost:8402/images/1795503062593-a9bf25bw.png)",
            name="generate_image",
            tool_call_id="1",
            artifact={"model": ..., "estimated_cost_usd": ..., "urls": [...], "saved_paths": [...], ...},
        )
        ```

        Errors come back as a ``ToolMessage`` with ``status="error"`` and a message
        saying what to do, e.g. "ClawRouter is not running at http://127.0.0.1:8402 — …".
    """

    declared = GENERATE_TOOL_NAME
    name: str = GENERATE_TOOL_NAME


class ClawRouterEditImage(_ClawRouterImageTool):
    """Edit an existing image following an instruction, through ClawRouter.

    The image may be an http(s) URL, a data URI, an earlier result's URL, or a local
    file inside ``allowed_dirs``, ``save_dir`` or ClawRouter's image directory (never
    the working directory). A path outside them, or through a symbolic link below
    them, is refused before anything is opened or sent.

    Setup:
        Install ``clawrouter-images`` with the LangChain extra and run ClawRouter
        (or its offline emulator). The tool reaches ClawRouter at ``CLAWROUTER_BASE_URL``,
        else on 127.0.0.1 at ``BLOCKRUN_PROXY_PORT``, else at http://127.0.0.1:8402.

        ```bash
        pip install -U langchain-clawrouter
        npx @blockrun/clawrouter        # or: clawrouter-images emulate
        ```

    Instantiation:
        ```python
        from langchain_clawrouter import ClawRouterEditImage

        tool = ClawRouterEditImage(
            allowed_dirs=["~/Pictures"],  # local inputs only from here
            save_dir="images/",
        )
        ```

    Invocation with args:
        ```python
        tool.invoke(
            {
                "prompt": "change the background to a beach",
                "image": "~/Pictures/me.jpg",
                "model": "gpt-image",
            }
        )
        ```

        ```python
        '1 image from openai/gpt-image-1 at 1024x1024, estimated cost $0.021.\\n'
        '![change the background to a beach](http://localhost:8402/images/1795503062593-a9bf25bw.png)\\n'
        'Saved: images/change-the-background-to-a-beach.png'
        ```

    Invocation with ToolCall:
        ```python
        tool.invoke(
            {
                "args": {
                    "prompt": "add a warm sunset background",
                    "image": "http://localhost:8402/images/1795503044964-xm1yzv09.png",
                },
                "id": "1",
                "name": tool.name,
                "type": "tool_call",
            }
        )
        ```

        ```python
        ToolMessage(
            content="1 image from openai/gpt-image-1 at 1024x1024, estimated cost $0.021.\\n"
            "![add a warm sunset background](http://localhost:8402/images/1795503062600-b0cg36cx.png)",
            name="edit_image",
            tool_call_id="1",
            artifact={"model": ..., "estimated_cost_usd": ..., "urls": [...], "saved_paths": [...], ...},
        )
        ```

        A path outside ``allowed_dirs`` comes back as a ``ToolMessage`` with
        ``status="error"`` asking for a copy inside them or a URL.
    """

    declared = EDIT_TOOL_NAME
    name: str = EDIT_TOOL_NAME

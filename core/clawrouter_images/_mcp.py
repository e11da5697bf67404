"""``generate_image`` and ``edit_image`` as a stdio MCP server (``clawrouter-images mcp``).

Built on the agent-tool contract like the LangChain and LlamaIndex adapters, so every MCP
client (Claude Desktop, Cursor, langchain-mcp-adapters, llama-index-tools-mcp, PydanticAI,
the OpenAI Agents SDK, smolagents, Google ADK) sees the same names, descriptions, file
policy, caps, budget and error messages.  The input schemas are the contract's in their open
shape (``open_schema``: optional arguments may be left out, unions as lists of types), which
each of those stacks reads as meant.  Results are a text part (model, size, estimated cost,
a markdown image per result, the saved paths), an image part per result, sized for a vision
model, and the same ``ImageToolResult`` as structured content (declared as the tools'
``outputSchema``); failures are tool errors (``isError``) carrying the contract's messages.

A call that may reach ClawRouter outlives the client that gives up on it (a timeout, a
cancellation, the session closed): it may be paid, so it runs to the end, saves its images,
counts against the budget, says so on stderr, and the next call's answer reports it.

Needs the ``[mcp]`` extra; only the command imports this module.  Both majors of the ``mcp``
SDK are served: langchain-mcp-adapters 0.3 needs ``mcp<2`` and llama-index-tools-mcp 0.6
needs ``mcp>=2``.  Both have the low-level ``Server`` and ``stdio_server``; they differ only
in how handlers are registered and how a call reports progress, which ``_server`` isolates.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from ._exceptions import ClawRouterError
from ._version import package_version
from .agent_tools import ImageProgress, ImageToolConfig, ImageTools
from .agent_tools._declared import ToolArgs
from .agent_tools._results import ToolAnswer
from .agent_tools._schemas import open_arguments

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext

__all__ = ["McpImageTools", "serve_stdio"]

SERVER_NAME = "clawrouter-images"

Report = Callable[[ImageProgress], Awaitable[None]]


class McpImageTools:
    """The contract's two tools in MCP terms: their listing, and a call's result.

    One runner serves every call, so ``budget_usd`` is one budget for the server's life.
    ``edit_image`` is left out when none of the offered models can edit, as in LlamaIndex.
    ``log`` takes the lines said on stderr (a call the client gave up on).
    """

    def __init__(
        self,
        config: ImageToolConfig,
        *,
        base_url: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.runner = ImageTools(config, base_url=base_url)
        self._log = log or _stderr
        # What calls the client gave up on came to, told with the next answer.
        self._unheard: list[str] = []
        # Models are built from their wire spelling: mcp 2.x renamed the fields
        # (inputSchema -> input_schema) but still reads the wire names, which 1.x has.
        self.tools = [
            types.Tool.model_validate(
                {
                    "name": tool.name,
                    "description": tool.description,
                    "inputSchema": tool.open_schema,
                    "outputSchema": tool.output_schema,
                }
            )
            for tool in self.runner.tools
        ]

    async def call(
        self, name: str, arguments: dict[str, Any] | None, report: Report | None
    ) -> types.CallToolResult:
        """Run one tool call; every refusal or failure the LLM can act on is a tool error."""
        listed = [tool.name for tool in self.tools]
        if name not in listed:
            return self._told(_error(f"unknown tool {name!r}; this server has {', '.join(listed)}"))
        try:
            schema = self.runner.tool(name).schema
            args = self.runner.parse(name, open_arguments(schema, arguments or {}))
        except ClawRouterError as err:
            return self._told(_error(err.message))
        # From here the call may reach ClawRouter, and be paid: a client that stops waiting
        # (a timeout, a cancellation, the session closed) must not cancel it.
        with anyio.CancelScope(shield=True):
            result = await self._run(args, _quiet(report))
        try:
            await anyio.lowlevel.checkpoint_if_cancelled()
        except anyio.get_cancelled_exc_class():
            self._gave_up(name, result)
            raise
        return self._told(result)

    async def _run(self, args: ToolArgs, report: Report | None) -> types.CallToolResult:
        try:
            answer = await self.runner.arun(args, report)
        except ClawRouterError as err:
            # The same text LangChain's ToolException carries; after a payment it lists
            # the paid answer's URLs (paid_result_error), so the images are not lost.
            return _error(err.message)
        return _answer(answer)

    def _gave_up(self, name: str, result: types.CallToolResult) -> None:
        """Say on stderr what a call the client gave up on came to, and keep it for the
        next answer."""
        wire = result.model_dump(mode="json", by_alias=True)  # the same names in 1.x and 2.x
        text = wire["content"][0].get("text", "")
        outcome = "failed" if wire["isError"] else "finished"
        note = f"A {name} call that the client stopped waiting for {outcome}: {text}"
        self._unheard.append(note)
        self._log("clawrouter-images mcp: " + " ".join(note.split("\n")))

    def _told(self, result: types.CallToolResult) -> types.CallToolResult:
        """``result`` with what earlier calls the client gave up on came to, once."""
        if not self._unheard:
            return result
        notes, self._unheard = self._unheard, []
        wire = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        first = wire["content"][0]
        first["text"] = "\n".join([first["text"], "", *notes])
        return types.CallToolResult.model_validate(wire)

    async def aclose(self) -> None:
        await self.runner.aclose()


def _stderr(line: str) -> None:
    # stdout carries the protocol; a desktop app keeps stderr as the server's log.
    print(line, file=sys.stderr, flush=True)


def _quiet(report: Report | None) -> Report | None:
    """``report`` that never fails the call: after the client gave up, progress has nowhere
    to go (the session may be closed), and the paid call must still finish."""
    if report is None:
        return None
    sent = report

    async def quiet(update: ImageProgress) -> None:
        # Progress is a courtesy to a client still there.
        with contextlib.suppress(Exception):
            await sent(update)

    return quiet


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def _image(data: str, mime_type: str) -> dict[str, str]:
    return {"type": "image", "data": data, "mimeType": mime_type}


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult.model_validate({"content": [_text(message)], "isError": True})


def _answer(answer: ToolAnswer) -> types.CallToolResult:
    """Text and image parts, and the same result as structured content (``outputSchema``)."""
    return types.CallToolResult.model_validate(
        {
            "content": answer.parts(_text, _image),
            "structuredContent": dict(answer.artifact),
            "isError": False,
        }
    )


def _server(tools: McpImageTools) -> Server[Any]:
    """The low-level server with the two handlers, registered as the installed SDK wants."""
    if hasattr(Server, "call_tool"):  # mcp 1.x: decorators, the request in a context variable
        return _server_v1(tools)
    return _server_v2(tools)


def _server_v2(tools: McpImageTools) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools.tools)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        report: Report | None = None
        if ctx.meta and ctx.meta.get("progress_token") is not None:

            async def report(update: ImageProgress) -> None:
                await ctx.session.report_progress(update.elapsed_s, None, update.message)

        return await tools.call(params.name, params.arguments, report)

    return Server(
        SERVER_NAME,
        version=package_version(),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _server_v1(tools: McpImageTools) -> Server[Any]:
    # Typed against mcp 2.x, which has none of these decorators.
    server: Any = Server(SERVER_NAME, version=package_version())

    @server.list_tools()  # type: ignore[untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return tools.tools

    # The arguments are validated by the contract's schema, whose messages say more.
    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        ctx = server.request_context
        token = ctx.meta.progressToken if ctx.meta else None
        report: Report | None = None
        if token is not None:

            async def report(update: ImageProgress) -> None:
                await ctx.session.send_progress_notification(
                    token,
                    update.elapsed_s,
                    None,
                    update.message,
                    related_request_id=ctx.request_id,
                )

        return await tools.call(name, arguments, report)

    return server  # type: ignore[no-any-return]


async def _serve(tools: McpImageTools) -> None:
    server = _server(tools)
    try:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        await tools.aclose()


def serve_stdio(config: ImageToolConfig, *, base_url: str | None = None) -> None:
    """Serve the two tools over stdin/stdout until the client closes stdin.

    The configuration is checked (models, Pillow for the image parts) before anything is
    served, so a bad one fails as one line on stderr.
    """
    tools = McpImageTools(config, base_url=base_url)
    anyio.run(_serve, tools)

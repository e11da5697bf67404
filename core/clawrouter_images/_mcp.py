"""``generate_image`` and ``edit_image`` as a stdio MCP server (``clawrouter-images mcp``).

Built on the agent-tool contract like the LangChain and LlamaIndex adapters, so every MCP
client (Claude Desktop, Cursor, langchain-mcp-adapters, llama-index-tools-mcp, the OpenAI
Agents SDK) sees the same names, descriptions, input schemas, file policy, caps, budget and
error messages.  Results are a text part (model, size, estimated cost, a markdown image per
result, the saved paths) and an image part per result, sized for a vision model; failures
are tool errors (``isError``) carrying the contract's messages.

Needs the ``[mcp]`` extra; only the command imports this module.  Both majors of the ``mcp``
SDK are served: langchain-mcp-adapters 0.3 needs ``mcp<2`` and llama-index-tools-mcp 0.6
needs ``mcp>=2``.  Both have the low-level ``Server`` and ``stdio_server``; they differ only
in how handlers are registered and how a call reports progress, which ``_server`` isolates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from ._exceptions import ClawRouterError
from ._version import package_version
from .agent_tools import ImageProgress, ImageToolConfig, ImageTools

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext

__all__ = ["McpImageTools", "serve_stdio"]

SERVER_NAME = "clawrouter-images"

Report = Callable[[ImageProgress], Awaitable[None]]


class McpImageTools:
    """The contract's two tools in MCP terms: their listing, and a call's result.

    One runner serves every call, so ``budget_usd`` is one budget for the server's life.
    ``edit_image`` is left out when none of the offered models can edit, as in LlamaIndex.
    """

    def __init__(self, config: ImageToolConfig, *, base_url: str | None = None) -> None:
        self.runner = ImageTools(config, base_url=base_url)
        # Models are built from their wire spelling: mcp 2.x renamed the fields
        # (inputSchema -> input_schema) but still reads the wire names, which 1.x has.
        self.tools = [
            types.Tool.model_validate(
                {
                    "name": tool.name,
                    "description": tool.description,
                    "inputSchema": tool.schema.model_json_schema(),
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
            return _error(f"unknown tool {name!r}; this server has {', '.join(listed)}")
        try:
            answer = await self.runner.arun(self.runner.parse(name, arguments or {}), report)
        except ClawRouterError as err:
            # The same text LangChain's ToolException carries; after a payment it lists
            # the paid answer's URLs (paid_result_error), so the images are not lost.
            return _error(err.message)
        return _result(answer.parts(_text, _image), error=False)

    async def aclose(self) -> None:
        await self.runner.aclose()


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def _image(data: str, mime_type: str) -> dict[str, str]:
    return {"type": "image", "data": data, "mimeType": mime_type}


def _error(message: str) -> types.CallToolResult:
    return _result([_text(message)], error=True)


def _result(content: list[dict[str, str]], *, error: bool) -> types.CallToolResult:
    return types.CallToolResult.model_validate({"content": content, "isError": error})


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

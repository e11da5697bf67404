"""The server through the frameworks' own MCP adapters: langchain-mcp-adapters (mcp 1.x)
and llama-index-tools-mcp (mcp 2.x).  Each test runs where its adapter installs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from tests.support.mcp_server import server_command

from clawrouter_images.emulator import Emulator


def _posts(emulator: Emulator) -> list[str]:
    return [entry.path for entry in emulator.ledger if entry.method == "POST"]


async def test_langchain_mcp_adapters_tools_generate_and_refuse_like_the_native_tools(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """A LangChain agent's MCP tools: text and image blocks; a refusal is an error
    ToolMessage with the text the native LangChain tool gives."""
    adapters = pytest.importorskip("langchain_mcp_adapters.client")
    langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
    emulator, base_url = served
    command, args = server_command(
        "--base-url", base_url, "--save-dir", str(tmp_path / "out"), "--max-cost-usd", "0.1"
    )
    client = adapters.MultiServerMCPClient(
        {"images": {"command": command, "args": args, "transport": "stdio"}}
    )
    tools = {tool.name: tool for tool in await client.get_tools()}
    assert sorted(tools) == ["edit_image", "generate_image"]
    generate = tools["generate_image"]

    def call(arguments: dict[str, Any]) -> dict[str, Any]:
        return {"args": arguments, "id": "1", "name": generate.name, "type": "tool_call"}

    made = await generate.ainvoke(call({"prompt": "a red fox"}))
    assert made.status == "success"
    kinds = [block["type"] for block in made.content]
    assert kinds == ["text", "image"]
    assert "Saved: " in made.content[0]["text"]

    over = {"prompt": "a fox", "model": "banana-pro", "n": 2}
    refused = await generate.ainvoke(call(over))
    native = langchain_clawrouter.ClawRouterGenerateImage(base_url=base_url, max_cost_usd=0.1)
    expected = await native.ainvoke(call(over))
    assert refused.status == expected.status == "error"
    assert [block["text"] for block in refused.content] == [expected.content]
    assert _posts(emulator) == ["/v1/images/generations"]


async def test_llama_index_tools_mcp_tools_generate_and_refuse_like_the_native_spec(
    served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """A LlamaIndex agent's MCP tools: the image made and saved; a path outside the
    allowed folders refused with the native spec's message, unpaid."""
    tools_mcp = pytest.importorskip("llama_index.tools.mcp")
    llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
    emulator, base_url = served
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    command, args = server_command(
        "--base-url", base_url, "--save-dir", str(allowed), "--allowed-dir", str(allowed)
    )
    client = tools_mcp.BasicMCPClient(command, args=args)
    tools = {t.metadata.name: t for t in await tools_mcp.McpToolSpec(client).to_tool_list_async()}
    assert sorted(tools) == ["edit_image", "generate_image"]

    made = await tools["generate_image"].acall(prompt="a red fox")
    assert not made.raw_output.is_error
    assert [block.type for block in made.raw_output.content] == ["text", "image"]
    assert len(list(allowed.iterdir())) == 1

    refused = await tools["edit_image"].acall(prompt="brighter", image=str(secret))
    assert refused.raw_output.is_error
    native = llama_clawrouter.ClawRouterImageToolSpec(base_url=base_url, allowed_dirs=[allowed])
    with pytest.raises(Exception) as expected:  # noqa: PT011 - the native spec's own error
        await native.aedit_image(prompt="brighter", image=str(secret))
    assert refused.raw_output.content[0].text == str(expected.value)
    assert _posts(emulator) == ["/v1/images/generations"]

"""Both adapters close the clients they built, and never the ones they were given."""

from __future__ import annotations

import pytest

from clawrouter_images import AsyncImageClient, ImageClient

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")


def _is_closed(client: ImageClient | AsyncImageClient) -> bool:
    return client.is_closed


async def test_langchain_toolkit_closes_what_it_built() -> None:
    """aclose() closes the toolkit's own clients; its tools share them."""
    toolkit = langchain_clawrouter.ClawRouterImageToolkit(base_url="http://127.0.0.1:9")
    tools = toolkit.get_tools()
    assert all(tool.client is toolkit.client for tool in tools)
    await toolkit.aclose()
    assert _is_closed(toolkit.client)
    assert _is_closed(toolkit.async_client)


async def test_langchain_tool_leaves_injected_clients_open() -> None:
    """Clients passed in stay open when the tool is closed: they are the caller's."""
    with ImageClient("http://127.0.0.1:9") as client:
        async with AsyncImageClient("http://127.0.0.1:9") as async_client:
            tool = langchain_clawrouter.ClawRouterGenerateImage(
                client=client, async_client=async_client
            )
            await tool.aclose()
            assert not _is_closed(client)
            assert not _is_closed(async_client)


async def test_llama_index_spec_closes_only_what_it_built() -> None:
    """The tool spec closes a client it built and leaves an injected one open."""
    with ImageClient("http://127.0.0.1:9") as client:
        spec = llama_clawrouter.ClawRouterImageToolSpec(client=client)
        await spec.aclose()
        assert not _is_closed(client)
        assert _is_closed(spec.async_client)
        assert spec.async_client.base_url == "http://127.0.0.1:9"

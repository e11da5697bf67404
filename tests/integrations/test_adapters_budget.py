"""One budget for everything an agent can spend: shared by the tools built together and by
their sync and async paths, with calls in flight reserved; refusals reach the LLM."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from clawrouter_images import AsyncImageClient, ImageClient, estimate_cost
from clawrouter_images.agent_tools import Budget

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
tool_call = pytest.importorskip("langchain_core.messages.tool").tool_call

BANANA = estimate_cost("nano-banana")  # 0.0525
GPT_IMAGE = estimate_cost("gpt-image")  # 0.021


def _langchain_tools(fake: FakeClawRouter, **settings: Any) -> dict[str, Any]:
    toolkit = langchain_clawrouter.ClawRouterImageToolkit(
        client=fake.client(), async_client=fake.async_client(), **settings
    )
    return {"toolkit": toolkit, **{tool.name: tool for tool in toolkit.get_tools()}}


def _ask(tool: Any, **args: Any) -> Any:
    return tool.invoke(tool_call(name=tool.name, args=args, id="c1"))


async def _aask(tool: Any, **args: Any) -> Any:
    return await tool.ainvoke(tool_call(name=tool.name, args=args, id="c1"))


async def test_langchain_tools_share_one_budget_across_sync_and_async(
    fake: FakeClawRouter,
) -> None:
    """Generate (sync) then edit (async) spend from one budget; the next call is refused."""
    tools = _langchain_tools(fake, budget_usd=BANANA + GPT_IMAGE + 0.01)
    assert _ask(tools["generate_image"], prompt="a fox").status == "success"
    edited = await _aask(
        tools["edit_image"], prompt="snow", image="http://localhost:8402/images/1.png"
    )
    assert edited.status == "success"
    spent = BANANA + GPT_IMAGE
    for holder in (tools["toolkit"], tools["generate_image"], tools["edit_image"]):
        assert holder.spent_usd == pytest.approx(spent)
    posts = len(fake.posts)
    refused = await _aask(tools["generate_image"], prompt="another fox")
    assert refused.status == "error"
    assert refused.content == (
        "budget of $0.0835 reached: $0.0735 spent, $0.01 left; "
        "1 x google/nano-banana at 1024x1024 would cost $0.0525. "
        "Choose a cheaper model or size, or fewer images, if one fits what is left; otherwise "
        "tell the user the image budget is used up and do not call the image tools again."
    )
    assert len(fake.posts) == posts  # nothing sent, nothing paid


async def test_llamaindex_spec_shares_one_budget_across_sync_and_async(
    fake: FakeClawRouter,
) -> None:
    """The spec's tools, called sync and async, spend from its one budget."""
    calling = pytest.importorskip("llama_index.core.tools.calling")
    spec = llama_clawrouter.ClawRouterImageToolSpec(
        client=fake.client(), async_client=fake.async_client(), budget_usd=2 * BANANA
    )
    tool = {t.metadata.name: t for t in spec.to_tool_list()}["generate_image"]
    assert not calling.call_tool(tool, {"prompt": "one"}).is_error
    assert not (await calling.acall_tool(tool, {"prompt": "two"})).is_error
    assert spec.spent_usd == pytest.approx(2 * BANANA)
    refused = await calling.acall_tool(tool, {"prompt": "three"})
    assert refused.is_error
    assert "budget of $0.105 reached" in refused.content
    assert len(fake.posts) == 2


def test_one_budget_object_spans_both_frameworks(fake: FakeClawRouter) -> None:
    """A Budget handed to a LangChain tool and a LlamaIndex spec is one wallet cap for both."""
    budget = Budget(BANANA * 1.5)
    lc = langchain_clawrouter.ClawRouterGenerateImage(client=fake.client(), budget=budget)
    spec = llama_clawrouter.ClawRouterImageToolSpec(client=fake.client(), budget=budget)
    assert _ask(lc, prompt="a fox").status == "success"
    tool = {t.metadata.name: t for t in spec.to_tool_list()}["generate_image"]
    with pytest.raises(Exception, match="budget of"):
        tool.call(prompt="a second fox")
    assert budget.spent_usd == lc.spent_usd == spec.spent_usd == pytest.approx(BANANA)


async def test_calls_in_flight_are_reserved() -> None:
    """While one call is in flight, a second that would not fit beside it is refused."""
    release = asyncio.Event()
    entered = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        entered.set()
        await release.wait()
        url = "http://localhost:8402/images/1-a.png"
        return httpx.Response(200, json={"created": 1, "data": [{"url": url}]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async_client = AsyncImageClient("http://127.0.0.1:8402", http_client=http, max_retries=0)
    with ImageClient("http://127.0.0.1:8402") as client:
        tool = langchain_clawrouter.ClawRouterGenerateImage(
            client=client, async_client=async_client, budget_usd=BANANA * 1.5
        )
        first = asyncio.ensure_future(_aask(tool, prompt="first"))
        await entered.wait()
        second = await _aask(tool, prompt="second")
        assert second.status == "error"
        assert "$0.0525 held by calls in flight" in second.content
        release.set()
        assert (await first).status == "success"
    await http.aclose()
    assert tool.spent_usd == pytest.approx(BANANA)


def test_an_unpaid_failure_releases_its_reservation(fake: FakeClawRouter) -> None:
    """A 402 (payment refused: not paid) leaves the budget as it was."""
    fake.fail(402, {"error": "Payment verification failed"})
    tools = _langchain_tools(fake, budget_usd=BANANA)
    assert _ask(tools["generate_image"], prompt="a fox").status == "error"
    assert tools["toolkit"].spent_usd == 0


def test_budget_usd_and_a_shared_budget_must_agree(fake: FakeClawRouter) -> None:
    """Two different limits for one set of tools are refused at construction."""
    with pytest.raises(ValueError, match="disagrees"):
        langchain_clawrouter.ClawRouterGenerateImage(
            client=fake.client(), budget=Budget(1.0), budget_usd=2.0
        )


def test_a_cap_refusal_tells_the_llm_what_it_can_do(fake: FakeClawRouter) -> None:
    """Over max_cost_usd, the LLM reads choices it has (not "raise max_cost_usd"), unsent."""
    from langchain_clawrouter import ClawRouterGenerateImage

    tool = ClawRouterGenerateImage(client=fake.client(), max_cost_usd=0.01)
    message = tool.invoke(
        {"name": "generate_image", "args": {"prompt": "a fox"}, "id": "1", "type": "tool_call"}
    ).content
    assert "choose a cheaper model or size, fewer images, or ask the user" in message
    assert "raise" not in message
    assert fake.posts == []

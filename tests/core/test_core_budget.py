"""Money: per-call and per-client limits refuse before sending; spent_usd counts what may be paid."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, NamedTuple

import httpx
import pytest

from clawrouter_images import (
    APIConnectionError,
    AsyncImageClient,
    BudgetExceededError,
    ClawRouterError,
    GenerationTimeoutError,
    InvalidRequestError,
    PaymentRequiredError,
    estimate_cost,
)

if TYPE_CHECKING:
    from tests.conftest import LoadTranscript
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

GENERATIONS = "/v1/images/generations"
RESULT = "http://localhost:8402/images/1795503044964-xm1yzv09.png"
BANANA = 0.05 * 1.05  # one google/nano-banana image, margin included


@pytest.fixture
def answering(server: Server) -> Server:
    server.on("POST", GENERATIONS, server.images(RESULT))
    return server


# -- limits --------------------------------------------------------------------------------------


async def test_max_cost_per_call(twin: Twin, answering: Server) -> None:
    """A call whose estimate is over its max_cost_usd is refused before sending."""
    with pytest.raises(BudgetExceededError, match="max_cost_usd") as info:
        await twin.generate("a red fox", max_cost_usd=0.05)
    assert "$0.0525" in str(info.value)
    assert answering.requests == []


async def test_max_cost_counts_n(twin: Twin, answering: Server) -> None:
    """max_cost_usd applies to all n images of a call together."""
    await twin.generate("a red fox", n=1, max_cost_usd=0.1)
    with pytest.raises(BudgetExceededError):
        await twin.generate("a red fox", n=2, max_cost_usd=0.1)
    assert len(answering.sent()) == 1


async def test_client_max_cost(make_twin: MakeTwin, answering: Server) -> None:
    """A client-wide max_cost_usd refuses dear calls and lets cheap ones through."""
    api = make_twin(answering, max_cost_usd=0.03)
    with pytest.raises(BudgetExceededError):
        await api.generate("a red fox", model="nano-banana")
    await api.generate("a red fox", model="gpt-image-1")
    assert [answering.body(i)["model"] for i in range(len(answering.sent()))] == [
        "openai/gpt-image-1"
    ]


async def test_call_max_cost_overrides_client(make_twin: MakeTwin, answering: Server) -> None:
    """A per-call max_cost_usd replaces the client's for that call."""
    api = make_twin(answering, max_cost_usd=0.03)
    await api.generate("a red fox", model="nano-banana", max_cost_usd=0.06)
    assert len(answering.sent()) == 1


async def test_budget_refuses_once_spent(make_twin: MakeTwin, answering: Server) -> None:
    """budget_usd refuses the call that would go over what is left, before sending it."""
    api = make_twin(answering, budget_usd=0.1)
    await api.generate("a red fox")
    with pytest.raises(BudgetExceededError, match="budget_usd") as info:
        await api.generate("a red fox")
    assert "budget of $0.10 reached: $0.0525 spent, $0.0475 left" in str(info.value)
    assert len(answering.sent()) == 1
    assert api.spent_usd == pytest.approx(BANANA)


async def test_budget_allows_exact_fit(make_twin: MakeTwin, answering: Server) -> None:
    """A budget of exactly two images pays for exactly two images."""
    api = make_twin(answering, budget_usd=2 * BANANA)
    await api.generate("a red fox")
    await api.generate("a red fox")
    with pytest.raises(BudgetExceededError):
        await api.generate("a red fox")
    assert len(answering.sent()) == 2


async def test_zero_budget_refuses_everything(make_twin: MakeTwin, answering: Server) -> None:
    """budget_usd=0 refuses every paid call."""
    api = make_twin(answering, budget_usd=0.0)
    with pytest.raises(BudgetExceededError):
        await api.generate("a red fox", model="cogview")
    assert answering.requests == []


async def test_budget_applies_to_edits(make_twin: MakeTwin, answering: Server, png: bytes) -> None:
    """Edits are priced and refused like generations."""
    answering.on("POST", "/v1/images/image2image", answering.images(RESULT))
    api = make_twin(answering, budget_usd=0.01)
    with pytest.raises(BudgetExceededError):
        await api.edit("make it blue", png)
    assert answering.requests == []


def test_budget_error_is_not_a_validation_error() -> None:
    """A budget refusal is its own error, not an InvalidRequestError a caller may treat as a bug."""
    assert not issubclass(BudgetExceededError, InvalidRequestError)


async def test_concurrent_calls_do_not_overspend(server: Server) -> None:
    """Calls in flight together on one AsyncImageClient cannot spend more than its budget."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    async with httpx.AsyncClient(transport=server.transport()) as http:
        client = AsyncImageClient(budget_usd=BANANA * 1.5, http_client=http)
        outcomes = await asyncio.gather(
            *(client.generate("a red fox") for _ in range(3)), return_exceptions=True
        )
    refused = [o for o in outcomes if isinstance(o, BudgetExceededError)]
    assert len(refused) == 2
    assert len(server.sent()) == 1
    assert client.spent_usd == pytest.approx(BANANA)


# -- spent_usd -----------------------------------------------------------------------------------


async def test_success_is_counted(twin: Twin, answering: Server) -> None:
    """A successful call adds its estimate to spent_usd."""
    await twin.generate("a red fox", model="gpt-image-1", size="1536x1024", n=2)
    assert twin.spent_usd == pytest.approx(estimate_cost("gpt-image-1", "1536x1024", 2))
    await twin.generate("a red fox")
    assert twin.spent_usd == pytest.approx(estimate_cost("gpt-image-1", "1536x1024", 2) + BANANA)


async def test_payment_rejected_is_not_counted(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """A 402 (payment refused) adds nothing to spent_usd."""
    server.on("POST", GENERATIONS, server.replay(transcript("gen-payment-rejected-402")))
    with pytest.raises(PaymentRequiredError):
        await twin.generate("a red fox")
    assert twin.spent_usd == 0


async def test_gateway_timeout_is_counted_as_possibly_paid(twin: Twin, server: Server) -> None:
    """A 504 counts toward spent_usd: the job may have been paid."""
    body = {"error": "Image generation timed out", "details": "Upstream did not complete"}
    server.on("POST", GENERATIONS, server.json(body, 504))
    with pytest.raises(GenerationTimeoutError):
        await twin.generate("a red fox")
    assert twin.spent_usd == pytest.approx(BANANA)


async def test_dropped_connection_is_counted(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """A request ClawRouter dropped without an answer counts toward spent_usd."""
    server.on(
        "POST", GENERATIONS, server.replay(transcript("gen-gpt-image-2-poll-never-completes"))
    )
    with pytest.raises(GenerationTimeoutError):
        await twin.generate("a slow square", model="gpt-image-2")
    assert twin.spent_usd == pytest.approx(estimate_cost("gpt-image-2"))


async def test_unusable_answer_is_counted(twin: Twin, server: Server) -> None:
    """A 200 without images counts toward spent_usd (it came after payment)."""
    server.on("POST", GENERATIONS, server.json({"created": 1, "data": []}))
    with pytest.raises(ClawRouterError):
        await twin.generate("a red fox")
    assert twin.spent_usd == pytest.approx(BANANA)


async def test_refused_connection_is_not_counted(twin: Twin, server: Server) -> None:
    """A request that never reached ClawRouter adds nothing to spent_usd."""
    server.on("POST", GENERATIONS, httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError):
        await twin.generate("a red fox")
    assert twin.spent_usd == 0


async def test_possibly_paid_failure_uses_up_budget(make_twin: MakeTwin, server: Server) -> None:
    """After a possibly paid 500, the budget has less left for the next call."""
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "Internal server error"}, 500),
        server.images(RESULT),
    )
    api = make_twin(server, budget_usd=BANANA * 1.5)
    with pytest.raises(ClawRouterError):
        await api.generate("a red fox")
    with pytest.raises(BudgetExceededError):
        await api.generate("a red fox")
    assert len(server.sent()) == 1


async def test_refusals_release_the_reservation(make_twin: MakeTwin, server: Server) -> None:
    """A call that was not paid leaves the whole budget available for the next one."""
    server.on("POST", GENERATIONS, server.json({"error": "busy"}, 402), server.images(RESULT))
    api = make_twin(server, budget_usd=BANANA)
    with pytest.raises(PaymentRequiredError):
        await api.generate("a red fox")
    await api.generate("a red fox")
    assert api.spent_usd == pytest.approx(BANANA)


def test_a_budget_refusal_reads_as_sentences() -> None:
    """After a full stop comes a capital letter, with the default advice too."""
    import re

    from clawrouter_images._budget import Budget

    class Call(NamedTuple):
        what: str
        estimate: float

    budget = Budget(0.01)
    with pytest.raises(BudgetExceededError) as caught:
        budget.check(Call("1 x google/nano-banana at 1024x1024", 0.0525))
    assert re.findall(r"\. ([a-z])", caught.value.message) == []
    assert "Raise budget_usd" in caught.value.message

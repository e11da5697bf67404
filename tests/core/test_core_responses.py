"""Successful answers: recorded bodies parsed into ImageResponse / Health, and safe reprs."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from clawrouter_images import (
    ImageData,
    ImageResponse,
    NotFoundError,
    ResponseValidationError,
)

if TYPE_CHECKING:
    from tests.conftest import LoadTranscript
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import Twin

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"

SUCCESSES = [
    "gen-alias-nano-banana",
    "gen-b64-json-passthrough",
    "gen-dead-url-kept",
    "gen-extra-fields-passthrough",
    "gen-gpt-image-1-url",
    "gen-gpt-image-2-slow-completed",
    "gen-nano-banana-n1",
    "gen-nano-banana-n2",
    "gen-no-model",
    "i2i-data-uri-passthrough",
    "i2i-http-url",
    "i2i-image-list-not-converted",
    "i2i-local-abs-path-png",
    "i2i-mask-path",
    "i2i-nano-banana-datauri-result",
]


@pytest.mark.parametrize("name", SUCCESSES)
async def test_recorded_success_is_parsed(
    twin: Twin, server: Server, transcript: LoadTranscript, png: bytes, name: str
) -> None:
    """Each recorded 200 becomes an ImageResponse with its images, extras and what was asked."""
    record = transcript(name)
    recorded = record["response"]["json"]
    editing = name.startswith("i2i-")
    server.on("POST", IMAGE2IMAGE if editing else GENERATIONS, server.replay(record))
    n = len(recorded["data"])
    if editing:
        response = await twin.edit("make it blue", png, model="gpt-image-1", n=n)
    else:
        response = await twin.generate("a red fox", model="nano-banana", n=n)
    assert response.created == recorded["created"]
    assert [item.url for item in response.data] == [item.get("url") for item in recorded["data"]]
    assert [item.b64_json for item in response.data] == [
        item.get("b64_json") for item in recorded["data"]
    ]
    assert [item.revised_prompt for item in response.data] == [
        item.get("revised_prompt") for item in recorded["data"]
    ]
    # What was asked for wins over a "model" field the upstream echoed.
    assert response.model == ("openai/gpt-image-1" if editing else "google/nano-banana")
    assert response.size == "1024x1024"
    assert response.prompt == ("make it blue" if editing else "a red fox")
    assert response.estimated_cost_usd > 0


async def test_extra_server_fields_are_kept(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """Fields the client does not model (id, status of a slow job) stay on the response."""
    server.on("POST", GENERATIONS, server.replay(transcript("gen-gpt-image-2-slow-completed")))
    response = await twin.generate("a slow blue square", model="gpt-image-2")
    extras = response.model_extra or {}
    assert extras["id"] == "imgjob_0018"
    assert extras["status"] == "completed"


async def test_extra_item_fields_are_kept(twin: Twin, server: Server) -> None:
    """Unknown fields of a result item (e.g. source_url) are kept on the ImageData."""
    item = {"url": "https://cdn.example.test/a.png", "source_url": "https://up.example.test/a.png"}
    server.on("POST", GENERATIONS, server.json({"created": 1, "data": [item]}))
    response = await twin.generate("a red fox")
    assert (response.data[0].model_extra or {})["source_url"] == "https://up.example.test/a.png"


async def test_urls_lists_only_urls(twin: Twin, server: Server, png: bytes) -> None:
    """ImageResponse.urls lists the URL results and skips b64_json ones."""
    data = [
        {"url": "http://localhost:8402/images/a.png"},
        {"b64_json": base64.b64encode(png).decode()},
    ]
    server.on("POST", GENERATIONS, server.json({"created": 1, "data": data}))
    response = await twin.generate("a red fox", n=2)
    assert response.urls == ["http://localhost:8402/images/a.png"]


# -- health --------------------------------------------------------------------------------------


async def test_health(twin: Twin, server: Server, transcript: LoadTranscript) -> None:
    """health() parses the recorded /health body: status, wallet and payment chain."""
    record = transcript("health")
    server.on("GET", "/health", server.replay(record))
    health = await twin.health()
    assert health.ok
    assert health.wallet == record["response"]["json"]["wallet"]
    assert health.payment_chain == "base"
    assert health.balance is None
    assert str(server.sent("GET")[0].url) == "http://127.0.0.1:8402/health"


async def test_health_full(twin: Twin, server: Server, transcript: LoadTranscript) -> None:
    """health(full=True) asks /health?full=true and keeps the balance error it reports."""
    server.on("GET", "/health?full=true", server.replay(transcript("health-full")))
    health = await twin.health(full=True)
    assert health.ok
    assert health.balance_error == "Could not fetch balance"
    assert str(server.sent("GET")[0].url) == "http://127.0.0.1:8402/health?full=true"


async def test_health_full_with_balance(twin: Twin, server: Server) -> None:
    """health(full=True) exposes balance, isLow and isEmpty under Python names."""
    body = {
        "status": "ok",
        "wallet": "0xabc",
        "paymentChain": "solana",
        "solana": "So1anaAddr",
        "balance": "$0.25",
        "isLow": True,
        "isEmpty": False,
    }
    server.on("GET", "/health?full=true", server.json(body))
    health = await twin.health(full=True)
    assert (health.balance, health.is_low, health.is_empty) == ("$0.25", True, False)
    assert health.payment_chain == "solana"
    assert (health.model_extra or {})["solana"] == "So1anaAddr"


async def test_health_not_ok(twin: Twin, server: Server) -> None:
    """health().ok is False when ClawRouter reports another status."""
    server.on("GET", "/health", server.json({"status": "degraded"}))
    assert not (await twin.health()).ok


async def test_health_of_something_else(twin: Twin, server: Server) -> None:
    """A /health answer that is not ClawRouter's asks whether the base URL is right."""
    server.on("GET", "/health", server.text("<html>router admin</html>"))
    with pytest.raises(ResponseValidationError, match="is the base URL right"):
        await twin.health()


async def test_health_404(twin: Twin, server: Server, transcript: LoadTranscript) -> None:
    """A 404 on /health (not ClawRouter) raises NotFoundError pointing at the base URL."""
    server.on("GET", "/health", server.replay(transcript("wrong-unknown-root")))
    with pytest.raises(NotFoundError, match="check the base URL"):
        await twin.health()


# -- reprs ---------------------------------------------------------------------------------------


def test_image_data_repr_never_holds_the_payload(png: bytes) -> None:
    """repr() of an ImageData with a megabyte of base64 shows only a short prefix."""
    payload = base64.b64encode(png + bytes(1024 * 1024)).decode()
    item = ImageData(b64_json=payload, url="data:image/png;base64," + payload)
    text = repr(item)
    assert payload not in text
    assert payload[:1000] not in text
    assert len(text) < 400
    assert str(len(payload)) in text  # says how long it was


def test_image_response_repr_never_holds_the_payload(png: bytes) -> None:
    """repr() and str() of an ImageResponse do not carry whole base64 images either."""
    payload = base64.b64encode(png + bytes(1024 * 1024)).decode()
    response = ImageResponse(data=[ImageData(b64_json=payload)])
    assert payload[:1000] not in repr(response)
    assert payload[:1000] not in str(response)


def test_short_values_are_shown_whole() -> None:
    """repr() of an ImageData with a short URL shows the URL whole."""
    url = "http://localhost:8402/images/1795503044964-xm1yzv09.png"
    assert url in repr(ImageData(url=url))

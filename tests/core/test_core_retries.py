"""Retries: only what cannot have been paid is sent again, and the waits are the right ones.

The clients' ``_sleep`` is replaced by a recorder (see ``Twin``), so nothing sleeps.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from clawrouter_images import (
    APIConnectionError,
    APITimeoutError,
    GenerationTimeoutError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
    UpstreamError,
)

if TYPE_CHECKING:
    from tests.conftest import LoadTranscript
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
RESULT = "http://localhost:8402/images/1795503044964-xm1yzv09.png"


def _backoff_bounds(attempt: int) -> tuple[float, float]:
    """0.5 s doubled per attempt, with +/-25 % jitter."""
    base = 0.5 * 2**attempt
    return base * 0.75, base * 1.25


async def test_503_with_retry_after_is_retried(twin: Twin, server: Server) -> None:
    """A 503 with Retry-After: 2 is sent again after exactly 2 s, and the retry's answer wins."""
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "busy"}, 503, {"retry-after": "2"}),
        server.images(RESULT),
    )
    response = await twin.generate("a red fox")
    assert response.urls == [RESULT]
    assert twin.sleeps == [2.0]
    posts = server.sent()
    assert len(posts) == 2
    assert posts[0].content == posts[1].content


async def test_429_without_retry_after_backs_off(twin: Twin, server: Server) -> None:
    """A 429 without Retry-After (ClawRouter drops the upstream's) is retried after a back-off."""
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "Rate limit exceeded", "retry_after": 7}, 429),
        server.images(RESULT),
    )
    response = await twin.generate("a red fox")
    assert response.urls == [RESULT]
    assert len(twin.sleeps) == 1
    low, high = _backoff_bounds(0)
    assert low <= twin.sleeps[0] <= high


async def test_429_retries_are_bounded(
    make_twin: MakeTwin, server: Server, transcript: LoadTranscript
) -> None:
    """The recorded 429 is retried max_retries times with growing back-off, then raised."""
    server.on("POST", GENERATIONS, server.replay(transcript("gen-upstream-429-retry-after")))
    api = make_twin(server, max_retries=3)
    with pytest.raises(RateLimitError):
        await api.generate("a red fox")
    assert len(server.sent()) == 4
    assert len(api.sleeps) == 3
    for attempt, delay in enumerate(api.sleeps):
        low, high = _backoff_bounds(attempt)
        assert low <= delay <= high
    assert api.spent_usd == 0


async def test_backoff_is_capped(make_twin: MakeTwin, server: Server) -> None:
    """Back-off never waits more than 8 s (plus jitter), however many retries are allowed."""
    server.on("POST", GENERATIONS, server.json({"error": "busy"}, 503))
    api = make_twin(server, max_retries=8)
    with pytest.raises(ServiceUnavailableError):
        await api.generate("a red fox")
    assert len(api.sleeps) == 8
    assert max(api.sleeps) <= 8.0 * 1.25
    assert api.sleeps[-1] >= 8.0 * 0.75


async def test_retry_after_over_limit_gives_up(twin: Twin, server: Server) -> None:
    """A Retry-After of an hour is not waited for: the 503 is raised at once."""
    server.on("POST", GENERATIONS, server.json({"error": "busy"}, 503, {"retry-after": "3600"}))
    with pytest.raises(ServiceUnavailableError):
        await twin.generate("a red fox")
    assert twin.sleeps == []
    assert len(server.sent()) == 1


async def test_retry_after_http_date(twin: Twin, server: Server) -> None:
    """A Retry-After given as an HTTP date is waited until that date."""
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "busy"}, 503, {"retry-after": when}),
        server.images(RESULT),
    )
    await twin.generate("a red fox")
    assert len(twin.sleeps) == 1
    assert 20 <= twin.sleeps[0] <= 31


async def test_retry_after_in_the_past_retries_now(twin: Twin, server: Server) -> None:
    """A Retry-After date already past means retry with no wait."""
    when = email.utils.formatdate(time.time() - 600, usegmt=True)
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "busy"}, 503, {"retry-after": when}),
        server.images(RESULT),
    )
    await twin.generate("a red fox")
    assert twin.sleeps == [0.0]


@pytest.mark.parametrize("value", ["soon", "", "Tue, 99 Foo 2026"])
async def test_unreadable_retry_after_backs_off(twin: Twin, server: Server, value: str) -> None:
    """A Retry-After that is neither seconds nor a date falls back to the usual back-off."""
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "busy"}, 503, {"retry-after": value}),
        server.images(RESULT),
    )
    response = await twin.generate("a red fox")
    assert response.urls == [RESULT]
    low, high = _backoff_bounds(0)
    assert len(twin.sleeps) == 1
    assert low <= twin.sleeps[0] <= high


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, InternalServerError), (502, UpstreamError), (504, GenerationTimeoutError)],
)
async def test_possibly_paid_statuses_are_never_resent(
    twin: Twin, server: Server, status: int, error: type[Exception]
) -> None:
    """500, 502 and 504 may follow a paid request: raised at once, never sent again."""
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "failed"}, status, {"retry-after": "1"}),
        server.images(RESULT),
    )
    with pytest.raises(error):
        await twin.generate("a red fox")
    assert len(server.sent()) == 1
    assert twin.sleeps == []


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ReadTimeout("timed out"), APITimeoutError),
        (httpx.WriteTimeout("timed out"), APITimeoutError),
        (httpx.ReadError("reset"), APIConnectionError),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            GenerationTimeoutError,
        ),
    ],
)
async def test_failures_after_sending_are_never_resent(
    twin: Twin, server: Server, failure: Exception, error: type[Exception]
) -> None:
    """A timeout or a connection lost after sending is raised at once as possibly paid, never re-sent."""
    server.on("POST", GENERATIONS, failure, server.images(RESULT))
    with pytest.raises(error) as info:
        await twin.generate("a red fox")
    assert getattr(info.value, "may_have_been_paid", False) is True
    assert len(server.sent()) == 1
    assert twin.sleeps == []


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("[Errno 111] Connection refused"), httpx.ConnectTimeout("slow")]
)
async def test_connection_refused_is_retried(
    twin: Twin, server: Server, failure: Exception
) -> None:
    """A request that never reached ClawRouter is retried with back-off and then succeeds."""
    server.on("POST", GENERATIONS, failure, server.images(RESULT))
    response = await twin.generate("a red fox")
    assert response.urls == [RESULT]
    assert len(server.sent()) == 2
    low, high = _backoff_bounds(0)
    assert len(twin.sleeps) == 1
    assert low <= twin.sleeps[0] <= high


async def test_connection_refused_retries_then_gives_up(twin: Twin, server: Server) -> None:
    """Connection refused on every try ends, after max_retries (2) retries, as not running."""
    server.on("POST", GENERATIONS, httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(
        APIConnectionError, match=re.escape("ClawRouter is not running at http://127.0.0.1:8402")
    ):
        await twin.generate("a red fox")
    assert len(server.sent()) == 3
    assert len(twin.sleeps) == 2
    for attempt, delay in enumerate(twin.sleeps):
        low, high = _backoff_bounds(attempt)
        assert low <= delay <= high
    assert twin.spent_usd == 0


async def test_max_retries_zero_disables_retries(make_twin: MakeTwin, server: Server) -> None:
    """With max_retries=0 a 503 and a refused connection are raised at once."""
    server.on("POST", GENERATIONS, server.json({"error": "busy"}, 503, {"retry-after": "1"}))
    api = make_twin(server, max_retries=0)
    with pytest.raises(ServiceUnavailableError):
        await api.generate("a red fox")
    assert len(server.sent()) == 1
    assert api.sleeps == []


async def test_streamed_edit_body_is_resent_whole(twin: Twin, server: Server, png: bytes) -> None:
    """A retried edit sends the same complete streamed body again."""
    server.on(
        "POST",
        IMAGE2IMAGE,
        server.json({"error": "busy"}, 503, {"retry-after": "0"}),
        server.images(RESULT),
    )
    await twin.edit("make it blue", [png, png])
    first, second = server.sent()
    assert first.content == second.content
    assert int(second.headers["content-length"]) == len(second.content)
    assert twin.sleeps == [0.0]


async def test_health_retries_a_broken_read(twin: Twin, server: Server) -> None:
    """health() is a GET with nothing to pay, so even a broken read is retried."""
    server.on(
        "GET",
        "/health",
        httpx.ReadError("reset"),
        server.json({"status": "ok", "wallet": "0xabc", "paymentChain": "base"}),
    )
    health = await twin.health()
    assert health.ok
    assert len(server.sent("GET")) == 2
    assert len(twin.sleeps) == 1


async def test_health_gives_up_after_max_retries(twin: Twin, server: Server) -> None:
    """health() with ClawRouter down ends in the not-running error after its retries."""
    server.on("GET", "/health", httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError, match="not running"):
        await twin.health()
    assert len(server.sent("GET")) == 3

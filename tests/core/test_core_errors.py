"""Answers and failures turned into errors: status classes, recorded transcripts, transport errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest

from clawrouter_images import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ClawRouterError,
    GenerationTimeoutError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ResponseValidationError,
    ServiceUnavailableError,
    UpstreamError,
)

if TYPE_CHECKING:
    from tests.conftest import LoadTranscript
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"

# A body that is none of ClawRouter's recorded refusals: only 402, 429 and 503 are refusals
# whatever their words; any other status may have been paid.
STATUS_CLASSES: list[tuple[int, type[APIStatusError], bool]] = [
    (400, BadRequestError, True),
    (402, PaymentRequiredError, False),
    (404, NotFoundError, True),
    (429, RateLimitError, False),
    (500, InternalServerError, True),
    (502, UpstreamError, True),
    (503, ServiceUnavailableError, False),
    (504, GenerationTimeoutError, True),
]


# -- every status of the API, with its details ---------------------------------------------------


@pytest.mark.parametrize(("status", "cls", "paid"), STATUS_CLASSES)
async def test_status_maps_to_class(
    make_twin: MakeTwin, server: Server, status: int, cls: type[APIStatusError], paid: bool
) -> None:
    """Each error status raises its own class carrying status_code, body, details and paid flag."""
    body = {"error": "Something went wrong", "details": f"detail for {status}"}
    server.on("POST", GENERATIONS, server.json(body, status))
    api = make_twin(server, max_retries=0)
    with pytest.raises(cls) as info:
        await api.generate("a red fox")
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.details == f"detail for {status}"
    assert err.body == body
    assert err.may_have_been_paid is paid
    assert err.response is not None
    assert err.response.status_code == status
    assert f"ClawRouter answered {status}" in str(err)
    assert f"detail for {status}" in str(err)


async def test_unlisted_status_is_a_plain_status_error(make_twin: MakeTwin, server: Server) -> None:
    """A status with no class of its own (418) raises APIStatusError itself."""
    server.on("POST", GENERATIONS, server.json({"error": "teapot"}, 418))
    api = make_twin(server, max_retries=0)
    with pytest.raises(APIStatusError) as info:
        await api.generate("a red fox")
    assert type(info.value) is APIStatusError
    assert info.value.status_code == 418


async def test_safety_net_error_shape(twin: Twin, server: Server) -> None:
    """ClawRouter's safety-net body {"error": {"message", "type"}} gives its message."""
    body = {"error": {"message": "Proxy error: boom", "type": "proxy_error"}}
    server.on("POST", GENERATIONS, server.json(body, 500))
    with pytest.raises(InternalServerError, match="Proxy error: boom") as info:
        await twin.generate("a red fox")
    assert info.value.body == body
    assert info.value.details is None


async def test_structured_details_are_kept_as_json(twin: Twin, server: Server) -> None:
    """A details value that is not a string is kept as its JSON text."""
    server.on("POST", GENERATIONS, server.json({"error": "bad", "details": {"field": "n"}}, 400))
    with pytest.raises(BadRequestError) as info:
        await twin.generate("a red fox")
    assert info.value.details == '{"field": "n"}'


async def test_huge_error_body_is_not_quoted_whole(twin: Twin, server: Server) -> None:
    """An error message quotes at most a few hundred characters of a huge body."""
    server.on("POST", GENERATIONS, server.json({"error": "bad", "details": "x" * 100_000}, 400))
    with pytest.raises(BadRequestError) as info:
        await twin.generate("a red fox")
    assert len(str(info.value)) < 1000
    assert info.value.details == "x" * 100_000


async def test_empty_error_body(twin: Twin, server: Server) -> None:
    """An error with an empty body still says which status came back."""
    server.on("POST", GENERATIONS, server.content(b"", 500))
    with pytest.raises(InternalServerError, match="500") as info:
        await twin.generate("a red fox")
    assert "empty body" in str(info.value)


# -- the recorded transcripts, replayed ----------------------------------------------------------

# name -> (exception class, status_code, details, text the message must hold)
TRANSCRIPT_ERRORS: dict[str, tuple[type[ClawRouterError], int | None, str | None, str]] = {
    "gen-402-missing-header": (
        UpstreamError,
        502,
        "Failed to parse payment requirements: Invalid payment required response",
        "update ClawRouter",
    ),
    "gen-402-solana-only": (UpstreamError, 502, None, "CLAWROUTER_PAYMENT_CHAIN"),
    "gen-dall-e-3-delisted-400": (BadRequestError, 400, None, "try openai/gpt-image-1"),
    "gen-gpt-image-2-poll-500": (InternalServerError, 500, None, "may have been paid"),
    "gen-gpt-image-2-poll-failed": (
        UpstreamError,
        502,
        "content_policy_violation",
        "may have been paid",
    ),
    "gen-gpt-image-2-poll-nonjson": (
        UpstreamError,
        502,
        "Non-JSON poll response (200): <html>gateway hiccup</html>",
        "may have been paid",
    ),
    "gen-gpt-image-2-poll-never-completes": (
        GenerationTimeoutError,
        504,
        None,
        "without an answer",
    ),
    "gen-invalid-json": (BadRequestError, 400, None, "the request itself was refused"),
    "gen-malformed-402": (
        UpstreamError,
        502,
        "Failed to parse payment requirements: Invalid payment required header",
        "update ClawRouter",
    ),
    "gen-non-json-200": (ResponseValidationError, None, None, "not JSON"),
    "gen-payment-rejected-402": (PaymentRequiredError, 402, None, "fund the ClawRouter wallet"),
    "gen-upstream-400-after-payment": (
        BadRequestError,
        400,
        "fake upstream: size not supported",
        "may have been paid",
    ),
    "gen-upstream-429-retry-after": (RateLimitError, 429, None, "rate limiting"),
    "gen-upstream-500": (
        InternalServerError,
        500,
        "fake upstream: simulated failure",
        "may have been paid",
    ),
    "gen-upstream-unreachable": (UpstreamError, 502, "fetch failed", "could not reach"),
    "i2i-directory-400": (
        BadRequestError,
        400,
        "EISDIR: illegal operation on a directory, read",
        "pass the image itself",
    ),
    "i2i-gpt-image-2-202-stub": (ResponseValidationError, None, None, "unfinished job"),
    "i2i-invalid-json-400": (
        BadRequestError,
        400,
        "Unexpected end of JSON input",
        "the request itself was refused",
    ),
    "i2i-malformed-402": (UpstreamError, 502, None, "update ClawRouter"),
    "i2i-mask-missing-400": (
        BadRequestError,
        400,
        "Image file not found: /home/user/pics/nomask.png",
        "pass the image itself",
    ),
    "i2i-missing-file-400": (
        BadRequestError,
        400,
        "Image file not found: /home/user/pics/nope.png",
        "pass the image itself",
    ),
    "i2i-no-image-field": (
        BadRequestError,
        400,
        "fake upstream: image is required",
        "may have been paid",
    ),
    "i2i-payment-rejected-402": (PaymentRequiredError, 402, None, "/health?full=true"),
    "i2i-relative-path": (
        BadRequestError,
        400,
        "Image file not found: pics/cat.png",
        "pass the image itself",
    ),
    "i2i-upstream-500": (InternalServerError, 500, None, "may have been paid"),
    "i2i-upstream-unreachable": (UpstreamError, 502, "fetch failed", "could not reach"),
    "i2i-url-404-400": (
        BadRequestError,
        400,
        "Failed to download image from http://127.0.0.1:18080/files/missing.png: HTTP 404",
        "pass the image itself",
    ),
    "i2i-url-unreachable-400": (BadRequestError, 400, "fetch failed", "pass the image itself"),
    "wrong-edits": (UpstreamError, 502, None, "has no path or query"),
    "wrong-edits-multipart": (UpstreamError, 502, None, "has no path or query"),
    "wrong-gen-get": (UpstreamError, 502, None, "has no path or query"),
    "wrong-gen-query-string": (UpstreamError, 502, None, "has no path or query"),
    "wrong-gen-trailing-slash": (UpstreamError, 502, None, "has no path or query"),
    "wrong-no-v1-prefix": (NotFoundError, 404, None, "check the base URL"),
    "wrong-unknown-root": (NotFoundError, 404, None, "check the base URL"),
}


# Recorded before any payment, but answers the client cannot tell from paid ones, so it says
# "may have been paid": an upstream 400 on the unpaid try, in the wrapper ClawRouter also
# relays after a paid retry; "fetch failed", which the paid retry can fail with as well.
INDISTINGUISHABLE_FROM_PAID = {
    "i2i-no-image-field",
    "gen-upstream-unreachable",
    "i2i-upstream-unreachable",
}


def _route(name: str) -> str:
    return IMAGE2IMAGE if name.startswith("i2i-") else GENERATIONS


def _paid_in_recording(record: dict[str, object]) -> bool:
    """Whether the upstream took a payment while the transcript was recorded: ClawRouter
    sent one, and the upstream did not refuse it with a 402."""
    forwarded = record.get("forwarded_upstream") or []
    assert isinstance(forwarded, list)
    return any(
        {"payment-signature", "x-payment"} & set(entry.get("header_names", []))
        and (entry.get("fake_reply") or {}).get("status") != 402
        for entry in forwarded
    )


async def _call(api: Twin, name: str, png: bytes) -> None:
    if name.startswith("i2i-"):
        await api.edit("make it blue", png)
    else:
        await api.generate("a red fox")


@pytest.mark.parametrize("name", sorted(TRANSCRIPT_ERRORS))
async def test_transcript_error(
    make_twin: MakeTwin,
    server: Server,
    transcript: LoadTranscript,
    png: bytes,
    name: str,
) -> None:
    """A recorded error answer of the real ClawRouter raises its class with an actionable message."""
    record = transcript(name)
    cls, status, details, hint = TRANSCRIPT_ERRORS[name]
    server.on("POST", _route(name), server.replay(record))
    api = make_twin(server)
    with pytest.raises(ClawRouterError) as info:
        await _call(api, name, png)
    err = info.value
    assert type(err) is cls
    assert hint in str(err)
    if isinstance(err, APIStatusError):
        assert err.status_code == status
        recorded = record["response"]
        if recorded["status"] is not None:
            assert err.body == recorded.get("json", recorded.get("text"))
            if isinstance(recorded.get("json"), dict):
                assert err.details == recorded["json"].get("details")
        if details is not None:
            assert err.details == details
    # What the real server paid for is reported as possibly paid; what it refused before
    # paying is not, unless it cannot be told apart from a paid answer.
    paid = _paid_in_recording(record) or name in INDISTINGUISHABLE_FROM_PAID
    assert err.may_have_been_paid is paid
    assert ("may have been paid" in str(err)) is paid
    # Nothing that may have been paid is ever re-sent; 429 may be retried.
    if name != "gen-upstream-429-retry-after":
        assert len(server.sent()) == 1


def test_every_recorded_error_is_replayed(
    transcript_names: list[str], transcript: LoadTranscript
) -> None:
    """Every recorded error answer of an image route (or a wrong route) has a replay case."""
    missing = []
    for name in transcript_names:
        if not name.startswith(("gen-", "i2i-", "wrong-")):
            continue
        status = transcript(name)["response"]["status"]
        if (status is None or status >= 400) and name not in TRANSCRIPT_ERRORS:
            missing.append(name)
    assert missing == []


async def test_payment_rejected_points_at_wallet_health(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """A 402 names the wallet check URL under the client's own base URL and is not paid."""
    server.on("POST", GENERATIONS, server.replay(transcript("gen-payment-rejected-402")))
    with pytest.raises(PaymentRequiredError) as info:
        await twin.generate("a red fox")
    assert "http://127.0.0.1:8402/health?full=true" in str(info.value)
    assert "insufficient_funds" in (info.value.details or "")
    assert info.value.may_have_been_paid is False


async def test_delisted_answer_names_the_model_asked(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """A 400 'Delisted' answer names the model asked for and suggests the catalogue's choice."""
    server.on("POST", GENERATIONS, server.replay(transcript("gen-dall-e-3-delisted-400")))
    with pytest.raises(BadRequestError) as info:
        await twin.generate("a red fox", model="cogview")
    # No successor catalogued for cogview: the default generation model.
    assert "zai/cogview-4 was delisted upstream; try google/nano-banana" in str(info.value)
    with pytest.raises(BadRequestError) as info:
        await twin.generate("a red fox", model="nano-banana")
    # Never the model that was just refused.
    assert "google/nano-banana was delisted upstream; try openai/gpt-image-1" in str(info.value)


async def test_fallback_chain_answer_blames_the_base_url(
    make_twin: MakeTwin, server: Server, transcript: LoadTranscript
) -> None:
    """'All models in fallback chain failed' says the configured base URL is wrong."""
    server.on("POST", "/proxy/v1/images/generations", server.replay(transcript("wrong-edits")))
    api = make_twin(server, base_url="http://127.0.0.1:8402/proxy")
    with pytest.raises(UpstreamError) as info:
        await api.generate("a red fox")
    assert "base URL http://127.0.0.1:8402/proxy" in str(info.value)
    assert info.value.body == "All models in fallback chain failed"


# -- 200 answers with no usable image ------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"created": 1, "data": []}, "no usable image"),
        ({"created": 1}, "no usable image"),
        ([{"url": "http://localhost:8402/images/x.png"}], "not a JSON object"),
        ({"created": 1, "data": [{"revised_prompt": "only text"}]}, "no usable image"),
        ({"created": 1, "data": "http://localhost:8402/images/x.png"}, "no usable image"),
        ({"id": "job_1", "status": "in_progress"}, "unfinished job"),
    ],
)
async def test_unusable_200_raises_response_validation_error(
    twin: Twin, server: Server, answer: object, words: str
) -> None:
    """A 200 whose body holds no usable image raises ResponseValidationError, possibly paid."""
    server.on("POST", GENERATIONS, server.json(answer))
    with pytest.raises(ResponseValidationError, match=words) as info:
        await twin.generate("a red fox")
    assert info.value.may_have_been_paid is True
    assert info.value.body == answer
    assert len(server.sent()) == 1


async def test_job_stub_names_the_job(
    twin: Twin, server: Server, transcript: LoadTranscript, png: bytes
) -> None:
    """A job stub in place of images reports its job id, as possibly paid."""
    server.on("POST", IMAGE2IMAGE, server.replay(transcript("i2i-gpt-image-2-202-stub")))
    with pytest.raises(ResponseValidationError) as info:
        await twin.edit("make it blue", png)
    assert "imgjob_0132" in str(info.value)
    assert info.value.may_have_been_paid is True


@pytest.mark.parametrize("name", ["gpt-image-2", "openai/gpt-image-2", "dalle"])
async def test_gpt_image_2_edit_is_refused_before_paying(
    twin: Twin, server: Server, png: bytes, name: str
) -> None:
    """ClawRouter cannot complete a gpt-image-2 edit: it is refused unsent, naming editors."""
    with pytest.raises(InvalidRequestError) as info:
        await twin.edit("make it blue", png, model=name)
    assert "openai/gpt-image-1" in str(info.value)
    assert "unfinished job" in str(info.value)
    assert server.sent() == []


async def test_non_json_200_keeps_the_text(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """A non-JSON 200 keeps the raw text as the error's body."""
    server.on("POST", GENERATIONS, server.replay(transcript("gen-non-json-200")))
    with pytest.raises(ResponseValidationError) as info:
        await twin.generate("a red fox")
    assert info.value.body == "upstream says hello (this is not JSON)"


# -- transport failures --------------------------------------------------------------------------


async def test_connection_refused_says_clawrouter_is_not_running(
    twin: Twin, server: Server
) -> None:
    """Connection refused ends in APIConnectionError telling how to start ClawRouter."""
    server.on("POST", GENERATIONS, httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(APIConnectionError) as info:
        await twin.generate("a red fox")
    message = str(info.value)
    assert "ClawRouter is not running at http://127.0.0.1:8402" in message
    assert "npx @blockrun/clawrouter" in message
    assert type(info.value) is APIConnectionError
    assert info.value.may_have_been_paid is False
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_not_running_message_uses_configured_base_url(
    make_twin: MakeTwin, server: Server
) -> None:
    """The not-running message names the base URL the client was configured with."""
    server.on("POST", GENERATIONS, httpx.ConnectError("refused"))
    api = make_twin(server, base_url="http://127.0.0.1:9999", max_retries=0)
    with pytest.raises(APIConnectionError, match=re.escape("not running at http://127.0.0.1:9999")):
        await api.generate("a red fox")


async def test_dropped_connection_is_a_generation_timeout(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """A connection closed with no response (ClawRouter's 300 s drop) is a possibly-paid 504."""
    server.on(
        "POST", GENERATIONS, server.replay(transcript("gen-gpt-image-2-poll-never-completes"))
    )
    with pytest.raises(GenerationTimeoutError) as info:
        await twin.generate("a slow blue square", model="gpt-image-2")
    assert info.value.status_code == 504
    assert info.value.may_have_been_paid is True
    assert "not retried" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert len(server.sent()) == 1
    assert twin.sleeps == []


async def test_read_timeout_is_a_possibly_paid_timeout(twin: Twin, server: Server) -> None:
    """A read timeout raises APITimeoutError naming the wait, marked possibly paid."""
    server.on("POST", GENERATIONS, httpx.ReadTimeout("timed out"))
    with pytest.raises(APITimeoutError) as info:
        await twin.generate("a red fox", timeout=12.0)
    assert "within 12 s" in str(info.value)
    assert "timeout=" in str(info.value)
    assert info.value.may_have_been_paid is True
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


async def test_connection_broken_mid_request(twin: Twin, server: Server) -> None:
    """A connection that breaks mid-request is an APIConnectionError marked possibly paid."""
    server.on("POST", GENERATIONS, httpx.ReadError("connection reset by peer"))
    with pytest.raises(APIConnectionError) as info:
        await twin.generate("a red fox")
    assert type(info.value) is APIConnectionError
    assert info.value.may_have_been_paid is True
    assert "not retried" in str(info.value)


async def test_pool_timeout_says_too_many_calls(twin: Twin, server: Server) -> None:
    """Waiting too long for a pooled connection says too many calls are in flight."""
    server.on("POST", GENERATIONS, httpx.PoolTimeout("no connection available"))
    with pytest.raises(APIConnectionError, match="too many calls in flight") as info:
        await twin.generate("a red fox")
    assert info.value.may_have_been_paid is False

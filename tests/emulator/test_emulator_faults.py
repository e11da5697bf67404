"""Scripted faults: every kind answers what ClawRouter passes on, and is matched and used up as told."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from clawrouter_images.emulator import FAULT_KINDS, Emulator, Fault

if TYPE_CHECKING:
    from tests.emulator.conftest import Call, Raw

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
REQUEST = {"model": "google/nano-banana", "prompt": "a cat", "size": "1024x1024"}
LOCAL_URL = re.compile(r"^http://localhost:8402/images/\d{13}-[0-9a-z]{8}\.png$")
# How ClawRouter's own image2image refusals begin (clawrouter-api.md section 4, and V8's
# JSON.parse messages): a 400 saying one of these never reached the upstream.
CLAWROUTER_OWN_DETAILS = (
    "Image file not found: ",
    "Failed to download ",
    "fetch failed",
    "EISDIR: ",
    "Unexpected ",
    "Expected ",
    "Cannot ",
)

# kind -> (status, JSON body or None to skip, paid); None status means no response at all.
EXPECTED: dict[str, tuple[int | None, Any, bool]] = {
    "payment_rejected": (
        402,
        {
            "error": "Payment verification failed",
            "details": 'Verification failed: {"isValid": false, "invalidReason": '
            '"insufficient_funds", "invalidMessage": "insufficient balance: 251 < 52500", '
            '"payer": "0xdB00079cad3e665853Bf766eFe26F4C38cdbdCDA"}',
        },
        False,
    ),
    "delisted": (400, {"error": "Delisted: google/nano-banana is no longer available"}, False),
    # The upstream's 400 on the unpaid try, and on the paid retry: the same wrapper.
    "upstream_refused": (
        400,
        {"error": "Invalid request", "details": "upstream: request refused before payment"},
        False,
    ),
    "invalid_request": (
        400,
        {"error": "Invalid request", "details": "upstream: size not supported"},
        True,
    ),
    "rate_limited": (429, {"error": "Rate limit exceeded"}, False),
    "server_error": (500, {"error": "Internal server error", "details": "simulated failure"}, True),
    "generation_failed": (
        502,
        {"error": "Image generation failed", "details": "content_policy_violation"},
        True,
    ),
    "upstream_unreachable": (
        502,
        {"error": "Image generation failed", "details": "fetch failed"},
        False,
    ),
    "bad_payment_challenge": (
        502,
        {
            "error": "Image generation failed",
            "details": "Failed to parse payment requirements: Invalid payment required header",
        },
        False,
    ),
    "service_unavailable": (503, {"error": "Service temporarily unavailable"}, False),
    "timeout": (504, None, True),
    "slow": (200, None, True),
    "drop": (None, None, True),
    "drop_mid_body": (200, None, True),
    "malformed_json": (200, None, True),
    "empty_data": (200, None, True),
    "b64_json": (200, None, True),
    "remote_url": (200, None, True),
    "dead_url": (200, None, True),
    "job_stub": (200, None, True),
}


async def _generate(call: Call, emu: Emulator, **extra: Any) -> Raw:
    return await call(emu, "POST", GENERATIONS, json_body={**REQUEST, **extra})


def test_every_kind_has_an_expectation() -> None:
    """The table below covers every fault kind there is."""
    assert set(EXPECTED) == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_each_fault_answers_its_status(call: Call, emu: Emulator, kind: Any) -> None:
    """Each kind gives its status and body, and the ledger's paid flag follows the real flow."""
    status, body, paid = EXPECTED[kind]
    emu.add_fault(kind)
    raw = await _generate(call, emu)
    assert raw.status == status
    if body is not None:
        assert raw.json() == body
        assert raw.headers["content-type"] == "application/json"
    entry = emu.ledger[-1]
    assert (entry.fault, entry.paid, entry.status) == (kind, paid, status)


@pytest.mark.parametrize(
    "kind", ["generation_failed", "upstream_unreachable", "bad_payment_challenge"]
)
async def test_image2image_failures_say_editing(call: Call, emu: Emulator, kind: Any) -> None:
    """On image2image ClawRouter's 502s read ``Image editing failed``."""
    emu.add_fault(kind)
    body = {"prompt": "x", "image": "~/pics/cat.png"}
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body=body)
    assert (raw.status, raw.json()["error"]) == (502, "Image editing failed")


async def test_payment_rejection_quotes_the_price(call: Call, emu: Emulator) -> None:
    """The 402 asks for the catalogue price of the request, in micro-USDC."""
    emu.add_fault("payment_rejected")
    raw = await _generate(call, emu, n=2)
    assert "insufficient balance: 251 < 105000" in raw.json()["details"]


async def test_timeout_names_a_job(call: Call, emu: Emulator) -> None:
    """504 is ClawRouter's poll-deadline answer, naming the job."""
    emu.add_fault("timeout")
    raw = await _generate(call, emu)
    assert raw.json()["error"] == "Image generation timed out"
    assert re.fullmatch(
        r"Upstream did not complete within 5 minutes \(job id=imgjob_\d+\)\. "
        r"No payment has been settled\.",
        raw.json()["details"],
    )


async def test_dropped_connections_raise_httpx_error(emu: Emulator) -> None:
    """In-process, a drop reaches an httpx client as ``RemoteProtocolError``."""
    import httpx

    emu.add_fault("drop")
    async with emu.async_client() as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await client.post(GENERATIONS, json=REQUEST)


async def test_mid_body_drops_send_half_the_body(call: Call, emu: Emulator) -> None:
    """``drop_mid_body`` declares the full length, sends half, then hangs up."""
    emu.add_fault("drop_mid_body")
    raw = await _generate(call, emu)
    declared = int(raw.headers["content-length"])
    assert len(raw.body) == declared // 2
    assert raw.error is not None
    assert "peer closed connection" in raw.error


async def test_malformed_json_is_labelled_json(call: Call, emu: Emulator) -> None:
    """``malformed_json`` is a 200 whose text is not JSON but is labelled application/json."""
    emu.add_fault("malformed_json")
    raw = await _generate(call, emu)
    assert raw.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        raw.json()


async def test_empty_data_has_no_images(call: Call, emu: Emulator) -> None:
    """``empty_data`` answers an empty ``data`` list."""
    emu.add_fault("empty_data")
    assert (await _generate(call, emu)).json()["data"] == []


async def test_b64_json_fault_answers_base64(call: Call, emu: Emulator) -> None:
    """``b64_json`` answers the images inline even when URLs were asked for."""
    emu.add_fault("b64_json")
    item = (await _generate(call, emu)).json()["data"][0]
    assert list(item) == ["b64_json"]
    assert base64.b64decode(item["b64_json"]).startswith(b"\x89PNG")


async def test_remote_urls_are_served_for_the_upstream_host(emu: Emulator) -> None:
    """``remote_url`` answers an unlocalised upstream URL that an in-process client can fetch."""
    emu.add_fault("remote_url")
    async with emu.async_client() as client:
        url = (await client.post(GENERATIONS, json=REQUEST)).json()["data"][0]["url"]
        assert url.startswith(f"https://{emu.upstream_host}/files/")
        picture = await client.get(url)
        missing = await client.get(f"https://{emu.upstream_host}/files/other.png")
    assert (picture.status_code, picture.headers["content-type"]) == (200, "image/png")
    assert missing.status_code == 404


async def test_remote_url_can_be_given(call: Call, emu: Emulator) -> None:
    """``Fault(url=...)`` picks the remote URL returned."""
    emu.add_fault(Fault("remote_url", url="https://cdn.example.invalid/x.png"))
    item = (await _generate(call, emu)).json()["data"][0]
    assert item["url"] == "https://cdn.example.invalid/x.png"


async def test_dead_urls_look_local_and_are_missing(call: Call, emu: Emulator) -> None:
    """``dead_url`` answers a localised URL whose download is a 404."""
    emu.add_fault("dead_url")
    url = (await _generate(call, emu)).json()["data"][0]["url"]
    assert LOCAL_URL.match(url)
    raw = await call(emu, "GET", url.split("8402", 1)[1])
    assert (raw.status, raw.json()) == (404, {"error": "Image not found"})


async def test_job_stub_is_gpt_image_2s_queued_job(call: Call, emu: Emulator) -> None:
    """``job_stub`` answers ``{"id","status":"queued","poll_url","created"}``."""
    emu.add_fault("job_stub")
    body = (await _generate(call, emu)).json()
    assert list(body) == ["id", "status", "poll_url", "created"]
    assert body["status"] == "queued"
    assert body["poll_url"] == f"/api/v1/images/jobs/{body['id']}"


async def test_retry_after_is_in_the_body_not_the_headers(call: Call, emu: Emulator) -> None:
    """By default a 429 carries ``retry_after`` in its body only, as ClawRouter drops the header."""
    emu.add_fault(Fault("rate_limited", retry_after=7))
    raw = await _generate(call, emu)
    assert raw.json() == {"error": "Rate limit exceeded", "retry_after": 7}
    assert "retry-after" not in raw.headers


async def test_retry_after_header_can_be_sent(call: Call, emu: Emulator) -> None:
    """``send_retry_after`` adds the header, for clients that must honour it."""
    emu.add_fault(Fault("rate_limited", retry_after=2.5, send_retry_after=True))
    raw = await _generate(call, emu)
    assert raw.headers["retry-after"] == "2.5"
    assert raw.json()["retry_after"] == 2.5


async def test_overrides_replace_status_body_and_add_headers(call: Call, emu: Emulator) -> None:
    """``status``, ``body`` and ``headers`` override a kind's answer."""
    emu.add_fault(
        Fault("server_error", status=501, body={"error": "custom"}, headers={"X-Trace": "1"})
    )
    raw = await _generate(call, emu)
    assert (raw.status, raw.json(), raw.headers["x-trace"]) == (501, {"error": "custom"}, "1")


async def test_a_text_body_is_sent_raw(call: Call, emu: Emulator) -> None:
    """A ``str`` body is sent as is."""
    emu.add_fault(Fault("malformed_json", body="<html>gateway hiccup</html>"))
    assert (await _generate(call, emu)).text == "<html>gateway hiccup</html>"


async def test_details_override_the_default(call: Call, emu: Emulator) -> None:
    """``details`` replaces the default ``details`` text."""
    emu.add_fault(Fault("generation_failed", details="Non-JSON poll response (200): <html>"))
    raw = await _generate(call, emu)
    assert raw.json()["details"] == "Non-JSON poll response (200): <html>"


async def test_paid_can_be_overridden(call: Call, emu: Emulator) -> None:
    """``paid`` overrides the kind's default either way."""
    emu.add_fault(Fault("upstream_refused", paid=True))
    emu.add_fault(Fault("invalid_request", paid=False))
    await _generate(call, emu)
    await _generate(call, emu)
    assert [(entry.status, entry.paid) for entry in emu.ledger] == [(400, True), (400, False)]
    assert emu.spent_usd == 0.0525


@pytest.mark.parametrize("route", [GENERATIONS, IMAGE2IMAGE])
async def test_a_400_after_payment_is_paid_and_says_nothing_clawrouter_says(
    call: Call, emu: Emulator, route: str
) -> None:
    """``invalid_request`` is the upstream's relayed 400 to the paid retry: spent, and its
    details are none of ClawRouter's own refusals (those alone prove nothing was paid)."""
    emu.add_fault("invalid_request")
    body = {"prompt": "x", "image": "~/pics/cat.png"} if route == IMAGE2IMAGE else REQUEST
    raw = await call(emu, "POST", route, json_body=body)
    assert (raw.status, raw.json()["error"]) == (400, "Invalid request")
    assert not raw.json()["details"].startswith(CLAWROUTER_OWN_DETAILS)
    (entry,) = emu.ledger
    assert (entry.paid, entry.fault) == (True, "invalid_request")
    assert emu.spent_usd == entry.estimated_cost_usd > 0


async def test_faults_are_used_in_order_and_then_gone(call: Call, emu: Emulator) -> None:
    """Faults apply first in, first out, each to one request by default."""
    emu.add_fault("server_error")
    emu.add_fault("rate_limited")
    statuses = [(await _generate(call, emu)).status for _ in range(3)]
    assert statuses == [500, 429, 200]


async def test_times_repeats_a_fault(call: Call, emu: Emulator) -> None:
    """``times=2`` applies to two requests; ``times=None`` to all until cleared."""
    emu.add_fault("service_unavailable", times=2)
    assert [(await _generate(call, emu)).status for _ in range(3)] == [503, 503, 200]
    emu.add_fault("service_unavailable", times=None)
    assert [(await _generate(call, emu)).status for _ in range(3)] == [503] * 3
    emu.clear_faults()
    assert (await _generate(call, emu)).status == 200


async def test_faults_match_by_model(call: Call, emu: Emulator) -> None:
    """A fault for one model leaves other models alone."""
    emu.add_fault("server_error", model="openai/gpt-image-1")
    assert (await _generate(call, emu)).status == 200
    assert (await _generate(call, emu, model="openai/gpt-image-1")).status == 500


async def test_faults_match_by_path(call: Call, emu: Emulator) -> None:
    """A fault for image2image leaves generations alone."""
    emu.add_fault("server_error", path=IMAGE2IMAGE)
    assert (await _generate(call, emu)).status == 200
    body = {"prompt": "x", "image": "~/pics/cat.png"}
    assert (await call(emu, "POST", IMAGE2IMAGE, json_body=body)).status == 500


async def test_other_routes_do_not_use_faults(call: Call, emu: Emulator) -> None:
    """Health checks, image downloads and wrong paths never consume a fault."""
    emu.add_fault("server_error")
    await call(emu, "GET", "/health")
    await call(emu, "GET", "/images/x.png")
    await call(emu, "POST", "/v1/images/edits", content=b"{}")
    assert len(emu.pending_faults) == 1


async def test_result_faults_on_invalid_requests_answer_the_400(call: Call, emu: Emulator) -> None:
    """A result-shaped fault cannot rescue an invalid request: the 400 wins, unpaid."""
    emu.add_fault("b64_json")
    raw = await _generate(call, emu, model="nano-banana")
    assert raw.status == 400
    assert emu.ledger[-1].paid is False


async def test_slow_answers_come_after_the_delay(call: Call, emu: Emulator) -> None:
    """A ``slow`` fault within the idle limit answers normally."""
    emu.add_fault(Fault("slow", delay=0.01))
    raw = await _generate(call, emu)
    assert raw.status == 200
    assert LOCAL_URL.match(raw.json()["data"][0]["url"])


async def test_delays_past_the_idle_limit_drop_the_connection(call: Call, emu: Emulator) -> None:
    """A request silent past ``idle_timeout`` gets no response, and was paid."""
    emu.add_fault(Fault("slow", delay=60))
    raw = await _generate(call, emu)
    assert raw.status is None
    assert raw.error == "Server disconnected without sending a response."
    entry = emu.ledger[-1]
    assert (entry.status, entry.paid, entry.fault) == (None, True, "slow")


async def test_delays_apply_to_error_faults(call: Call, emu: Emulator) -> None:
    """Any kind can wait first; an unpaid one dropped by the idle limit stays unpaid."""
    emu.add_fault(Fault("rate_limited", delay=60))
    raw = await _generate(call, emu)
    assert raw.status is None
    assert emu.ledger[-1].paid is False


def test_unknown_kinds_are_refused() -> None:
    """A misspelt kind fails when the fault is made, not when it fires."""
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("payment_refused")  # type: ignore[arg-type]


def test_negative_delays_are_refused() -> None:
    """A negative delay is refused."""
    with pytest.raises(ValueError, match="delay"):
        Fault("slow", delay=-1)


def test_times_must_be_positive(emu: Emulator) -> None:
    """``times=0`` is refused."""
    with pytest.raises(ValueError, match="times"):
        emu.add_fault("drop", times=0)

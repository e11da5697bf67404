"""No leaks in logs and error messages: no image bytes, no whole data URIs, no huge bodies.

Calls fail against the emulator on a real socket with megabyte error bodies (JSON and
plain text, some echoing the input image as a data URI), against a fake whose answers
hold base64 images, and with data URI inputs; every record of the ``clawrouter_images``
loggers (DEBUG and up) and every error message must stay short, quote at most a few
hundred characters of a body, and hold no run of base64 long enough to be image data.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from tests.support.png import png_bytes

from clawrouter_images import ClawRouterError, ImageClient
from clawrouter_images.emulator import Fault

if TYPE_CHECKING:
    from tests.reliability.conftest import Served
    from tests.support.server import FakeClawRouter
    from tests.support.twin import Twin

MEGABYTE = 1024 * 1024
MAX_MESSAGE_CHARS = 1000
# More of a server body than this in one message is a leak (quote() keeps 300).
MAX_QUOTED_RUN = 320
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{100,}")


# A real PNG of about 1 MB that does not compress (random pixels).
NOISE = png_bytes(600, 600, noise=True)
NOISE_URI = "data:image/png;base64," + base64.b64encode(NOISE).decode()


def _clean(text: str, *bodies: str) -> None:
    """Short, no base64 run, and no more than a few hundred characters of any body."""
    assert len(text) <= MAX_MESSAGE_CHARS, text[:300]
    assert not BASE64_RUN.search(text), BASE64_RUN.search(text)
    for body in bodies:
        for start in range(0, len(body) - MAX_QUOTED_RUN, len(body) // 7 or 1):
            assert body[start : start + MAX_QUOTED_RUN] not in text


def _records_clean(caplog: pytest.LogCaptureFixture, *bodies: str) -> None:
    records = [r for r in caplog.records if r.name.startswith("clawrouter_images")]
    for record in records:
        _clean(record.getMessage(), *bodies)


def _fault(kind: Any, body: object, **options: Any) -> tuple[Fault, str]:
    text = body if isinstance(body, str) else repr(body)
    return Fault(kind, body=body, **options), text


HUGE = "E" * MEGABYTE
FAULTS: dict[str, tuple[Fault, str]] = {
    "500-json-megabyte-error": _fault("server_error", {"error": HUGE, "details": HUGE}),
    "502-plain-text-megabyte": _fault("generation_failed", "upstream said: " + "t " * MEGABYTE),
    "400-details-echo-the-image": _fault(
        "invalid_request", {"error": "Invalid request", "details": f"bad image {NOISE_URI}"}
    ),
    "402-base64-blob": _fault(
        "payment_rejected", {"error": "Payment verification failed", "debug": NOISE_URI[22:]}
    ),
    "429-megabyte-then-out-of-retries": _fault("rate_limited", {"error": HUGE}),
    "200-not-json-megabyte": _fault("malformed_json", "<html>" + "h" * MEGABYTE),
    "200-not-json-raw-base64": _fault("malformed_json", NOISE_URI[22:]),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_huge_error_bodies_stay_out_of_messages_and_logs(
    name: str, twin: Twin, served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A megabyte error body is quoted to a few hundred characters, without base64, in errors and logs."""
    fault, body = FAULTS[name]
    caplog.set_level(logging.DEBUG, logger="clawrouter_images")
    served.emulator.add_fault(fault, times=None)
    with pytest.raises(ClawRouterError) as caught:
        await twin.edit("add a hat", NOISE, model="gpt-image")
    _clean(caught.value.message, body, NOISE_URI)
    _clean(str(caught.value), body, NOISE_URI)
    _clean(repr(caught.value), body, NOISE_URI)
    _records_clean(caplog, body, NOISE_URI)


async def test_data_uri_inputs_stay_out_of_logs(
    twin: Twin, served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """Editing a 1 MB data URI logs no image bytes, and the ledger keeps only its head."""
    caplog.set_level(logging.DEBUG, logger="clawrouter_images")
    served.emulator.add_fault(Fault("rate_limited"), times=1)
    response = await twin.edit("add a hat", NOISE_URI, model="gpt-image")
    assert response.data
    assert twin.sleeps  # the retry was logged
    _records_clean(caplog, NOISE_URI)
    (_, post) = served.posts()
    _clean(repr(post.body), NOISE_URI)


@pytest.mark.parametrize(
    "image",
    [
        # Not an image, as a data URI: the message shows the head of the URI only.
        "data:image/png;base64," + base64.b64encode(b"GIF" + os.urandom(MEGABYTE)).decode(),
        "data:text/plain;base64," + base64.b64encode(os.urandom(MEGABYTE)).decode(),
        "data:image/png;base64," + "A" * MEGABYTE + "!",
        "data:image/png," + "x" * MEGABYTE,
    ],
    ids=["not-an-image", "not-an-image-type", "invalid-base64", "not-base64"],
)
async def test_refused_data_uri_inputs_are_not_quoted_whole(
    image: str, twin: Twin, served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused 1 MB data URI input is named by its head, never quoted whole."""
    caplog.set_level(logging.DEBUG, logger="clawrouter_images")
    with pytest.raises(ClawRouterError) as caught:
        await twin.edit("add a hat", image, model="gpt-image")
    _clean(caught.value.message, image)
    _records_clean(caplog, image)
    assert served.posts() == []


def _generate_and_download(client: ImageClient) -> bytes:
    return client.download(client.generate("a fox").data[0])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "Invalid request", "details": NOISE_URI}),
        (404, "<html>" + "n" * MEGABYTE),
        (504, {"error": {"message": HUGE, "type": "timeout"}}),
        (200, {"created": 1, "b64_json": NOISE_URI[22:]}),
        (200, {"created": 1, "data": [{"b64_json": "not base64!" * 1000}]}),
    ],
    ids=["400-echoes-a-data-uri", "404-html", "504-nested-message", "200-no-data", "200-bad-b64"],
)
def test_error_answers_from_any_server_are_quoted_briefly(
    status: int, body: object, caplog: pytest.LogCaptureFixture, fake: FakeClawRouter
) -> None:
    """Whatever a server (or a proxy in front of it) answers, the message quotes little of it."""
    caplog.set_level(logging.DEBUG, logger="clawrouter_images")
    text = body if isinstance(body, str) else repr(body)

    fake.otherwise = (
        fake.text(body, status, {"content-type": "text/plain; charset=utf-8"})
        if isinstance(body, str)
        else fake.json(body, status)
    )
    with httpx.Client(transport=fake.transport()) as http:
        client = ImageClient("http://127.0.0.1:8402", http_client=http, max_retries=0)
        with pytest.raises(ClawRouterError) as caught:
            _generate_and_download(client)
    _clean(caught.value.message, text, NOISE_URI)
    _records_clean(caplog, text, NOISE_URI)

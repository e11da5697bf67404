"""One log line per request: method, path, status, model and what it cost."""

from __future__ import annotations

import base64
import io
import logging
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from clawrouter_images.emulator import Emulator, Fault

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
LOGGER = "clawrouter_images.emulator"


def _png_uri() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


LINES = [
    # (id, method, target, body, fault, the line)
    (
        "paid-generation",
        "POST",
        GENERATIONS,
        {"model": "google/nano-banana", "prompt": "a cat"},
        None,
        "POST /v1/images/generations 200 google/nano-banana $0.0525",
    ),
    (
        "priced-by-size-and-n",
        "POST",
        GENERATIONS,
        {"model": "openai/gpt-image-1", "prompt": "a cat", "size": "1536x1024", "n": 2},
        None,
        "POST /v1/images/generations 200 openai/gpt-image-1 $0.084",
    ),
    (
        "no-model",
        "POST",
        GENERATIONS,
        {"prompt": "a cat"},
        None,
        "POST /v1/images/generations 200 (no model) $0.0525",
    ),
    (
        "refused-unpaid",
        "POST",
        GENERATIONS,
        {"model": "google/nano-banana", "prompt": "a cat", "size": "512x512"},
        None,
        "POST /v1/images/generations 400 google/nano-banana unpaid",
    ),
    (
        "edit-default-model",
        "POST",
        IMAGE2IMAGE,
        {"prompt": "a hat", "image": _png_uri()},
        None,
        "POST /v1/images/image2image 200 openai/gpt-image-1 $0.021",
    ),
    ("health", "GET", "/health?full=true", None, None, "GET /health?full=true 200"),
    ("missing-image", "GET", "/images/nope.png", None, None, "GET /images/nope.png 404"),
    (
        "fault-named",
        "POST",
        GENERATIONS,
        {"model": "google/nano-banana", "prompt": "a cat"},
        Fault("rate_limited"),
        "POST /v1/images/generations 429 google/nano-banana unpaid fault=rate_limited",
    ),
    (
        "dropped",
        "POST",
        GENERATIONS,
        {"model": "google/nano-banana", "prompt": "a cat"},
        Fault("drop"),
        "POST /v1/images/generations dropped google/nano-banana $0.0525 fault=drop",
    ),
    (
        "model-cannot-forge-lines",
        "POST",
        GENERATIONS,
        {"model": "x\nPOST /v1/images/generations 200 \x1b[31mfree", "prompt": "a cat"},
        None,
        "POST /v1/images/generations 400 x\\nPOST /v1/images/generations 200 \\x1b[31mfree unpaid",
    ),
    (
        "huge-model-cut",
        "POST",
        GENERATIONS,
        {"model": "m" * 5000, "prompt": "a cat"},
        None,
        f"POST /v1/images/generations 400 {'m' * 80}… unpaid",
    ),
]


@pytest.mark.parametrize(
    ("method", "target", "body", "fault", "line"), [c[1:] for c in LINES], ids=[c[0] for c in LINES]
)
async def test_each_request_logs_one_line(
    call: Call,
    emu: Emulator,
    caplog: pytest.LogCaptureFixture,
    method: str,
    target: str,
    body: Any,
    fault: Fault | None,
    line: str,
) -> None:
    """The line names the request, its status, the model and the estimate if it was paid."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    if fault is not None:
        emu.add_fault(fault)
    await call(emu, method, target, json_body=body)
    lines = [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO
    ]
    assert lines == [line]


async def test_nothing_is_logged_below_info(
    call: Call, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Quiet unless asked: at WARNING (Python's default) a request logs nothing."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    await call(emu, "POST", GENERATIONS, json_body={"prompt": "a cat"})
    assert [r for r in caplog.records if r.name.startswith(LOGGER)] == []

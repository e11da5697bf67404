"""The core client's behaviours against the emulator on a real loopback socket, both twins.

tests/core drives the same behaviours through ``httpx.MockTransport``; here the bytes go
through a real HTTP server, real connection pooling and the emulator's real pictures.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from tests.support.png import png_bytes, png_size

from clawrouter_images import (
    GenerationTimeoutError,
    InvalidRequestError,
    PaymentRequiredError,
)
from clawrouter_images.emulator import Emulator, Fault, serve

if TYPE_CHECKING:
    from tests.support.twin import MakeTwin, Twin

T = TypeVar("T")


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(image_dir=tmp_path / "served", cwd=tmp_path) as emu:
        yield emu


@pytest.fixture
def base_url(emulator: Emulator) -> Iterator[str]:
    with serve(emulator, port=0) as url:
        yield url


@pytest.fixture
def twin(make_twin: MakeTwin, base_url: str) -> Twin:
    return make_twin(base_url)


def _posts(emulator: Emulator) -> list[Any]:
    """The paid routes' entries (the ledger also records the downloads of results)."""
    return [entry for entry in emulator.ledger if entry.method == "POST"]


RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 128, 0), (0, 0, 255), (255, 255, 255)


async def test_generate_and_save_a_real_picture(
    twin: Twin, emulator: Emulator, tmp_path: Path
) -> None:
    """An alias is resolved, the picture has the asked size, and the ledger shows one paid call."""
    response = await twin.generate("a samurai at dawn", model="banana-pro", size="1024x1792")
    (path,) = await twin.save(response, tmp_path / "out")
    assert png_size(path) == (1024, 1792)
    (entry,) = _posts(emulator)
    assert entry.model == "google/nano-banana-pro"
    assert entry.size == "1024x1792"
    assert entry.paid
    assert twin.client.spent_usd == pytest.approx(emulator.spent_usd)


async def test_edit_sends_local_files_as_data_uris(
    twin: Twin, emulator: Emulator, tmp_path: Path
) -> None:
    """A local file is read by the client and reaches the server as a data URI, not a path."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes(96, 64, RED))
    response = await twin.edit("add snow", image=photo, model="gpt-image")
    (path,) = await twin.save(response, tmp_path / "out")
    assert png_size(path) == (1024, 1024)
    (entry,) = _posts(emulator)
    assert isinstance(entry.body, dict)
    assert "data:image/png;base64," in str(entry.body["image"])
    assert str(photo) not in str(entry.body)
    assert entry.model == "openai/gpt-image-1"


async def test_edit_an_earlier_result_by_its_url(
    twin: Twin, emulator: Emulator, tmp_path: Path
) -> None:
    """An earlier result's localised URL is fetched by the client and edited."""
    first = await twin.generate("a harbour", model="nano-banana")
    (url,) = first.urls
    edited = await twin.edit("add a sunset", image=url, model="gpt-image")
    (path,) = await twin.save(edited, tmp_path / "out")
    assert path.is_file()
    assert [entry.method for entry in emulator.ledger] == ["POST", "GET", "POST", "GET"]
    assert [entry.paid for entry in _posts(emulator)] == [True, True]


async def test_edit_with_a_list_and_a_mask(twin: Twin, emulator: Emulator, tmp_path: Path) -> None:
    """Several images go as a list; a mask goes with a single image."""
    await twin.edit(
        "combine", image=[png_bytes(96, 64, RED), png_bytes(96, 64, BLUE)], model="gpt-image"
    )
    body = emulator.ledger[-1].body
    assert isinstance(body, dict)
    assert isinstance(body["image"], list)
    assert len(body["image"]) == 2
    await twin.edit(
        "fill the hole",
        image=png_bytes(96, 64, GREEN),
        mask=png_bytes(96, 64, WHITE),
        model="gpt-image",
    )
    body = emulator.ledger[-1].body
    assert isinstance(body, dict)
    assert "mask" in body


async def test_b64_json_results_are_saved(twin: Twin, emulator: Emulator, tmp_path: Path) -> None:
    """Inline b64_json answers are decoded and saved like URL answers."""
    emulator.add_fault(Fault("b64_json"))
    response = await twin.generate("a lamp", model="gpt-image")
    assert response.data[0].b64_json
    (path,) = await twin.save(response, tmp_path / "out")
    assert path.read_bytes() == base64.b64decode(response.data[0].b64_json)


async def test_health_reports_the_wallet(twin: Twin, emulator: Emulator) -> None:
    """health() and health(full=True) read the server's wallet and balance."""
    assert (await twin.health()).wallet == emulator.wallet
    full = await twin.health(full=True)
    assert full.ok
    assert full.balance is not None


async def test_validation_sends_nothing(twin: Twin, emulator: Emulator) -> None:
    """A size the model does not take is refused before any request reaches the server."""
    with pytest.raises(InvalidRequestError):
        await twin.generate("x", model="nano-banana", size="4096x4096")
    assert emulator.ledger == []


async def test_payment_rejected_is_not_counted(twin: Twin, emulator: Emulator) -> None:
    """A 402 raises PaymentRequiredError, is not paid, and the connection serves the next call."""
    emulator.add_fault(Fault("payment_rejected"))
    with pytest.raises(PaymentRequiredError, match="fund the ClawRouter wallet"):
        await twin.generate("x")
    assert twin.client.spent_usd == 0
    await twin.generate("y")
    assert [entry.paid for entry in emulator.ledger] == [False, True]


async def test_rate_limit_is_retried_once_and_paid_once(twin: Twin, emulator: Emulator) -> None:
    """A 429 with Retry-After is retried after the asked delay; only the retry is paid."""
    emulator.add_fault(Fault("rate_limited", retry_after=2, send_retry_after=True))
    await twin.generate("x")
    assert twin.sleeps == [2.0]
    assert [entry.status for entry in emulator.ledger] == [429, 200]
    assert [entry.paid for entry in emulator.ledger] == [False, True]


async def test_dropped_request_is_a_timeout_never_resent(twin: Twin, emulator: Emulator) -> None:
    """A request the server drops after its idle limit is a possibly paid timeout, sent once."""
    emulator.idle_timeout = 0.2
    emulator.add_fault(Fault("slow", delay=5.0))
    with pytest.raises(GenerationTimeoutError) as caught:
        await twin.generate("x")
    assert caught.value.may_have_been_paid
    assert len(emulator.ledger) == 1
    assert twin.sleeps == []

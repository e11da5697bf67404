"""The ledger: every request recorded, and money counted only where the real flow pays."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from tests.support.png import png_bytes

from clawrouter_images import estimate_cost
from clawrouter_images.emulator import Emulator, Fault

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"


async def test_a_generation_is_recorded_in_full(call: Call, emu: Emulator) -> None:
    """The entry holds the request, the answer's status and the estimate, marked paid."""
    body = {"model": "openai/gpt-image-1", "prompt": "a cat", "size": "1536x1024", "n": 2}
    await call(emu, "POST", GENERATIONS, json_body=body)
    (entry,) = emu.ledger
    assert (entry.method, entry.path, entry.body) == ("POST", GENERATIONS, body)
    assert (entry.model, entry.size, entry.n, entry.status) == (
        "openai/gpt-image-1",
        "1536x1024",
        2,
        200,
    )
    assert entry.paid is True
    assert entry.estimated_cost_usd == estimate_cost("openai/gpt-image-1", "1536x1024", 2)
    assert entry.fault is None


async def test_a_success_is_paid_exactly_once(call: Call, emu: Emulator) -> None:
    """One successful request spends its estimate once."""
    await call(emu, "POST", GENERATIONS, json_body={"model": "google/nano-banana", "prompt": "x"})
    assert [entry.paid for entry in emu.ledger] == [True]
    assert emu.spent_usd == estimate_cost("google/nano-banana")


async def test_unpaid_answers_spend_nothing(call: Call, emu: Emulator) -> None:
    """Refusals before payment are recorded but cost nothing."""
    emu.add_fault("payment_rejected")
    emu.add_fault("rate_limited")
    for _ in range(2):
        await call(emu, "POST", GENERATIONS, json_body={"prompt": "x"})
    await call(emu, "POST", GENERATIONS, json_body={"model": "nano-banana", "prompt": "x"})
    assert [entry.status for entry in emu.ledger] == [402, 429, 400]
    assert emu.spent_usd == 0.0


async def test_paid_failures_are_spent(call: Call, emu: Emulator) -> None:
    """A 500 after payment and a dropped request both count as spent."""
    emu.add_fault("server_error")
    emu.add_fault(Fault("drop"))
    for _ in range(2):
        await call(emu, "POST", GENERATIONS, json_body={"prompt": "x"})
    assert [entry.paid for entry in emu.ledger] == [True, True]
    assert emu.spent_usd == round(2 * estimate_cost("google/nano-banana"), 6)


async def test_every_request_is_recorded(call: Call, emu: Emulator) -> None:
    """Health checks, downloads and wrong paths are in the ledger too, unpaid, with their target."""
    await call(emu, "GET", "/health?full=true")
    await call(emu, "GET", "/images/none.png")
    await call(emu, "POST", "/v1/images/generations?x=1", json_body={"prompt": "x"})
    assert [(e.method, e.path, e.status, e.paid) for e in emu.ledger] == [
        ("GET", "/health?full=true", 200, False),
        ("GET", "/images/none.png", 404, False),
        ("POST", "/v1/images/generations?x=1", 502, False),
    ]


async def test_long_data_uris_are_shortened(call: Call, emu: Emulator) -> None:
    """Input images in a recorded body are cut to a short summary."""
    image = "data:image/png;base64," + base64.b64encode(png_bytes(200, 200)).decode()
    await call(emu, "POST", IMAGE2IMAGE, json_body={"prompt": "x", "image": [image, "short"]})
    recorded = emu.ledger[-1].body
    assert isinstance(recorded, dict)
    first, second = recorded["image"]
    assert first.startswith("data:image/png;base64,")
    assert first.endswith(f"({len(image)} chars)")
    assert len(first) < 100
    assert second == "short"


async def test_text_bodies_are_recorded_as_text(call: Call, emu: Emulator) -> None:
    """A body that is not JSON is kept as text."""
    await call(emu, "POST", GENERATIONS, content=b"not json")
    assert emu.ledger[-1].body == "not json"
    assert emu.ledger[-1].status == 400


async def test_image2image_records_the_injected_model(call: Call, emu: Emulator) -> None:
    """The model recorded is the one the upstream sees, default included."""
    await call(emu, "POST", IMAGE2IMAGE, json_body={"prompt": "x", "image": "~/pics/cat.png"})
    entry = emu.ledger[-1]
    assert entry.model == "openai/gpt-image-1"
    assert entry.estimated_cost_usd == estimate_cost("openai/gpt-image-1")


async def test_reset_forgets_requests_and_faults(call: Call, emu: Emulator) -> None:
    """``reset()`` empties the ledger and the pending faults."""
    emu.add_fault("drop")
    await call(emu, "GET", "/health")
    emu.reset()
    assert emu.ledger == []
    assert emu.pending_faults == []
    assert emu.spent_usd == 0.0


async def test_the_ledger_is_a_copy(call: Call, emu: Emulator) -> None:
    """Changing the returned list does not change the emulator's record."""
    await call(emu, "GET", "/health")
    emu.ledger.clear()
    assert len(emu.ledger) == 1

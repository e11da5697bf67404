"""Routing, ``/health``, ``/v1/models``, ``GET /images/<file>`` and the fall-through paths."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.png import png_bytes

from clawrouter_images import MODELS
from clawrouter_images.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

GENERATIONS = "/v1/images/generations"


async def test_health_reports_wallet_and_chain(call: Call, emu: Emulator) -> None:
    """``/health`` answers status ok, the wallet and the payment chain, nothing more."""
    raw = await call(emu, "GET", "/health")
    assert raw.status == 200
    assert raw.json() == {"status": "ok", "wallet": emu.wallet, "paymentChain": "base"}


async def test_health_reports_the_configured_chain(call: Call, tmp_path: Any) -> None:
    """``payment_chain`` is what ``/health`` reports."""
    emulator = Emulator(image_dir=tmp_path, payment_chain="solana", wallet="0xabc")
    raw = await call(emulator, "GET", "/health")
    assert raw.json()["paymentChain"] == "solana"
    assert raw.json()["wallet"] == "0xabc"


async def test_full_health_reports_the_balance(call: Call, emu: Emulator) -> None:
    """``full=true`` adds the balance as ``$X.XX`` and the low/empty flags."""
    raw = await call(emu, "GET", "/health?full=true")
    assert raw.json() == {
        "status": "ok",
        "wallet": emu.wallet,
        "paymentChain": "base",
        "balance": "$5.00",
        "isLow": False,
        "isEmpty": False,
    }


async def test_full_health_balance_goes_down_by_what_was_paid(call: Call, emu: Emulator) -> None:
    """The balance reported is the configured one minus the ledger's spend."""
    emu.balance_usd = 1.05
    await call(emu, "POST", GENERATIONS, json_body={"prompt": "a cat", "n": 2})
    body = (await call(emu, "GET", "/health?full=true")).json()
    assert body["balance"] == "$0.95"
    assert body["isLow"] is True
    assert body["isEmpty"] is False


async def test_full_health_flags_an_empty_wallet(call: Call, emu: Emulator) -> None:
    """A zero balance is low and empty."""
    emu.balance_usd = 0.0
    body = (await call(emu, "GET", "/health?full=true")).json()
    assert (body["balance"], body["isLow"], body["isEmpty"]) == ("$0.00", True, True)


async def test_full_health_without_a_balance_reports_the_error(call: Call, emu: Emulator) -> None:
    """``balance_usd=None`` answers ``balanceError`` like a failed RPC lookup."""
    emu.balance_usd = None
    body = (await call(emu, "GET", "/health?full=true")).json()
    assert body["balanceError"] == "Could not fetch balance"
    assert "balance" not in body


@pytest.mark.parametrize("target", ["/health?full=false", "/health?fully=true", "/health?"])
async def test_health_adds_the_balance_only_for_full_true(
    call: Call, emu: Emulator, target: str
) -> None:
    """Only ``full=true`` (first value) adds the balance."""
    assert "balance" not in (await call(emu, "GET", target)).json()


async def test_health_answers_any_method(call: Call, emu: Emulator) -> None:
    """ClawRouter matches ``/health`` by URL only, so a POST gets the same answer."""
    assert (await call(emu, "POST", "/health", content=b"{}")).status == 200


async def test_models_lists_chat_models_only(call: Call, emu: Emulator) -> None:
    """``GET /v1/models`` is a chat-model list without any image model, like the real one."""
    body = (await call(emu, "GET", "/v1/models")).json()
    ids = [model["id"] for model in body["data"]]
    assert body["object"] == "list"
    assert ids[:3] == ["auto", "eco", "premium"]
    assert not set(ids) & set(MODELS)


async def test_image_names_lose_unsafe_characters(call: Call, emu: Emulator) -> None:
    """Characters outside ``[a-zA-Z0-9._-]`` are deleted: ``..%2Fx`` names the file ``..2Fx``."""
    emu.image_dir.mkdir()
    (emu.image_dir / "..2F..2Fx.png").write_bytes(png_bytes())
    raw = await call(emu, "GET", "/images/..%2F..%2Fx.png")
    assert raw.status == 200
    assert raw.headers["content-type"] == "image/png"


async def test_image_query_string_is_ignored(call: Call, emu: Emulator) -> None:
    """``/images/<file>?x=1`` serves ``<file>``."""
    emu.image_dir.mkdir()
    (emu.image_dir / "a.png").write_bytes(png_bytes())
    raw = await call(emu, "GET", "/images/a.png?download=1")
    assert raw.status == 200
    assert raw.headers["content-length"] == str(len(png_bytes()))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.JPEG", "image/jpeg"),
        ("a.webp", "image/webp"),
        ("a.gif", "image/gif"),
        ("a.bin", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
async def test_image_content_type_follows_the_extension(
    call: Call, emu: Emulator, name: str, content_type: str
) -> None:
    """The content type comes from the extension, ``application/octet-stream`` otherwise."""
    emu.image_dir.mkdir()
    (emu.image_dir / name).write_bytes(b"bytes")
    raw = await call(emu, "GET", f"/images/{name}")
    assert raw.headers["content-type"] == content_type
    assert raw.body == b"bytes"


async def test_image_directory_is_not_found(call: Call, emu: Emulator) -> None:
    """A name that is a directory answers ``Image not found``."""
    (emu.image_dir / "sub").mkdir(parents=True)
    raw = await call(emu, "GET", "/images/sub")
    assert (raw.status, raw.json()) == (404, {"error": "Image not found"})


async def test_image_names_made_empty_are_a_bad_request(call: Call, emu: Emulator) -> None:
    """A name with only unsafe characters is empty after cleaning: plain ``Bad request``."""
    raw = await call(emu, "GET", "/images/~%@!")
    assert (raw.status, raw.text, raw.headers.get("content-type")) == (400, "Bad request", None)


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/v1/images/edits"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/images/generations/"),
        ("POST", "/v1/images/generations?x=1"),
        ("POST", "/v1/images/%67enerations"),
        ("GET", "/v1/images/image2image"),
        ("PUT", "/v1/images/generations"),
        ("GET", "/v1"),
    ],
)
async def test_other_v1_paths_fall_through_to_the_chat_router(
    call: Call, emu: Emulator, method: str, target: str
) -> None:
    """Any other ``/v1`` request answers the chat router's plain-text 502."""
    raw = await call(emu, method, target, content=b"{}")
    assert raw.status == 502
    assert raw.text == "All models in fallback chain failed"
    assert raw.headers["content-type"] == "application/json"
    assert raw.headers["x-context-limit-kb"] == "5120"


async def test_fall_through_reports_the_body_size_in_kb(call: Call, emu: Emulator) -> None:
    """``x-context-used-kb`` is the request body size rounded up to kilobytes."""
    raw = await call(emu, "POST", "/v1/images/edits", content=b"x" * 2049)
    assert raw.headers["x-context-used-kb"] == "3"


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", "/nope"), ("POST", "/images/generations"), ("POST", "/images/x.png"), ("GET", "/")],
)
async def test_other_paths_are_not_found(
    call: Call, emu: Emulator, method: str, target: str
) -> None:
    """Paths outside ``/v1`` and the local routes answer ``404 {"error":"Not found"}``."""
    raw = await call(emu, method, target)
    assert (raw.status, raw.json()) == (404, {"error": "Not found"})


async def test_head_is_not_found_without_a_body(call: Call, emu: Emulator) -> None:
    """``HEAD /images/<file>`` is not handled: 404 labelled JSON, with no body."""
    raw = await call(emu, "HEAD", "/images/x.png")
    assert (raw.status, raw.body, raw.headers["content-type"]) == (404, b"", "application/json")


async def test_lifespan_events_are_acknowledged(emu: Emulator) -> None:
    """The app completes ASGI lifespan startup and shutdown."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await emu({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_base_url_and_app(emu: Emulator) -> None:
    """``base_url`` is on 127.0.0.1 at the emulator's port; ``app`` is the emulator."""
    emu.port = 9999
    assert emu.base_url == "http://127.0.0.1:9999"
    assert emu.app is emu


def test_a_temporary_image_dir_is_removed_on_close() -> None:
    """Without ``image_dir`` the emulator makes a temporary one and ``close()`` removes it."""
    with Emulator() as emulator:
        directory = emulator.image_dir
        assert directory.is_dir()
    assert not directory.exists()


def test_idle_timeout_must_be_positive() -> None:
    """A zero idle timeout is refused."""
    with pytest.raises(ValueError, match="idle_timeout"):
        Emulator(idle_timeout=0)

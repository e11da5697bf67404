"""The brief's four requests through an agent and the toolkit, against the built-in emulator.

The MockTransport fake of the other modules pins exactly what is sent; the emulator adds
ClawRouter's real answers: pictures of the size asked for, its URL localisation, its
image2image input handling and its error bodies.  It runs in-process (ASGI), sync and async.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import ToolMessage
from PIL import Image
from tests.support.png import png_bytes

from clawrouter_images import AsyncImageClient, ImageClient
from clawrouter_images.emulator import Emulator
from langchain_clawrouter import ClawRouterImageToolkit

if TYPE_CHECKING:
    from pathlib import Path

    from langchain_core.messages import BaseMessage
    from tests.integrations.langchain.conftest import RunAgent


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(image_dir=tmp_path / "emulator") as emulator:
        yield emulator


@pytest.fixture
def toolkit(emu: Emulator, uploads: Path, saved: Path) -> ClawRouterImageToolkit:
    return ClawRouterImageToolkit(
        client=ImageClient(emu.base_url, max_retries=0, http_client=emu.sync_client()),
        async_client=AsyncImageClient(emu.base_url, max_retries=0, http_client=emu.async_client()),
        save_dir=saved,
        allowed_dirs=[uploads],
    )


def _result(messages: list[BaseMessage]) -> ToolMessage:
    [message] = [m for m in messages if isinstance(m, ToolMessage)]
    return message


def _picture_sizes(saved: Path) -> list[tuple[int, int]]:
    sizes = []
    for path in sorted(saved.iterdir()):
        with Image.open(io.BytesIO(path.read_bytes())) as picture:
            sizes.append(picture.size)
    return sizes


def _gen(args: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "generate_image", "args": args}]


def _edit(args: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "edit_image", "args": args}]


async def test_draw_a_cyberpunk_city(
    run_agent: RunAgent, emu: Emulator, toolkit: ClawRouterImageToolkit, saved: Path
) -> None:
    """nano-banana draws a 1024x1024 picture that ends up saved."""
    args = {"prompt": "a cyberpunk city at night", "model": "nano-banana"}
    messages = await run_agent(toolkit.get_tools(), "Draw me a cyberpunk city at night", _gen(args))
    assert _result(messages).status == "success"
    [entry] = [entry for entry in emu.ledger if entry.method == "POST"]
    assert (entry.path, entry.model, entry.size) == (
        "/v1/images/generations",
        "google/nano-banana",
        "1024x1024",
    )
    assert _picture_sizes(saved) == [(1024, 1024)]


async def test_high_res_samurai_portrait(
    run_agent: RunAgent, emu: Emulator, toolkit: ClawRouterImageToolkit, saved: Path
) -> None:
    """banana-pro at 1024x1792 gives a portrait picture of that size."""
    args = {"prompt": "a samurai portrait", "model": "banana-pro", "size": "1024x1792"}
    messages = await run_agent(
        toolkit.get_tools(), "Generate a high-res portrait of a samurai", _gen(args)
    )
    assert _result(messages).status == "success"
    assert (emu.ledger[0].model, emu.ledger[0].size) == ("google/nano-banana-pro", "1024x1792")
    assert _picture_sizes(saved) == [(1024, 1792)]


async def test_edit_a_photo_from_a_url(
    run_agent: RunAgent, emu: Emulator, toolkit: ClawRouterImageToolkit, saved: Path
) -> None:
    """An earlier result's URL is edited with gpt-image."""
    assert toolkit.client is not None
    [earlier] = toolkit.client.generate("a portrait of a woman").urls
    args = {"prompt": "add a warm sunset background", "image": earlier, "model": "gpt-image"}
    messages = await run_agent(
        toolkit.get_tools(), f"Edit this photo to add a sunset background: {earlier}", _edit(args)
    )
    assert _result(messages).status == "success"
    edit = [entry for entry in emu.ledger if entry.path == "/v1/images/image2image"]
    assert [(entry.model, entry.status) for entry in edit] == [("openai/gpt-image-1", 200)]
    assert _picture_sizes(saved) == [(1024, 1024)]


async def test_change_the_background_of_a_local_image(
    run_agent: RunAgent,
    emu: Emulator,
    toolkit: ClawRouterImageToolkit,
    uploads: Path,
    saved: Path,
) -> None:
    """A local file in the allowed folder is edited."""
    photo = uploads / "holiday.png"
    photo.write_bytes(png_bytes(seed=7))
    args = {"prompt": "replace the background with a beach", "image": str(photo)}
    messages = await run_agent(
        toolkit.get_tools(), "Change the background in my image to a beach", _edit(args)
    )
    assert _result(messages).status == "success"
    assert [(e.path, e.model) for e in emu.ledger if e.method == "POST"] == [
        ("/v1/images/image2image", "openai/gpt-image-1")
    ]
    assert _picture_sizes(saved) == [(1024, 1024)]


async def test_payment_rejected_is_read_by_the_agent(
    run_agent: RunAgent, emu: Emulator, toolkit: ClawRouterImageToolkit
) -> None:
    """The emulator's 402 reaches the agent as an error saying to fund the wallet."""
    emu.add_fault("payment_rejected")
    messages = await run_agent(toolkit.get_tools(), "Draw me a cat", _gen({"prompt": "a cat"}))
    result = _result(messages)
    assert result.status == "error"
    assert "ClawRouter answered 402" in result.content
    assert "fund the ClawRouter wallet" in result.content
    assert emu.spent_usd == 0

"""An agent end to end, offline: ``create_agent`` with a scripted model, the tools, a fake ClawRouter.

Each case is one of the product brief's example requests; the scripted model makes the
tool call a real model would, and the tests check what reached ClawRouter, what was
saved, and what the agent read back.  ``run_agent`` runs each case sync and async.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from tests.support.png import png_bytes

from clawrouter_images.agent_tools import ImageToolResult
from langchain_clawrouter import ClawRouterImageToolkit

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integrations.langchain.conftest import RunAgent
    from tests.support.server import FakeClawRouter

PAYMENT_REJECTED = {
    "error": "Payment verification failed",
    "details": 'Verification failed: {"isValid": false, "invalidReason": "insufficient_funds"}',
}


def _tool_messages(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [message for message in messages if isinstance(message, ToolMessage)]


def _only_result(messages: list[BaseMessage]) -> ToolMessage:
    [message] = _tool_messages(messages)
    return message


def _saved_files(saved: Path) -> dict[str, bytes]:
    """Name -> bytes of the files in the save directory (none if it was never created)."""
    if not saved.exists():
        return {}
    return {path.name: path.read_bytes() for path in saved.iterdir()}


async def test_draw_a_cyberpunk_city(
    run_agent: RunAgent, fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """ "Draw me a cyberpunk city at night" generates with nano-banana and saves the image."""
    tools = ClawRouterImageToolkit(**settings).get_tools()
    messages = await run_agent(
        tools,
        "Draw me a cyberpunk city at night",
        [
            {
                "name": "generate_image",
                "args": {"prompt": "a cyberpunk city at night", "model": "nano-banana"},
            }
        ],
    )
    [post] = fake.posts
    assert post.url.path == "/v1/images/generations"
    assert fake.body() == {
        "model": "google/nano-banana",
        "prompt": "a cyberpunk city at night",
        "size": "1024x1024",
        "n": 1,
    }
    result = _only_result(messages)
    assert result.status == "success"
    artifact: ImageToolResult = result.artifact
    [url] = artifact["urls"]
    assert f"![a cyberpunk city at night]({url})" in result.content
    assert _saved_files(saved) == {"a-cyberpunk-city-at-night.png": fake.image(url)}
    assert messages[-1].content == "Done."


async def test_high_res_samurai_portrait(
    run_agent: RunAgent, fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """ "Generate a high-res portrait of a samurai" uses banana-pro at 1024x1792."""
    tools = ClawRouterImageToolkit(**settings).get_tools()
    args = {
        "prompt": "a high-res portrait of a samurai",
        "model": "banana-pro",
        "size": "1024x1792",
    }
    messages = await run_agent(
        tools,
        "Generate a high-res portrait of a samurai",
        [{"name": "generate_image", "args": args}],
    )
    [post] = fake.posts
    assert post.url.path == "/v1/images/generations"
    assert fake.body()["model"] == "google/nano-banana-pro"
    assert fake.body()["size"] == "1024x1792"
    result = _only_result(messages)
    assert result.status == "success"
    assert "google/nano-banana-pro at 1024x1792" in result.content
    [url] = result.artifact["urls"]
    assert _saved_files(saved) == {"a-high-res-portrait-of-a-samurai.png": fake.image(url)}


async def test_edit_a_photo_from_a_url(
    run_agent: RunAgent, fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """ "Edit this photo ...: <URL>" edits with gpt-image, sending the image found at the URL."""
    [earlier] = settings["client"].generate("a portrait of a woman").urls
    tools = ClawRouterImageToolkit(**settings).get_tools()
    args = {"prompt": "add a warm sunset background", "image": earlier, "model": "gpt-image"}
    messages = await run_agent(
        tools,
        f"Edit this photo to add a sunset background: {earlier}",
        [{"name": "edit_image", "args": args}],
    )
    edit = fake.posts[-1]
    assert edit.url.path == "/v1/images/image2image"
    assert fake.body()["model"] == "openai/gpt-image-1"
    assert fake.body()["prompt"] == "add a warm sunset background"
    assert fake.sent_image() == fake.image(earlier)
    result = _only_result(messages)
    assert result.status == "success"
    [url] = result.artifact["urls"]
    assert _saved_files(saved) == {"add-a-warm-sunset-background.png": fake.image(url)}


async def test_change_the_background_of_a_local_image(
    run_agent: RunAgent,
    fake: FakeClawRouter,
    settings: dict[str, Any],
    uploads: Path,
    saved: Path,
) -> None:
    """ "Change the background in my image to a beach" edits the attached local file."""
    photo = uploads / "holiday.png"
    photo.write_bytes(png_bytes(seed=7))
    tools = ClawRouterImageToolkit(**settings).get_tools()
    args = {"prompt": "replace the background with a sunny beach", "image": str(photo)}
    messages = await run_agent(
        tools,
        f"Change the background in my image to a beach (attached: {photo})",
        [{"name": "edit_image", "args": args}],
    )
    [post] = fake.posts
    assert post.url.path == "/v1/images/image2image"
    assert fake.body()["model"] == "openai/gpt-image-1"
    assert fake.sent_image() == png_bytes(seed=7)
    result = _only_result(messages)
    assert result.status == "success"
    [url] = result.artifact["urls"]
    assert _saved_files(saved) == {"replace-the-background-with-a-sunny-beach.png": fake.image(url)}


async def test_clawrouter_not_running_is_read_by_the_agent(
    run_agent: RunAgent, refused: dict[str, Any]
) -> None:
    """With ClawRouter down, the agent gets an error ToolMessage and the run still finishes."""
    tools = ClawRouterImageToolkit(**refused).get_tools()
    messages = await run_agent(
        tools, "Draw me a cat", [{"name": "generate_image", "args": {"prompt": "a cat"}}]
    )
    result = _only_result(messages)
    assert result.status == "error"
    assert isinstance(result.content, str)
    assert result.content.startswith("ClawRouter is not running at http://127.0.0.1:8402")
    assert messages[-1].content == "Done."


async def test_payment_rejected_is_read_by_the_agent(
    run_agent: RunAgent, fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """A 402 reaches the agent as an error saying to fund the wallet; nothing is saved."""
    fake.fail(402, PAYMENT_REJECTED, times=1)
    tools = ClawRouterImageToolkit(**settings).get_tools()
    messages = await run_agent(
        tools, "Draw me a cat", [{"name": "generate_image", "args": {"prompt": "a cat"}}]
    )
    result = _only_result(messages)
    assert result.status == "error"
    assert "ClawRouter answered 402" in result.content
    assert "fund the ClawRouter wallet" in result.content
    assert _saved_files(saved) == {}


async def test_unknown_model_is_read_by_the_agent(
    run_agent: RunAgent, fake: FakeClawRouter, settings: dict[str, Any]
) -> None:
    """A model the tool does not offer comes back as an error listing the choices; nothing is sent."""
    tools = ClawRouterImageToolkit(**settings).get_tools()
    args = {"prompt": "a cat", "model": "dall-e-9"}
    messages = await run_agent(tools, "Draw me a cat", [{"name": "generate_image", "args": args}])
    result = _only_result(messages)
    assert result.status == "error"
    assert "model: Input should be 'nano-banana', 'banana-pro'" in result.content
    assert "(got 'dall-e-9')" in result.content
    assert fake.requests == []


@pytest.mark.parametrize("path", ["/etc/passwd", "{uploads}/../secret.png"])
async def test_path_outside_the_allowed_folders_is_read_by_the_agent(
    run_agent: RunAgent,
    fake: FakeClawRouter,
    settings: dict[str, Any],
    uploads: Path,
    path: str,
) -> None:
    """An image path outside allowed_dirs is refused to the agent before any request."""
    (uploads.parent / "secret.png").write_bytes(png_bytes(seed=3))
    tools = ClawRouterImageToolkit(**settings).get_tools()
    args = {"prompt": "make it brighter", "image": path.format(uploads=uploads)}
    messages = await run_agent(tools, "Brighten my photo", [{"name": "edit_image", "args": args}])
    result = _only_result(messages)
    assert result.status == "error"
    assert "outside the folders this tool may read" in result.content
    assert fake.requests == []


async def test_several_calls_in_one_turn(
    run_agent: RunAgent, fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """Two tool calls in one turn both run, and a failing one does not stop the other."""
    fake.fail(402, PAYMENT_REJECTED, times=1)
    tools = ClawRouterImageToolkit(**settings).get_tools()
    messages = await run_agent(
        tools,
        "Draw a cat and a dog",
        [
            {"name": "generate_image", "args": {"prompt": "a cat"}},
            {"name": "generate_image", "args": {"prompt": "a dog"}},
        ],
    )
    statuses = sorted(message.status for message in _tool_messages(messages))
    assert statuses == ["error", "success"]
    assert len(fake.posts) == 2
    assert len(_saved_files(saved)) == 1

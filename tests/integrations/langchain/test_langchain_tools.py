"""The two LangChain tools: configuration, results, errors and the file policy."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.tools import ToolException
from pydantic import ValidationError
from tests.support.png import png_bytes

from clawrouter_images import ImageClient, PaymentRequiredError
from clawrouter_images.agent_tools import ImageToolConfig, ImageToolResult
from clawrouter_images.agent_tools._descriptions import edit_description, generate_description
from langchain_clawrouter import ClawRouterEditImage, ClawRouterGenerateImage

if TYPE_CHECKING:
    from tests.integrations.langchain.conftest import Call
    from tests.support.server import FakeClawRouter

PAYMENT_REJECTED = {
    "error": "Payment verification failed",
    "details": 'Verification failed: {"isValid": false, "invalidReason": "insufficient_funds"}',
}
CITY = {"prompt": "a cyberpunk city at night", "model": "nano-banana"}


def _model_enum(tool: ClawRouterGenerateImage | ClawRouterEditImage) -> list[str]:
    enum: list[str] = tool.args["model"]["anyOf"][0]["enum"]
    return enum


# -- configuration ----------------------------------------------------------------------


def test_default_names() -> None:
    """The LLM sees the tools as generate_image and edit_image."""
    assert ClawRouterGenerateImage().name == "generate_image"
    assert ClawRouterEditImage().name == "edit_image"


def test_names_can_be_overridden() -> None:
    """A deployment may rename a tool."""
    assert ClawRouterGenerateImage(name="draw").name == "draw"


def test_schema_offers_only_the_configured_models() -> None:
    """The model enum holds the configured models, and edit keeps only those that can edit."""
    models = ["nano-banana", "banana-pro", "cogview"]
    assert _model_enum(ClawRouterGenerateImage(models=models)) == models
    assert _model_enum(ClawRouterEditImage(models=models)) == ["nano-banana", "banana-pro"]


def test_model_order_is_each_tools_own() -> None:
    """Two tools offering the same models in different orders each list their own order."""
    first = ClawRouterGenerateImage(models=["gpt-image", "banana-pro"])
    second = ClawRouterGenerateImage(models=["banana-pro", "gpt-image"])
    assert _model_enum(first) == ["gpt-image", "banana-pro"]
    assert _model_enum(second) == ["banana-pro", "gpt-image"]


def test_descriptions_come_from_the_contract() -> None:
    """Each description is the contract's, for the configured models."""
    config = ImageToolConfig(models=["nano-banana", "gpt-image"])
    assert ClawRouterGenerateImage(models=["nano-banana", "gpt-image"]).description == (
        generate_description(config)
    )
    assert ClawRouterEditImage(models=["nano-banana", "gpt-image"]).description == (
        edit_description(config)
    )


def test_description_can_be_overridden() -> None:
    """A description given at construction is kept as is."""
    assert ClawRouterGenerateImage(description="Draw pictures.").description == "Draw pictures."


def test_misspelt_setting_is_refused() -> None:
    """An unknown keyword (here a cost cap under the wrong name) fails instead of being ignored."""
    with pytest.raises(ValidationError, match="max_cost"):
        ClawRouterGenerateImage(max_cost=0.05)  # type: ignore[call-arg]


def test_edit_tool_without_an_editing_model_is_refused() -> None:
    """Configuring only models that cannot edit fails at construction."""
    with pytest.raises(ValidationError, match="no editing model"):
        ClawRouterEditImage(models=["cogview"])


def test_unknown_configured_model_is_refused() -> None:
    """A configured model that does not exist fails at construction, listing valid ones."""
    with pytest.raises(ValidationError, match=r"unknown model 'dall-e-9'.*nano-banana"):
        ClawRouterGenerateImage(models=["dall-e-9"])


# -- results ------------------------------------------------------------------------------


async def test_result_is_text_for_the_llm_and_an_artifact(
    call: Call, fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """Content is the short text with a markdown image; the artifact holds response and files."""
    message = await call(ClawRouterGenerateImage(**settings), CITY)
    assert message.status == "success"
    artifact: ImageToolResult = message.artifact
    [url] = artifact["urls"]
    assert artifact["response"]["data"][0]["url"] == url
    assert isinstance(message.content, str)
    assert f"![a cyberpunk city at night]({url})" in message.content
    assert "google/nano-banana at 1024x1024" in message.content
    assert artifact["model"] == "google/nano-banana"
    assert artifact["estimated_cost_usd"] == 0.0525
    assert [Path(path).parent for path in artifact["saved_paths"]] == [saved]
    assert _bytes_at(artifact["saved_paths"][0]) == fake.image(url)


async def test_image_block_for_vision_models(
    call: Call, fake: FakeClawRouter, settings: dict[str, Any]
) -> None:
    """With return_image_block, content is a text block then a base64 image block per image."""
    tool = ClawRouterGenerateImage(**settings, return_image_block=True)
    message = await call(tool, {**CITY, "n": 2})
    assert isinstance(message.content, list)
    text, *images = message.content
    assert isinstance(text, dict)
    assert text["type"] == "text"
    assert all(isinstance(image, dict) for image in images)
    blocks: list[dict[str, Any]] = images  # type: ignore[assignment]
    served = [fake.image(url) for url in message.artifact["urls"]]
    assert [block["type"] for block in blocks] == ["image", "image"]
    assert [block["mime_type"] for block in blocks] == ["image/png", "image/png"]
    assert [base64.b64decode(block["base64"]) for block in blocks] == served


@pytest.mark.parametrize("save", [True, False], ids=["saved", "not saved"])
async def test_text_never_carries_base64(
    call: Call, fake: FakeClawRouter, settings: dict[str, Any], save: bool
) -> None:
    """An inline (b64_json) result reaches a vision model as an image block, never as text."""
    fake.inline = True
    if not save:
        settings["save_dir"] = None
    tool = ClawRouterGenerateImage(**settings, return_image_block=True)
    message = await call(tool, CITY)
    assert isinstance(message.content, list)
    text, image = message.content
    assert isinstance(text, dict)
    assert isinstance(image, dict)
    [served] = fake.served.values()
    encoded = base64.b64encode(served).decode()
    assert encoded[:40] not in text["text"]
    assert "data:image" not in text["text"]
    assert base64.b64decode(image["base64"]) == served


# -- errors -------------------------------------------------------------------------------


async def test_core_error_reaches_the_llm_as_an_error_message(
    call: Call, fake: FakeClawRouter, settings: dict[str, Any]
) -> None:
    """A 402 comes back as an error ToolMessage holding the core's message."""
    fake.fail(402, PAYMENT_REJECTED, times=1)
    message = await call(ClawRouterGenerateImage(**settings), CITY)
    assert message.status == "error"
    assert isinstance(message.content, str)
    assert message.content.startswith("ClawRouter answered 402")
    assert "payment rejected: fund the ClawRouter wallet" in message.content


async def test_not_running_reaches_the_llm(call: Call, refused: dict[str, Any]) -> None:
    """A refused connection reads as "ClawRouter is not running at ..." with how to start it."""
    message = await call(ClawRouterGenerateImage(**refused), CITY)
    assert message.status == "error"
    assert isinstance(message.content, str)
    assert message.content.startswith("ClawRouter is not running at http://127.0.0.1:8402")
    assert "npx @blockrun/clawrouter" in message.content


def test_core_errors_raise_tool_exception_when_not_handled(
    fake: FakeClawRouter, settings: dict[str, Any]
) -> None:
    """With handle_tool_error=False the core error surfaces as ToolException, chained."""
    fake.fail(402, PAYMENT_REJECTED, times=1)
    tool = ClawRouterGenerateImage(**settings, handle_tool_error=False)
    with pytest.raises(ToolException, match=r"^ClawRouter answered 402") as caught:
        tool.invoke(CITY)
    assert isinstance(caught.value.__cause__, PaymentRequiredError)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {**CITY, "model": "dall-e-9"},
            "model: Input should be 'nano-banana', 'banana-pro'",
        ),
        ({**CITY, "style": "noir"}, "style: Extra inputs are not permitted (got 'noir')"),
        ({"model": "nano-banana"}, "prompt: Field required"),
        ({**CITY, "n": 9}, "n: Input should be less than or equal to 4 (got 9)"),
    ],
)
async def test_invalid_arguments_are_explained(
    call: Call,
    fake: FakeClawRouter,
    settings: dict[str, Any],
    args: dict[str, Any],
    expected: str,
) -> None:
    """Bad arguments come back as an error message naming the argument and the fix."""
    message = await call(ClawRouterGenerateImage(**settings), args)
    assert message.status == "error"
    assert isinstance(message.content, str)
    assert message.content.startswith("Invalid arguments: ")
    assert expected in message.content
    assert fake.requests == []


async def test_max_cost_refuses_before_sending(
    call: Call, fake: FakeClawRouter, settings: dict[str, Any]
) -> None:
    """A call estimated above max_cost_usd is refused with the reason, and nothing is sent."""
    tool = ClawRouterGenerateImage(**settings, max_cost_usd=0.10)
    message = await call(tool, {**CITY, "model": "banana-pro", "size": "4096x4096"})
    assert message.status == "error"
    assert "over max_cost_usd=$0.1000" in message.content
    assert fake.requests == []


# -- the file policy ----------------------------------------------------------------------


@pytest.fixture
def outside_png(tmp_path: Path) -> Path:
    """A real image outside the allowed folder."""
    path = tmp_path / "private.png"
    path.write_bytes(png_bytes(seed=99))
    return path


def _escapes(uploads: Path, outside_png: Path) -> dict[str, str]:
    link = uploads / "innocent.png"
    link.symlink_to(outside_png)
    return {
        "system file": "/etc/passwd",
        "symlink out of the folder": str(link),
        "dot-dot escape": str(uploads / ".." / outside_png.name),
        "home shortcut": "~/.ssh/id_rsa",
    }


@pytest.mark.parametrize(
    "escape", ["system file", "symlink out of the folder", "dot-dot escape", "home shortcut"]
)
async def test_paths_outside_the_allowed_folders_are_refused(
    call: Call,
    fake: FakeClawRouter,
    settings: dict[str, Any],
    uploads: Path,
    outside_png: Path,
    escape: str,
) -> None:
    """A local image outside allowed_dirs is refused before any request is made."""
    path = _escapes(uploads, outside_png)[escape]
    message = await call(ClawRouterEditImage(**settings), {"prompt": "x", "image": path})
    assert message.status == "error"
    assert isinstance(message.content, str)
    # A missing file gets the same refusal: the LLM must not learn which files exist.
    assert "outside the folders this tool may read" in message.content
    assert "not found" not in message.content
    assert str(uploads) in message.content
    assert fake.requests == []


async def test_mask_outside_the_allowed_folders_is_refused(
    call: Call,
    fake: FakeClawRouter,
    settings: dict[str, Any],
    uploads: Path,
) -> None:
    """The mask obeys the same policy as the image."""
    (uploads / "photo.png").write_bytes(png_bytes(seed=1))
    args = {"prompt": "x", "image": str(uploads / "photo.png"), "mask": "/etc/passwd"}
    message = await call(ClawRouterEditImage(**settings), args)
    assert message.status == "error"
    assert "outside the folders this tool may read" in message.content
    assert fake.requests == []


async def test_file_inside_an_allowed_folder_is_sent(
    call: Call,
    fake: FakeClawRouter,
    settings: dict[str, Any],
    uploads: Path,
) -> None:
    """A local image inside allowed_dirs is read and sent as a data URI of its bytes."""
    photo = uploads / "me.png"
    photo.write_bytes(png_bytes(seed=42))
    message = await call(ClawRouterEditImage(**settings), {"prompt": "x", "image": str(photo)})
    assert message.status == "success"
    assert len(fake.posts) == 1
    assert fake.sent_image() == png_bytes(seed=42)


# -- clients ------------------------------------------------------------------------------


async def test_each_path_uses_its_own_client(fake: FakeClawRouter, refused: dict[str, Any]) -> None:
    """invoke uses the sync client and ainvoke the async one, with no hop between them."""
    sync_only = ClawRouterGenerateImage(client=fake.client(), async_client=refused["async_client"])
    async_only = ClawRouterGenerateImage(client=refused["client"], async_client=fake.async_client())
    call_sync = {"name": "generate_image", "args": CITY, "id": "1", "type": "tool_call"}
    assert sync_only.invoke(call_sync).status == "success"
    assert (await async_only.ainvoke(call_sync)).status == "success"
    assert (await sync_only.ainvoke(call_sync)).status == "error"
    assert async_only.invoke(call_sync).status == "error"


async def test_sync_and_async_give_the_same_result(fake: FakeClawRouter, uploads: Path) -> None:
    """invoke and ainvoke of the same call send the same request and return the same text."""
    (uploads / "me.png").write_bytes(png_bytes(seed=5))
    args = {"prompt": "a beach", "image": str(uploads / "me.png"), "size": "1536x1024"}
    tool_call = {"name": "edit_image", "args": args, "id": "1", "type": "tool_call"}
    sync_fake, async_fake = type(fake)(), type(fake)()
    tool = ClawRouterEditImage(
        client=sync_fake.client(), async_client=async_fake.async_client(), allowed_dirs=[uploads]
    )
    sync_message = tool.invoke(tool_call)
    async_message = await tool.ainvoke(tool_call)
    assert sync_message.content == async_message.content
    assert sync_fake.seen() == async_fake.seen()
    assert sync_fake.body(0)["model"] == "openai/gpt-image-1"


def test_sync_client_is_built_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake: FakeClawRouter, loopback: str
) -> None:
    """With no client injected, calls go to CLAWROUTER_BASE_URL."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", loopback)
    tool = ClawRouterGenerateImage()
    assert tool.base_url == loopback
    assert tool.invoke(CITY).startswith("1 image from google/nano-banana")
    assert [r.url.path for r in fake.posts] == ["/v1/images/generations"]


async def test_async_client_is_built_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake: FakeClawRouter, loopback: str
) -> None:
    """With no async client injected, async calls go to CLAWROUTER_BASE_URL."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", loopback)
    tool = ClawRouterGenerateImage()
    assert (await tool.ainvoke(CITY)).startswith("1 image from google/nano-banana")
    assert [r.url.path for r in fake.posts] == ["/v1/images/generations"]


async def test_one_injected_client_locates_clawrouter_for_the_other(
    fake: FakeClawRouter, loopback: str
) -> None:
    """The async client built for a tool given only a sync client goes to the same server."""
    tool = ClawRouterGenerateImage(client=ImageClient(loopback, max_retries=0))
    assert tool.base_url == loopback
    assert (await tool.ainvoke(CITY)).startswith("1 image from google/nano-banana")
    assert [r.url.path for r in fake.posts] == ["/v1/images/generations"]


def _bytes_at(path: str) -> bytes:
    return Path(path).read_bytes()

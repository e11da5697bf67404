"""``clawrouter-images mcp`` as an MCP client sees it: the contract's tools, results with
image parts, the file policy, caps and budget, the same messages, and progress."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession
from pydantic import ValidationError
from tests.support.mcp_server import Connect

from clawrouter_images import ClawRouterError
from clawrouter_images.agent_tools import ImageToolConfig, ImageTools, invalid_arguments
from clawrouter_images.agent_tools._descriptions import edit_description, generate_description
from clawrouter_images.agent_tools._file_policy import check_local_path
from clawrouter_images.agent_tools._schemas import (
    EditArgs,
    GenerateArgs,
    edit_schema,
    generate_schema,
    open_schema,
    result_schema,
)
from clawrouter_images.emulator import Emulator, Fault, LedgerEntry

PNG = b"\x89PNG\r\n\x1a\n"


async def _call(session: ClientSession, name: str, arguments: dict[str, Any], **kwargs: Any) -> Any:
    """The result as sent on the wire: the same names in mcp 1.x and 2.x."""
    result = await session.call_tool(name, arguments, **kwargs)
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def _posts(emulator: Emulator) -> list[LedgerEntry]:
    """The image requests ClawRouter received (downloads of results left out)."""
    return [entry for entry in emulator.ledger if entry.method == "POST"]


def _text(result: Any) -> str:
    first = result["content"][0]
    assert first["type"] == "text"
    return str(first["text"])


async def _refusal(config: ImageToolConfig, base_url: str, args: GenerateArgs | EditArgs) -> str:
    """What the contract's runner says to every adapter for ``args`` (refused unpaid)."""
    tools = ImageTools(config, base_url=base_url)
    try:
        with pytest.raises(ClawRouterError) as caught:
            await tools.arun(args)
    finally:
        await tools.aclose()
    return caught.value.message


async def test_lists_the_contracts_tools(connect: Connect) -> None:
    """Names, descriptions and input schemas are the contract's for the offered models."""
    config = ImageToolConfig(models=["nano-banana", "gpt-image"])
    async with connect("--model", "nano-banana", "--model", "gpt-image") as session:
        listed = (await session.list_tools()).tools
    assert [(t.name, t.description) for t in listed] == [
        ("generate_image", generate_description(config)),
        ("edit_image", edit_description(config)),
    ]
    wire = [t.model_dump(by_alias=True) for t in listed]
    assert [t["inputSchema"] for t in wire] == [
        open_schema(generate_schema(config)),
        open_schema(edit_schema(config)),
    ]
    assert [t["outputSchema"] for t in wire] == [result_schema(), result_schema()]


async def test_generate_answers_text_and_an_image_and_saves_the_file(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """The text names model, cost, URL and saved path; the image part is a real picture."""
    emulator, _ = served
    saved = tmp_path / "out"
    async with connect("--save-dir", str(saved)) as session:
        result = await _call(session, "generate_image", {"prompt": "a red fox"})
    assert not result["isError"]
    text = _text(result)
    files = list(saved.iterdir())
    assert len(files) == 1
    assert "1 image from google/nano-banana at 1024x1024, estimated cost" in text
    assert f"Saved: {files[0]}" in text
    assert "](http://localhost:" in text
    image = result["content"][1]
    assert image["type"] == "image"
    assert image["mimeType"] in ("image/png", "image/jpeg")
    assert base64.b64decode(image["data"])[:3] in (PNG[:3], b"\xff\xd8\xff")
    assert [entry.paid for entry in _posts(emulator)] == [True]


@pytest.mark.parametrize(
    "arguments",
    [
        {"prompt": "a red fox"},
        {"prompt": "a red fox", "model": None, "size": None, "n": None},
        {"prompt": "a red fox", "model": "gpt-image", "size": "1024x1024", "n": 2},
    ],
    ids=["left out", "nulls", "given"],
)
async def test_structured_content_is_the_artifact_whatever_was_left_out(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path, arguments: dict[str, Any]
) -> None:
    """Optional arguments left out or null take their defaults; the structured content
    (URLs, saved paths, model, size, cost) is what the text says (and fits outputSchema:
    the SDK's call_tool checks it)."""
    emulator, _ = served
    saved = tmp_path / "out"
    async with connect("--save-dir", str(saved), "--no-images") as session:
        result = await _call(session, "generate_image", arguments)
    assert not result["isError"], _text(result)
    structured = result["structuredContent"]
    files = sorted(str(path) for path in saved.iterdir())
    assert sorted(structured["saved_paths"]) == files
    assert len(structured["urls"]) == len(files) == (arguments.get("n") or 1)
    model = {"gpt-image": "openai/gpt-image-1"}.get(arguments.get("model") or "")
    assert structured["model"] == (model or "google/nano-banana")
    assert structured["size"] == "1024x1024"
    assert f"estimated cost ${structured['estimated_cost_usd']:.3f}" in _text(result)
    assert all(url in _text(result) for url in structured["urls"])
    (post,) = _posts(emulator)
    assert post.paid


async def test_edits_a_saved_file(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """A file saved by one call is an input the next may edit (save dir allowed)."""
    emulator, _ = served
    saved = tmp_path / "out"
    # No --allowed-dir: the tools' own save folder is readable.
    options = ("--save-dir", str(saved))
    async with connect(*options) as session:
        await _call(session, "generate_image", {"prompt": "a red fox"})
        (first,) = saved.iterdir()
        result = await _call(session, "edit_image", {"prompt": "make it blue", "image": str(first)})
    assert not result["isError"], _text(result)
    assert "1 image from openai/gpt-image-1" in _text(result)
    assert [entry.path for entry in _posts(emulator)] == [
        "/v1/images/generations",
        "/v1/images/image2image",
    ]
    assert len(list(saved.iterdir())) == 2


async def test_a_file_outside_the_allowed_folders_is_refused_unpaid(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """isError, with the contract's message, and nothing sent to ClawRouter."""
    emulator, _ = served
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    async with connect("--allowed-dir", str(allowed)) as session:
        result = await _call(session, "edit_image", {"prompt": "x", "image": str(secret)})
    assert result["isError"]
    with pytest.raises(ClawRouterError) as expected:
        check_local_path(str(secret), ImageToolConfig(allowed_dirs=[allowed]).allowed_roots())
    assert _text(result) == expected.value.message
    assert emulator.ledger == []


REFUSED_ARGUMENTS: dict[str, tuple[str, Callable[[str, str], dict[str, Any]]]] = {
    "image": ("image", lambda inside, outside: {"image": outside}),
    "mask": ("mask", lambda inside, outside: {"image": inside, "mask": outside}),
    "second image": ("image[1]", lambda inside, outside: {"image": [inside, outside]}),
    "first image": ("image[0]", lambda inside, outside: {"image": [outside, inside]}),
}


@pytest.mark.parametrize("case", list(REFUSED_ARGUMENTS))
async def test_a_refused_file_is_named_by_its_argument(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path, case: str
) -> None:
    """The refusal says which argument to fix (``mask``, ``image[1]``), nothing is paid."""
    emulator, _ = served
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    inside = allowed / "photo.png"
    shutil.copyfile(_a_png(tmp_path), inside)
    outside = tmp_path / "secret.png"
    outside.write_bytes(PNG)
    argument, build = REFUSED_ARGUMENTS[case]
    arguments = {"prompt": "x", **build(str(inside), str(outside))}
    async with connect("--allowed-dir", str(allowed)) as session:
        result = await _call(session, "edit_image", arguments)
    assert result["isError"]
    assert _text(result).startswith(f"{argument} path {outside} is outside the folders")
    assert emulator.ledger == []


def _a_png(tmp_path: Path) -> Path:
    """A real picture (the policy reads the allowed one before it meets the refused one)."""
    from PIL import Image

    path = tmp_path / "drawn.png"
    Image.new("RGB", (8, 8), "red").save(path)
    return path


@pytest.mark.parametrize("where", ["/", "tmp"])
async def test_the_working_directory_is_never_read(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path, where: str
) -> None:
    """Started in / (as Claude Desktop starts servers) or anywhere else, with no
    --allowed-dir: an image in the working directory is refused, whole path or relative,
    and nothing is paid."""
    emulator, _ = served
    if where == "/":
        cwd = Path("/")
        name = next((n for n in ("etc/hostname", "etc/passwd") if (cwd / n).exists()), None)
        if name is None:
            pytest.skip("no /etc/hostname or /etc/passwd here")
    else:
        cwd, name = tmp_path, "photo.png"
        (cwd / name).write_bytes(PNG)
    expected = ImageToolConfig()
    async with connect(cwd=cwd) as session:
        for path in (str(cwd / name), name):
            result = await _call(session, "edit_image", {"prompt": "x", "image": path})
            assert result["isError"]
            with pytest.raises(ClawRouterError) as refusal:
                check_local_path(path, expected.allowed_roots(), folders_named=False)
            assert _text(result) == refusal.value.message
            assert "the deployer has allowed no folder" in _text(result)
    assert emulator.ledger == []


async def test_a_call_over_the_cap_is_refused_unpaid(
    connect: Connect, served: tuple[Emulator, str]
) -> None:
    """--max-cost-usd refuses before sending, with the message every adapter gives."""
    emulator, base_url = served
    arguments: dict[str, Any] = {"prompt": "a fox", "model": "banana-pro", "n": 2}
    async with connect("--max-cost-usd", "0.05") as session:
        result = await _call(session, "generate_image", arguments)
    assert result["isError"]
    expected = await _refusal(
        ImageToolConfig(max_cost_usd=0.05), base_url, GenerateArgs(**arguments)
    )
    assert _text(result) == expected
    assert "0.05" in expected
    assert emulator.ledger == []


async def test_the_budget_spans_the_servers_calls(
    connect: Connect, served: tuple[Emulator, str]
) -> None:
    """--budget-usd is one budget for every call: the call that would exceed it is refused."""
    emulator, _ = served
    async with connect("--budget-usd", "0.06") as session:
        first = await _call(session, "generate_image", {"prompt": "a fox"})
        second = await _call(session, "generate_image", {"prompt": "another fox"})
    assert not first["isError"]
    assert second["isError"]
    assert "budget" in _text(second)
    assert len(_posts(emulator)) == 1


async def test_invalid_arguments_get_the_contracts_message(
    connect: Connect, served: tuple[Emulator, str]
) -> None:
    """The same text as LangChain's handle_validation_error and LlamaIndex's refusal."""
    emulator, _ = served
    arguments: dict[str, Any] = {"prompt": "", "model": "no-such-model"}
    async with connect() as session:
        result = await _call(session, "generate_image", arguments)
        unknown = await _call(session, "draw_image", {"prompt": "a fox"})
    assert result["isError"]
    with pytest.raises(ValidationError) as expected:
        generate_schema(ImageToolConfig()).model_validate(arguments)
    assert _text(result) == invalid_arguments(expected.value)
    assert unknown["isError"]
    assert _text(unknown) == "unknown tool 'draw_image'; this server has generate_image, edit_image"
    assert emulator.ledger == []


async def test_a_failure_after_payment_still_gives_the_urls(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path
) -> None:
    """Paid but not saveable: the tool error lists the paid answer's URL."""
    emulator, base_url = served
    emulator.add_fault(Fault("dead_url"))
    async with connect("--save-dir", str(tmp_path / "out")) as session:
        result = await _call(session, "generate_image", {"prompt": "a fox"})
    assert result["isError"]
    assert [entry.paid for entry in _posts(emulator)] == [True]
    (download,) = [entry for entry in emulator.ledger if entry.method == "GET"]
    assert f"{base_url.replace('127.0.0.1', 'localhost')}{download.path}" in _text(result)


async def test_progress_reaches_a_client_that_asks(
    connect: Connect, served: tuple[Emulator, str]
) -> None:
    """A call with a progress token hears the elapsed time while the model works."""
    emulator, _ = served
    emulator.add_fault(Fault("slow", delay=0.5))
    heard: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        heard.append((progress, message))

    async with connect("--progress-every", "0.05") as session:
        result = await _call(
            session, "generate_image", {"prompt": "a slow fox"}, progress_callback=on_progress
        )
    assert not result["isError"]
    assert len(heard) >= 2
    assert all((m or "").startswith("generating with google/nano-banana: ") for _, m in heard)
    assert heard == sorted(heard)


async def test_the_emulator_option_needs_no_clawrouter(
    connect: Connect, served: tuple[Emulator, str]
) -> None:
    """--emulator serves against an emulator of its own on a loopback port; --no-images
    leaves the image parts out."""
    emulator, _ = served
    async with connect("--emulator", "--no-images") as session:
        result = await _call(session, "generate_image", {"prompt": "a fox"})
    assert not result["isError"]
    assert "](http://localhost:" in _text(result)
    assert [part["type"] for part in result["content"]] == ["text"]
    assert emulator.ledger == []


def test_importing_the_package_or_the_command_leaves_mcp_unloaded() -> None:
    """Only `clawrouter-images mcp` imports the SDK (and its anyio, starlette, ...)."""
    check = "import sys, clawrouter_images, clawrouter_images._cli; print('mcp' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "False"

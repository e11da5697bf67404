"""The pictures: real images of the requested size and format, told apart by prompt, edits from inputs."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image, ImageChops, ImageStat
from tests.support.png import png_bytes

from clawrouter_images.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"


async def _picture(call: Call, emu: Emulator, url: str) -> Image.Image:
    raw = await call(emu, "GET", url.split(str(emu.port), 1)[1])
    assert raw.status == 200
    return Image.open(io.BytesIO(raw.body))


async def _generate(call: Call, emu: Emulator, **body: Any) -> Image.Image:
    raw = await call(emu, "POST", GENERATIONS, json_body=body)
    assert raw.status == 200, raw.body
    return await _picture(call, emu, raw.json()["data"][0]["url"])


async def _edit(call: Call, emu: Emulator, **body: Any) -> Image.Image:
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body=body)
    assert raw.status == 200, raw.body
    return await _picture(call, emu, raw.json()["data"][0]["url"])


def _data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _distance(first: Image.Image, second: Image.Image) -> float:
    """Mean per-channel difference of two pictures, compared at 32x32."""
    small = (32, 32)
    diff = ImageChops.difference(
        first.convert("RGB").resize(small), second.convert("RGB").resize(small)
    )
    return sum(ImageStat.Stat(diff).mean) / 3


def _halves(left: tuple[int, int, int], right: tuple[int, int, int], size: int = 128) -> bytes:
    image = Image.new("RGB", (size, size), left)
    image.paste(Image.new("RGB", (size // 2, size), right), (size // 2, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("google/nano-banana", "1024x1024"),
        ("google/nano-banana", "1216x832"),
        ("openai/gpt-image-1", "1536x1024"),
        ("openai/gpt-image-2", "1024x1536"),
        ("bytedance/seedream-5-pro", "2048x1024"),
        ("zai/cogview-4", "512x512"),
        ("google/nano-banana-pro", "4096x4096"),
    ],
)
async def test_generation_is_a_png_of_the_requested_size(
    call: Call, emu: Emulator, model: str, size: str
) -> None:
    """The localised file is a PNG that Pillow opens, exactly ``size``."""
    picture = await _generate(call, emu, model=model, prompt="a lighthouse at dusk", size=size)
    assert picture.format == "PNG"
    assert f"{picture.width}x{picture.height}" == size


async def test_generation_without_size_uses_the_model_default(call: Call, emu: Emulator) -> None:
    """No size (or ``auto``) gives the model's first listed size."""
    assert (await _generate(call, emu, prompt="x")).size == (1024, 1024)
    picture = await _generate(call, emu, model="zai/cogview-4", prompt="x", size="auto")
    assert picture.size == (1024, 1024)


@pytest.mark.parametrize(
    ("output_format", "pillow", "extension"), [("jpeg", "JPEG", "jpg"), ("webp", "WEBP", "webp")]
)
async def test_output_format_changes_the_file_type(
    call: Call, emu: Emulator, output_format: str, pillow: str, extension: str
) -> None:
    """``output_format`` jpeg or webp gives that format, saved with ClawRouter's extension."""
    raw = await call(
        emu, "POST", GENERATIONS, json_body={"prompt": "x", "output_format": output_format}
    )
    url = raw.json()["data"][0]["url"]
    assert url.endswith(f".{extension}")
    assert (await _picture(call, emu, url)).format == pillow


async def test_different_prompts_give_different_pictures(call: Call, emu: Emulator) -> None:
    """Two prompts give clearly different images."""
    first = await _generate(call, emu, prompt="a red fox in the snow")
    second = await _generate(call, emu, prompt="a submarine under the ice")
    assert _distance(first, second) > 10


async def test_the_same_prompt_gives_the_same_picture(call: Call, emu: Emulator) -> None:
    """Generation is deterministic: one prompt, one picture."""
    first = await _generate(call, emu, prompt="same")
    second = await _generate(call, emu, prompt="same")
    assert _distance(first, second) == 0


async def test_several_images_differ_from_each_other(call: Call, emu: Emulator) -> None:
    """``n=2`` gives two different pictures."""
    raw = await call(emu, "POST", GENERATIONS, json_body={"prompt": "twins", "n": 2})
    first, second = [await _picture(call, emu, item["url"]) for item in raw.json()["data"]]
    assert _distance(first, second) > 5


async def test_b64_json_holds_the_picture(call: Call, emu: Emulator) -> None:
    """``response_format: b64_json`` returns the PNG itself, and no file is written."""
    raw = await call(
        emu,
        "POST",
        GENERATIONS,
        json_body={"prompt": "x", "size": "1024x1024", "response_format": "b64_json"},
    )
    picture = Image.open(io.BytesIO(base64.b64decode(raw.json()["data"][0]["b64_json"])))
    assert (picture.format, picture.size) == ("PNG", (1024, 1024))
    assert not emu.image_dir.exists() or not any(emu.image_dir.iterdir())


async def test_edit_resembles_its_input_more_than_a_generation(call: Call, emu: Emulator) -> None:
    """An edit is visibly derived from the input; a fresh generation of the prompt is not."""
    source = _halves((230, 40, 40), (40, 40, 230))
    edited = await _edit(call, emu, prompt="make it foggy", image=_data_uri(source))
    generated = await _generate(call, emu, prompt="make it foggy")
    original = Image.open(io.BytesIO(source))
    assert _distance(edited, original) < _distance(generated, original)
    assert _distance(edited, generated) > 10


async def test_edit_has_the_requested_size(call: Call, emu: Emulator) -> None:
    """The input is fitted to the requested output size."""
    edited = await _edit(
        call, emu, prompt="wide", image=_data_uri(png_bytes(30, 90)), size="1536x1024"
    )
    assert edited.size == (1536, 1024)


async def test_white_mask_limits_the_edit(call: Call, emu: Emulator) -> None:
    """With a mask, only the white area is tinted; the rest keeps the input's pixels."""
    grey = (128, 128, 128)
    source = _halves(grey, grey, 1024)
    mask = _halves((255, 255, 255), (0, 0, 0), 1024)
    edited = await _edit(
        call, emu, prompt="paint the left", image=_data_uri(source), mask=_data_uri(mask)
    )
    kept = edited.convert("RGB").getpixel((800, 800))
    tinted = edited.convert("RGB").getpixel((200, 800))
    assert kept == grey
    assert tinted != grey


async def test_transparent_mask_marks_the_area_to_edit(call: Call, emu: Emulator) -> None:
    """A mask with alpha edits where it is transparent (OpenAI's rule)."""
    grey = (128, 128, 128)
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 255))
    mask.paste(Image.new("RGBA", (32, 64), (0, 0, 0, 0)), (32, 0))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    edited = await _edit(
        call,
        emu,
        prompt="paint the right",
        image=_data_uri(_halves(grey, grey, 1024)),
        mask=_data_uri(buffer.getvalue()),
    )
    assert edited.convert("RGB").getpixel((200, 800)) == grey
    assert edited.convert("RGB").getpixel((800, 800)) != grey


async def test_several_inputs_make_one_picture(call: Call, emu: Emulator) -> None:
    """A list of input images gives a picture of the output size (the others as thumbnails)."""
    images = [
        _data_uri(png_bytes(40, 40, colour)) for colour in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    ]
    edited = await _edit(call, emu, model="google/nano-banana", prompt="combine", image=images)
    assert edited.size == (1024, 1024)


async def test_unreadable_input_is_refused_before_payment(call: Call, emu: Emulator) -> None:
    """Bytes that are not an image answer 400 and are not paid."""
    raw = await call(
        emu,
        "POST",
        IMAGE2IMAGE,
        json_body={
            "prompt": "x",
            "image": "data:image/png;base64," + base64.b64encode(b"nope").decode(),
        },
    )
    assert raw.status == 400
    assert raw.json()["error"] == "Invalid request"
    assert "not a readable image" in raw.json()["details"]
    assert emu.ledger[-1].paid is False

"""Error bodies say what is wrong with the request in words, never with Python object reprs."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from clawrouter_images.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


def _data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` and holds no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _corrupt(data: bytes) -> bytes:
    start = data.index(b"IDAT") + 8
    return data[:start] + b"\0" * 10 + data[start + 10 :]


def _edit(image: object, **more: Any) -> dict[str, Any]:
    return {"model": "openai/gpt-image-1", "prompt": "x", "image": image, **more}


BAD = [
    # (id, route, body, what the details must say)
    ("text", IMAGE2IMAGE, _edit(_data_uri(b"not an image at all")), "recognised, or the data"),
    ("empty", IMAGE2IMAGE, _edit(_data_uri(b"")), "(0 bytes)"),
    ("png-signature-only", IMAGE2IMAGE, _edit(_data_uri(PNG[:8])), "cut short (8 bytes"),
    ("png-cut-early", IMAGE2IMAGE, _edit(_data_uri(PNG[:40])), "cut short (40 bytes"),
    ("png-cut-late", IMAGE2IMAGE, _edit(_data_uri(PNG[: len(PNG) // 2])), "cut short ("),
    ("png-corrupt", IMAGE2IMAGE, _edit(_data_uri(_corrupt(PNG))), "it is corrupt ("),
    ("jpeg-garbage", IMAGE2IMAGE, _edit(_data_uri(b"\xff\xd8\xff\xe0" + b"x" * 50)), "image is"),
    ("gif-garbage", IMAGE2IMAGE, _edit(_data_uri(b"GIF89a" + b"\0" * 5)), "11 bytes"),
    ("html", IMAGE2IMAGE, _edit(_data_uri(b"<html>x</html>", "text/html")), "(14 bytes)"),
    ("huge", IMAGE2IMAGE, _edit(_data_uri(_png_header(100_000, 100_000))), "image is"),
    ("bomb", IMAGE2IMAGE, _edit(_data_uri(_png_header(9000, 9000))), "too large to read"),
    ("bad-base64", IMAGE2IMAGE, _edit("data:image/png;base64,!!!!"), "image is not a readable"),
    ("not-base64", IMAGE2IMAGE, _edit("data:image/png,raw"), "not a base64 data URI"),
    (
        "mask",
        IMAGE2IMAGE,
        _edit(_data_uri(PNG), mask=_data_uri(b"nope")),
        "mask is not a readable image",
    ),
    (
        "second-of-several",
        IMAGE2IMAGE,
        _edit([_data_uri(PNG), _data_uri(b"GIF89a")], model="google/nano-banana"),
        "image[1] is not a readable image",
    ),
    ("number", IMAGE2IMAGE, _edit(42), "image must be"),
    ("object-in-list", IMAGE2IMAGE, _edit([{"a": 1}]), "image[0] must be a data URI"),
    ("missing-file", IMAGE2IMAGE, _edit("~/nope.png"), "Image file not found"),
    ("size-object", GENERATIONS, {"prompt": "x", "size": {"w": 1}}, "is not supported"),
    ("model-object", GENERATIONS, {"prompt": "x", "model": {"id": 1}}, "Unknown model"),
]


@pytest.mark.parametrize(
    ("route", "body", "details"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
async def test_bad_input_is_refused_in_words(
    call: Call, emu: Emulator, route: str, body: dict[str, Any], details: str
) -> None:
    """400 Invalid request, unpaid, with details naming the problem and no ``object at 0x``."""
    raw = await call(emu, "POST", route, json_body=body)
    assert raw.status == 400
    answer = raw.json()
    assert answer["error"] == "Invalid request"
    assert details in answer["details"]
    assert "object at 0x" not in raw.text
    assert "<_io." not in raw.text
    assert emu.ledger[-1].paid is False

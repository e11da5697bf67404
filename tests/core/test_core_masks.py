"""Masks read the same in both conventions: the brief's (white = edit, black = keep) and the
upstreams' (alpha 0 = edit).  Opaque masks are converted pixel by pixel; masks with
transparency go byte for byte."""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING

import pytest
from tests.support.png import png_bytes, png_pixels

from clawrouter_images import InputImageError
from clawrouter_images._inputs import ImageBytes
from clawrouter_images._masks import mask_for_upstream

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter
    from tests.support.twin import Twin

Image = pytest.importorskip("PIL.Image")

WHITE, BLACK, GREY_LIGHT, GREY_DARK = (255, 255, 255), (0, 0, 0), (200, 200, 200), (60, 60, 60)
EDITED = (255, 255, 255, 0)  # white and transparent: "edit" in both conventions
KEPT = (0, 0, 0, 255)  # black and opaque: "keep" in both


def _encoded(image: object, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)  # type: ignore[attr-defined]
    return out.getvalue()


def _pixels(data: bytes) -> list[tuple[int, ...]]:
    with Image.open(io.BytesIO(data)) as image:
        rgba = image.convert("RGBA")
        width, height = rgba.size
        return [rgba.getpixel((x, y)) for y in range(height) for x in range(width)]


def _opaque_grid() -> list[list[tuple[int, int, int]]]:
    return [[WHITE, BLACK, GREY_LIGHT], [GREY_DARK, WHITE, BLACK]]


EXPECTED = [EDITED, KEPT, EDITED, KEPT, EDITED, KEPT]

OPAQUE: dict[str, bytes] = {
    "RGB PNG": png_pixels(_opaque_grid()),
    "RGBA PNG, every pixel opaque": png_pixels(
        [[(*p, 255) for p in row] for row in _opaque_grid()]
    ),
    "greyscale PNG": _encoded(
        Image.open(io.BytesIO(png_pixels(_opaque_grid()))).convert("L"), "PNG"
    ),
    "GIF": _encoded(Image.open(io.BytesIO(png_pixels(_opaque_grid()))), "GIF"),
    "lossless WebP": _encoded(
        Image.open(io.BytesIO(png_pixels(_opaque_grid()))), "WEBP", lossless=True
    ),
}


@pytest.mark.parametrize("kind", list(OPAQUE))
def test_an_opaque_mask_is_converted_pixel_by_pixel(kind: str) -> None:
    """White (and light grey) become white and transparent; black (and dark grey) black and opaque."""
    sent = mask_for_upstream(ImageBytes(OPAQUE[kind], "image/png", "mask"))
    assert sent.mime == "image/png"
    assert _pixels(sent.data) == EXPECTED


TRANSPARENT: dict[str, bytes] = {
    "RGBA PNG": png_pixels([[(0, 0, 0, 255), (255, 255, 255, 0)], [(9, 9, 9, 128), (0, 0, 0, 0)]]),
    "palette PNG with tRNS": _encoded(
        Image.open(io.BytesIO(png_pixels([[(0, 0, 0, 255), (0, 0, 0, 0)]]))).convert("P"), "PNG"
    ),
    "grey + alpha PNG": _encoded(Image.new("LA", (3, 2), (0, 0)), "PNG"),
}


@pytest.mark.parametrize("kind", list(TRANSPARENT))
def test_a_mask_with_transparency_is_sent_byte_for_byte(kind: str) -> None:
    """Transparency means the upstreams' convention already: nothing is re-encoded."""
    mask = ImageBytes(TRANSPARENT[kind], "image/png", "mask")
    assert mask_for_upstream(mask) is mask


@pytest.mark.parametrize("kind", ["RGBA PNG", "grey + alpha PNG"])
def test_without_pillow_a_mask_with_alpha_goes_unchanged(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """No Pillow is needed for a PNG that declares transparency: it is sent as it is."""
    monkeypatch.setitem(sys.modules, "PIL", None)
    mask = ImageBytes(TRANSPARENT[kind], "image/png", "mask")
    assert mask_for_upstream(mask) is mask


def test_without_pillow_an_opaque_mask_is_refused_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An opaque mask without Pillow: a one-line error naming the extra, before anything is sent."""
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(InputImageError, match=r"clawrouter-images\[pillow\]") as caught:
        mask_for_upstream(ImageBytes(OPAQUE["RGB PNG"], "image/png", "mask.png"))
    assert "\n" not in str(caught.value)
    assert "white = edit" in str(caught.value)


def test_an_unreadable_mask_is_refused_before_sending() -> None:
    """Bytes that only look like an image are refused with the mask named."""
    with pytest.raises(InputImageError, match=r"mask\.gif could not be read"):
        mask_for_upstream(ImageBytes(b"GIF89a\x01\x00\x01\x00junk", "image/gif", "mask.gif"))


async def test_the_client_sends_the_converted_mask(twin: Twin, fake: FakeClawRouter) -> None:
    """Through edit(): the mask field carries the converted PNG, the image field the image."""
    image = png_bytes(3, 2, (10, 20, 30))
    await twin.edit("fill the sky", image, mask=OPAQUE["RGB PNG"], model="gpt-image-1")
    assert _pixels(fake.sent_image(key="mask")) == EXPECTED
    assert fake.sent_image() == image


async def test_an_opaque_mask_without_pillow_costs_nothing(
    twin: Twin, fake: FakeClawRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal comes before the request: nothing is posted, nothing is spent."""
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(InputImageError):
        await twin.edit("fill", png_bytes(3, 2), mask=OPAQUE["RGB PNG"], model="gpt-image-1")
    assert fake.posts == []
    assert twin.spent_usd == 0

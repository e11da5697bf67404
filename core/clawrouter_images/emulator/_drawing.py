"""Pictures a person can tell apart: colours and shapes from a hash of the prompt, plus the prompt.

A generation is a two-colour gradient with a few discs and boxes, all chosen from a hash
of (prompt, variant), with the prompt written across it and a footer naming the model and
size.  An edit starts from the (first) input image, fitted to the output size, tints the
area to edit with a colour from the edit prompt (the whole image, or where the mask says),
frames it, and writes the edit prompt on it, so it visibly derives from its input.

Speed matters more than beauty: gradients are computed on a tiny canvas and scaled up,
shapes and text are single Pillow calls, and PNGs use the fastest compression, so a
4096x4096 image takes a fraction of a second.  Generations are cached by their inputs.
"""

from __future__ import annotations

import functools
import hashlib
import io
import textwrap
import warnings
from collections.abc import Sequence
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

ImageFormat = Literal["png", "jpeg", "webp"]

_GRADIENT_CANVAS = 32
# Input images above this are refused rather than decoded (Pillow's bomb check warns at 89 MP).
MAX_INPUT_PIXELS = 64 * 1024 * 1024
_TINT_OPACITY = 0.4
_MAX_TEXT_LINES = 6

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


class UnreadableImageError(ValueError):
    """Input bytes that are not an image Pillow can read; the message is the 400's details."""


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode()).digest()


def _colour(digest: bytes, offset: int) -> tuple[int, int, int]:
    red, green, blue = digest[offset : offset + 3]
    return red, green, blue


@functools.lru_cache(maxsize=32)
def _font(size: int) -> FontType:
    try:
        return ImageFont.load_default(size=size)
    except ImportError:  # Pillow built without FreeType: the small bitmap font
        return ImageFont.load_default()


def _encode(image: Image.Image, image_format: ImageFormat) -> bytes:
    buffer = io.BytesIO()
    if image_format == "png":
        image.save(buffer, "PNG", compress_level=1)
    elif image_format == "jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=85)
    else:
        image.save(buffer, "WEBP", quality=80, method=0)
    return buffer.getvalue()


def _write(
    draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int], font_size: int
) -> None:
    """Write ``text`` wrapped inside ``box``, white on a black band so it reads on any colour.

    A band is one rectangle fill; an outline (``stroke_width``) would render every glyph twice.
    """
    left, top, right, bottom = box
    font = _font(font_size)
    char_width = max(1.0, font.getlength("n"))
    columns = max(8, int((right - left) / char_width))
    lines = textwrap.wrap(text, columns) or [""]
    room = max(1, (bottom - top) // int(font_size * 1.25))
    limit = min(_MAX_TEXT_LINES, room)
    if len(lines) > limit:
        lines = [*lines[: limit - 1], lines[limit - 1][: columns - 1] + "…"]
    spacing = font_size // 4
    pad = max(2, font_size // 5)
    widest = max(font.getlength(line) for line in lines)
    height = len(lines) * (font_size + spacing)
    draw.rectangle((left - pad, top - pad, left + widest + pad, top + height + pad), fill=(0, 0, 0))
    draw.multiline_text(
        (left, top), "\n".join(lines), fill=(255, 255, 255), font=font, spacing=spacing
    )


@functools.lru_cache(maxsize=360)
def _ramp(angle: int) -> Image.Image:
    side = _GRADIENT_CANVAS
    ramp = Image.linear_gradient("L").resize((side, side))
    return ramp.rotate(angle, Image.Resampling.BILINEAR, fillcolor=128)


def _gradient(
    size: tuple[int, int], first: tuple[int, int, int], second: tuple[int, int, int], angle: int
) -> Image.Image:
    """A two-colour gradient at ``angle``, computed on a tiny canvas and scaled up."""
    side = _GRADIENT_CANVAS
    ramp = _ramp(angle)
    small = Image.composite(
        Image.new("RGB", (side, side), first), Image.new("RGB", (side, side), second), ramp
    )
    return small.resize(size, Image.Resampling.BILINEAR)


@functools.lru_cache(maxsize=64)
def render_generation(
    prompt: str,
    width: int,
    height: int,
    image_format: ImageFormat = "png",
    variant: int = 0,
    model: str = "",
) -> bytes:
    """An image of ``width`` x ``height`` for ``prompt`` (``variant`` tells ``n`` > 1 apart)."""
    digest = _digest(prompt, str(variant))
    image = _gradient(
        (width, height), _colour(digest, 0), _colour(digest, 3), digest[6] * 360 // 256
    )
    draw = ImageDraw.Draw(image)
    short = min(width, height)
    for index in range(4):
        base = 7 + index * 6
        x = digest[base] * width // 256
        y = digest[base + 1] * height // 256
        radius = (digest[base + 2] % 96 + 32) * short // 768
        box = (x - radius, y - radius, x + radius, y + radius)
        colour = _colour(digest, base + 3)
        if index % 2:
            draw.rectangle(box, fill=colour, outline=(0, 0, 0), width=max(1, short // 256))
        else:
            draw.ellipse(box, fill=colour, outline=(255, 255, 255), width=max(1, short // 256))
    margin = max(4, short // 24)
    label = prompt if variant == 0 else f"{prompt} (#{variant + 1})"
    _write(draw, label, (margin, margin, width - margin, height * 2 // 3), max(10, short // 14))
    footer = f"ClawRouter emulator · {model or 'default model'} · {width}x{height}"
    footer_size = max(8, short // 40)
    _write(
        draw,
        footer,
        (margin, height - margin - footer_size * 2, width - margin, height),
        footer_size,
    )
    return _encode(image, image_format)


def _open(data: bytes, name: str) -> Image.Image:
    """``data`` decoded; ``name`` (``image``, ``image[1]``, ``mask``) says which input failed.

    The messages never quote the input: it may be any file the emulator could read (a
    path an image2image caller named), so neither its bytes nor Pillow's messages, some
    of which quote them (``broken PNG file (chunk b'...')``), reach an answer or a log.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_INPUT_PIXELS:
                raise UnreadableImageError(
                    f"{name} is {image.width}x{image.height} pixels, too large to read"
                )
            image.load()
    except UnreadableImageError:
        raise
    except UnidentifiedImageError:
        raise UnreadableImageError(
            f"{name} is not a readable image: format not recognised, or the data is cut short "
            f"({len(data)} bytes)"
        ) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UnreadableImageError(f"{name} is too large to read ({len(data)} bytes)") from None
    except (OSError, ValueError, SyntaxError) as err:
        # Pillow's message only picks between two texts of our own: it may quote the data.
        reason = "the data is cut short" if "truncated" in str(err).lower() else "it is corrupt"
        raise UnreadableImageError(
            f"{name} is not a readable image: {reason} ({len(data)} bytes)"
        ) from None
    return image


def _edit_area(mask: bytes | None, size: tuple[int, int]) -> Image.Image:
    """An "L" opacity map: where to tint, and how strongly.

    With an alpha channel the transparent pixels are the area to edit (OpenAI's rule);
    without one, the white pixels are (the rule ClawRouter's docs state).
    """
    strength = int(255 * _TINT_OPACITY)
    if mask is None:
        return Image.new("L", size, strength)
    picture = _open(mask, "mask")
    if "A" in picture.getbands() or "transparency" in picture.info:
        selected = picture.convert("RGBA").getchannel("A").point(lambda v: 255 if v < 128 else 0)
    else:
        selected = picture.convert("L").point(lambda v: 255 if v >= 128 else 0)
    selected = selected.resize(size, Image.Resampling.NEAREST)
    return selected.point(lambda v: strength if v else 0)


def render_edit(
    prompt: str,
    sources: Sequence[bytes],
    mask: bytes | None,
    width: int,
    height: int,
    image_format: ImageFormat = "png",
) -> bytes:
    """The first of ``sources`` fitted to the output size, tinted where the edit goes, labelled."""
    size = (width, height)
    names = ["image"] if len(sources) == 1 else [f"image[{i}]" for i in range(len(sources))]
    base = ImageOps.fit(_open(sources[0], names[0]).convert("RGB"), size, Image.Resampling.BILINEAR)
    digest = _digest("edit", prompt)
    tint = _colour(digest, 0)
    image = Image.composite(Image.new("RGB", size, tint), base, _edit_area(mask, size))
    draw = ImageDraw.Draw(image)
    short = min(width, height)
    # Further input images become thumbnails along the bottom edge.
    thumb = max(8, short // 5)
    for index, extra in enumerate(sources[1:4]):
        picture = ImageOps.fit(_open(extra, names[index + 1]).convert("RGB"), (thumb, thumb))
        image.paste(picture, (width - (index + 1) * (thumb + 4), height - thumb - 4))
    draw.rectangle((0, 0, width - 1, height - 1), outline=tint, width=max(2, short // 48))
    margin = max(4, short // 24)
    _write(
        draw, f"edit: {prompt}", (margin, margin, width - margin, height // 2), max(10, short // 16)
    )
    return _encode(image, image_format)

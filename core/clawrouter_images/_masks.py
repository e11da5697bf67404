"""Masks that read the same under both conventions.

The product brief and ClawRouter's docs say a mask is white where the image is edited and
black where it is kept; OpenAI-style upstreams read transparency (alpha 0 = edit).  A mask
with any transparency already speaks the upstreams' language and is sent byte for byte.  An
opaque mask is converted so that both readings agree: edited areas white *and* transparent,
kept areas black and opaque.  Pillow does the conversion, imported only for it.
"""

from __future__ import annotations

import io
import struct

from ._constants import MASK_WHITE_FROM, MAX_MASK_PIXELS, PILLOW_INSTALL
from ._exceptions import InputImageError, quote
from ._inputs import ImageBytes

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_ALPHA_TYPES = (4, 6)  # grey + alpha, RGBA


def mask_for_upstream(mask: ImageBytes) -> ImageBytes:
    """``mask`` as sent: unchanged if it has transparency, else converted (see the module)."""
    try:
        from PIL import Image
    except ImportError:
        if _png_declares_transparency(mask.data):
            return mask
        raise InputImageError(
            f"mask {quote(mask.source, 120)} has no transparency (white = edit, black = keep); "
            f"converting it for the upstream needs Pillow: {PILLOW_INSTALL}, or send a mask "
            "whose edited areas are transparent"
        ) from None
    try:
        with Image.open(io.BytesIO(mask.data)) as image:
            width, height = image.size
            if width * height > MAX_MASK_PIXELS:
                raise InputImageError(
                    f"mask {quote(mask.source, 120)} is {width}x{height}; too large to convert"
                )
            rgba = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        if isinstance(err, InputImageError):
            raise
        raise InputImageError(
            f"mask {quote(mask.source, 120)} could not be read as an image ({type(err).__name__})"
        ) from None
    if rgba.getchannel("A").getextrema()[0] < 255:
        return mask
    edit = rgba.convert("L").point(lambda level: 255 if level >= MASK_WHITE_FROM else 0)
    keep = edit.point(lambda level: 255 - level)
    out = io.BytesIO()
    Image.merge("RGBA", (edit, edit, edit, keep)).save(out, format="PNG", optimize=True)
    return ImageBytes(out.getvalue(), "image/png", mask.source)


def _png_declares_transparency(data: bytes) -> bool:
    """Without decoding: a PNG whose colour type has alpha, or with a tRNS chunk."""
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 33:
        return False
    if data[25] in _PNG_ALPHA_TYPES:
        return True
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"tRNS":
            return True
        if kind in (b"IDAT", b"IEND"):
            return False
        offset += 12 + length
    return False

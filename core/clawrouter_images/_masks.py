"""Masks that read the same under both conventions.

The product brief and ClawRouter's docs say a mask is white where the image is edited and
black where it is kept; OpenAI-style upstreams read transparency (alpha 0 = edit).  A mask
with any transparency already speaks the upstreams' language and is sent byte for byte.  An
opaque mask is converted so that both readings agree: edited areas white *and* transparent,
kept areas black and opaque.  Pillow does the conversion (through ``_pixels``, the one place
untrusted images are decoded), imported only for it.

``mask_for_upstream`` is CPU-heavy for a large mask (seconds at 64 MP): the async client
runs it in a worker thread.
"""

from __future__ import annotations

import io
import struct
from typing import TYPE_CHECKING

from ._constants import MASK_WHITE_FROM, PILLOW_INSTALL
from ._exceptions import InputImageError, quote
from ._inputs import ImageBytes
from ._pixels import MASK, decode_input

if TYPE_CHECKING:
    from PIL import Image

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_ALPHA_TYPES = (4, 6)  # grey + alpha, RGBA
# Lookup tables, so that Pillow maps every pixel in C: grey level -> "edit" (255) or not,
# and the opposite for the alpha of kept areas.
_EDIT = [255 if level >= MASK_WHITE_FROM else 0 for level in range(256)]
_KEEP = [255 - value for value in _EDIT]


def mask_for_upstream(mask: ImageBytes) -> ImageBytes:
    """``mask`` as sent: unchanged if it has transparency, else converted (see the module).

    Raises ``InputImageError`` for a mask that cannot be read, or is larger than
    ``MAX_MASK_PIXELS``.
    """
    try:
        import PIL  # noqa: F401
    except ImportError:
        if _png_declares_transparency(mask.data):
            return mask
        raise InputImageError(
            f"mask {quote(mask.source, 120)} has no transparency (white = edit, black = keep); "
            f"converting it for the upstream needs Pillow: {PILLOW_INSTALL}, or send a mask "
            "whose edited areas are transparent"
        ) from None
    converted = decode_input(mask.data, MASK, _converted, source=mask.source)
    return mask if converted is None else ImageBytes(converted, "image/png", mask.source)


def _converted(image: Image.Image) -> bytes | None:
    """The opaque mask ``image`` as an RGBA PNG, or None if it has transparency."""
    from PIL import Image

    if _transparent(image):
        return None
    grey = image if image.mode == "L" else image.convert("L")
    edit = grey.point(_EDIT)
    keep = grey.point(_KEEP)
    del grey
    out = io.BytesIO()
    # Not optimize=True: it tries every filter at the highest level, many times slower on
    # a noisy mask for a few percent.
    Image.merge("RGBA", (edit, edit, edit, keep)).save(out, format="PNG")
    return out.getvalue()


def _transparent(image: Image.Image) -> bool:
    """Whether any pixel of ``image`` is less than opaque."""
    if "transparency" in image.info:
        # A colour or palette entries declared transparent: only the pixels tell if any is used.
        alpha = image.convert("RGBA").getchannel("A")
    elif "A" in image.getbands():
        alpha = image.getchannel("A")
    else:
        return False
    low = alpha.getextrema()[0]  # one band: (lowest, highest)
    return isinstance(low, (int, float)) and low < 255


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

"""Result images re-encoded for a vision model's image block (Pillow, imported on use).

The full image stays on disk and at its URL; only the copy handed to the model is made
smaller: its long side at most ``VISION_MAX_SIDE``, its bytes at most ``VISION_MAX_BYTES``,
as JPEG (PNG or WebP where it has transparency).  An image already within both limits, in a
type every provider reads, goes as it is.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ._constants import (
    PILLOW_INSTALL,
    VISION_MAX_BYTES,
    VISION_MAX_SIDE,
    VISION_MAX_SOURCE_PIXELS,
)

if TYPE_CHECKING:
    from PIL import Image

# What Anthropic, OpenAI and Gemini all read.
_EVERYWHERE = ("image/png", "image/jpeg", "image/webp")
PILLOW_MISSING = (
    f"return_image_block=True needs Pillow to size images for the model; install it with: "
    f"{PILLOW_INSTALL}"
)


def pillow_installed() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def for_vision(data: bytes) -> tuple[bytes, str]:
    """``data`` as an image every vision model takes: (bytes, MIME type).

    Raises ``ValueError`` for what is not an image, or too large to decode safely.
    """
    from PIL import Image, UnidentifiedImageError

    from ._inputs import sniff_image_type  # with the first image, as the client loads it

    mime = sniff_image_type(data[:16])
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > VISION_MAX_SOURCE_PIXELS:
                raise ValueError(f"{width}x{height} is too large to decode for a vision model")
            if (
                mime in _EVERYWHERE
                and max(width, height) <= VISION_MAX_SIDE
                and len(data) <= VISION_MAX_BYTES
            ):
                return data, mime or "image/png"
            image.load()
            return _shrunk(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise ValueError(f"not a readable image ({type(err).__name__})") from None


def _shrunk(image: Image.Image) -> tuple[bytes, str]:
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    picture = image.convert("RGBA" if transparent else "RGB")
    side = VISION_MAX_SIDE
    # Each pass makes the long side 3/4 of the last; 12 passes reach ~50 px, and a 50 px
    # image is far below any byte limit.
    for _ in range(12):
        picture.thumbnail((side, side))
        out = io.BytesIO()
        if transparent:
            picture.save(out, format="PNG", optimize=True)
            if out.tell() > VISION_MAX_BYTES:
                out = io.BytesIO()
                picture.save(out, format="WEBP", quality=85)
                mime = "image/webp"
            else:
                mime = "image/png"
        else:
            picture.save(out, format="JPEG", quality=85)
            mime = "image/jpeg"
        if out.tell() <= VISION_MAX_BYTES:
            return out.getvalue(), mime
        side = side * 3 // 4
    raise ValueError("could not be made small enough for a vision model")  # pragma: no cover

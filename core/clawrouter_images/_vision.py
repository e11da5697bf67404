"""Result images re-encoded for a vision model's image block (Pillow, imported on use).

The full image stays on disk and at its URL; only the copy handed to the model is made
smaller: its long side at most ``VISION_MAX_SIDE``, its bytes at most ``VISION_MAX_BYTES``,
as JPEG (PNG or WebP where it has transparency).  An image already within both limits, in a
type every provider reads, goes as it is once it has decoded whole: a provider refuses a
broken image with the whole turn, not just the block.  Decoding goes through ``_pixels``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ._constants import PILLOW_INSTALL, VISION_MAX_BYTES, VISION_MAX_SIDE
from ._pixels import VISION, Unreadable, decode_result

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


def for_vision(data: bytes) -> tuple[bytes, str] | Unreadable:
    """``data`` as an image every vision model takes: (bytes, MIME type), or ``Unreadable``
    (never an exception: the result it shows is paid for).  CPU-heavy for a large image:
    async callers run it in a worker thread."""
    from ._inputs import sniff_image_type  # with the first image, as the client loads it

    mime = sniff_image_type(data[:16])

    def work(image: Image.Image) -> tuple[bytes, str]:
        if (
            mime in _EVERYWHERE
            and max(image.size) <= VISION_MAX_SIDE
            and len(data) <= VISION_MAX_BYTES
        ):
            return data, mime or "image/png"
        return _shrunk(image)

    return decode_result(data, VISION, work)


def _shrunk(image: Image.Image) -> tuple[bytes, str]:
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    target = "RGBA" if transparent else "RGB"
    side = VISION_MAX_SIDE
    # Shrunk before converting where the mode allows (a box reduce, then resampling), so a
    # large image is never copied at full size; palette and 1-bit images resize only by
    # nearest neighbour, so those are converted first.
    picture = image if image.mode in ("L", "RGB", "RGBA", "LA") else image.convert(target)
    picture.thumbnail((side, side))
    if picture.mode != target:
        picture = picture.convert(target)
    # Each pass makes the long side 3/4 of the last; 12 passes reach ~50 px, and a 50 px
    # image is far below any byte limit.
    for _ in range(12):
        picture.thumbnail((side, side))
        out = io.BytesIO()
        if transparent:
            picture.save(out, format="PNG")
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

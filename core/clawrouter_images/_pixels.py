"""The one place image bytes nobody vouched for are decoded (Pillow, imported on use).

Masks, vision copies and notebook thumbnails all decode here, because each list of
exception types written beside a decode missed the next one (``SyntaxError`` from a PNG
chunk type, ``UnboundLocalError`` from a palette PNG without ``PLTE``).  *Any* failure of
the decoder, or of the work done on its pixels, becomes the outcome the caller asked for
by what the bytes are:

- ``decode_input``: an input (a mask) is refused with ``InputImageError`` before anything
  is sent or paid;
- ``decode_result``: a paid result is never lost over a picture of it: the caller gets
  ``Unreadable(reason)`` and keeps the result.

Pixels are capped by what each ``Purpose`` needs, before anything is decoded: a JPEG is
decoded at 1/2 to 1/8 scale when the purpose needs only a small copy (``draft``), and any
image still larger than the purpose's cap is refused from its header.  Pillow's own
``MAX_IMAGE_PIXELS`` is left as the application set it: a library patches nothing it does
not own.

Everything here is synchronous and CPU-heavy; async callers run it in a worker thread
(``anyio.to_thread.run_sync``), so no event loop waits on a decode.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ._constants import (
    MAX_MASK_PIXELS,
    PILLOW_INSTALL,
    RESULT_MAX_DECODED_PIXELS,
    THUMBNAIL_PIXELS,
    VISION_MAX_SIDE,
)
from ._exceptions import InputImageError, quote

if TYPE_CHECKING:
    from PIL import Image

T = TypeVar("T")

# What the client accepts as an input and what upstreams return: no other Pillow decoder
# (there are dozens, some rarely exercised) ever sees these bytes.
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")


@dataclass(frozen=True)
class Purpose:
    """What the decoded pixels are for, and so how many of them may be decoded."""

    name: str
    """Named in messages: "mask", "vision copy", "thumbnail"."""
    max_pixels: int
    """Pixels decoded at most (after a JPEG's reduced-scale decode)."""
    side: int | None
    """The longest side the purpose needs, or None when it needs every pixel."""


MASK = Purpose("mask", MAX_MASK_PIXELS, None)
VISION = Purpose("vision copy", RESULT_MAX_DECODED_PIXELS, VISION_MAX_SIDE)
THUMBNAIL = Purpose("thumbnail", RESULT_MAX_DECODED_PIXELS, THUMBNAIL_PIXELS)


@dataclass(frozen=True)
class Unreadable:
    """Why a paid result could not be decoded for a purpose (the result itself is kept)."""

    reason: str


class _Refused(Exception):
    """A decode this module itself declines, with the reason to give."""


def decode_input(
    data: bytes, purpose: Purpose, work: Callable[[Image.Image], T], *, source: str
) -> T:
    """``work(image)`` on ``data`` decoded for ``purpose``; any failure is an
    ``InputImageError`` naming ``source`` (the input is refused, nothing was sent)."""
    outcome = _attempt(data, purpose, work)
    if isinstance(outcome, Unreadable):
        raise InputImageError(f"{purpose.name} {quote(source, 120)} {outcome.reason}")
    return outcome


def decode_result(
    data: bytes, purpose: Purpose, work: Callable[[Image.Image], T]
) -> T | Unreadable:
    """``work(image)`` on ``data`` decoded for ``purpose``, or ``Unreadable`` for any failure."""
    return _attempt(data, purpose, work)


def _attempt(data: bytes, purpose: Purpose, work: Callable[[Image.Image], T]) -> T | Unreadable:
    try:
        from PIL import Image
    except ImportError:
        return Unreadable(f"needs Pillow to be decoded: {PILLOW_INSTALL}")
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as image:
            if purpose.side is not None:
                # A JPEG decodes at 1/2, 1/4 or 1/8 scale (averaging, not skipping, pixels)
                # when the purpose's copy fits in that; other formats ignore this.
                image.draft(None, _draft_box(image.size, purpose.side))
            width, height = image.size
            if width * height > purpose.max_pixels:
                raise _Refused(
                    f"is {width}x{height}, too large to decode for a {purpose.name} "
                    f"(at most {purpose.max_pixels / 1e6:g} MP)"
                )
            image.load()
            return work(image)
    except _Refused as refusal:
        return Unreadable(str(refusal))
    # Any exception at all: decoders raise whatever their parsing hits (SyntaxError,
    # UnboundLocalError, struct.error, MemoryError, a DecompressionBombWarning made an
    # error, ...), and the next release will raise another.  Only the type is named: the
    # message may quote the bytes.
    except Exception as err:
        return Unreadable(f"could not be read as an image ({type(err).__name__})")


def _draft_box(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The smallest size a reduced decode may give: ``size`` scaled so its long side is
    ``longest``, or ``size`` itself when it is no larger."""
    width, height = size
    scale = min(1.0, longest / max(width, height, 1))
    return max(1, int(width * scale)), max(1, int(height * scale))


__all__ = [
    "MASK",
    "THUMBNAIL",
    "VISION",
    "Purpose",
    "Unreadable",
    "decode_input",
    "decode_result",
]

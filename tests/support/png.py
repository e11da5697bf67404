"""Real PNG files, written without Pillow (``tests/test_display.py`` runs without it)."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

Colour = tuple[int, int, int]

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bytes(
    width: int = 1,
    height: int = 1,
    colour: Colour | None = None,
    *,
    seed: int = 0,
    noise: bool = False,
) -> bytes:
    """An 8-bit RGB PNG of one ``colour``; without one, the colour follows ``seed``.

    The default is byte for byte the 1x1 PNG the recorder sent in
    ``i2i-image-list-not-converted``; different seeds give different files.  ``noise``
    makes every pixel random instead, so the file does not compress.
    """
    if colour is None:
        colour = (seed % 256 + 1, (seed // 256) % 256 + 2, 3)
    if noise:
        pixels = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    else:
        pixels = (b"\x00" + bytes(colour) * width) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(pixels))
        + _chunk(b"IEND", b"")
    )


def png_size(png: bytes | Path) -> tuple[int, int]:
    """Width and height from a PNG's header (its bytes, or the file holding them)."""
    head = png.read_bytes()[:24] if isinstance(png, Path) else png[:24]
    assert head[:8] == SIGNATURE, f"{png if isinstance(png, Path) else 'data'} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def png_pixels(rows: Sequence[Sequence[tuple[int, ...]]]) -> bytes:
    """A PNG of exactly these pixels: RGB tuples, or RGBA ones (then with an alpha channel)."""
    channels = len(rows[0][0])
    colour_type = {3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, colour_type, 0, 0, 0)
    raw = b"".join(b"\x00" + b"".join(bytes(pixel) for pixel in row) for row in rows)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )

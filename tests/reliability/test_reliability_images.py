"""Untrusted image bytes (issue 20 §2): every decode goes through ``_pixels``, the one funnel.

Whatever the bytes are, a mask is converted or refused with ``InputImageError`` before
anything is sent, and a paid result gives a picture of it or nothing (``None``, a note),
never an exception that loses the result.  The fuzz builds PNGs chunk by chunk (any chunk
type, any order, missing or extra PLTE, tRNS, truncated IDAT, every colour type and bit
depth) and images of every mode in every format the client accepts; the table runs the two
PNGs that escaped untyped through every public entry point; pixel caps are checked from
headers alone; and an async edit is shown to convert its mask off the event loop.
"""

from __future__ import annotations

import asyncio
import io
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.png import SIGNATURE, png_bytes

from clawrouter_images import ImageData, ImageResponse, InputImageError
from clawrouter_images._constants import RESULT_MAX_DECODED_PIXELS, VISION_MAX_SIDE
from clawrouter_images._display import thumbnail_png
from clawrouter_images._inputs import ImageBytes, sniff_image_type
from clawrouter_images._masks import mask_for_upstream
from clawrouter_images._pixels import (
    MASK,
    THUMBNAIL,
    VISION,
    Purpose,
    Unreadable,
    decode_input,
    decode_result,
)
from clawrouter_images._vision import for_vision
from clawrouter_images.agent_tools import ImageToolConfig, ImageTools
from clawrouter_images.agent_tools import _runner as runner_module
from clawrouter_images.agent_tools._schemas import GenerateArgs

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from tests.support.server import FakeClawRouter
    from tests.support.twin import MakeTwin

Image = pytest.importorskip("PIL.Image")

PURPOSES = [MASK, VISION, THUMBNAIL]


# -- PNGs built chunk by chunk --------------------------------------------------------------


def chunk(kind: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", crc or zlib.crc32(body))


def png_of(chunks: list[bytes]) -> bytes:
    return SIGNATURE + b"".join(chunks)


def ihdr(width: int, height: int, depth: int, colour: int, interlace: int = 0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


def grey_rows(width: int, height: int) -> bytes:
    return b"".join(b"\x00" + bytes(range(width)) for _ in range(height))


def bad_chunk_type_between_idats() -> bytes:
    """The first IDAT holds half the pixels; the chunk after it has a type that is no letters
    (Pillow: ``SyntaxError`` while loading)."""
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff" * 192 for _ in range(64)))
    return png_of(
        [
            ihdr(64, 64, 8, 2),
            chunk(b"IDAT", pixels[:10]),
            chunk(b"\x00\x01ab", b"xx"),
            chunk(b"IDAT", pixels[10:]),
            chunk(b"IEND", b""),
        ]
    )


def palette_without_plte() -> bytes:
    """Colour type 3 with no PLTE chunk (Pillow: ``UnboundLocalError`` in a thumbnail)."""
    return png_of(
        [
            ihdr(64, 64, 8, 3),
            chunk(b"IDAT", zlib.compress(grey_rows(64, 64))),
            chunk(b"IEND", b""),
        ]
    )


HOSTILE = {
    "chunk type not letters after IDAT": bad_chunk_type_between_idats(),
    "palette PNG without PLTE": palette_without_plte(),
}

# Every colour type with its bit depths, and combinations the format forbids.
COLOUR_DEPTHS = [
    (0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
    (4, 8), (4, 16), (6, 8), (6, 16), (3, 16), (2, 4), (5, 8), (7, 8),
]  # fmt: skip
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
KNOWN_TYPES = [
    b"PLTE", b"tRNS", b"IDAT", b"IEND", b"IHDR", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"tEXt",
    b"zTXt", b"iTXt", b"bKGD", b"pHYs", b"sBIT", b"eXIf", b"acTL", b"fcTL", b"fdAT", b"tIME",
]  # fmt: skip


@st.composite
def built_pngs(draw: st.DrawFn) -> bytes:
    colour, depth = draw(st.sampled_from(COLOUR_DEPTHS))
    width, height = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    row_bytes = (width * CHANNELS.get(colour, 3) * depth + 7) // 8
    rows = b"".join(
        bytes([draw(st.integers(0, 5))]) + draw(st.binary(min_size=row_bytes, max_size=row_bytes))
        for _ in range(height)
    )
    pixels = zlib.compress(rows)
    if draw(st.booleans()):
        pixels = pixels[: draw(st.integers(0, len(pixels)))]  # truncated IDAT
    cuts = sorted(draw(st.lists(st.integers(0, len(pixels)), max_size=3)))
    idats = [
        chunk(b"IDAT", pixels[start:end])
        for start, end in zip([0, *cuts], [*cuts, len(pixels)], strict=True)
    ]
    before: list[bytes] = []
    plte = draw(st.sampled_from(["none", "full", "short", "twice", "after IDAT"]))
    entries = 2 ** min(depth, 8)
    if plte in ("full", "twice"):
        before += [chunk(b"PLTE", draw(st.binary(min_size=3 * entries, max_size=3 * entries)))]
    if plte == "twice":
        before += before[-1:]
    if plte == "short":
        before += [chunk(b"PLTE", draw(st.binary(max_size=8)))]
    if draw(st.booleans()):
        before += [chunk(b"tRNS", draw(st.binary(max_size=entries + 2)))]
    extra = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(KNOWN_TYPES), st.binary(min_size=4, max_size=4)),
                st.binary(max_size=24),
                st.booleans(),  # a wrong CRC
            ),
            max_size=4,
        )
    )
    extras = [chunk(kind, data, crc=1 if bad else None) for kind, data, bad in extra]
    body = before + idats + [chunk(b"IEND", b"")]
    if plte == "after IDAT":
        body.insert(len(before) + 1, chunk(b"PLTE", b"\x00" * 3 * entries))
    for extra_chunk in extras:
        body.insert(draw(st.integers(0, len(body))), extra_chunk)
    if draw(st.booleans()):
        body = draw(st.permutations(body))
    interlace = draw(st.sampled_from([0, 0, 1]))
    return png_of([ihdr(width, height, depth, colour, interlace), *body])


# -- images of every mode, in every format the client accepts ----------------------------

MODES_FORMATS = [
    ("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"),
    ("I;16", "PNG"), ("CMYK", "JPEG"), ("L", "JPEG"), ("RGB", "JPEG"), ("P", "GIF"),
    ("L", "GIF"), ("RGB", "WEBP"), ("RGBA", "WEBP"),
]  # fmt: skip


def encoded(image: PILImage, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@st.composite
def pillow_images(draw: st.DrawFn) -> bytes:
    mode, fmt = draw(st.sampled_from(MODES_FORMATS))
    size = (draw(st.integers(1, 24)), draw(st.integers(1, 24)))
    noise = draw(st.binary(min_size=size[0] * size[1] * 4, max_size=size[0] * size[1] * 4))
    if mode == "I;16":  # Pillow before 10.2 cannot convert RGBA to it
        image = Image.frombytes("I;16", size, noise[: size[0] * size[1] * 2])
    else:
        image = Image.frombytes("RGBA", size, noise).convert(mode)
    options: dict[str, Any] = {}
    if mode == "P" and fmt == "PNG" and draw(st.booleans()):
        options["transparency"] = draw(st.integers(0, 255))
    data = encoded(image, fmt, **options)
    damage = draw(st.sampled_from(["none", "truncate", "flip"]))
    if damage == "truncate":
        data = data[: draw(st.integers(8, max(8, len(data) - 1)))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data


fuzz = settings(max_examples=150, deadline=None)


def check_every_purpose(data: bytes) -> None:
    """The three public users of the funnel: typed outcomes only."""
    mime = sniff_image_type(data[:16]) or "image/png"
    mask = ImageBytes(data, mime, "mask.png")
    try:
        sent: ImageBytes | InputImageError = mask_for_upstream(mask)
    except InputImageError as err:
        sent = err
    if isinstance(sent, InputImageError):
        assert str(sent).startswith("mask mask.png ")
    else:
        assert sent is mask or sent.data.startswith(SIGNATURE)
    copy = for_vision(data)
    if not isinstance(copy, Unreadable):
        small, out_mime = copy
        assert out_mime in ("image/png", "image/jpeg", "image/webp")
        assert isinstance(small, bytes)
    thumb = thumbnail_png(data)
    assert thumb is None or thumb.startswith(SIGNATURE)


@fuzz
@given(built_pngs())
def test_any_png_gives_a_typed_outcome_for_every_purpose(data: bytes) -> None:
    """A PNG of any chunks, in any order, of any colour type and depth: a mask is converted
    or refused with InputImageError, a result gives bytes or None; nothing else escapes."""
    check_every_purpose(data)


@fuzz
@given(pillow_images())
def test_any_mode_and_format_gives_a_typed_outcome_for_every_purpose(data: bytes) -> None:
    """1, L, LA, P, RGB, RGBA, I;16 PNGs, CMYK/L/RGB JPEGs, GIFs and WebPs, whole, cut short
    or with a byte flipped: typed outcomes only."""
    check_every_purpose(data)


FAILURES: list[type[BaseException]] = [
    SyntaxError,
    UnboundLocalError,
    struct.error,
    MemoryError,
    RecursionError,
    KeyError,
    ZeroDivisionError,
    OSError,
    ValueError,
    AssertionError,
    UserWarning,
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FAILURES), st.sampled_from(PURPOSES), st.text(max_size=40))
def test_whatever_the_work_raises_becomes_the_typed_outcome(
    failure: type[BaseException], purpose: Purpose, message: str
) -> None:
    """Not a list of types: any Exception from the work on the pixels is refused as an
    input and kept as a result, and its message (which may quote the bytes) is not shown."""

    def work(image: PILImage) -> bytes:
        raise failure(message)

    data = png_bytes(4, 4)
    outcome = decode_result(data, purpose, work)
    assert isinstance(outcome, Unreadable)
    assert outcome.reason == f"could not be read as an image ({failure.__name__})"
    with pytest.raises(InputImageError, match=rf"^{purpose.name} in\.png could not be read"):
        decode_input(data, purpose, work, source="in.png")


# -- pixel caps, from headers alone ---------------------------------------------------------


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and whose pixel data is garbage: a
    decoder that got as far as the pixels would fail differently than a refusal."""
    return png_of([ihdr(width, height, 8, 2), chunk(b"IDAT", b"garbage"), chunk(b"IEND", b"")])


@pytest.mark.parametrize("purpose", [VISION, THUMBNAIL], ids=lambda p: p.name)
def test_a_result_over_its_pixel_cap_is_refused_from_the_header(purpose: Purpose) -> None:
    """A result larger than any catalogued model makes is not decoded for a small copy."""
    side = int(RESULT_MAX_DECODED_PIXELS**0.5) + 1
    outcome = decode_result(header_only_png(side, side), purpose, lambda image: b"")
    assert isinstance(outcome, Unreadable)
    assert outcome.reason.startswith(f"is {side}x{side}, too large to decode for a {purpose.name}")


def test_a_mask_over_its_pixel_cap_is_refused_from_the_header() -> None:
    """Masks convert at full size, so their cap is on the pixels in the file."""
    mask = ImageBytes(header_only_png(9000, 8000), "image/png", "huge.png")
    with pytest.raises(InputImageError, match=r"^mask huge\.png is 9000x8000, too large"):
        mask_for_upstream(mask)


def flat_png(width: int, height: int) -> bytes:
    """A real one-colour PNG, compressed row by row (never all its pixels in memory)."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x40\x80\xc0" * width
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return png_of([ihdr(width, height, 8, 2), chunk(b"IDAT", pixels), chunk(b"IEND", b"")])


def test_a_13000_pixel_png_gives_no_thumbnail_and_no_vision_copy() -> None:
    """The 0.5 MB PNG that took 1.3 GB to thumbnail: refused, both ways."""
    data = flat_png(13000, 13000)
    assert thumbnail_png(data) is None
    assert isinstance(for_vision(data), Unreadable)


def test_a_large_jpeg_is_decoded_at_reduced_scale() -> None:
    """A JPEG over the cap is still shown: decoded at 1/2..1/8 scale, it is within it."""
    data = encoded(Image.new("RGB", (6000, 4100), "navy"), "JPEG", quality=50)
    thumb = thumbnail_png(data)
    assert thumb is not None
    with Image.open(io.BytesIO(thumb)) as small:
        assert small.size == (256, 175)
    copy = for_vision(data)
    assert not isinstance(copy, Unreadable), copy
    with Image.open(io.BytesIO(copy[0])) as shown:
        assert max(shown.size) == VISION_MAX_SIDE


def test_pillow_limits_are_left_as_the_application_set_them() -> None:
    """The funnel caps by purpose without touching Pillow's process-wide MAX_IMAGE_PIXELS."""
    before = Image.MAX_IMAGE_PIXELS
    thumbnail_png(flat_png(6000, 6000))
    for_vision(flat_png(6000, 6000))
    assert before == Image.MAX_IMAGE_PIXELS


# -- the two hostile PNGs through every public entry point ---------------------------------


# What the entry points make of them.  The broken chunk stream cannot be read at all.  The
# palette PNG without PLTE decodes as grey (Pillow's stand-in palette): as a mask it
# converts (all its pixels are darker than the threshold, so all of it is kept), and for a
# vision model it goes as it is; only saving it again as PNG fails (the thumbnail).
MASK_OUTCOMES = {
    "chunk type not letters after IDAT": None,
    "palette PNG without PLTE": {(0, 0, 0, 255)},
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_mask_is_refused_before_sending_or_converted(
    name: str, make_twin: MakeTwin, fake: FakeClawRouter
) -> None:
    """ImageClient.edit and AsyncImageClient.edit: an unreadable mask is an InputImageError
    with nothing posted or spent; a readable one is sent converted."""
    twin = make_twin(fake)  # the fake records every request
    expected = MASK_OUTCOMES[name]
    if expected is None:
        with pytest.raises(InputImageError, match=r"^mask .* could not be read as an image"):
            await twin.edit("fill", png_bytes(), mask=HOSTILE[name], model="gpt-image")
        assert fake.posts == []
        assert twin.spent_usd == 0
        return
    await twin.edit("fill", png_bytes(), mask=HOSTILE[name], model="gpt-image")
    with Image.open(io.BytesIO(fake.sent_image(key="mask"))) as sent:
        assert sent.mode == "RGBA"
        assert {colour for _, colour in sent.getcolors()} == expected


def _tools(fake: FakeClawRouter, name: str, save_dir: Path | None) -> tuple[ImageTools, str]:
    url = fake.serve("1795503044001-hostile0.png", HOSTILE[name])
    fake.on("POST", "/v1/images/generations", fake.images(url))
    config = ImageToolConfig(return_image_block=True, save_dir=save_dir)
    tools = ImageTools(config, client=fake.client(), async_client=fake.async_client())
    return tools, url


@pytest.mark.parametrize("saved", [False, True], ids=["fetched", "saved"])
@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_result_is_kept_by_the_tools(
    name: str, saved: bool, mode: str, fake: FakeClawRouter, tmp_path: Path
) -> None:
    """ImageTools.run / arun with image blocks: the paid result's URL, its saved file and
    a note reach the LLM; no error says it was not saved."""
    tools, url = _tools(fake, name, tmp_path if saved else None)
    args = GenerateArgs(prompt="a fox")
    answer = tools.run(args) if mode == "sync" else await tools.arun(args)
    await tools.aclose()
    if MASK_OUTCOMES[name] is None:
        assert answer.images == []
        assert "(image 1 is not shown to you: it could not be read as an image" in answer.text
    else:  # it decodes whole, within the limits: shown as it is
        assert [image.data for image in answer.images] == [HOSTILE[name]]
    assert answer.artifact["urls"] == [url]
    assert len(answer.artifact["saved_paths"]) == (1 if saved else 0)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_result_has_no_thumbnail(name: str) -> None:
    """thumbnail_png: None, or a real PNG where this Pillow reads the file leniently."""
    small = thumbnail_png(HOSTILE[name])
    assert small is None or sniff_image_type(small) == "image/png"
    if MASK_OUTCOMES[name] is None:
        assert small is None


def _inline(data: bytes) -> ImageResponse:
    import base64

    item = ImageData(b64_json=base64.b64encode(data).decode("ascii"))
    return ImageResponse(data=[item], prompt="a fox", model="google/nano-banana", size="1024x1024")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_result_shows_in_a_notebook_without_a_preview(name: str) -> None:
    """_repr_html_ and _repr_png_ answer (no thumbnail, unless this Pillow reads the file
    leniently), never raise."""
    response = _inline(HOSTILE[name])
    small = response._repr_png_()
    assert ("no preview" in response._repr_html_()) is (small is None)
    if MASK_OUTCOMES[name] is None:
        assert small is None


# -- off the event loop ---------------------------------------------------------------------


def noise_mask(side: int) -> bytes:
    """An opaque 1-bit mask of random pixels: the costliest kind to convert."""
    return encoded(Image.frombytes("1", (side, side), os.urandom(side * side // 8)), "PNG")


async def longest_gap_while(work: Callable[[], Any]) -> float:
    """The longest stretch a coroutine that only yields waited for its next turn."""
    done = False
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        last = time.monotonic()
        while not done:
            await asyncio.sleep(0)
            now = time.monotonic()
            longest = max(longest, now - last)
            last = now

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    try:
        await work()
    finally:
        done = True
        await task
    return longest


async def test_an_async_edit_converts_its_mask_off_the_event_loop(fake: FakeClawRouter) -> None:
    """While an opaque mask converts, the loop keeps turning: its longest stall is a small
    part of the conversion's time (measured here, on the same machine, just before)."""
    mask = noise_mask(1600)
    started = time.monotonic()
    mask_for_upstream(ImageBytes(mask, "image/png", "mask.png"))
    conversion = time.monotonic() - started
    client = fake.async_client()
    # The first edit imports what it needs (a worker thread's backend): once per process.
    await client.edit("fill", png_bytes(), mask=png_bytes(), model="gpt-image")
    gap = await longest_gap_while(
        lambda: client.edit("fill", png_bytes(), mask=mask, model="gpt-image")
    )
    await client.aclose()
    assert fake.sent_image(key="mask") != mask  # it was converted
    assert gap < conversion / 4, (gap, conversion)


def test_an_async_edit_with_an_opaque_mask_runs_on_trio(fake: FakeClawRouter) -> None:
    """The worker thread is anyio's, so the async client converts masks on trio as well."""
    trio = pytest.importorskip("trio")
    client = fake.async_client()

    async def edit() -> ImageResponse:
        response = await client.edit("fill", png_bytes(), mask=png_bytes(), model="gpt-image")
        await client.aclose()
        return response

    assert len(trio.run(edit).data) == 1
    assert fake.sent_image(key="mask") != png_bytes()


async def test_async_tools_size_images_for_vision_off_the_event_loop(
    fake: FakeClawRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """arun with image blocks: for_vision runs in a worker thread, not the loop's."""
    threads: list[int] = []

    def recording(data: bytes) -> tuple[bytes, str] | Unreadable:
        threads.append(threading.get_ident())
        return for_vision(data)

    monkeypatch.setattr(runner_module, "for_vision", recording)
    url = fake.serve("1795503044001-photo001.png", png_bytes(64, 64))
    fake.on("POST", "/v1/images/generations", fake.images(url))
    config = ImageToolConfig(return_image_block=True)
    tools = ImageTools(config, client=fake.client(), async_client=fake.async_client())
    answer = await tools.arun(GenerateArgs(prompt="a fox"))
    await tools.aclose()
    assert len(answer.images) == 1
    assert threads
    assert threading.get_ident() not in threads


def test_a_saved_file_gone_before_its_vision_copy_is_noted(tmp_path: Path) -> None:
    """_answer with a saved path that no longer exists: a note, the path still reported."""
    tools = ImageTools(ImageToolConfig(return_image_block=True))
    response = ImageResponse(data=[ImageData(url="http://localhost:8402/images/1-x.png")])
    gone = tmp_path / "gone.png"
    answer = tools._answer(response, [gone], [])
    tools.close()
    assert answer.images == []
    assert "(image 1 is not shown to you: No such file or directory)" in answer.text
    assert answer.artifact["saved_paths"] == [str(gone)]

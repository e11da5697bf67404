"""Untrusted images: how long an event loop stalls while a mask converts, and the peak
memory of decoding a hostile result, measured side by side in one run.

1. Stall: an opaque 1-bit noise mask (4000x4000 is 2 MB, 8000x8000 8 MB) converted for the
   upstream, while a ticker coroutine on the same loop records the longest gap between its
   turns.  "in loop" calls ``mask_for_upstream`` on the loop itself (what ``edit`` did before
   the conversion moved to a worker thread); "edit" is ``AsyncImageClient.edit`` with that
   mask against ``httpx.MockTransport``.
2. Peak RSS (``RUSAGE_CHILDREN`` of a process that ran only that decode) for a 13000x13000
   PNG made into a notebook thumbnail, a 64 MP PNG sized for a vision model, the largest
   results each purpose accepts, and the 8000x8000 noise mask.

Run: ``python benchmarks/bench_images.py [--sides 4000 8000]``.  To measure another tree
(say the commit before the funnel), point ``BENCH_CORE`` at its ``core`` folder:
``git archive <commit> core | tar -x -C /tmp/before && BENCH_CORE=/tmp/before/core python
benchmarks/bench_images.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

CORE = os.environ.get("BENCH_CORE") or str(Path(__file__).resolve().parents[1] / "core")
sys.path[:0] = [CORE]

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

import clawrouter_images  # noqa: E402
from clawrouter_images import AsyncImageClient  # noqa: E402
from clawrouter_images._inputs import ImageBytes  # noqa: E402
from clawrouter_images._masks import mask_for_upstream  # noqa: E402

BASE_URL = "http://127.0.0.1:8402"
ANSWER = {"created": 1, "data": [{"url": "http://localhost:8402/images/1-abcdefgh.png"}]}


# -- images -------------------------------------------------------------------------------


def noise_mask(side: int) -> bytes:
    """An opaque 1-bit PNG of random pixels: the worst case for converting and compressing."""
    image = Image.frombytes("1", (side, side), os.urandom(side * side // 8))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def flat_png(width: int, height: int) -> bytes:
    """A one-colour RGB PNG, compressed row by row so its pixels are never all in memory."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x40\x80\xc0" * width
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, format="PNG")
    return out.getvalue()


# -- stalls -------------------------------------------------------------------------------


async def _with_ticker(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Run ``work()`` beside a coroutine that only yields; (longest gap, seconds of work)."""
    done = False
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    start = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - start
    done = True
    await task
    return longest, elapsed


def stall_in_loop(mask: bytes) -> tuple[float, float]:
    async def convert() -> None:
        mask_for_upstream(ImageBytes(mask, "image/png", "mask.png"))

    mask_for_upstream(ImageBytes(small_png(), "image/png", "warm-up.png"))
    return asyncio.run(_with_ticker(convert))


def stall_of_edit(mask: bytes) -> tuple[float, float]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=ANSWER)

    async def measured() -> tuple[float, float]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with AsyncImageClient(BASE_URL, http_client=http) as client:
            # Once before measuring: the first edit imports the modules it needs (a worker
            # thread's backend, Pillow's plugins), a one-off cost of the process.
            await client.edit("fill", small_png(), mask=small_png(), model="gpt-image")

            async def edit() -> None:
                await client.edit("fill", small_png(), mask=mask, model="gpt-image")

            stall = await _with_ticker(edit)
        await http.aclose()
        return stall

    return asyncio.run(measured())


# -- memory -------------------------------------------------------------------------------


def _work(case: str, path: str) -> None:
    """The decode of one case, alone in this process."""
    data = Path(path).read_bytes()
    if case == "baseline":
        from clawrouter_images import _display, _masks, _vision  # noqa: F401
    elif case.startswith("thumbnail"):
        from clawrouter_images._display import thumbnail_png

        thumbnail_png(data)
    elif case.startswith("vision"):
        from clawrouter_images._vision import for_vision

        # Before the funnel, a refusal was raised.
        with contextlib.suppress(ValueError):
            for_vision(data)
    else:
        from clawrouter_images import InputImageError

        with contextlib.suppress(InputImageError):
            mask_for_upstream(ImageBytes(data, "image/png", "mask.png"))


def _measure(case: str, path: str) -> None:
    """Run ``_work`` in a child and print its peak RSS (KB) and seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--work", case, path], check=True)
    seconds = time.perf_counter() - start
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, f"{seconds:.2f}")


def peak_rss(case: str, path: Path) -> tuple[float, float]:
    """(MB, seconds): measured one level down, as RUSAGE_CHILDREN keeps the largest child."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", case, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]) / 1024, float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sides", type=int, nargs="*", default=[4000, 8000])
    parser.add_argument("--work", nargs=2)
    parser.add_argument("--measure", nargs=2)
    args = parser.parse_args()
    if args.work:
        _work(*args.work)
        return
    if args.measure:
        _measure(*args.measure)
        return

    print(f"clawrouter_images from {Path(clawrouter_images.__file__).parent}")
    print("\n1. Event-loop stall while an opaque noise mask converts (seconds)")
    print(f"{'mask':>11} {'MB':>5} {'in loop: gap':>13} {'work':>6} {'edit: gap':>10} {'work':>6}")
    for side in args.sides:
        mask = noise_mask(side)
        in_gap, in_work = stall_in_loop(mask)
        edit_gap, edit_work = stall_of_edit(mask)
        print(
            f"{side:>5}x{side:<5} {len(mask) / 1e6:5.1f} {in_gap:13.3f} {in_work:6.2f} "
            f"{edit_gap:10.3f} {edit_work:6.2f}"
        )

    print("\n2. Peak RSS of one decode in a fresh process (MB, seconds)")
    with tempfile.TemporaryDirectory() as folder:
        files = {
            "baseline (imports only)": flat_png(8, 8),
            "thumbnail 13000x13000 PNG": flat_png(13000, 13000),
            "thumbnail 4896x4896 PNG (24 MP)": flat_png(4896, 4896),
            "vision 8000x8000 PNG (64 MP)": flat_png(8000, 8000),
            "vision 4896x4896 PNG (24 MP)": flat_png(4896, 4896),
            "mask 8000x8000 noise": noise_mask(8000),
        }
        for case, data in files.items():
            path = Path(folder) / f"{len(data)}-{abs(hash(case))}.png"
            path.write_bytes(data)
            mb, seconds = peak_rss(case.split()[0], path)
            print(
                f"  {case:<34} {len(data) / 1e6:6.2f} MB file  {mb:7.0f} MB RSS  {seconds:6.2f} s"
            )


if __name__ == "__main__":
    main()

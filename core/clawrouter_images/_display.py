"""How an ``ImageResponse`` shows itself in Jupyter: small inline thumbnails, never megabytes.

Thumbnails are made with Pillow (the ``[pillow]`` extra, through ``_pixels``, the one place
untrusted images are decoded) from the saved file, inline ``b64_json``, or, for an image
not saved yet, a download through a client with the usual rules (ClawRouter's own results
from its base URL), so they show on a remote kernel too, where a ``localhost`` URL would not
load in the browser.  A repr must answer promptly and never raise: the download has a total
deadline, and an image that gave no thumbnail is not tried again.  Without Pillow the
preview lists links instead: it never inlines a full-size image.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._constants import (
    DOWNLOAD_DEADLINE_SECONDS,
    PILLOW_INSTALL,
    PREVIEW_TIMEOUT_SECONDS,
    THUMBNAIL_PIXELS,
)
from ._exceptions import ClawRouterError
from ._network import linkable
from ._pixels import THUMBNAIL, Unreadable, decode_result
from ._vision import pillow_installed

if TYPE_CHECKING:
    from PIL import Image

    from ._models import ImageResponse

_NO_PILLOW = f"for previews, {PILLOW_INSTALL}"
# Recorded in place of a thumbnail that could not be made: no PNG is empty.
_FAILED = b""

# The preview's clock, so that tests can run its deadline without waiting for it.
_now: Callable[[], float] = time.monotonic


def thumbnail_png(data: bytes) -> bytes | None:
    """A PNG no larger than THUMBNAIL_PIXELS a side, or None without Pillow or on bad data."""
    small = decode_result(data, THUMBNAIL, _thumbnail)
    return None if isinstance(small, Unreadable) else small


def _thumbnail(image: Image.Image) -> bytes:
    image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    # What PNG cannot hold (CMYK, 32-bit integers, floats) is shown as RGB.
    picture = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGB")
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _local_bytes(response: ImageResponse, index: int) -> bytes | None:
    """The bytes of image ``index`` if they are here already (a saved file or b64_json)."""
    if index < len(response._local.saved):
        path = response._local.saved[index]
        try:
            return path.read_bytes()
        except OSError:  # moved or deleted since: fetch it or show a link
            pass
    item = response.data[index]
    if item.b64_json:
        try:
            return base64.b64decode(item.b64_json)
        except ValueError:
            return None
    return None


def _preview_clock() -> Callable[[], float]:
    """The download clock of a preview's client: the true time until the preview's deadline,
    then past the client's own download deadline, so the next chunk to arrive ends it."""
    end = _now() + PREVIEW_TIMEOUT_SECONDS

    def clock() -> float:
        now = _now()
        return now if now <= end else now + DOWNLOAD_DEADLINE_SECONDS

    return clock


def _downloaded(response: ImageResponse, index: int) -> bytes | None:
    item = response.data[index]
    preview = response._local.preview
    if preview is None or not item.url:
        return None
    try:
        with preview() as client:
            client._clock = _preview_clock()
            return client.download(item)
    except ClawRouterError:  # gone, too slow, or not ours to fetch: the preview shows a link
        return None


def thumbnail(response: ImageResponse, index: int) -> bytes | None:
    """Image ``index`` as a thumbnail PNG, made (or found impossible) once per response and image."""
    if not pillow_installed():
        return None
    cached = response._local.thumbnails.get(index)
    if cached is not None:
        return cached or None
    data = _local_bytes(response, index)
    if data is None:
        data = _downloaded(response, index)
    small = thumbnail_png(data) if data is not None else None
    response._local.thumbnails[index] = _FAILED if small is None else small
    return small


def _where(response: ImageResponse, index: int) -> str:
    """Where image ``index`` is, as HTML: a link for an http(s) URL, else text."""
    if index < len(response._local.saved):
        return html.escape(str(response._local.saved[index])[:200])
    url = response.data[index].url
    if linkable(url):
        assert url is not None
        return f'<a href="{html.escape(url)}">{html.escape(url[:80])}</a>'
    if url and not url.startswith("data:"):
        return html.escape(url[:80])
    return "inline image"


def response_html(response: ImageResponse) -> str:
    figures = []
    for index in range(len(response.data)):
        small = thumbnail(response, index)
        if small is not None:
            src = "data:image/png;base64," + base64.b64encode(small).decode("ascii")
            shown = (
                f'<img src="{src}" style="max-width:{THUMBNAIL_PIXELS}px;'
                f'max-height:{THUMBNAIL_PIXELS}px" alt="{html.escape(response.prompt or "")}"/>'
            )
        else:
            reason = _NO_PILLOW if not pillow_installed() else "no preview"
            shown = f"{_where(response, index)} <em>({html.escape(reason)})</em>"
        figures.append(f'<figure style="margin:4px">{shown}</figure>')
    caption = html.escape(
        f"{response.prompt or ''} · {response.model} · {response.size} · "
        f"est. ${response.estimated_cost_usd:.4f}"
    )
    return (
        '<div><div style="display:flex;flex-wrap:wrap">'
        + "".join(figures)
        + f'</div><div style="font-size:small">{caption}</div></div>'
    )

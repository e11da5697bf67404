"""How an ``ImageResponse`` shows itself in Jupyter: small inline thumbnails, never megabytes.

Thumbnails are made with Pillow (the ``[pillow]`` extra) from the saved file, inline
``b64_json``, or, for an image not saved yet, a download through a client with the usual
rules (ClawRouter's own results from its base URL), so they show on a remote kernel too,
where a ``localhost`` URL would not load in the browser.  Without Pillow the preview lists
links instead: it never inlines a full-size image.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

from ._constants import PILLOW_INSTALL, PREVIEW_TIMEOUT_SECONDS, THUMBNAIL_PIXELS
from ._exceptions import ClawRouterError
from ._vision import pillow_installed

if TYPE_CHECKING:
    from ._models import ImageResponse

_NO_PILLOW = f"for previews, {PILLOW_INSTALL}"


def thumbnail_png(data: bytes) -> bytes | None:
    """A PNG no larger than THUMBNAIL_PIXELS a side, or None without Pillow or on bad data."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            out = io.BytesIO()
            image.save(out, format="PNG")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return out.getvalue()


def _local_bytes(response: ImageResponse, index: int) -> bytes | None:
    """The bytes of image ``index`` if they are here already (a saved file or b64_json)."""
    if index < len(response._local.saved):
        path = response._local.saved[index]
        if path.is_file():
            return path.read_bytes()
    item = response.data[index]
    if item.b64_json:
        try:
            return base64.b64decode(item.b64_json)
        except ValueError:
            return None
    return None


def _downloaded(response: ImageResponse, index: int) -> bytes | None:
    item = response.data[index]
    if response._local.base_url is None or not item.url:
        return None
    from ._client import ImageClient

    try:
        with ImageClient(
            response._local.base_url, timeout=PREVIEW_TIMEOUT_SECONDS, max_retries=0
        ) as client:
            return client.download(item)
    except ClawRouterError:  # gone, or not ours to fetch: the preview shows a link instead
        return None


def thumbnail(response: ImageResponse, index: int) -> bytes | None:
    """Image ``index`` as a thumbnail PNG, made once per response and image."""
    if index in response._local.thumbnails or not pillow_installed():
        return response._local.thumbnails.get(index)
    data = _local_bytes(response, index)
    if data is None:
        data = _downloaded(response, index)
    small = thumbnail_png(data) if data is not None else None
    if small is not None:
        response._local.thumbnails[index] = small
    return small


def response_html(response: ImageResponse) -> str:
    figures = []
    for index, item in enumerate(response.data):
        small = thumbnail(response, index)
        if small is not None:
            src = "data:image/png;base64," + base64.b64encode(small).decode("ascii")
            shown = (
                f'<img src="{src}" style="max-width:{THUMBNAIL_PIXELS}px;'
                f'max-height:{THUMBNAIL_PIXELS}px" alt="{html.escape(response.prompt or "")}"/>'
            )
        else:
            where = (
                str(response._local.saved[index])
                if index < len(response._local.saved)
                else item.url
            )
            link = (
                f'<a href="{html.escape(where)}">{html.escape(where[:80])}</a>'
                if where and not where.startswith("data:")
                else "inline image"
            )
            reason = _NO_PILLOW if not pillow_installed() else "no preview"
            shown = f"{link} <em>({html.escape(reason)})</em>"
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

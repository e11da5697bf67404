"""How an ``ImageResponse`` shows itself in Jupyter: small thumbnails, never megabytes.

Thumbnails are made with Pillow when it is installed (the ``[emulator]`` extra brings
it) from bytes already on this machine: saved files or inline ``b64_json``.  Otherwise
the HTML points at the image's URL, which a notebook on the same machine as ClawRouter
can load.  A repr never touches the network.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

from ._constants import THUMBNAIL_PIXELS

if TYPE_CHECKING:
    from ._models import ImageResponse


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
    except (OSError, ValueError):
        return None
    return out.getvalue()


def local_bytes(response: ImageResponse, index: int) -> bytes | None:
    """The bytes of image ``index`` if they are here already (a saved file or b64_json)."""
    if index < len(response._saved):
        path = response._saved[index]
        if path.is_file():
            return path.read_bytes()
    item = response.data[index]
    if item.b64_json:
        try:
            return base64.b64decode(item.b64_json)
        except ValueError:
            return None
    return None


def response_html(response: ImageResponse) -> str:
    figures = []
    for index, item in enumerate(response.data):
        data = local_bytes(response, index)
        thumb = thumbnail_png(data) if data is not None else None
        if thumb is not None:
            src = "data:image/png;base64," + base64.b64encode(thumb).decode("ascii")
        elif item.url and item.url.startswith(("http://", "https://")):
            src = item.url
        else:
            src = ""
        image = (
            f'<img src="{html.escape(src)}" style="max-width:{THUMBNAIL_PIXELS}px;'
            f'max-height:{THUMBNAIL_PIXELS}px" alt="{html.escape(response.prompt or "")}"/>'
            if src
            else "<em>(inline image: save it to see it here)</em>"
        )
        figures.append(f'<figure style="margin:4px">{image}</figure>')
    caption = html.escape(
        f"{response.prompt or ''} · {response.model} · {response.size} · "
        f"est. ${response.estimated_cost_usd:.4f}"
    )
    return (
        '<div><div style="display:flex;flex-wrap:wrap">'
        + "".join(figures)
        + f'</div><div style="font-size:small">{caption}</div></div>'
    )

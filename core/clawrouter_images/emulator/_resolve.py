"""How ClawRouter's image2image turns a string ``image`` / ``mask`` into a data URI.

Exactly as ``readImageFileAsDataUri`` and the handler do it (clawrouter-api.md section 5):

- ``data:...`` passes through unchanged, unchecked.
- ``http://`` / ``https://`` is downloaded (redirects followed) into
  ``data:<content-type verbatim, else image/png>;base64,...``; a non-2xx answer fails with
  ``Failed to download <field> from <url>: HTTP <status>``, a network error with
  ``fetch failed``.
- Anything else is a local path: only a leading ``~/`` is expanded (against the
  emulator's ``home``), a relative path is read against the emulator's ``cwd`` (the proxy
  process's working directory), and the type comes from the extension (png, jpg/jpeg,
  webp; anything else is labelled image/png).  A missing file fails with
  ``Image file not found: <path>``, a directory with
  ``EISDIR: illegal operation on a directory, read``.

Failures raise ``ResolveError`` carrying the message ClawRouter puts in ``details``.
"""

from __future__ import annotations

import base64
import errno
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

_MIME_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}


class ResolveError(Exception):
    """The message of the 400 ``Invalid request`` ClawRouter answers."""


class FetchFailed(Exception):
    """A network error while downloading (``fetch failed`` in Node)."""


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str | None
    content: bytes


Fetcher = Callable[[str], Awaitable[Fetched]]


def read_local_image(value: str, *, home: Path, cwd: Path) -> str:
    """A local path as ClawRouter reads it, as a data URI."""
    # Node's path.join normalises, so "~/a/../b.png" becomes "<home>/b.png".
    shown = os.path.normpath(f"{home}/{value[2:]}") if value.startswith("~/") else value
    path = Path(shown)
    if not path.is_absolute():
        path = cwd / shown
    if not path.exists():
        raise ResolveError(f"Image file not found: {shown}")
    if path.is_dir():
        raise ResolveError("EISDIR: illegal operation on a directory, read")
    try:
        data = path.read_bytes()
    except OSError as err:
        code = errno.errorcode.get(err.errno or 0, "EIO")
        raise ResolveError(f"{code}: {(err.strerror or 'error').lower()}, open '{shown}'") from err
    # JS: resolved.split(".").pop() — the whole path when there is no dot.
    mime = _MIME_BY_EXTENSION.get(shown.rsplit(".", 1)[-1].lower(), "image/png")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


async def resolve_value(field: str, value: str, *, home: Path, cwd: Path, fetch: Fetcher) -> str:
    """The data URI ClawRouter would forward for one non-empty string value."""
    if value.startswith("data:"):
        return value
    if value.startswith(("https://", "http://")):
        try:
            fetched = await fetch(value)
        except FetchFailed as err:
            raise ResolveError(str(err) or "fetch failed") from None
        if not 200 <= fetched.status < 300:
            raise ResolveError(f"Failed to download {field} from {value}: HTTP {fetched.status}")
        content_type = fetched.content_type or "image/png"
        return f"data:{content_type};base64,{base64.b64encode(fetched.content).decode()}"
    return read_local_image(value, home=home, cwd=cwd)

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

Where ClawRouter has no limit, the emulator keeps one, so that a request can never make
it read without bound: a path is opened once (not blocking on a FIFO) and read only if
the opened file is a regular file of at most ``MAX_INPUT_IMAGE_BYTES`` (the client's own
cap on an input image), and a download stops past that many decoded bytes.  Those
refusals are 400s in the same wrapper, with texts of the emulator's own
(``Image file is not a regular file: <path>``, ``Image file is larger than N bytes:
<path>``, ``Failed to download <field> from <url>: larger than N bytes``).  No message
quotes a file's content.
"""

from __future__ import annotations

import base64
import errno
import os
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from .._constants import MAX_INPUT_IMAGE_BYTES

# Opening a FIFO for reading waits for a writer; non-blocking, it returns at once and the
# fstat below refuses it.  (Both flags are 0 where the platform has no such thing.)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# What existsSync reports as "does not exist": the path cannot be followed to a file.
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})
_EISDIR_TEXT = "EISDIR: illegal operation on a directory, read"
_READ_STEP_BYTES = 256 * 1024

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


class DownloadTooLarge(Exception):
    """A download went past its cap and was abandoned."""


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str | None
    content: bytes


# fetch(url, max_bytes): raises FetchFailed, or DownloadTooLarge past max_bytes decoded bytes.
Fetcher = Callable[[str, int], Awaitable[Fetched]]


def read_local_image(
    value: str, *, home: Path, cwd: Path, max_bytes: int = MAX_INPUT_IMAGE_BYTES
) -> str:
    """A local path as ClawRouter reads it, as a data URI (``max_bytes`` at most)."""
    # Node's path.join normalises, so "~/a/../b.png" becomes "<home>/b.png".
    shown = os.path.normpath(f"{home}/{value[2:]}") if value.startswith("~/") else value
    path = Path(shown)
    if not path.is_absolute():
        path = cwd / shown
    data = _read_regular_file(path, shown, max_bytes)
    # JS: resolved.split(".").pop() — the whole path when there is no dot.
    mime = _MIME_BY_EXTENSION.get(shown.rsplit(".", 1)[-1].lower(), "image/png")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _read_regular_file(path: Path, shown: str, max_bytes: int) -> bytes:
    """The bytes of the regular file at ``path``, opened once and checked as opened."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as err:
        if err.errno in _MISSING_ERRNOS:
            raise ResolveError(f"Image file not found: {shown}") from None
        # Windows cannot open a directory at all.  (os.path, as it answers False where
        # even stat is refused, and Path.is_dir raises.)
        if os.path.isdir(path):  # noqa: PTH112
            raise ResolveError(_EISDIR_TEXT) from None
        code = errno.errorcode.get(err.errno or 0, "EIO")
        raise ResolveError(f"{code}: {(err.strerror or 'error').lower()}, open '{shown}'") from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise ResolveError(_EISDIR_TEXT)
        # A device, FIFO or socket may never end (/dev/zero, /dev/urandom) or never start.
        if not stat.S_ISREG(status.st_mode):
            raise ResolveError(f"Image file is not a regular file: {shown}")
        too_large = ResolveError(f"Image file is larger than {max_bytes} bytes: {shown}")
        if status.st_size > max_bytes:
            raise too_large
        # The size may be wrong (a file growing, procfs saying 0): read what it says plus
        # one byte, then in small steps, never more than one byte past the cap.
        chunks: list[bytes] = []
        total = 0
        wanted = status.st_size + 1
        while total <= max_bytes:
            try:
                chunk = os.read(descriptor, min(wanted, max_bytes + 1 - total))
            except OSError as err:
                code = errno.errorcode.get(err.errno or 0, "EIO")
                message = f"{code}: {(err.strerror or 'error').lower()}, read"
                raise ResolveError(message) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            wanted = _READ_STEP_BYTES
        if total > max_bytes:
            raise too_large
        return b"".join(chunks)
    finally:
        os.close(descriptor)


async def resolve_value(
    field: str,
    value: str,
    *,
    home: Path,
    cwd: Path,
    fetch: Fetcher,
    max_bytes: int = MAX_INPUT_IMAGE_BYTES,
) -> str:
    """The data URI ClawRouter would forward for one non-empty string value."""
    if value.startswith("data:"):
        return value
    if value.startswith(("https://", "http://")):
        try:
            fetched = await fetch(value, max_bytes)
        except FetchFailed as err:
            raise ResolveError(str(err) or "fetch failed") from None
        except DownloadTooLarge:
            message = f"Failed to download {field} from {value}: larger than {max_bytes} bytes"
            raise ResolveError(message) from None
        if not 200 <= fetched.status < 300:
            raise ResolveError(f"Failed to download {field} from {value}: HTTP {fetched.status}")
        content_type = fetched.content_type or "image/png"
        return f"data:{content_type};base64,{base64.b64encode(fetched.content).decode()}"
    return read_local_image(value, home=home, cwd=cwd, max_bytes=max_bytes)

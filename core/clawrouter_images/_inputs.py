"""Image inputs: path / bytes / file / data URI / URL -> validated image bytes.

ClawRouter resolves string paths on *its* machine against *its* working directory,
converts only single strings, never checks the type and has no size cap.  So the
client reads local inputs itself, sniffs the real type from the magic bytes and
refuses anything that is not a PNG, JPEG, WebP or GIF, before anything is paid.
URLs are fetched by the client too (see ``_client``) so that they are checked the
same way and so that lists of images work.

The request body is streamed (``JSONBody``): a 20 MB input is base64-encoded chunk by
chunk while it is sent, instead of being held three times over as bytes, base64 text
and JSON text.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import os
import re
import stat
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import httpx

from ._constants import BASE64_CHUNK_BYTES, MAX_INPUT_IMAGE_BYTES, MAX_INPUT_IMAGES
from ._exceptions import InputImageError, quote

ImageInput = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""One image: a local path (``~`` allowed), raw bytes, a binary file, a data URI or an http(s) URL."""

ImageInputs = ImageInput | Sequence[ImageInput]
"""One image, or a list of 1-4 of them."""

# Any URI scheme ("file:", "ftp://", "javascript:"), but not a Windows drive ("C:\\x.png").
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DRIVE_RE = re.compile(r"^[a-zA-Z]:[\\/]")

ReferenceKind = Literal["url", "data", "path"]


def reference_kind(text: str) -> ReferenceKind:
    """What a text image reference is: an http(s) URL, a data URI or a local path.

    The one classifier for the client and the tools; any other scheme is refused.
    """
    head = text[:8].lower()
    if head.startswith(("http://", "https://")):
        return "url"
    if head.startswith("data:"):
        return "data"
    if _SCHEME_RE.match(text) and not _DRIVE_RE.match(text):
        raise InputImageError(
            f"{quote(text, 80)}: only local paths, http(s) URLs and data URIs are accepted"
        )
    return "path"


_DATA_URI_RE = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*)(;base64)?,", re.I)

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of an image from its first bytes, or None if it is not PNG/JPEG/WebP/GIF."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def extension_for(mime: str) -> str:
    return _EXTENSIONS.get(mime, "png")


@dataclass(frozen=True)
class ImageBytes:
    """A checked input image held in memory, with its real type."""

    data: bytes = field(repr=False)
    mime: str
    source: str

    def __repr__(self) -> str:
        # Reprs land in tracebacks and logs: never the image itself.
        return f"ImageBytes(<{len(self.data):,} bytes>, mime={self.mime!r}, source={quote(self.source, 80)!r})"

    @property
    def encoded_length(self) -> int:
        """Length of its data URI, as a quoted JSON string."""
        return 2 + len(self._prefix) + 4 * ((len(self.data) + 2) // 3)

    @property
    def _prefix(self) -> bytes:
        return f"data:{self.mime};base64,".encode("ascii")

    def json_chunks(self) -> Iterator[bytes]:
        """The image as a JSON string holding its data URI, a chunk at a time."""
        view = memoryview(self.data)
        yield b'"' + self._prefix
        for start in range(0, len(view), BASE64_CHUNK_BYTES):
            yield base64.b64encode(view[start : start + BASE64_CHUNK_BYTES])
        yield b'"'

    def data_uri(self) -> str:
        return b"".join(self.json_chunks())[1:-1].decode("ascii")


@dataclass(frozen=True)
class RemoteImage:
    """An http(s) URL the client must fetch (and then check) before sending."""

    url: str


def check_image_bytes(data: bytes, source: str) -> ImageBytes:
    """Refuse empty, oversized and non-image data; name the input in the message."""
    if not data:
        raise InputImageError(f"image {source} is empty")
    if len(data) > MAX_INPUT_IMAGE_BYTES:
        raise InputImageError(
            f"image {source} is larger than {MAX_INPUT_IMAGE_BYTES // (1024 * 1024)} MB; "
            "resize or compress it first"
        )
    mime = sniff_image_type(data[:16])
    if mime is None:
        # No excerpt of the content: an LLM reads this message, and the file may hold secrets.
        raise InputImageError(f"{source} is not a PNG, JPEG, WebP or GIF image; pass an image file")
    return ImageBytes(data=data, mime=mime, source=source)


def read_image_file(path: Path, source: str | None = None) -> ImageBytes:
    """Read a local image safely: regular files only, never past the size cap, never blocking.

    ``~`` is expanded here and symlinks are followed: the programmatic client trusts its
    caller.  (The agent tools do not: they open files with ``_safeopen`` and hand the
    client the bytes.)  Messages quote at most 200 characters of the path.
    """
    source = quote(source or str(path), 200)
    with os_errors(source):
        path = path.expanduser()
        info = path.stat()
    # Looked at before opening, so that a device or FIFO is never opened at all.
    check_regular(info, source)
    with os_errors(source):
        fd = os.open(path, _OPEN_FLAGS)
    return read_image_fd(fd, source)


@contextlib.contextmanager
def os_errors(source: str) -> Iterator[None]:
    """Turn the system's refusals to find or open ``source`` into ``InputImageError``s."""
    try:
        yield
    except InputImageError:  # a check inside the block: already said as it should be
        raise
    except FileNotFoundError:
        raise InputImageError(f"image file not found: {source}") from None
    # A symlink loop, a permission problem, a name too long (OSError), a NUL byte or a
    # name the file system cannot encode (ValueError), ``~user`` for no such user
    # (RuntimeError).  strerror, not the OSError itself: that would quote the whole path.
    except (OSError, ValueError, RuntimeError) as err:
        reason = quote(str(getattr(err, "strerror", None) or err), 200)
        raise InputImageError(f"cannot read image {source}: {reason}") from None


# O_NONBLOCK: if the path was swapped for a FIFO after stat(), open() must not hang;
# O_NOCTTY: nor may a terminal swapped in become the controlling terminal.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def read_image_fd(fd: int, source: str) -> ImageBytes:
    """Read and check the image open on ``fd`` (which this closes), as the file it *is*.

    ``fstat`` of the descriptor decides, not a look at the path beforehand: the path may
    name another file by now.  ``source`` (already quoted) names it in messages.
    """
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        check_regular(info, source)
        with os_errors(source):  # EIO, say: a failing disk or network file system
            # Ask for exactly the size fstat() reported: read(cap) would allocate the whole
            # cap up front.  procfs files report 0 and yield 1 byte, which is no image anyway.
            data = handle.read(info.st_size + 1)
            if len(data) > info.st_size:  # the file grew since fstat(); read on, up to the cap
                data += handle.read(MAX_INPUT_IMAGE_BYTES + 1 - len(data))
    return check_image_bytes(data, source)


def check_regular(info: os.stat_result, source: str) -> None:
    """Refuse what is not a regular file, or is over the size cap, from its ``stat``."""
    if stat.S_ISDIR(info.st_mode):
        raise InputImageError(f"{source} is a directory, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise InputImageError(f"{source} is not a regular file (a device, FIFO or socket)")
    if info.st_size > MAX_INPUT_IMAGE_BYTES:
        raise InputImageError(
            f"image {source} is {info.st_size / (1024 * 1024):.1f} MB, over the "
            f"{MAX_INPUT_IMAGE_BYTES // (1024 * 1024)} MB limit; resize or compress it first"
        )


def decode_data_uri(uri: str, source: str = "data URI") -> ImageBytes:
    match = _DATA_URI_RE.match(uri)
    if match is None or not match.group(3):
        raise InputImageError(
            f"{quote(uri, 60)} is not a base64 data URI (data:image/png;base64,...)"
        )
    declared = (match.group(1) or "").lower()
    if declared and not declared.startswith("image/"):
        raise InputImageError(f"data URI of type {declared!r} is not an image")
    payload = uri[match.end() :]
    if len(payload) * 3 // 4 > MAX_INPUT_IMAGE_BYTES:
        raise InputImageError(
            f"{source} is larger than {MAX_INPUT_IMAGE_BYTES // (1024 * 1024)} MB; resize it first"
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputImageError(f"{source} holds invalid base64") from None
    return check_image_bytes(data, source)


PreparedInput = ImageBytes | RemoteImage


def prepare_input(value: object) -> PreparedInput:
    """Turn one caller-supplied image into checked bytes, or a URL still to fetch."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return check_image_bytes(bytes(value), "(bytes)")
    if isinstance(value, str):
        text = value.strip()
        kind = reference_kind(text)
        if kind == "data":
            return decode_data_uri(text)
        if kind == "url":
            from ._network import parse_url

            parsed = parse_url(text)  # e.g. 0177.0.0.1, xn--a: httpx refuses them
            if parsed is None:
                raise InputImageError(f"{quote(text, 80)} is not a valid URL")
            if parsed.host == "":
                raise InputImageError(f"URL {quote(text, 80)} has no host")
            return RemoteImage(text)
        if not text:
            raise InputImageError("image path is empty")
        return read_image_file(Path(text), text)
    if isinstance(value, os.PathLike):
        path = Path(value)
        return read_image_file(path, str(path))
    if isinstance(value, io.TextIOBase):
        raise InputImageError("image file object is open in text mode; open it with 'rb'")
    read = getattr(value, "read", None)
    if callable(read):
        data = read(MAX_INPUT_IMAGE_BYTES + 1)
        if not isinstance(data, bytes):
            raise InputImageError("image file object must be opened in binary mode ('rb')")
        name = getattr(value, "name", None)
        return check_image_bytes(data, str(name) if isinstance(name, str) else "(file object)")
    raise InputImageError(
        f"unsupported image input of type {type(value).__name__}; pass a path, bytes, "
        "a binary file, a data URI or an http(s) URL"
    )


def prepare_inputs(image: object) -> list[PreparedInput]:
    """Normalise ``image`` (one input or a list of 1-4) into a list of prepared inputs."""
    items: list[object]
    if isinstance(image, (list, tuple)):
        items = list(image)
        if not items:
            raise InputImageError("image list is empty; pass 1 to 4 images")
        if len(items) > MAX_INPUT_IMAGES:
            raise InputImageError(
                f"{len(items)} images given; at most {MAX_INPUT_IMAGES} are accepted"
            )
    else:
        items = [image]
    return [prepare_input(item) for item in items]


class JSONBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A JSON request body whose image fields are streamed as data URIs.

    Re-iterable, so a retry sends the same bytes again; its length is known up front,
    so it goes out with a Content-Length rather than chunked.
    """

    def __init__(self, fields: dict[str, object], images: dict[str, list[ImageBytes] | ImageBytes]):
        import json

        head = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._segments: list[bytes | ImageBytes] = [head[:-1]]
        first = len(fields) == 0
        for key, value in images.items():
            self._segments.append(("" if first else ",").encode() + json.dumps(key).encode() + b":")
            first = False
            if isinstance(value, list):
                self._segments.append(b"[")
                for index, item in enumerate(value):
                    if index:
                        self._segments.append(b",")
                    self._segments.append(item)
                self._segments.append(b"]")
            else:
                self._segments.append(value)
        self._segments.append(b"}")

    def __len__(self) -> int:
        return sum(
            len(seg) if isinstance(seg, bytes) else seg.encoded_length for seg in self._segments
        )

    def __iter__(self) -> Iterator[bytes]:
        for segment in self._segments:
            if isinstance(segment, bytes):
                yield segment
            else:
                yield from segment.json_chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

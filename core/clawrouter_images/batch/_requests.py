"""A batch's input: one JSON object a line, read as a stream, each line a request or a reason.

``{"id": "fox-1", "prompt": "a red fox", "model": "banana-pro", "size": "2048x2048", "n": 1}``;
for an edit, ``"image"`` (a path, an http(s) URL, a data URI, or a list of 1-4 of them) and
``"mask"``; ``"extra_body"`` (an object) adds fields for the upstream.  ``id`` is a string
or a whole number, by default the line's number.  The user wrote the file, not an LLM, so a
local path is the user's own: relative to the file's folder, ``~`` expanded, handed to the
client as a path.  Any other key is refused rather than ignored: a misspelt ``"modle"``
would otherwise spend on the default model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .._constants import MAX_BATCH_ID_CHARS, MAX_BATCH_LINE_BYTES
from .._exceptions import quote

_KEYS = frozenset({"id", "prompt", "model", "size", "n", "image", "mask", "extra_body"})
_REMOTE = ("http://", "https://", "data:")


class BadLine(ValueError):
    """A line that cannot become a request; ``request_id`` is what its record is keyed by."""

    def __init__(self, reason: str, request_id: str | int, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id
        self.line = line


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch: plain data (so it travels to other processes and machines),
    idempotent by ``id``.  Local image paths are absolute by the time a request exists."""

    id: str | int
    prompt: str
    model: str | None = None
    size: str | None = None
    n: int = 1
    image: str | list[str] | None = None
    mask: str | None = None
    extra_body: dict[str, Any] | None = field(default=None, hash=False)
    line: int | None = None

    @property
    def editing(self) -> bool:
        return self.image is not None

    def to_json(self) -> dict[str, Any]:
        """The request as one input line holds it (the fields that are set)."""
        data: dict[str, Any] = {"id": self.id, "prompt": self.prompt}
        for name in ("model", "size", "image", "mask", "extra_body"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.n != 1:
            data["n"] = self.n
        return data

    @classmethod
    def from_json(
        cls, data: object, *, line: int | None = None, base_dir: Path | None = None
    ) -> BatchRequest:
        """A request from one line's object; raises ``BadLine`` with the reason.  Relative
        paths are taken from ``base_dir`` (default: the working directory)."""
        default_id: str | int = line if line is not None else ""
        if not isinstance(data, Mapping):
            raise BadLine(f"a line must be a JSON object, not {_kind(data)}", default_id)
        request_id = _request_id(data.get("id", default_id), default_id)
        unknown = sorted(str(key) for key in data if key not in _KEYS)
        if unknown:
            raise BadLine(
                f"unknown field {quote(', '.join(unknown), 80)}; a line takes "
                f"{', '.join(sorted(_KEYS))}",
                request_id,
            )
        prompt = data.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadLine('no prompt: each line needs a non-empty "prompt" string', request_id)
        model = _optional_text(data, "model", request_id)
        size = _optional_text(data, "size", request_id)
        n = data.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int):
            raise BadLine(f"n must be a whole number, not {quote(repr(n), 40)}", request_id)
        extra = data.get("extra_body")
        if extra is not None and not isinstance(extra, dict):
            raise BadLine("extra_body must be a JSON object", request_id)
        where = base_dir if base_dir is not None else Path.cwd()
        image = data.get("image")
        images: str | list[str] | None = None
        if image is not None:
            if isinstance(image, list):
                if not image:
                    raise BadLine("image is an empty list", request_id)
                images = [_input(item, "image", where, request_id) for item in image]
            else:
                images = _input(image, "image", where, request_id)
        mask = data.get("mask")
        if mask is not None and images is None:
            raise BadLine("a mask needs an image to edit", request_id)
        return cls(
            id=request_id,
            prompt=prompt,
            model=model,
            size=size,
            n=n,
            image=images,
            mask=None if mask is None else _input(mask, "mask", where, request_id),
            extra_body=extra,
            line=line,
        )


def client_input(value: str) -> str | Path:
    """An image as the client takes it: a URL or data URI as text, anything else a path
    (the client trusts its caller, and a path is never mistaken for a URL)."""
    return value if value.startswith(_REMOTE) else Path(value)


def shard_of(request_id: object, shards: int) -> int:
    """Which of ``shards`` (0-based) an id belongs to: a stable hash of the id, the same in
    every process, on every machine and in every Python."""
    digest = hashlib.sha256(str(request_id).encode("utf-8", "backslashreplace")).digest()
    return int.from_bytes(digest[:8], "big") % shards


def read_lines(file: BinaryIO, base_dir: Path) -> Iterator[BatchRequest | BadLine]:
    """Each request of an input file, or the reason its line is bad; blank lines are
    skipped.  One line is in memory at a time, at most ``MAX_BATCH_LINE_BYTES`` of it."""
    number = 0
    while True:
        raw = file.readline(MAX_BATCH_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_BATCH_LINE_BYTES:
            while raw and not raw.endswith(b"\n"):  # the rest of the long line, dropped
                raw = file.readline(MAX_BATCH_LINE_BYTES)
            yield BadLine(
                f"line longer than {MAX_BATCH_LINE_BYTES // (1024 * 1024)} MB: put large "
                "images in files and give their paths",
                number,
                number,
            )
            continue
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as err:
            yield BadLine(f"not JSON ({quote(str(err), 100)})", number, number)
            continue
        try:
            yield BatchRequest.from_json(data, line=number, base_dir=base_dir)
        except BadLine as bad:
            bad.line = number
            yield bad


def count_lines(path: Path) -> int:
    """The number of lines, read in chunks: the total a progress bar counts towards
    (blank lines included, so an estimate)."""
    count = 0
    ended = True
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            count += chunk.count(b"\n")
            ended = chunk.endswith(b"\n")
    return count + (0 if ended else 1)


def _request_id(value: object, default: str | int) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadLine(f"id must be a string or a whole number, not {_kind(value)}", default)
    text = str(value)
    if not text.strip() or len(text) > MAX_BATCH_ID_CHARS or not text.isprintable():
        raise BadLine(
            f"id must be 1-{MAX_BATCH_ID_CHARS} printable characters, not {quote(repr(text), 60)}",
            default,
        )
    return value


def _optional_text(data: Mapping[str, object], name: str, request_id: str | int) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise BadLine(f"{name} must be a string, not {_kind(value)}", request_id)
    return value


def _input(value: object, name: str, base_dir: Path, request_id: str | int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadLine(
            f"{name} must be a path, an http(s) URL or a data URI, not {_kind(value)}", request_id
        )
    if value.startswith(_REMOTE):
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        found = path.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise BadLine(f"{name} file not found: {quote(str(path), 200)}", request_id)
    return str(path)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "that")

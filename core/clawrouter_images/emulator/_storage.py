"""ClawRouter's image directory: naming, saving, and ``GET /images/<file>``.

Localised results are files named ``<Date.now() ms>-<8 base36 chars>.<ext>`` in the image
directory, served at ``http://localhost:<port>/images/<file>`` (literally ``localhost``,
although the real server binds 127.0.0.1).  They are kept forever, like ClawRouter's.

``GET /images/<name>`` drops the query, deletes every character outside
``[a-zA-Z0-9._-]`` from the name (which is what stops path traversal), answers
``400 Bad request`` (plain, no content type) for an empty name, ``404 {"error":"Image not
found"}`` for anything that is not a regular file, and otherwise the bytes with their
content type by extension and a ``Content-Length``.

The emulator also plays the upstream's file host for ``remote_url`` faults: files kept in
memory and served for requests whose ``Host`` is the emulator's ``upstream_host``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path

from ._wire import Reply, error_reply

IMAGES_PREFIX = "/images/"
_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]")
_CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Upstream files live in memory only for remote_url faults; keep the newest few.
_MAX_UPSTREAM_FILES = 64


def new_file_name(extension: str) -> str:
    """``<ms>-<8 base36>.<ext>``, like ``Date.now() + Math.random().toString(36)``."""
    number = int.from_bytes(os.urandom(6), "big") % 36**8
    chars = []
    for _ in range(8):
        number, digit = divmod(number, 36)
        chars.append(_BASE36[digit])
    return f"{int(time.time() * 1000)}-{''.join(reversed(chars))}.{extension}"


def extension_for(mime_subtype: str) -> str:
    """ClawRouter's rule for data URIs: ``jpg`` for jpeg, else the MIME subtype."""
    return "jpg" if mime_subtype == "jpeg" else mime_subtype


def content_type_for(name: str) -> str:
    return _CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


class ImageStore:
    """The image directory plus the in-memory upstream file host."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._upstream: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def save(self, data: bytes, extension: str) -> str:
        """Write a result file; returns its name."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = new_file_name(extension)
        (self.directory / name).write_bytes(data)
        return name

    def get(self, target: str) -> Reply:
        """Answer ``GET <target>`` where ``target`` starts with ``/images/``."""
        name = _UNSAFE.sub("", target[len(IMAGES_PREFIX) :].split("?", 1)[0])
        if not name:
            return Reply(400, b"Bad request", content_type=None)
        path = self.directory / name
        try:
            if not path.is_file():
                raise FileNotFoundError(name)
            data = path.read_bytes()
        except OSError:
            return error_reply(404, "Image not found")
        return Reply(200, data, content_type=content_type_for(name), sized=True)

    def keep_upstream(self, data: bytes, extension: str) -> str:
        """Keep an "upstream" file in memory; returns its name."""
        name = new_file_name(extension)
        with self._lock:
            self._upstream[name] = data
            while len(self._upstream) > _MAX_UPSTREAM_FILES:
                self._upstream.popitem(last=False)
        return name

    def get_upstream(self, target: str) -> Reply:
        """Answer a request to the upstream file host: ``GET /files/<name>``."""
        name = target.split("?", 1)[0].rsplit("/", 1)[-1]
        with self._lock:
            data = self._upstream.get(name) if target.startswith("/files/") else None
        if data is None:
            return error_reply(404, "file not found")
        return Reply(200, data, content_type=content_type_for(name), sized=True)

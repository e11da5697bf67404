"""ASGI plumbing: the request as ClawRouter sees it, and answers framed the way Node frames them.

ClawRouter dispatches on ``req.url``, the request target exactly as sent (percent escapes,
query string and all), so ``Request.target`` rebuilds that string from the raw ASGI path
instead of using a decoded, normalised one.  Node sends every JSON answer with
``Transfer-Encoding: chunked`` and only image files with a ``Content-Length``; ``deliver``
reproduces that over a real socket.

ClawRouter reads any body whole; the emulator stops at ``MAX_BODY_BYTES`` (see there), so
that no request can make it hold more.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from starlette.types import Message, Receive, Scope, Send

from .._constants import MAX_INPUT_IMAGE_BYTES, MAX_INPUT_IMAGES, MAX_PROMPT_CHARS
from ._drop import close_without_response, cut_body

JSON_TYPE = "application/json"

# The largest request a client of this package can send: an edit with the most input
# images, each at the input cap, as base64 data URIs, plus room for the rest of the JSON
# (data URI headers, a prompt at its cap with every character \u-escaped, 12 bytes for
# a surrogate pair, and the other fields).
MAX_BODY_BYTES = (
    MAX_INPUT_IMAGES * 4 * math.ceil(MAX_INPUT_IMAGE_BYTES / 3) + 12 * MAX_PROMPT_CHARS + 64 * 1024
)


@dataclass(frozen=True)
class Request:
    """One HTTP request, with the body already read."""

    method: str
    target: str
    """Raw path plus ``?query`` when there is one: what ClawRouter compares routes against."""
    headers: Mapping[str, str]
    body: bytes

    @property
    def host(self) -> str:
        """The ``Host`` header without its port, lower-cased."""
        host = self.headers.get("host", "").lower()
        if host.startswith("["):
            return host.split("]", 1)[0] + "]"
        return host.rsplit(":", 1)[0] if ":" in host else host


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    sized: bool = False
    """Send a ``Content-Length`` (image files); otherwise the body goes out chunked."""


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending any response, as ClawRouter's idle timer does."""


@dataclass(frozen=True)
class DropMidBody:
    """Start ``reply`` with its full ``Content-Length``, send half of the body, then close."""

    reply: Reply


Answer = Reply | Drop | DropMidBody


def json_reply(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """A JSON answer serialised like ``JSON.stringify``: compact, non-ASCII kept as UTF-8."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status, body, headers=headers)


def error_reply(status: int, error: str, details: str | None = None) -> Reply:
    """ClawRouter's own error shape: ``{"error": ..., "details": ...}``."""
    payload: dict[str, object] = {"error": error}
    if details is not None:
        payload["details"] = details
    return json_reply(status, payload)


class BodyTooLarge(Exception):
    """The request body is (or says it will be) over the cap; the rest is left unread."""


def read_head(scope: Scope) -> Request:
    """The request without its body, with the raw request target rebuilt."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = raw_path.decode("latin-1")
    if query:
        target += "?" + query.decode("latin-1")
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        headers[name.decode("latin-1").lower()] = value.decode("latin-1")
    return Request(scope["method"], target, headers, b"")


async def read_body(request: Request, receive: Receive, max_bytes: int) -> Request:
    """``request`` with its body, read as it arrives; ``BodyTooLarge`` past ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"the request body is {declared} bytes, over {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        total += len(chunk)
        if total > max_bytes:
            raise BodyTooLarge(f"the request body is over {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return replace(request, body=b"".join(chunks))


def _start(reply: Reply, length: int | None) -> Message:
    headers: list[tuple[bytes, bytes]] = []
    if reply.content_type is not None:
        headers.append((b"content-type", reply.content_type.encode("latin-1")))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers)
    return {"type": "http.response.start", "status": reply.status, "headers": headers}


async def deliver(answer: Answer, send: Send, receive: Receive) -> None:
    """Send ``answer`` (or drop the connection) the way ClawRouter would."""
    if isinstance(answer, Drop):
        await close_without_response(receive)
        return
    if isinstance(answer, DropMidBody):
        reply = answer.reply
        await send(_start(reply, len(reply.body)))
        await cut_body(reply.body, send, receive)
        return
    if answer.sized:
        await send(_start(answer, len(answer.body)))
        await send({"type": "http.response.body", "body": answer.body})
        return
    await send(_start(answer, None))
    if answer.body:
        # Two body events make h11 frame the answer as one chunk plus the terminator,
        # which is what Node's res.end(text) puts on the wire.
        await send({"type": "http.response.body", "body": answer.body, "more_body": True})
    await send({"type": "http.response.body", "body": b""})

"""Dropping a connection with no HTTP response, on a real socket and in-process.

ClawRouter destroys a socket that stays silent for 300 s, so the client sees the
connection close with no response at all.  An ASGI application cannot say "close without
answering": a server answers 500 when the application returns or raises first.  So the
emulator's uvicorn protocol (``_server``) puts each connection's transport in a context
variable before it starts the request's task, and the application closes that transport.

In-process (``httpx.ASGITransport``, Starlette's ``TestClient``) there is no socket; the
application raises the same ``httpx.RemoteProtocolError`` that httpx raises when a real
server hangs up, so a client sees one error either way.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging

import anyio
import httpx
from starlette.types import Receive, Send

logger = logging.getLogger("clawrouter_images.emulator")

# Set by the emulator's uvicorn protocol; None in-process.
_transport: contextvars.ContextVar[asyncio.BaseTransport | None] = contextvars.ContextVar(
    "clawrouter_emulator_transport", default=None
)

# How long to wait for the server to notice its own hang-up; it takes one loop turn.
_DISCONNECT_WAIT = 2.0


def bind_transport(
    transport: asyncio.BaseTransport | None,
) -> contextvars.Token[asyncio.BaseTransport | None]:
    """Make ``transport`` the one that ``close_without_response`` closes in this context."""
    return _transport.set(transport)


def unbind_transport(token: contextvars.Token[asyncio.BaseTransport | None]) -> None:
    _transport.reset(token)


async def _await_disconnect(receive: Receive) -> None:
    # Returning before the server has seen the close would make uvicorn answer 500
    # ("returned without starting response") on the dead socket and log an error.
    with anyio.move_on_after(_DISCONNECT_WAIT):
        while (await receive())["type"] != "http.disconnect":
            pass


async def close_without_response(receive: Receive) -> None:
    """Hang up before any response byte is sent."""
    transport = _transport.get()
    if transport is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    logger.info("dropping the connection without a response")
    transport.close()
    await _await_disconnect(receive)


async def cut_body(body: bytes, send: Send, receive: Receive) -> None:
    """Send the first half of ``body`` (the response has started), then hang up."""
    half = len(body) // 2
    await send({"type": "http.response.body", "body": body[:half], "more_body": True})
    transport = _transport.get()
    if transport is None:
        # httpcore's wording for the same event on a socket.
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {half} bytes, expected {len(body)})"
        )
    logger.info("dropping the connection after %d of %d body bytes", half, len(body))
    # close(), not abort(): the half already written must reach the client first.
    transport.close()
    await _await_disconnect(receive)

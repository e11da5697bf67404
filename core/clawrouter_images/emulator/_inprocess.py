"""In-process httpx clients: the emulator answers without any socket.

``httpx.ASGITransport`` serves async clients.  For sync clients, ``SyncASGITransport``
runs that same transport on an event loop in a short-lived worker thread per request,
so a plain ``httpx.Client`` works (Starlette's ``TestClient`` is built on ``httpx2`` in
current Starlette, whose responses and errors are not ``httpx``'s).  Exceptions the
emulator raises to stand for a dropped connection reach the caller unchanged.
"""

from __future__ import annotations

import anyio.from_thread
import httpx
from starlette.types import ASGIApp

# The client address the emulator sees for in-process requests.
CLIENT_ADDRESS = ("127.0.0.1", 50000)


def async_transport(app: ASGIApp) -> httpx.ASGITransport:
    """An async transport that calls ``app`` directly."""
    return httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)


class SyncASGITransport(httpx.BaseTransport):
    """A sync transport that calls an ASGI app; each request runs on its own event loop."""

    def __init__(self, app: ASGIApp) -> None:
        self._transport = async_transport(app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = httpx.Request(
                request.method,
                request.url,
                headers=request.headers,
                content=content,
                extensions=request.extensions,
            )
            response = await self._transport.handle_async_request(forwarded)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        with anyio.from_thread.start_blocking_portal() as portal:
            status, headers, body = portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)

"""Every call has a total deadline: a server that drips bytes inside each read timeout cannot
hold a call past it.

The server here sends its answer one byte per read the client makes, released by the
client's own clock: each read asks the clock for the time left, the clock moves on ten
seconds and lets one more byte go.  No test sleeps; the deadline is crossed in fake time.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from tests.support.twin import Twin

from clawrouter_images import APITimeoutError, ClawRouterError

if TYPE_CHECKING:
    from tests.support.twin import Mode

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n"
    b"X-Padding: " + b"p" * 200 + b"\r\n\r\n" + b'{"created":1,"data":[{"url":"x"}]}     '
)


class DrippingServer:
    """Answers each connection with ``ANSWER``, one byte per ``release()``."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._gate = threading.Semaphore(0)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._gate.release()

    def _serve(self) -> None:
        self._listener.settimeout(5)
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.recv(65536)
            for byte in ANSWER:
                # Bounded: a client that stopped reading ends this loop within seconds.
                if not self._gate.acquire(timeout=5) or self._stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                self.sent += 1

    def close(self) -> None:
        self._stop.set()
        for _ in range(len(ANSWER)):
            self._gate.release()
        self._listener.close()
        self._thread.join(timeout=5)


@pytest.fixture
def dripping() -> Iterator[DrippingServer]:
    server = DrippingServer()
    yield server
    server.close()


def _clock(server: DrippingServer) -> object:
    now = [0.0]

    def clock() -> float:
        now[0] += 10.0
        server.release()
        return now[0]

    return clock


@pytest.mark.parametrize("call", ["health", "generate"])
async def test_a_dripping_answer_ends_at_the_deadline(
    mode: Mode, dripping: DrippingServer, call: str
) -> None:
    """With 5 s to connect and 60 s to read, the call ends after 65 s of (fake) time."""
    api = Twin(mode, f"http://127.0.0.1:{dripping.port}", timeout=60.0, max_retries=0)
    api.client._call_clock = _clock(dripping)  # type: ignore[assignment]
    try:
        with pytest.raises(ClawRouterError) as caught:
            await (api.health() if call == "health" else api.generate("a red fox"))
    finally:
        await api.close()
    assert isinstance(caught.value, APITimeoutError), repr(caught.value)
    # Ten fake seconds a read: the deadline (5 s to connect + 60 s to read) stops it
    # after about a dozen bytes, far from the whole answer.
    assert dripping.sent < 20
    assert caught.value.may_have_been_paid is (call == "generate")

"""The emulator on a real port: ``serve()`` in a background thread, ``run()`` in the foreground.

Both bind the socket themselves before uvicorn starts, so port 0 works: the emulator
learns the real port (and writes it into result URLs) before the first request.  Both use
uvicorn's h11 protocol with one addition, ``_DroppingH11Protocol``, which lets the
application close a connection without answering (see ``_drop``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Iterator

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .._constants import DEFAULT_HOST
from ._app import Emulator
from ._drop import bind_transport

logger = logging.getLogger("clawrouter_images.emulator")

# Leave in-flight requests this long to finish when serve() exits.
_SHUTDOWN_GRACE_SECONDS = 1
_STARTUP_TIMEOUT_SECONDS = 30.0


class _DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, exposing each connection's transport to the application."""

    def data_received(self, data: bytes) -> None:
        # The request's task is created inside this call and copies the current context,
        # so the application finds this connection's transport in it.
        bind_transport(self.transport)
        super().data_received(data)


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is listening (or has given up)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.settled.set()


def is_loopback(host: str) -> bool:
    """Whether ``host`` resolves, as ``serve()`` and ``run()`` bind it, to a loopback address."""
    try:
        # The first answer is the one _bind() listens on.
        address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]
        parsed = ipaddress.ip_address(address)
    except (OSError, ValueError, IndexError):
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def exposure_warning(host: str) -> str | None:
    """What to tell whoever serves the emulator on ``host`` when others can reach it."""
    if is_loopback(host):
        return None
    return (
        f"warning: {host} is not a loopback address, so anyone who can reach this machine "
        "on that network can use the emulator: nothing real is spent, but its image2image "
        "reads any file this user can read (by path) and fetches any URL from this machine"
    )


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _config(emulator: Emulator, *, log_level: str | int | None) -> uvicorn.Config:
    return uvicorn.Config(
        emulator,
        http=_DroppingH11Protocol,
        ws="none",
        lifespan="off",
        interface="asgi3",
        loop="asyncio",
        # uvicorn's logging config would reconfigure the caller's loggers.
        log_config=None,
        log_level=log_level,
        # The emulator logs every request itself, with the model and the cost; uvicorn's
        # line would repeat it with less.
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )


@contextlib.contextmanager
def serve(
    emulator: Emulator, *, host: str = DEFAULT_HOST, port: int | None = None
) -> Iterator[str]:
    """Serve ``emulator`` on ``host:port`` in a background thread; yields its base URL.

    ``port`` defaults to the emulator's; 0 picks a free port, which becomes the
    emulator's ``port``.  The server stops when the block exits.
    """
    sock = _bind(host, emulator.port if port is None else port)
    emulator.port = sock.getsockname()[1]
    server = _Server(_config(emulator, log_level=None))

    def run_server() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            server.settled.set()  # also when it died before starting up

    thread = threading.Thread(target=run_server, name="clawrouter-emulator", daemon=True)
    thread.start()
    try:
        if not server.settled.wait(_STARTUP_TIMEOUT_SECONDS):
            raise TimeoutError("the emulator did not start")
        if not server.started:
            raise OSError(f"the emulator could not listen on {host}:{emulator.port}")
        shown = f"[{host}]" if ":" in host else host
        logger.info("ClawRouter emulator serving on http://%s:%d", shown, emulator.port)
        yield f"http://{shown}:{emulator.port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def run(
    emulator: Emulator | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    image_dir: str | os.PathLike[str] | None = None,
    log_level: str | int | None = "info",
) -> None:
    """Serve an emulator in the foreground until interrupted (Ctrl+C).

    Without ``emulator``, one is made with ``image_dir`` and ``port``.
    """
    if emulator is None:
        emulator = (
            Emulator(image_dir=image_dir)
            if port is None
            else Emulator(image_dir=image_dir, port=port)
        )
    sock = _bind(host, emulator.port if port is None else port)
    emulator.port = sock.getsockname()[1]
    logger.info(
        "ClawRouter emulator on http://%s:%d (images in %s)",
        host,
        emulator.port,
        emulator.image_dir,
    )
    try:
        uvicorn.Server(_config(emulator, log_level=log_level)).run(sockets=[sock])
    finally:
        sock.close()

"""An offline ClawRouter for tests, tutorials and demos: same routes, same answers, no wallet.

Usage::

    from clawrouter_images.emulator import Emulator, Fault, serve

    emu = Emulator()
    emu.add_fault(Fault("payment_rejected"))  # the next image request gets a 402
    http = emu.sync_client()                  # an in-process httpx.Client (async: async_client())
    with serve(emu, port=0) as base_url:      # or on a real loopback port
        ...
    emu.ledger[-1].paid, emu.spent_usd        # what the real flow would have paid

It answers ``POST /v1/images/generations``, ``POST /v1/images/image2image``,
``GET /images/<file>`` and ``/health`` with the status codes, bodies and framing that the
real ClawRouter (v0.12.246) was recorded giving, draws real PNG/JPEG/WebP pictures of
the requested size from the prompt, and can be scripted to fail in every way ClawRouter
can (see ``Fault``).  Needs the ``[emulator]`` extra (starlette, uvicorn, pillow).

Where ClawRouter has no limits, the emulator keeps some, so that no request can make it
the weak point of a test machine: image2image reads only regular files, and files and
downloads of at most the client's input cap, and quotes nothing of their content; a
request body stops at ``Emulator(max_body_bytes=...)`` (413).  It still reads any file
and fetches any URL its user can, as ClawRouter does, so keep it on loopback (the
default); ``clawrouter-images emulate --host`` warns when it is not.
"""

from __future__ import annotations

try:
    import PIL  # noqa: F401
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        'the ClawRouter emulator needs extra packages: pip install "clawrouter-images[emulator]"'
    ) from err

from ._app import DEFAULT_UPSTREAM_HOST, DEFAULT_WALLET, Emulator, PaymentChain
from ._faults import FAULT_KINDS, Fault, FaultKind
from ._ledger import LedgerEntry
from ._server import run, serve

__all__ = [
    "DEFAULT_UPSTREAM_HOST",
    "DEFAULT_WALLET",
    "FAULT_KINDS",
    "Emulator",
    "Fault",
    "FaultKind",
    "LedgerEntry",
    "PaymentChain",
    "run",
    "serve",
]

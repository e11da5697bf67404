"""The ledger: every request the emulator received, and what it would have cost.

"Paid" follows the real flow: ClawRouter makes an unpaid request, gets the 402
challenge, and pays on the retry.  Answers that come back after that retry were paid
for: a success (gpt-image-2's queued job stub on image2image included), the upstream's
400 to the paid retry relayed in ClawRouter's ``Invalid request`` wrapper (the
``invalid_request`` fault), 500, 502 generation failed, 504, dropped connections,
malformed or empty bodies.  Answers that come before it were not: the upstream's own
checks refusing the unpaid try (the emulator's 400s for an unknown model, a bad size, a
missing image..., the ``upstream_refused`` and ``delisted`` faults), 402 rejected, 429,
503, an unreadable challenge, an unreachable upstream.  Neither were ClawRouter's own
refusals, made before it calls the upstream at all: image2image's 400s for a body it
cannot parse or an ``image``/``mask`` it cannot read (``Image file not found: ...``,
``Failed to download ...``, ``fetch failed``, ``EISDIR: ...``, V8's JSON messages), and
the emulator's own caps (a file that is not regular or is over the input cap, a body
over ``max_body_bytes``: 413).  So a 400 alone does not say whether money moved; its
``details`` do, and only ClawRouter's own texts prove it did not.  The amount is the
catalogue's estimate, the same one the x402 challenge would have asked for.

Requests the emulator makes to itself are recorded too, as the real ClawRouter would
receive them: an image2image input given as one of its own ``/images/...`` URLs shows up
as a ``GET`` just before the image2image entry (entries are recorded when answered).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .._catalog import ImageModel, estimate_cost, format_usd
from .._constants import GENERATIONS_PATH, IMAGE2IMAGE_PATH
from ._faults import FaultKind

# Longest path and model shown in an access line: enough to recognise them.
_SHOWN_PATH_CHARS = 200
_SHOWN_MODEL_CHARS = 80
# Data URIs longer than this are cut down in ledger bodies; nobody wants 30 MB in a repr.
_KEEP_DATA_URI_CHARS = 200
_SHOWN_DATA_URI_CHARS = 60


@dataclass(frozen=True)
class LedgerEntry:
    """One request as the emulator saw it."""

    method: str
    path: str
    """The request target as sent: raw path plus any ``?query``."""
    body: object
    """Parsed JSON body (long data URIs shortened), the raw text if not JSON, None if empty."""
    model: str | None
    """The model the upstream would see (image2image's injected default included)."""
    size: str | None
    n: int | None
    status: int | None
    """The answer's status; None when the connection was dropped without a response."""
    paid: bool
    estimated_cost_usd: float
    """The catalogue's estimate for model, size and n (0.0 for unknown models)."""
    fault: FaultKind | None
    received_at: float
    """``time.time()`` when the request arrived."""


def access_line(entry: LedgerEntry) -> str:
    """``POST /v1/images/generations 200 google/nano-banana $0.0525``: one request at a glance.

    Image requests add the model (as the upstream saw it) and the estimate when paid, else
    ``unpaid``; a dropped connection shows as ``dropped``; a scripted fault is named last.
    """
    parts = [_printable(entry.method, 16), _printable(entry.path, _SHOWN_PATH_CHARS)]
    parts.append("dropped" if entry.status is None else str(entry.status))
    if entry.method == "POST" and entry.path in (GENERATIONS_PATH, IMAGE2IMAGE_PATH):
        parts.append(
            "(no model)" if entry.model is None else _printable(entry.model, _SHOWN_MODEL_CHARS)
        )
        parts.append(format_usd(entry.estimated_cost_usd) if entry.paid else "unpaid")
    if entry.fault is not None:
        parts.append(f"fault={entry.fault}")
    return " ".join(parts)


def _printable(text: str, limit: int) -> str:
    # Paths and model names are the caller's: a newline or an escape sequence in them must
    # neither forge a log line nor drive the terminal.
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def estimate_usd(
    model: object, size: object, n: object, models: Mapping[str, ImageModel] | None = None
) -> float:
    """``estimate_cost`` for whatever the body held; 0.0 when it cannot be priced.
    ``models``: the emulator's own (extra models priced as they were given)."""
    if not isinstance(model, str):
        return 0.0
    count = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1
    priced: str | ImageModel = (models or {}).get(model) or model
    for candidate in (size if isinstance(size, str) else None, None):
        try:
            return estimate_cost(priced, candidate, count)
        except ValueError:  # unknown model, or a size the catalogue cannot parse
            continue
    return 0.0


def shorten_data_uris(value: object) -> object:
    """A copy of ``value`` with every long ``data:`` string replaced by a short summary."""
    if isinstance(value, str):
        if value.startswith("data:") and len(value) > _KEEP_DATA_URI_CHARS:
            return f"{value[:_SHOWN_DATA_URI_CHARS]}…({len(value)} chars)"
        return value
    if isinstance(value, list):
        return [shorten_data_uris(item) for item in value]
    if isinstance(value, dict):
        return {key: shorten_data_uris(item) for key, item in value.items()}
    return value


@dataclass
class Trace:
    """What the handling of one request found out, filled in as it goes (for the ledger)."""

    body: object = None
    model: str | None = None
    size: str | None = None
    n: int | None = None
    paid: bool = False
    fault: FaultKind | None = None
    estimated_cost_usd: float = 0.0


class Ledger:
    """Thread-safe list of ``LedgerEntry`` (the emulator may run in a server thread)."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._entries)

    def spent_usd(self) -> float:
        with self._lock:
            return round(sum(e.estimated_cost_usd for e in self._entries if e.paid), 6)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

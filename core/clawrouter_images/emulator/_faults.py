"""Scriptable faults: what the upstream (or ClawRouter) does wrong on the next request(s).

A fault applies to ``POST /v1/images/generations`` and ``POST /v1/images/image2image``
only, after ClawRouter's own work (reading ``image``/``mask`` on image2image) and in place
of the upstream's normal answer.  Every kind below answers what the real ClawRouter
passes to its client in that situation (``clawrouter-api.md`` and the recorded
transcripts); ``paid`` says whether the real flow had already paid the upstream.

ClawRouter makes an unpaid try, gets the 402 challenge, and pays on the retry (its
section 8).  An upstream can refuse on either try, with the same status and wrapper, and
ClawRouter passes both on alike: ``upstream_refused`` is the refusal of the unpaid try
(``i2i-no-image-field``), ``invalid_request`` the refusal of the paid retry
(``gen-upstream-400-after-payment``).  Neither default ``details`` is one of the texts
ClawRouter writes itself (``Image file not found: ...``, ``fetch failed``, ...), since only
those prove that nothing reached the upstream.

==========================  ======  =====  ==================================================
kind                        status  paid   answer
==========================  ======  =====  ==================================================
``payment_rejected``        402     no     ``{"error":"Payment verification failed","details":
                                           "Verification failed: {...insufficient_funds...}"}``
``delisted``                400     no     ``{"error":"Delisted 2026-05-25: ..."}``
``upstream_refused``        400     no     ``{"error":"Invalid request","details":
                                           "upstream: request refused before payment"}``
``invalid_request``         400     yes    ``{"error":"Invalid request","details":
                                           "upstream: size not supported"}`` (the
                                           upstream's 400 to the paid retry, relayed)
``rate_limited``            429     no     ``{"error":"Rate limit exceeded"[, "retry_after":N]}``
                                           (no ``Retry-After`` header unless
                                           ``send_retry_after``: ClawRouter drops it)
``server_error``            500     yes    ``{"error":"Internal server error","details":...}``
``generation_failed``       502     yes    ``{"error":"Image generation failed"`` (image2image:
                                           ``"Image editing failed"``) ``,"details":...}``
``upstream_unreachable``    502     no     same shape, details ``fetch failed``
``bad_payment_challenge``   502     no     same shape, details ``Failed to parse payment
                                           requirements: Invalid payment required header``
``service_unavailable``     503     no     ``{"error":"Service temporarily unavailable"}``
``timeout``                 504     yes    ``{"error":"Image generation timed out",...}``
``slow``                    200     yes    the normal answer, after ``delay`` seconds
``drop``                    none    yes    the connection closes with no response
``drop_mid_body``           200     yes    the normal answer with its ``Content-Length``, cut
                                           after half of the body
``malformed_json``          200     yes    a body that is not JSON, labelled application/json
``empty_data``              200     yes    ``{"created":...,"data":[]}``
``b64_json``                200     yes    images as ``data[].b64_json`` instead of URLs
``remote_url``              200     yes    an upstream URL ClawRouter could not localise
                                           (served in-process for ``Host: upstream_host``)
``dead_url``                200     yes    a localised URL whose file does not exist (404)
``job_stub``                200     yes    gpt-image-2's ``{"id","status":"queued",
                                           "poll_url","created"}`` (what image2image returns
                                           when the upstream answers 202; the emulator
                                           answers it unasked for ``openai/gpt-image-2``
                                           on image2image, and this kind gives it for any
                                           model and route)
==========================  ======  =====  ==================================================

A ``delay`` longer than the emulator's ``idle_timeout`` ends like the real 300 s limit:
the connection closes with no response (``gen-gpt-image-2-poll-never-completes``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

FaultKind = Literal[
    "payment_rejected",
    "delisted",
    "upstream_refused",
    "invalid_request",
    "rate_limited",
    "server_error",
    "generation_failed",
    "upstream_unreachable",
    "bad_payment_challenge",
    "service_unavailable",
    "timeout",
    "slow",
    "drop",
    "drop_mid_body",
    "malformed_json",
    "empty_data",
    "b64_json",
    "remote_url",
    "dead_url",
    "job_stub",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

# No money moves in these: they come before the paid retry, or (a rejected payment) are
# that retry failing to pay.  Every other kind comes after a payment went through.
_UNPAID_KINDS: frozenset[FaultKind] = frozenset(
    {
        "payment_rejected",
        "delisted",
        "upstream_refused",
        "rate_limited",
        "upstream_unreachable",
        "bad_payment_challenge",
        "service_unavailable",
    }
)
_PAID_KINDS = frozenset(FAULT_KINDS) - _UNPAID_KINDS


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour; see the module docstring for what each kind answers.

    ``delay``: seconds to wait before answering (any kind).  ``status``, ``body`` and
    ``details`` override the kind's default answer (``body`` as a ``str`` is sent raw,
    anything else as JSON).  ``headers`` are added to the answer.  ``retry_after`` goes
    into a 429's body like BlockRun's, and also into a ``Retry-After`` header when
    ``send_retry_after`` is true (the real ClawRouter drops that header).  ``url`` is the
    URL a ``remote_url`` fault returns.  ``paid`` overrides whether the ledger counts the
    request as paid.
    """

    kind: FaultKind
    delay: float = 0.0
    status: int | None = None
    body: object = None
    details: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    send_retry_after: bool = False
    url: str | None = None
    paid: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; choose one of {FAULT_KINDS}")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")

    @property
    def is_paid(self) -> bool:
        """Whether the real flow would have paid the upstream before this answer."""
        return self.kind in _PAID_KINDS if self.paid is None else self.paid


@dataclass
class _Rule:
    fault: Fault
    model: str | None
    path: str | None
    remaining: int | None


class FaultBook:
    """Pending faults, matched first-in first-out by route path and model."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault, *, model: str | None, path: str | None, times: int | None) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be >= 1, or None for every matching request")
        with self._lock:
            self._rules.append(_Rule(fault, model, path, times))

    def take(self, path: str, model: object) -> Fault | None:
        """The first fault matching this request, used up by one."""
        with self._lock:
            for rule in self._rules:
                if rule.path is not None and rule.path != path:
                    continue
                if rule.model is not None and rule.model != model:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                return rule.fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [rule.fault for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

"""Which answers to a paid POST cannot have been paid: ClawRouter's recorded refusals.

Once the POST may have left, the rule runs the safe way round.  An answer counts as
"not paid" only if it is one of the refusals below, each recorded from the real server
(``clawrouter-transcripts/``, ``clawrouter-api.md`` sections 3-5 and 8) as coming before
any payment.  Anything else (a status nobody listed, such as a proxy's 524 or 499; an
upstream 400 relayed after the paid retry; a redirect; an empty body) may have been paid:
it is counted against budgets, never retried, and says so.

A refusal is matched on its status *and* on ClawRouter's own wording, because the same
status and wrapper also carry answers that came after the payment: ClawRouter relays an
upstream's 400 after its paid retry as ``{"error":"Invalid request","details":...}``,
exactly the wrapper of its own image2image refusals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ._constants import IMAGE2IMAGE_PATH

# ClawRouter's image2image handler, resolving `image`/`mask` before any upstream call
# (clawrouter-api.md section 4): file and URL problems, Node's file-system errors
# ("EISDIR: illegal operation on a directory, read") and V8's JSON parser messages.
_OWN_IMAGE2IMAGE_DETAILS = re.compile(
    r"image file not found: "
    r"|failed to download (?:image|mask) from "
    r"|fetch failed$"
    r"|E[A-Z]+: "
    r"|unexpected end of json input$"
    r"|(?:unexpected token|expected |unterminated string|bad (?:control|escaped) character"
    r"|no number after|exponent part|unexpected non-whitespace).* json",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Refusal:
    status: int
    why: str
    matches: Callable[[str, str, str, str], bool]
    """(route, error, details, raw text) -> whether this answer is that refusal."""


def _lower(text: str) -> str:
    return text.strip().lower()


REFUSALS: tuple[_Refusal, ...] = (
    # A 402 is the upstream refusing ClawRouter's payment (recorded bodies: "Payment
    # verification failed", "Settlement failed"): whatever its words, nothing was settled.
    _Refusal(
        402,
        "the upstream rejected ClawRouter's payment, so nothing was settled "
        "(gen-payment-rejected-402, i2i-payment-rejected-402)",
        lambda route, error, details, text: True,
    ),
    _Refusal(
        502,
        "ClawRouter could not use the payment challenge and signed nothing "
        "(gen-malformed-402, gen-402-missing-header, gen-402-solana-only)",
        lambda route, error, details, text: _lower(details).startswith(
            ("failed to parse payment requirements", "no network/scheme registered")
        ),
    ),
    _Refusal(
        502,
        "not an image route: ClawRouter's chat fallback, which made no image request "
        "(wrong-gen-trailing-slash, wrong-edits)",
        lambda route, error, details, text: _lower(text) == "all models in fallback chain failed",
    ),
    _Refusal(
        400,
        "ClawRouter's own image2image refusal, before any upstream call "
        "(i2i-missing-file-400, i2i-url-404-400, i2i-directory-400, i2i-invalid-json-400)",
        lambda route, error, details, text: (
            route == IMAGE2IMAGE_PATH
            and _lower(error) == "invalid request"
            and _OWN_IMAGE2IMAGE_DETAILS.match(details.strip()) is not None
        ),
    ),
    _Refusal(
        400,
        "the upstream refused a delisted model on the unpaid try (gen-dall-e-3-delisted-400)",
        lambda route, error, details, text: _lower(error).startswith("delisted"),
    ),
    _Refusal(
        400,
        "the upstream refused a body that is not JSON on the unpaid try (gen-invalid-json)",
        lambda route, error, details, text: _lower(error) == "invalid json body",
    ),
    _Refusal(
        404,
        "ClawRouter's own 404 for a path it does not serve (wrong-no-v1-prefix)",
        lambda route, error, details, text: _lower(error) == "not found" and not details,
    ),
    _Refusal(
        429,
        "the upstream rate-limited the unpaid try (gen-upstream-429-retry-after)",
        lambda route, error, details, text: True,
    ),
    # Not recorded from ClawRouter, but a 503 says the request was not processed at all
    # (RFC 9110 15.6.4), and the design retries it.
    _Refusal(503, "the service was unavailable", lambda route, error, details, text: True),
)


def refused_before_payment(
    route: str, status: int, error: str, details: str | None, text: str
) -> bool:
    """Whether this answer to a POST on ``route`` is a refusal that came before payment.

    ``error`` and ``details`` are the body's fields as ``parse_error_body`` read them
    (empty when absent), ``text`` the raw body.  False for everything not listed.
    """
    return any(
        refusal.status == status and refusal.matches(route, error, details or "", text)
        for refusal in REFUSALS
    )

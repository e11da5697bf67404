"""The error tree of ``clawrouter_images``.

Every error the package raises derives from ``ClawRouterError``::

    ClawRouterError
    ├── APIConnectionError            ClawRouter could not be reached, or the connection broke
    │   ├── APITimeoutError           no answer in time (the request may have been paid)
    │   └── ClientClosedError         this client was closed; nothing was sent
    ├── APIStatusError                ClawRouter answered with an error status
    │   ├── BadRequestError           400: invalid request, delisted model, unreadable input
    │   ├── PaymentRequiredError      402: the upstream rejected the x402 payment
    │   ├── NotFoundError             404: not an image route, or an image that is gone
    │   ├── RateLimitError            429: the upstream is rate limiting
    │   ├── InternalServerError       500: ClawRouter or the upstream failed
    │   ├── UpstreamError             502: generation failed upstream, or payment could not be made
    │   ├── ServiceUnavailableError   503
    │   └── GenerationTimeoutError    504, or ClawRouter dropping a request it waited on too long
    ├── InvalidRequestError           refused before sending (also a ``ValueError``)
    │   └── InputImageError           an input image is missing, too large, or not an image
    ├── BudgetExceededError           refused before sending: over ``max_cost_usd`` or ``budget_usd``
    ├── ResponseValidationError       an answer that holds no usable image, or is not ClawRouter's
    │   └── DownloadError             a result image could not be downloaded, or is not an image
    └── SaveError                     the images were made, but could not be saved or fetched

``may_have_been_paid`` tells whether money may have left the wallet: such a request
is never re-sent automatically.  An error raised after a paid answer arrived carries
that answer as ``result`` (an ``ImageResponse``), so its URLs are never lost.  Every
message ends with what to do next.  ``request`` names the request that failed (a
``RequestInfo``: method and URL, credentials removed), or is None for what was refused
before anything was sent.

Errors travel: each one pickles with its fields (message, ``may_have_been_paid``,
``result``, ``request``, ``status_code``, ``body``, ``details``, ``saved_paths``), so an
error raised in a worker process (multiprocessing, Ray, Celery) reaches the caller whole.
``APIStatusError.response``, the ``httpx.Response`` itself, stays in the process that got
it: it holds the connection's state and the request's headers (credentials included),
so a pickled error has ``response=None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ._constants import (
    CLAWROUTER_IDLE_LIMIT_SECONDS,
    MAX_MESSAGE_CHARS,
    MAX_QUOTED_CHARS,
    START_HINT,
)

if TYPE_CHECKING:
    import httpx

    from ._models import ImageResponse

# This many characters of base64's alphabet in a row are encoded data (image bytes, a
# token), not words: never worth quoting, and possibly private.
_ENCODED_CHARS = 100
ENCODED_RUN = re.compile(rf"[A-Za-z0-9+/]{{{_ENCODED_CHARS},}}={{0,2}}")
# The backstop on whole messages is looser (a signed URL's token can run long).
_LONG_ENCODED_RUN = re.compile(r"[A-Za-z0-9+/]{400,}={0,2}")


def holds_encoded(text: str) -> bool:
    """Whether ``text`` holds a run of encoded data (``ENCODED_RUN``)."""
    return len(text) >= _ENCODED_CHARS and ENCODED_RUN.search(text) is not None


def quote(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """Shorten ``text`` for a message or a log line: no megabyte data URIs in errors.

    A leading data URI keeps only its head; elsewhere, runs of encoded data are elided
    and the rest is cut at ``limit`` characters.
    """
    text = text.strip()
    if text.startswith("data:") and len(text) > 64:
        text = f"{text[:40]}…({len(text)} chars)"
    else:
        total = len(text)
        if total >= _ENCODED_CHARS:  # shorter text cannot hold a run
            text = ENCODED_RUN.sub(lambda run: f"[{len(run.group())} chars elided]", text)
        if len(text) > limit:
            text = f"{text[:limit]}…({total} chars)"
    # A lone surrogate (JSON can carry "\ud800") would make the message impossible to
    # encode, to log or to hand to an LLM: show it escaped.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def loads_json(text: str | bytes) -> object:
    """``json.loads`` whose only failure is ``ValueError``: a hostile body nested a
    million levels deep would otherwise escape as ``RecursionError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


class RequestInfo(NamedTuple):
    """The request an error is about, as plain data: it pickles, and shows no credentials."""

    method: str
    url: str
    """The URL without a user name or password."""


class ClawRouterError(Exception):
    """Base class of every error raised by ``clawrouter_images``."""

    may_have_been_paid: bool = False
    result: ImageResponse | None = None
    """The paid answer, when the error came after it arrived (saving or fetching it failed)."""
    request: RequestInfo | None = None
    """The request that failed; None for errors raised before anything was sent."""

    def __init__(self, message: str) -> None:
        message = bounded(message)
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls cls(*args), which the keyword-only fields of the
        # subclasses refuse; restoring the state instead keeps every field.
        state = {name: value for name, value in vars(self).items() if name not in _LOCAL_ONLY}
        return _restore, (type(self), self.args), state


# Fields that stay in the process that raised the error (see the module docstring).
_LOCAL_ONLY = frozenset({"response"})


def _restore(cls: type[ClawRouterError], args: tuple[object, ...]) -> ClawRouterError:
    """An error of ``cls`` unpickled: its fields come back through ``__setstate__``."""
    error = cls.__new__(cls)
    error.args = args
    return error


def bounded(message: str) -> str:
    """``message`` as every error carries it: at most ``MAX_MESSAGE_CHARS``, no long run
    of encoded data, encodable.  Each message quotes server text through ``quote``
    already; this is the backstop for whatever a builder did not foresee, since an LLM
    reads these messages whole."""
    if len(message) <= MAX_MESSAGE_CHARS and _LONG_ENCODED_RUN.search(message) is None:
        return message.encode("utf-8", "backslashreplace").decode("utf-8")
    total = len(message)
    message = _LONG_ENCODED_RUN.sub(lambda run: f"[{len(run.group())} chars elided]", message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = f"{message[:MAX_MESSAGE_CHARS]}…({total} chars)"
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


class APIConnectionError(ClawRouterError):
    """ClawRouter could not be reached, or the connection broke before an answer."""

    def __init__(self, message: str, *, may_have_been_paid: bool = False) -> None:
        super().__init__(message)
        self.may_have_been_paid = may_have_been_paid


class APITimeoutError(APIConnectionError):
    """No answer within the timeout.  Not retried: the request may have been paid."""


class ClientClosedError(APIConnectionError):
    """This client was closed (``close()`` / ``aclose()``); nothing was sent.  Make a new one."""


class APIStatusError(ClawRouterError):
    """ClawRouter answered with an error status.

    ``body`` is the parsed JSON body (or the raw text), ``details`` ClawRouter's
    ``details`` string when it sent one.  ``response`` is the ``httpx.Response`` in the
    process that received it, and None once the error was pickled.
    """

    status_code: int
    response: httpx.Response | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object = None,
        details: str | None = None,
        response: httpx.Response | None = None,
        may_have_been_paid: bool = False,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.details = details
        self.response = response
        self.may_have_been_paid = may_have_been_paid


class BadRequestError(APIStatusError):
    """400: the request was refused (bad field, delisted model, unreadable input image)."""


class PaymentRequiredError(APIStatusError):
    """402: the upstream rejected ClawRouter's payment, usually an underfunded wallet."""


class NotFoundError(APIStatusError):
    """404: not an image route of ClawRouter, or an image file that does not exist."""


class RateLimitError(APIStatusError):
    """429: the upstream is rate limiting (retried with back-off before this is raised)."""


class InternalServerError(APIStatusError):
    """500: ClawRouter or the upstream failed.  Never retried: it may have been paid."""


class UpstreamError(APIStatusError):
    """502: generation failed upstream, the upstream was unreachable, or payment failed."""


class ServiceUnavailableError(APIStatusError):
    """503 (retried with back-off before this is raised)."""


class GenerationTimeoutError(APIStatusError):
    """504, or ClawRouter dropping a request that stayed silent too long (its idle limit).

    The second case has no response at all; ``status_code`` is 504 for both, since
    the outcome is the same: the job did not finish and may have been paid.
    """


class InvalidRequestError(ClawRouterError, ValueError):
    """The request was refused before anything was sent or paid."""


class InputImageError(InvalidRequestError):
    """An input image is missing, unreadable, too large, or not an image."""


class BudgetExceededError(ClawRouterError):
    """Refused before sending: the estimate is over ``max_cost_usd`` or what is left of ``budget_usd``."""


class ResponseValidationError(ClawRouterError):
    """An answer this client cannot use: a 200 to a paid POST that is not JSON, has no
    usable image or is a job stub (``may_have_been_paid``), an answer over its cap or
    compressed, or a ``/health`` that is not ClawRouter's.  ``body`` is what was read."""

    def __init__(
        self, message: str, *, body: object = None, may_have_been_paid: bool = False
    ) -> None:
        super().__init__(message)
        self.body = body
        self.may_have_been_paid = may_have_been_paid


class DownloadError(ResponseValidationError):
    """A result image could not be downloaded (an error status, a redirect, over the
    download cap, too slow, a private address) or decoded (invalid base64, not an image).

    Nothing is paid by a download; the image itself may be gone.  Inside ``save()`` it
    is the cause of the ``SaveError`` raised.
    """


class SaveError(ClawRouterError):
    """The images were made (and may have been paid) but could not be saved or fetched.

    ``result`` holds the answer with every URL; ``saved_paths`` the files that did land.
    """

    may_have_been_paid = True

    def __init__(
        self, message: str, *, result: ImageResponse, saved_paths: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.result = result
        self.saved_paths = list(saved_paths)


def paid_result_error(
    err: Exception, result: ImageResponse, saved_paths: Sequence[str] = ()
) -> SaveError:
    """What went wrong after a paid answer arrived, with the answer's URLs in the message.

    An LLM or a user reading only the message can still reach the images that were paid for.
    """
    from ._network import usable_url

    reason = quote(err.message, 600) if isinstance(err, ClawRouterError) else _os_reason(err)
    # Whole, not quoted: a cut URL reaches nothing.  usable_url bounds their length.
    urls = [url for url in result.urls if not url.startswith("data:") and usable_url(url)]
    where = (
        f"; the answer's image URLs: {', '.join(urls)}"
        if urls
        else "; the images came inline and are kept in this error's `result`"
    )
    saved = f"; saved: {', '.join(quote(p, 300) for p in saved_paths)}" if saved_paths else ""
    error = SaveError(
        f"the images were made (and may have been paid) but not all were saved: {reason}{where}"
        f"{saved} — fetch them from there before generating them again",
        result=result,
        saved_paths=saved_paths,
    )
    if isinstance(err, ClawRouterError):
        error.request = err.request  # the download that failed, if one did
    return error


def _os_reason(err: Exception) -> str:
    # strerror and the file name, not str(err): that can run to a whole errno tuple.
    strerror = getattr(err, "strerror", None)
    filename = getattr(err, "filename", None)
    if strerror:
        return f"{strerror}: {quote(str(filename), 200)}" if filename else str(strerror)
    return quote(f"{type(err).__name__}: {err}", 200)


def after_send_error(base_url: str, err: BaseException) -> APIConnectionError:
    """An unexpected failure once the paid request may have left: typed, and marked paid."""
    return APIConnectionError(
        f"the request to ClawRouter at {base_url} failed after it was sent "
        f"({quote(repr(err), 200)}); it may have been paid, so it was not retried — "
        "check before sending it again",
        may_have_been_paid=True,
    )


# One place for the status -> class rule.
_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    402: PaymentRequiredError,
    404: NotFoundError,
    429: RateLimitError,
    500: InternalServerError,
    502: UpstreamError,
    503: ServiceUnavailableError,
    504: GenerationTimeoutError,
}


def parse_error_body(text: str) -> tuple[object, str, str | None]:
    """Return (body, summary, details) from a ClawRouter error body of any known shape.

    ClawRouter's own errors are ``{"error": str, "details": str}``; its safety net
    answers ``{"error": {"message", "type"}}``; upstream bodies pass through verbatim,
    and wrong ``/v1`` paths answer plain text.
    """
    try:
        body: object = loads_json(text)
    except ValueError:
        return text, quote(text) or "(empty body)", None
    summary = ""
    details: str | None = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            summary = str(error.get("message") or error.get("type") or "")
        elif error is not None:
            summary = str(error)
        elif "message" in body:
            summary = str(body["message"])
        raw_details = body.get("details")
        if raw_details is not None:
            details = raw_details if isinstance(raw_details, str) else json.dumps(raw_details)
    return body, summary or quote(text) or "(empty body)", details


def _hint(
    status: int, summary: str, details: str, base_url: str, model: str | None, instead: str | None
) -> str | None:
    """What the user should do about an error answer, when its words say; else None."""
    text = f"{summary} {details}".lower()
    if "delisted" in text:
        # ``instead`` comes from the catalogue, which never suggests the refused model.
        step = f"try {instead}" if instead else "choose another model (`clawrouter-images models`)"
        return f"{model or 'this model'} was delisted upstream; {step}"
    if "fallback chain" in text:
        return (
            f"that path is not one of ClawRouter's image routes; check that the base URL "
            f"{base_url} has no path or query of its own"
        )
    if status == 402:
        return (
            "payment rejected: fund the ClawRouter wallet "
            f"(address and balance at {base_url}/health?full=true), then try again"
        )
    if "no network/scheme registered" in text:
        return (
            "ClawRouter's wallet cannot pay on the network the gateway asked for; "
            "set CLAWROUTER_PAYMENT_CHAIN (base or solana) and restart ClawRouter"
        )
    if "payment requirements" in text:
        return "the gateway sent a payment challenge ClawRouter cannot read; update ClawRouter"
    # A 400 "fetch failed" is ClawRouter failing to download an input image URL, not the gateway.
    if (
        "image file not found" in text
        or "eisdir" in text
        or "failed to download" in text
        or (status == 400 and "fetch failed" in text)
    ):
        return "pass the image itself (a path on this machine, bytes, or a data URI)"
    if "fetch failed" in text:
        return "ClawRouter could not reach the image gateway; check its network or upstream proxy"
    if status == 404:
        return f"check the base URL: {base_url} does not look like ClawRouter's image API"
    if status == 429:
        return "the upstream is rate limiting; wait a little and try again"
    if status == 503:
        return "ClawRouter is unavailable; wait a little and try again"
    if 400 <= status < 500:
        return "the request itself was refused: change the model, size, n, prompt or image"
    return None


def _next_step(
    status: int,
    summary: str,
    details: str,
    base_url: str,
    model: str | None,
    instead: str | None,
    *,
    paid: bool,
) -> str:
    """What the user should do about an error answer, in one sentence; a possibly paid
    answer says that first, since sending it again may pay twice."""
    hint = _hint(status, summary, details, base_url, model, instead)
    if not paid:
        return hint or "see the details above"
    caution = "the request may have been paid, so it was not retried; check before sending it again"
    return f"{caution} ({hint})" if hint else caution


def status_error(
    response: httpx.Response,
    *,
    base_url: str,
    model: str | None,
    instead: str | None = None,
    route: str | None = None,
) -> APIStatusError:
    """Build the error for an error answer from ClawRouter (the one place statuses map to classes).

    ``instead`` is the model to suggest if ``model`` was refused.  ``route`` is the paid
    route that was POSTed to, or None for routes that never pay (``/health``): on a paid
    route, an answer may have been paid unless it is a recorded refusal (``_refusals``).
    """
    from ._refusals import refused_before_payment

    status = response.status_code
    text = response.text
    body, summary, details = parse_error_body(text)
    error = body.get("error") if isinstance(body, dict) else None
    cls = _STATUS_CLASSES.get(status, APIStatusError)
    said = summary if details is None else f"{summary}: {quote(details)}"
    paid = route is not None and not refused_before_payment(
        route, status, error if isinstance(error, str) else "", details, text
    )
    step = _next_step(status, summary, details or "", base_url, model, instead, paid=paid)
    return cls(
        f"ClawRouter answered {status} ({quote(said)}) — {step}",
        status_code=status,
        body=body,
        details=details,
        response=response,
        may_have_been_paid=paid,
    )


def transport_error(err: httpx.TransportError, base_url: str, *, paid: bool) -> ClawRouterError:
    """The one place httpx errors of a call to ClawRouter become ClawRouter errors.

    ``paid`` is False for a request that cannot pay (``/health``).
    """
    import httpx  # here, not at the top: the agent-tool contract imports this module

    if isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout)):
        return not_running_error(base_url, err)
    if isinstance(err, httpx.PoolTimeout):
        return APIConnectionError(
            f"no free connection to {base_url} in time: too many calls in flight on "
            "this client; raise the pool limits of your http_client or call less at once"
        )
    if isinstance(err, httpx.TimeoutException):
        timeout = err.request.extensions.get("timeout", {}) if _has_request(err) else {}
        return timeout_error(base_url, timeout.get("read"), paid=paid)
    # Only no response at all is ClawRouter's idle drop; a body cut off part-way ("peer
    # closed connection without sending complete message body") is a broken connection,
    # which the final branch reports.
    if isinstance(err, httpx.RemoteProtocolError) and "without sending a response" in str(err):
        return dropped_error(base_url, err)
    return connection_broken_error(base_url, err)


def _has_request(err: httpx.TransportError) -> bool:
    try:
        err.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def not_running_error(base_url: str, err: Exception) -> APIConnectionError:
    return APIConnectionError(f"ClawRouter is not running at {base_url} — {START_HINT} ({err!r})")


def timeout_error(base_url: str, seconds: float | None, *, paid: bool = True) -> APITimeoutError:
    waited = f" within {seconds:g} s" if seconds else " in time"
    step = (
        "the request may have been paid, so it was not retried — check your images before "
        "sending it again, or raise `timeout=`"
        if paid
        else "try again, or raise `timeout=`"
    )
    return APITimeoutError(
        f"ClawRouter at {base_url} did not answer{waited}; {step}", may_have_been_paid=paid
    )


def dropped_error(base_url: str, err: Exception) -> GenerationTimeoutError:
    return GenerationTimeoutError(
        f"ClawRouter at {base_url} closed the connection without an answer (it drops requests "
        f"silent for {CLAWROUTER_IDLE_LIMIT_SECONDS} s): the generation did not finish and may have been paid — it was not "
        f"retried; check before sending it again ({err!r})",
        status_code=504,
        may_have_been_paid=True,
    )


def connection_broken_error(base_url: str, err: Exception) -> APIConnectionError:
    return APIConnectionError(
        f"the connection to ClawRouter at {base_url} broke while the request was in flight; "
        f"it may have been paid, so it was not retried — check before sending it again ({err!r})",
        may_have_been_paid=True,
    )


def unexpected_body_error(what: str, body: Any, status: int = 200) -> ResponseValidationError:
    """A success answer to a paid POST that holds no usable image: possibly paid, and its
    message names the URLs found in it, so that what was paid for can still be reached."""
    from ._network import found_urls

    urls = found_urls(body)
    where = f"; URLs in the answer: {', '.join(urls)}" if urls else ""
    return ResponseValidationError(
        f"ClawRouter answered {status} but {what}{where}; the request may have been paid — "
        "check ClawRouter's log before sending it again",
        body=body,
        # The answer came after the paid request went through.
        may_have_been_paid=True,
    )

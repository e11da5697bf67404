"""ImageClient and AsyncImageClient: twins over one pure base.

``_BaseClient`` holds everything that is decided rather than done: configuration,
validation, the cost estimate and budget, request bodies, the retry decision, and the
translation of answers and transport errors into results and errors.  The twins only
send, sleep, read files and write files.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import functools
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from . import _constants as c
from ._answers import answer_fields, image_items
from ._budget import Budget, usd_limit
from ._catalog import (
    ImageModel,
    describe_call,
    editing_models,
    estimate_cost,
    replacement_for,
    resolve_model,
)
from ._deadline import deadline, remaining
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    BudgetExceededError,
    ClawRouterError,
    InputImageError,
    InvalidRequestError,
    ResponseValidationError,
    after_send_error,
    connection_broken_error,
    dropped_error,
    loads_json,
    not_running_error,
    paid_result_error,
    quote,
    status_error,
    timeout_error,
    unexpected_body_error,
)
from ._network import blocked, clawrouter_image_path, literal_refusal, parse_url
from ._transport import (
    HEADERS,
    PerLoop,
    async_foreign_client,
    async_http_client,
    sync_foreign_client,
    sync_http_client,
)
from ._version import package_version

if TYPE_CHECKING:
    # Loaded with the first edit or save (see _inputs, _files and their uses below): a
    # client that only generates never needs them.
    from ._files import AtomicImageFile
    from ._inputs import ImageBytes, ImageInputs, PreparedInput
    from ._models import Health, ImageData, ImageResponse

log = logging.getLogger(c.LOGGER_NAME)

TimeoutTypes = float | httpx.Timeout | None

# Fields the client manages itself; extra_body may not override them.
_MANAGED_FIELDS = frozenset({"model", "prompt", "size", "n", "image", "mask"})
_IDENTITY = frozenset({"", "identity"})


def resolve_base_url(base_url: str | None = None) -> str:
    """The argument, else ``CLAWROUTER_BASE_URL``, else ``BLOCKRUN_PROXY_PORT`` on 127.0.0.1, else 8402."""
    url = base_url or os.environ.get(c.ENV_BASE_URL, "").strip()
    if not url:
        port = os.environ.get(c.ENV_PROXY_PORT, "").strip()
        # ClawRouter ignores a port variable that is not an integer in range; so do we.
        if port.isdigit() and 1 <= int(port) <= 65535:
            url = f"http://{c.DEFAULT_HOST}:{int(port)}"
        else:
            url = c.DEFAULT_BASE_URL
    url = url.rstrip("/")
    # Base URLs copied from OpenAI-style configs end in /v1; the routes already carry it.
    url = url.removesuffix("/v1")
    parsed = parse_url(url)
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidRequestError(
            f"base URL {quote(repr(shown_url(url)), 120)} must be an http(s) URL like "
            f"{c.DEFAULT_BASE_URL}"
        )
    return url


def shown_url(url: str | httpx.URL) -> str:
    """``url`` as it may be shown (messages, reprs, logs): without user name and password."""
    parsed = url if isinstance(url, httpx.URL) else parse_url(url)
    if parsed is None:
        return "(not a URL)"
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else str(parsed)


def _as_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    if timeout is None:
        return c.DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidRequestError(
            f"timeout must be a number of seconds above 0 or an httpx.Timeout, not {quote(repr(timeout), 60)}"
        )
    return httpx.Timeout(timeout, connect=min(timeout, c.DEFAULT_CONNECT_TIMEOUT))


@dataclass(frozen=True)
class _Call:
    """One paid call, validated and priced, ready to send."""

    path: str
    model: ImageModel
    size: str
    n: int
    prompt: str
    estimate: float
    fields: dict[str, object]
    timeout: httpx.Timeout


class _BaseClient:
    """Configuration and every decision; no I/O."""

    def __init__(
        self,
        base_url: str | None,
        *,
        timeout: TimeoutTypes,
        max_retries: int,
        max_cost_usd: float | None,
        budget_usd: float | None,
        injected: httpx.Client | httpx.AsyncClient | None,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError(
                f"max_retries must be a whole number, 0 or more, not {quote(repr(max_retries), 60)}"
            )
        # Requests go to the URL as given, user name and password included (a proxy in
        # front of ClawRouter may want them); everything shown uses base_url, without them.
        self._target_url = resolve_base_url(base_url)
        self.base_url = shown_url(self._target_url).rstrip("/")
        own = httpx.URL(self._target_url)
        self._own_origin = (own.scheme, own.host, own.port)
        self.timeout = _as_timeout(timeout)
        self.max_retries = max_retries
        self.max_cost_usd = usd_limit("max_cost_usd", max_cost_usd)
        self.budget = Budget(budget_usd, advice="Raise budget_usd, or use a new client.")
        # Guards the lazily built foreign-URL client, which threads may ask for at once.
        self._lock = threading.Lock()
        # An injected client's default headers apply to ClawRouter's own origin only (they
        # may hold credentials); bodies always come uncompressed.
        self._headers = {
            "User-Agent": f"{c.USER_AGENT_PRODUCT}/{package_version()}",
            "Accept-Encoding": "identity",
        }
        own_headers = httpx.Headers(injected.headers if injected else HEADERS)
        own_headers.update(self._headers)
        foreign_headers = httpx.Headers(HEADERS)
        foreign_headers.update(self._headers)
        self._base_headers = {True: own_headers, False: foreign_headers}
        self._origin_headers: dict[tuple[bytes, bool], httpx.Headers] = {}
        self._routes: dict[str, httpx.URL] = {}
        # _clock times the downloads' deadline chunk by chunk; _call_clock every request's
        # total deadline in the network backends.  Two, so that tests move each on its own.
        self._clock: Callable[[], float] = time.monotonic
        self._call_clock: Callable[[], float] = time.monotonic
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def is_closed(self) -> bool:
        """Whether ``close()`` / ``aclose()`` was called; a closed client sends nothing more."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise APIConnectionError(
                f"this {type(self).__name__} was closed; create a new one to send more requests"
            )

    @property
    def spent_usd(self) -> float:
        """Estimated USD of the calls this client made that were, or may have been, paid."""
        return self.budget.spent_usd

    @property
    def budget_usd(self) -> float | None:
        """The most this client may spend in all (None: no limit)."""
        return self.budget.limit_usd

    # -- validation and pricing ---------------------------------------------------------

    def _plan(
        self,
        path: str,
        prompt: object,
        model: str | ImageModel | None,
        size: object,
        n: object,
        max_cost_usd: float | None,
        timeout: TimeoutTypes,
        extra_body: Mapping[str, object] | None,
        image: object = None,
        mask: object = None,
    ) -> _Call:
        """Validate and price a call (the public method's arguments, in its order); raise
        before anything is sent."""
        editing = path == c.IMAGE2IMAGE_PATH
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequestError("prompt must be a non-empty string describing the image")
        if len(prompt) > c.MAX_PROMPT_CHARS:
            raise InvalidRequestError(
                f"prompt is {len(prompt)} characters; at most {c.MAX_PROMPT_CHARS} are accepted"
            )
        _check_text("prompt", prompt)
        if model is not None and not isinstance(model, (str, ImageModel)):
            raise InvalidRequestError(f"model must be a string, not {type(model).__name__}")
        found = resolve_model(
            model or (c.DEFAULT_EDIT_MODEL if editing else c.DEFAULT_GENERATE_MODEL)
        )
        if not found.available:
            instead = replacement_for(found, editing=editing).id
            raise InvalidRequestError(
                f"{found.id} is not available ({found.status_note}); try {instead}"
            )
        if editing and not found.edits:
            editors = ", ".join(m.id for m in editing_models())
            why = f" through ClawRouter ({found.edit_note})" if found.edit_note else ""
            raise InvalidRequestError(
                f"{found.id} cannot edit images{why}; editing models: {editors}"
            )
        if size is None:
            size = found.default_size
        if not isinstance(size, str):
            raise InvalidRequestError(
                f"size must be a string like '1024x1024', not {quote(repr(size), 60)}"
            )
        size = found.check_size(size)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= found.max_n:
            raise InvalidRequestError(
                f"n must be a whole number from 1 to {found.max_n} for {found.id}"
            )
        if editing:
            self._check_edit_inputs(found, _count_images(image), mask is not None)
        fields: dict[str, object] = {"model": found.id, "prompt": prompt, "size": size, "n": n}
        if extra_body:
            if not isinstance(extra_body, Mapping):
                raise InvalidRequestError("extra_body must be a mapping of extra JSON fields")
            clash = sorted(_MANAGED_FIELDS.intersection(extra_body))
            if clash:
                raise InvalidRequestError(
                    f"extra_body may not set {', '.join(clash)}; pass them as arguments"
                )
            fields.update(extra_body)
            try:
                # Fail here, not while sending: nothing may be reserved or paid for a bad
                # body.  Encoded as httpx will encode it, so a lone surrogate fails here too.
                json.dumps(fields, ensure_ascii=False, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as err:  # UnicodeEncodeError is a ValueError
                raise InvalidRequestError(
                    f"extra_body must hold JSON values and valid text only ({quote(str(err), 120)})"
                ) from None
        estimate = estimate_cost(found, size, n)
        what = describe_call(found, size, n)
        self._check_max_cost(what, estimate, usd_limit("max_cost_usd", max_cost_usd))
        self.budget.check(what, estimate)
        return _Call(
            path, found, size, n, prompt, estimate, fields, _as_timeout(timeout or self.timeout)
        )

    @staticmethod
    def _check_edit_inputs(model: ImageModel, image_count: int, has_mask: bool) -> None:
        if image_count > model.max_input_images:
            raise InvalidRequestError(
                f"{model.id} takes at most {model.max_input_images} input images, not {image_count}"
            )
        if has_mask and not model.can_mask:
            maskers = ", ".join(m.id for m in editing_models(mask=True))
            raise InvalidRequestError(
                f"{model.id} does not take a mask; models with masks: {maskers}"
            )
        if has_mask and image_count > 1:
            raise InvalidRequestError(
                "a mask applies to a single image; pass one image with a mask"
            )

    def _check_max_cost(self, what: str, estimate: float, max_cost_usd: float | None) -> None:
        limit = self.max_cost_usd if max_cost_usd is None else max_cost_usd
        if limit is not None and estimate > limit:
            raise BudgetExceededError(
                f"{what} is estimated at ${estimate:.4f}, over max_cost_usd=${limit:.4f}; "
                "choose a cheaper model or size, fewer images, or raise max_cost_usd"
            )

    # -- requests -------------------------------------------------------------------------

    def _is_own(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on ClawRouter's own origin (the base URL's scheme, host, port)."""
        return (url.scheme, url.host, url.port) == self._own_origin

    def _headers_for(self, url: httpx.URL, extra: Mapping[str, str] | None = None) -> httpx.Headers:
        # Requests are built here rather than by the httpx client (whose builder cannot
        # take a streamed body), so its default headers and Host are merged in by hand,
        # and only for ClawRouter's own origin: the host an LLM or a server named for an
        # image never gets the injected client's headers.
        own = self._is_own(url)
        key = (url.netloc, own)
        headers = self._origin_headers.get(key)
        if headers is None:
            headers = httpx.Headers(self._base_headers[own])
            headers["Host"] = url.netloc.decode("ascii")
            # Kept per origin: nearly every request goes to the same ClawRouter.
            if len(self._origin_headers) > 64:
                self._origin_headers.clear()
            self._origin_headers[key] = headers
        if not extra:
            return headers  # httpx.Request copies it
        headers = headers.copy()
        headers.update(extra)
        return headers

    def _route(self, path: str) -> httpx.URL:
        """The URL of a ClawRouter route, parsed once (URL parsing is a visible share of a call)."""
        url = self._routes.get(path)
        if url is None:
            url = self._routes[path] = httpx.URL(self._target_url + path)
        return url

    def _request(
        self, call: _Call, images: dict[str, list[ImageBytes] | ImageBytes]
    ) -> httpx.Request:
        url = self._route(call.path)
        extensions = {"timeout": call.timeout.as_dict()}
        if not images:
            return httpx.Request(
                "POST", url, json=call.fields, headers=self._headers_for(url), extensions=extensions
            )
        from ._inputs import JSONBody

        body = JSONBody(call.fields, images)
        headers = self._headers_for(
            url, {"Content-Type": "application/json", "Content-Length": str(len(body))}
        )
        return httpx.Request("POST", url, headers=headers, stream=body, extensions=extensions)

    def _get_request(self, url: str | httpx.URL, timeout: httpx.Timeout) -> httpx.Request:
        url = httpx.URL(url)
        return httpx.Request(
            "GET", url, headers=self._headers_for(url), extensions={"timeout": timeout.as_dict()}
        )

    # -- where a URL is fetched from --------------------------------------------------------

    def _fetch_target(self, url: str, role: str) -> tuple[str, bool]:
        """The URL to GET for an image and whether it is ClawRouter's (else a foreign host).

        ClawRouter names its own images ``http://localhost:<port>/images/...``; it binds
        IPv4 loopback only, and the port in the URL may not be the one we reach it on (a
        tunnel, an emulator on port 0), so those are fetched from the base URL.  Any other
        URL is foreign: checked by address (see ``_network``), however it is spelt.
        """
        if not url.lower().startswith(("http://", "https://")):
            if role == _INPUT:
                raise self._fetch_error(role, url, "it is not an http(s) URL")
            raise InvalidRequestError(f"cannot download {quote(url, 80)}: not an http(s) URL")
        parsed = parse_url(url)
        if parsed is None:
            raise self._fetch_error(role, url, "it is not a valid URL")
        if not parsed.host:
            raise self._fetch_error(role, url, "it has no host")
        own = clawrouter_image_path(parsed)
        if own is not None:
            return self._target_url + own, True
        reason = literal_refusal(parsed)
        if reason is not None:
            raise self._fetch_error(role, url, _private_problem(reason))
        return url, False

    # -- reading answers --------------------------------------------------------------------

    def _answer_cap(self, call: _Call) -> int:
        return call.n * c.MAX_ANSWER_BYTES_PER_IMAGE + c.MAX_ANSWER_OVERHEAD_BYTES

    def _check_encoding(self, response: httpx.Response) -> str | None:
        """The problem with a body encoded in a way the client did not ask for, or None.

        Compressed bodies are refused rather than decoded: one network read of a zstd or
        gzip bomb can inflate into gigabytes before any cap sees it.
        """
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding in _IDENTITY:
            return None
        return f"it sent a {quote(encoding, 40)}-encoded body, which this client never asks for"

    def _capped(self, response: httpx.Response, cap: int, *, paid: bool) -> None:
        """Make reading ``response`` stop at ``cap`` bytes; refuse a compressed body first.

        With identity encoding the bytes counted off the wire are the bytes kept, so the
        cap bounds memory.
        """
        problem = self._check_encoding(response)
        if problem is not None:
            raise self._answer_problem(problem, paid=paid)
        _meter(response, lambda size: self._answer_progress(size, cap, paid=paid))

    def _answer_problem(self, problem: str, *, paid: bool) -> ResponseValidationError:
        return ResponseValidationError(
            f"ClawRouter at {self.base_url} answered, but {problem}; "
            + (
                "the request may have been paid — check ClawRouter's log before sending it again"
                if paid
                else "is the base URL right?"
            ),
            may_have_been_paid=paid,
        )

    def _answer_progress(self, size: int, cap: int, *, paid: bool) -> None:
        """Called after every chunk of an answer: the size cap and the call's deadline."""
        if size > cap:
            raise self._answer_problem(f"its body is larger than {cap:,} bytes", paid=paid)
        time_left = remaining()
        if time_left is not None and time_left <= 0:
            raise timeout_error(self.base_url, None, paid=paid)

    @contextlib.contextmanager
    def _paying(self, call: _Call) -> Iterator[None]:
        """The bracket around every paid call: the budget holds the estimate, then counts
        it unless the error says it cannot have been paid; nothing escapes untyped."""
        with self.budget.spending(describe_call(call.model, call.size, call.n), call.estimate):
            try:
                yield
            except ClawRouterError:
                raise
            except Exception as err:
                raise after_send_error(self.base_url, err) from err

    @staticmethod
    def _inputs(image: object, mask: object) -> tuple[list[PreparedInput], PreparedInput | None]:
        """The edit's inputs, read and checked."""
        from ._inputs import prepare_input, prepare_inputs

        return prepare_inputs(image), (prepare_input(mask) if mask is not None else None)

    @staticmethod
    def _edit_fields(
        image: object, images: list[ImageBytes], mask: ImageBytes | None
    ) -> dict[str, list[ImageBytes] | ImageBytes]:
        """The image fields of an edit: a list stays a list, one image is sent alone."""
        fields: dict[str, list[ImageBytes] | ImageBytes] = {
            "image": images if isinstance(image, (list, tuple)) else images[0]
        }
        if mask is not None:
            from ._masks import mask_for_upstream

            fields["mask"] = mask_for_upstream(mask)
        return fields

    # -- retry decision -------------------------------------------------------------------

    def _next_delay(
        self,
        request: httpx.Request,
        attempt: int,
        outcome: httpx.Response | httpx.TransportError,
        *,
        idempotent: bool,
    ) -> float | None:
        """After one attempt: seconds to wait before the next, or None to take ``outcome``.

        A transport error that is not retried is raised here, translated.
        """
        delay = self._retry_delay(attempt, outcome)
        if isinstance(outcome, httpx.TransportError):
            # A request that cannot be paid (health) may also retry what a paid one must not.
            if delay is None and idempotent and attempt < self.max_retries:
                delay = self._backoff(attempt)
            if delay is None:
                # Only the POST can pay: a free request (health) that timed out did not.
                raise self._error(outcome, paid=not idempotent) from outcome
            log.info(
                "retrying %s %s in %.2fs after %r",
                request.method,
                shown_url(request.url),
                delay,
                outcome,
            )
        elif delay is not None:
            log.info(
                "retrying %s %s in %.2fs after %d",
                request.method,
                shown_url(request.url),
                delay,
                outcome.status_code,
            )
        return delay

    def _retry_delay(self, attempt: int, outcome: httpx.Response | Exception) -> float | None:
        """Seconds to wait before sending again, or None to stop.

        Only what cannot have been paid is retried.
        """
        if attempt >= self.max_retries:
            return None
        if isinstance(outcome, Exception):
            # Connection refused or connect timed out: the request never left, so it was not paid.
            # Pool timeout: it never got a connection.  Anything later (read timeout, a
            # connection closed mid-request) may have reached the upstream and been paid.
            if isinstance(outcome, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
                return self._backoff(attempt)
            return None
        # 429: the upstream refused before payment; ClawRouter drops its Retry-After, so
        # back off on our own unless a server did send one.  503: nothing was processed.
        if outcome.status_code in (429, 503):
            after = _retry_after(outcome.headers)
            if after is None:
                return self._backoff(attempt)
            return after if after <= c.MAX_RETRY_AFTER else None
        # 500, 502 and 504 may come after the paid request went through: never re-sent.
        return None

    @staticmethod
    def _backoff(attempt: int) -> float:
        delay: float = min(c.INITIAL_RETRY_DELAY * 2.0**attempt, c.MAX_RETRY_DELAY)
        # Jitter keeps many clients that failed together from retrying together.
        return delay * (0.75 + random.random() / 2)  # noqa: S311

    # -- answers --------------------------------------------------------------------------

    def _error(self, err: httpx.TransportError, *, paid: bool = True) -> ClawRouterError:
        """The one place httpx errors become ClawRouter errors."""
        if isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout)):
            return not_running_error(self.base_url, err)
        if isinstance(err, httpx.PoolTimeout):
            return APIConnectionError(
                f"no free connection to {self.base_url} in time: too many calls in flight on "
                "this client; raise the pool limits of your http_client or call less at once"
            )
        if isinstance(err, httpx.TimeoutException):
            timeout = err.request.extensions.get("timeout", {}) if _has_request(err) else {}
            return timeout_error(self.base_url, timeout.get("read"), paid=paid)
        # Only no response at all is ClawRouter's idle drop; a body cut off part-way
        # ("peer closed connection without sending complete message body") is a broken
        # connection, which the final branch reports.
        if isinstance(err, httpx.RemoteProtocolError) and "without sending a response" in str(err):
            return dropped_error(self.base_url, err)
        return connection_broken_error(self.base_url, err)

    def _redirect_error(self, response: httpx.Response, *, paid: bool) -> APIStatusError:
        # ClawRouter never redirects, so whatever answered is something in front of it (a
        # proxy, a login page), and whether it passed the POST on first cannot be known:
        # the answer to a POST counts as possibly paid.  Redirects stay unfollowed.
        location = quote(response.headers.get("location", "(no Location)"), 120)
        step = (
            "the request may have been paid, so it was not retried; check ClawRouter's log "
            "and the base URL before sending it again"
            if paid
            else "check the base URL"
        )
        return APIStatusError(
            f"{self.base_url} answered {response.status_code}, a redirect to {location}: "
            f"ClawRouter never redirects, so something else answered — {step}",
            status_code=response.status_code,
            response=response,
            may_have_been_paid=paid,
        )

    def _result(self, call: _Call, response: httpx.Response) -> ImageResponse:
        """The images of a paid answer, read leniently (``_answers``): every usable image
        is kept; only an answer with none is an error, naming the URLs it holds."""
        if 300 <= response.status_code < 400:
            raise self._redirect_error(response, paid=True)
        if response.status_code >= 400:
            editing = call.path == c.IMAGE2IMAGE_PATH
            raise status_error(
                response,
                base_url=self.base_url,
                model=call.model.id,
                instead=replacement_for(call.model, editing=editing).id,
                route=call.path,
            )
        try:
            body = loads_json(response.content)
        except ValueError as err:
            raise unexpected_body_error(
                f"its body is not JSON ({quote(str(err), 80)}: {quote(response.text, 120)!r})",
                response.text,
                response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise unexpected_body_error("its body is not a JSON object", body, response.status_code)
        items, skipped = image_items(body.get("data"), call.n)
        if not items:
            if body.get("poll_url") or body.get("status") in ("queued", "in_progress"):
                raise unexpected_body_error(
                    f"with an unfinished job (id={quote(repr(body.get('id')), 60)}, "
                    f"status={quote(repr(body.get('status')), 40)}) instead of images: "
                    f"ClawRouter does not wait for {call.model.id} on this route",
                    body,
                    response.status_code,
                )
            raise unexpected_body_error(
                "with no usable image URL or b64_json in `data`", body, response.status_code
            )
        if skipped:
            # Never take more than was asked for (each image would be saved and shown),
            # nor what is not an image reference.
            log.warning(
                "ClawRouter answered %d images for n=%d; kept the first %d usable",
                len(items) + skipped,
                call.n,
                len(items),
            )
        fields = answer_fields(body)
        fields.update(
            data=items,
            model=call.model.id,
            size=call.size,
            prompt=call.prompt,
            estimated_cost_usd=call.estimate,
        )
        try:
            result = _response_model().model_validate(fields)
        except Exception as err:  # the fields were read leniently; this is a bug, not the wire
            raise unexpected_body_error(
                f"with a body this client could not keep ({quote(str(err), 200)})", body
            ) from None
        result._local.base_url = self._target_url
        return result

    def _health(self, response: httpx.Response) -> Health:
        if 300 <= response.status_code < 400:
            raise self._redirect_error(response, paid=False)
        if response.status_code >= 400:
            # /health is free: no status of it means money left the wallet.
            raise status_error(response, base_url=self.base_url, model=None)
        from ._models import Health

        try:
            return Health.model_validate(loads_json(response.content))
        except ValueError:
            raise ResponseValidationError(
                f"{self.base_url}/health did not answer like ClawRouter "
                f"({quote(response.text, 120)!r}); is the base URL right?",
                body=response.text,
            ) from None

    @staticmethod
    def _inline_bytes(item: ImageData | str) -> bytes | None:
        """Bytes of a result that carries them inline (b64_json or a data URI), else None."""
        encoded: str | None
        if isinstance(item, str):
            encoded = item.partition(",")[2] if item.startswith("data:") else None
        elif item.b64_json:
            encoded = item.b64_json
        elif item.url and item.url.startswith("data:"):
            encoded = item.url.partition(",")[2]
        else:
            encoded = None
        if encoded is None:
            return None
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ResponseValidationError("a result image holds invalid base64") from None

    @staticmethod
    def _result_url(item: ImageData | str) -> str:
        url = item if isinstance(item, str) else item.url
        if not url:
            raise ResponseValidationError("this result has neither a URL nor b64_json to download")
        return url

    # -- fetching images (results and input URLs) -------------------------------------------

    def _fetch_error(self, role: str, url: str, problem: str) -> ClawRouterError:
        """The error for an image that could not be fetched, by whose image it is.

        An input image is the caller's: refused before anything is paid, and nothing needs
        generating again.  A result image was paid for: say how to get it another way.
        """
        shown = quote(url, 120)
        if role == _INPUT:
            return InputImageError(
                f"could not fetch input image {shown}: {problem}; pass a public image URL, an "
                "earlier result's URL, or the image as a local file or data URI"
            )
        return ResponseValidationError(
            f"could not download result image {shown}: {problem} — try again, or generate "
            "the image again"
        )

    def _fetch_failure(
        self, err: httpx.TransportError, role: str, url: str, trusted: bool
    ) -> ClawRouterError:
        """An httpx error while fetching an image; nothing is paid here."""
        time_left = remaining()
        if isinstance(err, httpx.TimeoutException) and time_left is not None and time_left <= 0:
            return self._fetch_error(
                role, url, f"it took longer than {c.DOWNLOAD_DEADLINE_SECONDS:g} s to arrive"
            )
        if blocked(err):
            return self._fetch_error(role, url, _private_problem(str(err.__cause__ or err)))
        # Only a URL under the base URL means ClawRouter itself is down; any other host is not it.
        if trusted and isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout)):
            return not_running_error(self.base_url, err)
        if role == _RESULT and not trusted:
            return APIConnectionError(
                f"could not download {quote(url, 120)} ({err!r}): its host is unreachable or the "
                "transfer was cut off — try again, or generate the image again"
            )
        return self._fetch_error(
            role, url, f"its host is unreachable or the transfer broke ({err!r})"
        )

    @contextlib.contextmanager
    def _fetching(self, role: str, url: str, trusted: bool) -> Iterator[None]:
        """httpx errors of an image fetch, connecting or while the body streams, in our terms."""
        try:
            yield
        except httpx.TransportError as err:
            raise self._fetch_failure(err, role, url, trusted) from err

    def _fetch_checks(
        self, response: httpx.Response, role: str, url: str, cap: int, started: float
    ) -> None:
        """The status, then the cap and deadline on every chunk.  The status check refuses
        any encoding but identity, so the bytes metered are the bytes kept."""
        self._fetch_status(response, role, url)
        _meter(response, lambda size: self._fetch_progress(role, url, size, cap, started))

    def _fetch_status(self, response: httpx.Response, role: str, url: str) -> None:
        status = response.status_code
        if 300 <= status < 400:
            raise self._fetch_error(
                role, url, f"it answered {status}, a redirect, and redirects are not followed"
            )
        if status >= 400:
            if role == _RESULT:
                raise ResponseValidationError(
                    f"result image {quote(url, 120)} answered {status}; it may have "
                    "expired or never been stored — generate it again"
                )
            raise self._fetch_error(role, url, f"it answered {status}")
        problem = self._check_encoding(response)
        if problem is not None:
            raise self._fetch_error(role, url, problem)

    def _fetch_progress(self, role: str, url: str, size: int, cap: int, started: float) -> None:
        """Called after every chunk: the size cap and the overall deadline."""
        if size > cap:
            if role == _INPUT:
                raise InputImageError(
                    f"input image {quote(url, 120)} is larger than "
                    f"{cap // (1024 * 1024)} MB; resize or compress it first"
                )
            raise ResponseValidationError(
                f"{quote(url, 120)} is larger than the download cap ({cap:,} bytes); not downloaded"
            )
        if self._clock() - started > c.DOWNLOAD_DEADLINE_SECONDS:
            raise self._fetch_error(
                role, url, f"it took longer than {c.DOWNLOAD_DEADLINE_SECONDS:g} s to arrive"
            )

    # save() in both twins: the plan is here, the twins only stream each URL's bytes.

    def _files(
        self, response: ImageResponse, directory: str | os.PathLike[str], paths: list[Path]
    ) -> Generator[tuple[AtomicImageFile, str | None], None, None]:
        """Each image's file, open: inline bytes are written already; otherwise the URL
        whose bytes the caller writes.  Each file lands when the caller moves on."""
        from ._files import AtomicImageFile, prepare_save_dir, safe_stem

        target = prepare_save_dir(directory)
        count = len(response.data)
        for index, item in enumerate(response.data):
            stem = safe_stem(response.prompt, index, count)
            with AtomicImageFile(target, stem, source=quote(item.url or "b64_json", 120)) as out:
                inline = self._inline_bytes(item)
                if inline is not None:
                    out.write(inline)
                yield out, None if inline is not None else self._result_url(item)
                # Recorded as each file lands, so a later failure does not hide earlier files.
                paths.append(out.commit())

    @staticmethod
    @contextlib.contextmanager
    def _saving(response: ImageResponse, paths: list[Path]) -> Iterator[None]:
        """The images were paid for: whatever goes wrong (a full disk, a folder removed
        meanwhile, a hostile URL), the caller gets a typed error that still holds them."""
        try:
            yield
        except Exception as err:
            raise paid_result_error(err, response, [str(p) for p in paths]) from err
        finally:
            response._local.saved = list(paths)  # for the notebook preview


_INPUT = "input"
_RESULT = "result"


def _private_problem(reason: str) -> str:
    return (
        f"it points into this machine or a private network ({quote(reason, 80)}), which is "
        "never fetched"
    )


def _auth_for(trusted: bool) -> httpx._client.UseClientDefault | None:
    """An injected client's auth goes to ClawRouter's own origin only."""
    return httpx.USE_CLIENT_DEFAULT if trusted else None


def _total_seconds(request: httpx.Request) -> float | None:
    """A request's total deadline: its connect and read timeouts together (the POST's
    default is ClawRouter's own 300 s limit plus a margin), None without a read timeout."""
    timeout = request.extensions.get("timeout", {})
    read = timeout.get("read")
    return None if read is None else read + (timeout.get("connect") or 0.0)


def _has_request(err: httpx.TransportError) -> bool:
    try:
        err.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):  # neither seconds nor an HTTP date: back off as usual
        return None
    if when is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)


async def _async_sleep(seconds: float) -> None:
    # asyncio is imported here, not at module level: it adds ~8 ms to importing the
    # package, and sync users never need it.
    import asyncio

    await asyncio.sleep(seconds)


def _meter(response: httpx.Response, check: Callable[[int], None]) -> None:
    """Have ``check(total)`` called as ``response``'s body arrives, whichever way it is read.

    A transport may hand over a body already in memory (``httpx.MockTransport`` does):
    that one is checked once, whole.
    """
    if response.is_stream_consumed:
        check(len(response.content))
    else:
        response.stream = _CappedStream(response.stream, check)


class _CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that calls ``check(total)`` after every chunk, so a cap can stop it."""

    def __init__(
        self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, check: Callable[[int], None]
    ) -> None:
        self._stream = stream
        self._check = check

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._stream, httpx.SyncByteStream)
        size = 0
        for chunk in self._stream:
            size += len(chunk)
            self._check(size)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        size = 0
        async for chunk in self._stream:
            size += len(chunk)
            self._check(size)
            yield chunk

    def close(self) -> None:
        if isinstance(self._stream, httpx.SyncByteStream):
            self._stream.close()

    async def aclose(self) -> None:
        if isinstance(self._stream, httpx.AsyncByteStream):
            await self._stream.aclose()


def _close_all(clients: list[httpx.Client]) -> None:
    for client in clients:
        client.close()


@functools.cache
def _response_model() -> type[ImageResponse]:
    """``ImageResponse``, loaded with the first answer: defining pydantic models loads
    pydantic's field machinery (~12 ms), which importing the client need not pay."""
    from ._models import ImageResponse

    return ImageResponse


def _check_text(name: str, text: str) -> None:
    """Refuse text that cannot be sent as UTF-8 (a lone surrogate, which JSON and Python
    strings can hold), naming where it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidRequestError(
            f"{name} holds a character that is not valid text (a lone surrogate at position "
            f"{err.start}); remove it or send the text as UTF-8"
        ) from None


def _count_images(image: object) -> int:
    return len(image) if isinstance(image, (list, tuple)) else 1


class ImageClient(_BaseClient):
    """Generate and edit images through ClawRouter (blocking).

    ``base_url`` defaults to ``CLAWROUTER_BASE_URL``, else ``BLOCKRUN_PROXY_PORT`` on
    127.0.0.1, else ``http://127.0.0.1:8402``.  ``timeout`` (seconds or ``httpx.Timeout``)
    defaults to 5 s to connect and 330 s to read, long enough for the slowest model.
    ``max_retries`` applies only to failures that cannot have been paid.  ``max_cost_usd``
    caps each call's estimate; ``budget_usd`` caps the client's total (see ``spent_usd``).

    Image URLs other than ClawRouter's own results are fetched only from public addresses
    (see ``_network``).  An injected ``http_client`` is used as is for every request, so
    that rule then covers only what a URL's text shows; it is left open on ``close()``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int = c.DEFAULT_MAX_RETRIES,
        max_cost_usd: float | None = None,
        budget_usd: float | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_cost_usd=max_cost_usd,
            budget_usd=budget_usd,
            injected=http_client,
        )
        self._owns_http = http_client is None
        self._http: httpx.Client = http_client or sync_http_client(self.timeout)
        # Built on the first foreign URL: most clients only ever talk to ClawRouter.
        self._foreign_http: httpx.Client | None = http_client
        self._sleep: Callable[[float], None] = time.sleep
        # The clients this one built, closed by close() or when this client is collected.
        # The finaliser holds them, not only this object: were they part of the same
        # garbage, their sockets' own finalisers could run first and warn (ResourceWarning).
        self._owned: list[httpx.Client] = [self._http] if self._owns_http else []
        self._finalizer = weakref.finalize(self, _close_all, self._owned)

    def close(self) -> None:
        self._closed = True
        self._finalizer()

    def __enter__(self) -> ImageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def generate(
        self,
        prompt: str,
        *,
        model: str | ImageModel | None = None,
        size: str | None = None,
        n: int = 1,
        max_cost_usd: float | None = None,
        timeout: TimeoutTypes = None,
        extra_body: Mapping[str, object] | None = None,
    ) -> ImageResponse:
        """Generate ``n`` images from ``prompt`` (default model google/nano-banana)."""
        call = self._plan(
            c.GENERATIONS_PATH, prompt, model, size, n, max_cost_usd, timeout, extra_body
        )
        return self._execute(call, {})

    def edit(
        self,
        prompt: str,
        image: ImageInputs,
        *,
        mask: ImageInputs | None = None,
        model: str | ImageModel | None = None,
        size: str | None = None,
        n: int = 1,
        max_cost_usd: float | None = None,
        timeout: TimeoutTypes = None,
        extra_body: Mapping[str, object] | None = None,
    ) -> ImageResponse:
        """Edit one image, or combine 1-4, following ``prompt`` (default model openai/gpt-image-1).

        ``image`` and ``mask`` take a local path, bytes, a binary file, a data URI or an
        http(s) URL; they are read and checked here, then sent as data URIs.
        """
        call = self._plan(
            c.IMAGE2IMAGE_PATH,
            prompt,
            model,
            size,
            n,
            max_cost_usd,
            timeout,
            extra_body,
            image,
            mask,
        )
        items, mask_item = self._inputs(image, mask)
        images = [self._fetch_input(item) for item in items]
        checked_mask = self._fetch_input(mask_item) if mask_item is not None else None
        return self._execute(call, self._edit_fields(image, images, checked_mask))

    def health(self, full: bool = False) -> Health:
        """ClawRouter's status and wallet; ``full=True`` adds the balance (slower)."""
        url = self._route(c.HEALTH_PATH).copy_merge_params({"full": "true"} if full else {})
        request = self._get_request(url, self.timeout)
        return self._health(
            self._send(request, idempotent=True, cap=c.MAX_HEALTH_BYTES, paid=False)
        )

    def download(self, image: ImageData | str) -> bytes:
        """The bytes of one result image (URL, localised URL, data URI or ``b64_json``)."""
        inline = self._inline_bytes(image)
        if inline is not None:
            return inline
        return self._fetch(self._result_url(image), _RESULT, c.MAX_DOWNLOAD_BYTES)

    def save(self, response: ImageResponse, directory: str | os.PathLike[str]) -> list[Path]:
        """Write every image of ``response`` into ``directory`` and return the new paths.

        Each file appears only once complete; an existing file is never replaced.  Any
        failure raises ``SaveError``, which keeps ``response`` (with its URLs) and the
        paths saved so far; no partial file is left behind.
        """
        paths: list[Path] = []
        with (
            self._saving(response, paths),
            contextlib.closing(self._files(response, directory, paths)) as files,
        ):
            for out, url in files:
                if url is not None:
                    with self._open(url, _RESULT, c.MAX_DOWNLOAD_BYTES) as chunks:
                        for chunk in chunks:
                            out.write(chunk)
        return paths

    # -- I/O ------------------------------------------------------------------------------

    def _execute(
        self, call: _Call, images: dict[str, list[ImageBytes] | ImageBytes]
    ) -> ImageResponse:
        request = self._request(call, images)
        with self._paying(call):
            response = self._send(request, idempotent=False, cap=self._answer_cap(call), paid=True)
            return self._result(call, response)

    def _send(
        self, request: httpx.Request, *, idempotent: bool, cap: int, paid: bool
    ) -> httpx.Response:
        self._check_open()
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                with deadline(_total_seconds(request), self._call_clock):
                    outcome = self._read(
                        self._http.send(request, stream=True, follow_redirects=False),
                        cap,
                        paid=paid,
                    )
            except httpx.TransportError as err:
                outcome = err
            delay = self._next_delay(request, attempt, outcome, idempotent=idempotent)
            if delay is None:
                assert isinstance(outcome, httpx.Response)  # errors were raised
                return outcome
            attempt += 1
            self._sleep(delay)

    def _read(self, response: httpx.Response, cap: int, *, paid: bool) -> httpx.Response:
        """Read ``response`` whole, counting bytes as they arrive (see ``_capped``)."""
        try:
            self._capped(response, cap, paid=paid)
            response.read()
        finally:
            response.close()
        return response

    def _foreign(self) -> httpx.Client:
        if self._foreign_http is None:
            with self._lock:
                if self._foreign_http is None:
                    self._foreign_http = sync_foreign_client(self.timeout)
                    self._owned.append(self._foreign_http)
        return self._foreign_http

    @contextlib.contextmanager
    def _open(self, url: str, role: str, cap: int) -> Iterator[Iterator[bytes]]:
        """GET an image (a result or an input URL) as raw chunks, every rule applied."""
        self._check_open()
        started = self._clock()
        target, trusted = self._fetch_target(url, role)
        http = self._http if trusted else self._foreign()
        request = self._get_request(target, c.DOWNLOAD_TIMEOUT)
        with (
            deadline(c.DOWNLOAD_DEADLINE_SECONDS, self._call_clock),
            self._fetching(role, url, trusted),
        ):
            response = http.send(
                request, stream=True, follow_redirects=False, auth=_auth_for(trusted)
            )
            try:
                self._fetch_checks(response, role, url, cap, started)
                yield response.iter_bytes(c.DOWNLOAD_CHUNK_BYTES)
            finally:
                response.close()

    def _fetch(self, url: str, role: str, cap: int) -> bytes:
        body = bytearray()
        with self._open(url, role, cap) as chunks:
            for chunk in chunks:
                body += chunk
        return bytes(body)

    def _fetch_input(self, item: PreparedInput) -> ImageBytes:
        from ._inputs import ImageBytes, check_image_bytes

        if isinstance(item, ImageBytes):
            return item
        data = self._fetch(item.url, _INPUT, c.MAX_INPUT_IMAGE_BYTES)
        return check_image_bytes(data, quote(item.url, 120))


class AsyncImageClient(_BaseClient):
    """Generate and edit images through ClawRouter (asyncio).  Same arguments as ``ImageClient``.

    Works from whichever event loop awaits it, one after another or at once from several
    threads' loops: each loop gets its own connections, closed when that loop shuts down
    (``asyncio.run``, ``asyncio.Runner`` and pytest-asyncio all do that).  The budget and
    ``spent_usd`` are one per client across loops.  An injected ``http_client`` is used
    as is, and is bound to the loop it was first used in.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int = c.DEFAULT_MAX_RETRIES,
        max_cost_usd: float | None = None,
        budget_usd: float | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_cost_usd=max_cost_usd,
            budget_usd=budget_usd,
            injected=http_client,
        )
        self._http = http_client
        timeout_ = self.timeout
        self._per_loop = PerLoop(lambda: async_http_client(timeout_))
        self._foreign_per_loop = PerLoop(lambda: async_foreign_client(timeout_))
        self._sleep: Callable[[float], Awaitable[None]] = _async_sleep

    async def aclose(self) -> None:
        """Close this loop's connections (other loops' close as those loops shut down)."""
        self._closed = True
        if self._http is None:
            await self._per_loop.aclose()
            await self._foreign_per_loop.aclose()

    async def __aenter__(self) -> AsyncImageClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def generate(
        self,
        prompt: str,
        *,
        model: str | ImageModel | None = None,
        size: str | None = None,
        n: int = 1,
        max_cost_usd: float | None = None,
        timeout: TimeoutTypes = None,
        extra_body: Mapping[str, object] | None = None,
    ) -> ImageResponse:
        """Generate ``n`` images from ``prompt`` (default model google/nano-banana)."""
        call = self._plan(
            c.GENERATIONS_PATH, prompt, model, size, n, max_cost_usd, timeout, extra_body
        )
        return await self._execute(call, {})

    async def edit(
        self,
        prompt: str,
        image: ImageInputs,
        *,
        mask: ImageInputs | None = None,
        model: str | ImageModel | None = None,
        size: str | None = None,
        n: int = 1,
        max_cost_usd: float | None = None,
        timeout: TimeoutTypes = None,
        extra_body: Mapping[str, object] | None = None,
    ) -> ImageResponse:
        """Edit one image, or combine 1-4, following ``prompt`` (default model openai/gpt-image-1)."""
        call = self._plan(
            c.IMAGE2IMAGE_PATH,
            prompt,
            model,
            size,
            n,
            max_cost_usd,
            timeout,
            extra_body,
            image,
            mask,
        )
        items, mask_item = self._inputs(image, mask)
        images = [await self._fetch_input(item) for item in items]
        checked_mask = await self._fetch_input(mask_item) if mask_item is not None else None
        # Converting an opaque mask takes seconds at 64 MP: a worker thread (asyncio or
        # trio alike) does it while the event loop keeps serving.
        from anyio import to_thread

        fields = await to_thread.run_sync(self._edit_fields, image, images, checked_mask)
        return await self._execute(call, fields)

    async def health(self, full: bool = False) -> Health:
        """ClawRouter's status and wallet; ``full=True`` adds the balance (slower)."""
        url = self._route(c.HEALTH_PATH).copy_merge_params({"full": "true"} if full else {})
        request = self._get_request(url, self.timeout)
        return self._health(
            await self._send(request, idempotent=True, cap=c.MAX_HEALTH_BYTES, paid=False)
        )

    async def download(self, image: ImageData | str) -> bytes:
        """The bytes of one result image (URL, localised URL, data URI or ``b64_json``)."""
        inline = self._inline_bytes(image)
        if inline is not None:
            return inline
        return await self._fetch(self._result_url(image), _RESULT, c.MAX_DOWNLOAD_BYTES)

    async def save(self, response: ImageResponse, directory: str | os.PathLike[str]) -> list[Path]:
        """Write every image of ``response`` into ``directory`` and return the new paths."""
        paths: list[Path] = []
        with (
            self._saving(response, paths),
            contextlib.closing(self._files(response, directory, paths)) as files,
        ):
            for out, url in files:
                if url is not None:
                    async with self._open(url, _RESULT, c.MAX_DOWNLOAD_BYTES) as chunks:
                        async for chunk in chunks:
                            out.write(chunk)
        return paths

    # -- I/O ------------------------------------------------------------------------------

    async def _clawrouter(self) -> httpx.AsyncClient:
        self._check_open()
        return self._http or await self._per_loop.get()

    async def _foreign(self) -> httpx.AsyncClient:
        self._check_open()
        return self._http or await self._foreign_per_loop.get()

    async def _execute(
        self, call: _Call, images: dict[str, list[ImageBytes] | ImageBytes]
    ) -> ImageResponse:
        request = self._request(call, images)
        with self._paying(call):
            response = await self._send(
                request, idempotent=False, cap=self._answer_cap(call), paid=True
            )
            return self._result(call, response)

    async def _send(
        self, request: httpx.Request, *, idempotent: bool, cap: int, paid: bool
    ) -> httpx.Response:
        http = await self._clawrouter()
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                with deadline(_total_seconds(request), self._call_clock):
                    outcome = await self._read(
                        await http.send(request, stream=True, follow_redirects=False),
                        cap,
                        paid=paid,
                    )
            except httpx.TransportError as err:
                outcome = err
            delay = self._next_delay(request, attempt, outcome, idempotent=idempotent)
            if delay is None:
                assert isinstance(outcome, httpx.Response)  # errors were raised
                return outcome
            attempt += 1
            await self._sleep(delay)

    async def _read(self, response: httpx.Response, cap: int, *, paid: bool) -> httpx.Response:
        """Read ``response`` whole, counting bytes as they arrive (see ``_capped``)."""
        try:
            self._capped(response, cap, paid=paid)
            await response.aread()
        finally:
            await response.aclose()
        return response

    @contextlib.asynccontextmanager
    async def _open(self, url: str, role: str, cap: int) -> AsyncIterator[AsyncIterator[bytes]]:
        """GET an image (a result or an input URL) as raw chunks, every rule applied."""
        started = self._clock()
        target, trusted = self._fetch_target(url, role)
        http = await (self._clawrouter() if trusted else self._foreign())
        request = self._get_request(target, c.DOWNLOAD_TIMEOUT)
        with (
            deadline(c.DOWNLOAD_DEADLINE_SECONDS, self._call_clock),
            self._fetching(role, url, trusted),
        ):
            response = await http.send(
                request, stream=True, follow_redirects=False, auth=_auth_for(trusted)
            )
            try:
                self._fetch_checks(response, role, url, cap, started)
                yield response.aiter_bytes(c.DOWNLOAD_CHUNK_BYTES)
            finally:
                await response.aclose()

    async def _fetch(self, url: str, role: str, cap: int) -> bytes:
        body = bytearray()
        async with self._open(url, role, cap) as chunks:
            async for chunk in chunks:
                body += chunk
        return bytes(body)

    async def _fetch_input(self, item: PreparedInput) -> ImageBytes:
        from ._inputs import ImageBytes, check_image_bytes

        if isinstance(item, ImageBytes):
            return item
        data = await self._fetch(item.url, _INPUT, c.MAX_INPUT_IMAGE_BYTES)
        return check_image_bytes(data, quote(item.url, 120))


__all__ = ["AsyncImageClient", "ImageClient", "resolve_base_url"]

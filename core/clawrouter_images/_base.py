"""_BaseClient: what both clients share and do without I/O: configuration, where ClawRouter
is, the headers of each origin, the requests to send, the budget bracket around a paid call.

The policies it applies live below it (``_call``, ``_retry``, ``_fetch``, ``_answers``);
``ImageClient`` and ``AsyncImageClient`` (``_client``) add the I/O.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import httpx

from . import _constants as c
from ._budget import Budget, usd_limit
from ._call import PricedCall, TimeoutTypes, as_timeout, plan_call
from ._exceptions import (
    ClawRouterError,
    ClientClosedError,
    InvalidRequestError,
    RequestInfo,
    after_send_error,
    quote,
    transport_error,
)
from ._fetch import Fetch, Role
from ._network import parse_url, shown_url
from ._retry import Attempts, RetryPolicy
from ._transport import HEADERS
from ._version import package_version

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from types import TracebackType

    from ._catalog import ImageModel
    from ._inputs import ImageBytes, PreparedInput


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


class _BaseClient:
    """Configuration and the requests to send; no I/O."""

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
        self._retry = RetryPolicy(max_retries)
        # Requests go to the URL as given, user name and password included (a proxy in
        # front of ClawRouter may want them); everything shown uses base_url, without them.
        self._target_url = resolve_base_url(base_url)
        self.base_url = shown_url(self._target_url).rstrip("/")
        own = httpx.URL(self._target_url)
        self._own_origin = (own.scheme, own.host, own.port)
        self.timeout = as_timeout(timeout)
        self.max_cost_usd = usd_limit("max_cost_usd", max_cost_usd)
        self.budget = Budget(budget_usd, advice="Raise budget_usd, or use a new client.")
        # Guards the lazily built foreign-URL client, which threads may ask for at once.
        self._lock = threading.Lock()
        # An injected client's default headers apply to ClawRouter's own origin only (they
        # may hold credentials); bodies always come uncompressed.
        identity = {
            "User-Agent": f"{c.USER_AGENT_PRODUCT}/{package_version()}",
            "Accept-Encoding": "identity",
        }
        own_headers = httpx.Headers(injected.headers if injected else HEADERS)
        own_headers.update(identity)
        foreign_headers = httpx.Headers(HEADERS)
        foreign_headers.update(identity)
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
    def max_retries(self) -> int:
        """Retries of failures that cannot have been paid."""
        return self._retry.max_retries

    @property
    def is_closed(self) -> bool:
        """Whether ``close()`` / ``aclose()`` was called; a closed client sends nothing more."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(
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

    # -- calls ---------------------------------------------------------------------------

    def _plan(
        self,
        path: str,
        prompt: object,
        *,
        model: str | ImageModel | None,
        size: object,
        n: object,
        max_cost_usd: float | None,
        timeout: TimeoutTypes,
        extra_body: Mapping[str, object] | None,
        image: object = None,
        mask: object = None,
        budget: Budget | None = None,
        cap_advice: str | None = None,
    ) -> PricedCall:
        """A call priced with this client's defaults and budget (the public methods'), or
        with ``budget`` checked instead (the agent tools', whose hold is around the call; the
        client's own budget still holds its share as the call is sent)."""
        return plan_call(
            path,
            prompt,
            model=model,
            size=size,
            n=n,
            max_cost_usd=self.max_cost_usd if max_cost_usd is None else max_cost_usd,
            timeout=as_timeout(timeout or self.timeout),
            budget=self.budget if budget is None else budget,
            extra_body=extra_body,
            image=image,
            mask=mask,
            cap_advice=cap_advice,
        )

    def _paying(self, call: PricedCall) -> paying:
        return paying(self.budget.spending(call), self.base_url)

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

    # -- requests ------------------------------------------------------------------------

    def _is_own(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on ClawRouter's own origin (the base URL's scheme, host, port)."""
        return (url.scheme, url.host, url.port) == self._own_origin

    def _headers_for(
        self, url: httpx.URL, extra: Mapping[str, str] | None = None, *, own: bool | None = None
    ) -> httpx.Headers:
        # Requests are built here rather than by the httpx client (whose builder cannot
        # take a streamed body), so its default headers and Host are merged in by hand,
        # and only for ClawRouter's own origin: the host an LLM or a server named for an
        # image never gets the injected client's headers.
        if own is None:  # the routes are ClawRouter's by construction; any other URL is asked
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
        self, call: PricedCall, images: dict[str, list[ImageBytes] | ImageBytes]
    ) -> httpx.Request:
        url = self._route(call.path)
        extensions = {"timeout": call.timeout.as_dict()}
        if not images:
            return httpx.Request(
                "POST",
                url,
                json=call.fields,
                headers=self._headers_for(url, own=True),
                extensions=extensions,
            )
        from ._inputs import JSONBody

        body = JSONBody(call.fields, images)
        headers = self._headers_for(
            url, {"Content-Type": "application/json", "Content-Length": str(len(body))}, own=True
        )
        return httpx.Request("POST", url, headers=headers, stream=body, extensions=extensions)

    def _get_request(self, url: str | httpx.URL, timeout: httpx.Timeout) -> httpx.Request:
        url = httpx.URL(url)
        return httpx.Request(
            "GET", url, headers=self._headers_for(url), extensions={"timeout": timeout.as_dict()}
        )

    def _health_request(self, full: bool) -> httpx.Request:
        url = self._route(c.HEALTH_PATH).copy_merge_params({"full": "true"} if full else {})
        return self._get_request(url, self.timeout)

    def _attempts(
        self, request: httpx.Request, *, paid: bool, sleep: Callable[[float], object]
    ) -> Attempts:
        """The attempts of ``request``: a paid POST is retried only when it cannot have been
        paid; a free request (health) after any transport error too."""
        return self._retry.attempts(
            request,
            idempotent=not paid,
            error=lambda err: transport_error(err, self.base_url, paid=paid),
            sleep=sleep,
        )

    def _fetching(self, url: str, role: Role, cap: int) -> Fetch:
        return Fetch.plan(
            url, role, cap, base_url=self.base_url, target_url=self._target_url, clock=self._clock
        )


class paying:
    """The bracket around every paid call: the budget holds the estimate, then counts it
    unless the error says it cannot have been paid; nothing escapes untyped.

    A class, not ``@contextmanager``: it wraps every paid call of every client."""

    __slots__ = ("_base_url", "_hold")

    def __init__(self, hold: AbstractContextManager[None], base_url: str) -> None:
        self._hold, self._base_url = hold, base_url

    def __enter__(self) -> None:
        self._hold.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(err, Exception) and not isinstance(err, ClawRouterError):
            # The budget decides on the typed error, which says whether it may have been paid.
            typed = after_send_error(self._base_url, err)
            self._hold.__exit__(type(typed), typed, tb)
            raise typed from err
        self._hold.__exit__(exc_type, err, tb)


class about:
    """Errors leaving the block name ``request``, as data that pickles and shows no
    credentials; one raised about another request keeps its own.

    A class, not ``@contextmanager``: it wraps every request of every client."""

    __slots__ = ("_request",)

    def __init__(self, request: httpx.Request) -> None:
        self._request = request

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, err: BaseException | None, tb: object) -> None:
        if isinstance(err, ClawRouterError) and err.request is None:
            request = self._request
            err.request = RequestInfo(request.method, shown_url(request.url))


def total_seconds(request: httpx.Request) -> float | None:
    """A request's total deadline: its connect and read timeouts together (the POST's
    default is ClawRouter's own 300 s limit plus a margin), None without a read timeout."""
    timeout = request.extensions.get("timeout", {})
    read = timeout.get("read")
    return None if read is None else read + (timeout.get("connect") or 0.0)

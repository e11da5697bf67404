"""The retry policy: what may be sent again, and when.

Only what cannot have been paid is retried (see ``_refusals`` for what an answer that cannot
have been paid looks like): a connection that was never made, a 429 or a 503.  Each branch
of ``RetryPolicy.delay`` is one reason.

``Attempts`` runs the policy around a request, in the style of stamina: the same object
serves ``for`` (sync, sleeping with a blocking sleep) and ``async for`` (awaiting an async
one), so the two clients share one loop::

    attempts = policy.attempts(request, idempotent=False, error=..., sleep=...)
    for attempt in attempts:
        with attempt:
            attempt.outcome = send_and_read(request)
    response = attempts.response
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from . import _constants as c
from ._exceptions import ClawRouterError, InvalidRequestError, quote
from ._network import shown_url

log = logging.getLogger(c.LOGGER_NAME)

Outcome = httpx.Response | httpx.TransportError


class RetryPolicy:
    """How often, and after what, a request is sent again."""

    def __init__(self, max_retries: int) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError(
                f"max_retries must be a whole number, 0 or more, not {quote(repr(max_retries), 60)}"
            )
        self.max_retries = max_retries

    def delay(self, attempt: int, outcome: Outcome, *, idempotent: bool) -> float | None:
        """Seconds to wait before sending again after ``attempt`` (0-based), or None to stop."""
        if attempt >= self.max_retries:
            return None
        if isinstance(outcome, Exception):
            # Connection refused or connect timed out: the request never left, so it was not
            # paid.  Pool timeout: it never got a connection.  Anything later (read timeout,
            # a connection closed mid-request) may have reached the upstream and been paid;
            # only a request that cannot pay (health) may be sent again after that.
            if idempotent or isinstance(
                outcome, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
            ):
                return self.backoff(attempt)
            return None
        # 429: the upstream refused before payment; ClawRouter drops its Retry-After, so back
        # off on our own unless a server did send one.  503: nothing was processed.
        if outcome.status_code in (429, 503):
            after = retry_after(outcome.headers)
            if after is None:
                return self.backoff(attempt)
            return after if after <= c.MAX_RETRY_AFTER else None
        # Every other answer may have come after the paid request went through.
        return None

    @staticmethod
    def backoff(attempt: int) -> float:
        delay: float = min(c.INITIAL_RETRY_DELAY * 2.0**attempt, c.MAX_RETRY_DELAY)
        # Jitter keeps many clients that failed together from retrying together.
        return delay * (0.75 + random.random() / 2)  # noqa: S311

    def attempts(
        self,
        request: httpx.Request,
        *,
        idempotent: bool,
        error: Callable[[httpx.TransportError], ClawRouterError],
        sleep: Callable[[float], Any],
    ) -> Attempts:
        """The attempts of sending ``request``: iterate with ``for`` (``sleep`` blocks) or
        ``async for`` (``sleep`` is awaited).  A transport error that ends them is raised
        as ``error(err)``."""
        return Attempts(self, request, idempotent=idempotent, error=error, sleep=sleep)


class Attempt:
    """One try: the block that sends sets ``outcome``; a transport error becomes it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.outcome: Outcome | None = None

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if isinstance(exc, httpx.TransportError):
            self.outcome = exc
            return True
        return False


class Attempts:
    """``RetryPolicy.attempts``: the attempts of one request, for ``for`` and ``async for``."""

    def __init__(
        self,
        policy: RetryPolicy,
        request: httpx.Request,
        *,
        idempotent: bool,
        error: Callable[[httpx.TransportError], ClawRouterError],
        sleep: Callable[[float], Any],
    ) -> None:
        self._policy = policy
        self._request = request
        self._idempotent = idempotent
        self._error = error
        self._sleep = sleep
        self._response: httpx.Response | None = None

    @property
    def response(self) -> httpx.Response:
        """The answer that ended the attempts (a transport error was raised instead)."""
        assert self._response is not None, "iterate the attempts first"
        return self._response

    def __iter__(self) -> Iterator[Attempt]:
        number = 0
        while True:
            attempt = Attempt(number)
            yield attempt
            delay = self._after(attempt)
            if delay is None:
                return
            self._sleep(delay)
            number += 1

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        number = 0
        while True:
            attempt = Attempt(number)
            yield attempt
            delay = self._after(attempt)
            if delay is None:
                return
            slept = self._sleep(delay)
            assert isinstance(slept, Awaitable)
            await slept
            number += 1

    def _after(self, attempt: Attempt) -> float | None:
        """The wait before the next attempt, or None once ``attempt`` is the last."""
        outcome = attempt.outcome
        assert outcome is not None, "an attempt must set its outcome or raise"
        delay = self._policy.delay(attempt.number, outcome, idempotent=self._idempotent)
        if delay is None:
            if isinstance(outcome, httpx.TransportError):
                raise self._error(outcome) from outcome
            self._response = outcome
            return None
        why = repr(outcome) if isinstance(outcome, Exception) else str(outcome.status_code)
        request = self._request
        log.info(
            "retrying %s %s in %.2fs after %s", request.method, shown_url(request.url), delay, why
        )
        return delay


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), or None."""
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

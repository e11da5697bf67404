"""The fetch policy: getting an image over HTTP (a result, or an input URL), every rule applied.

A ``Fetch`` is one image fetch, decided before anything is sent: where it goes (ClawRouter's
own results from the base URL; any other URL only to a public address, see ``_network``),
whose it is (an *input* is the caller's and refused before anything is paid; a *result*
was paid for, so its errors say how to reach it another way), and the cap and deadline it
must keep.  It owns its status check, its progress check on every chunk and its errors;
the clients only send the request and stream the body.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import httpx

from . import _constants as c
from ._bodies import encoding_problem, meter
from ._deadline import remaining
from ._exceptions import (
    APIConnectionError,
    ClawRouterError,
    DownloadError,
    InputImageError,
    InvalidRequestError,
    not_running_error,
    quote,
)
from ._network import blocked, clawrouter_image_path, literal_refusal, parse_url

Role = Literal["input", "result"]
INPUT: Role = "input"
RESULT: Role = "result"


@dataclass
class Fetch:
    """One image fetch: ``url`` as given, ``target`` what is sent to (``trusted`` when it is
    ClawRouter's own), whose image it is, and its byte cap."""

    url: str
    role: Role
    cap: int
    target: str
    trusted: bool
    base_url: str
    """ClawRouter's base URL as it may be shown (for "not running")."""
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)

    @classmethod
    def plan(
        cls,
        url: str,
        role: Role,
        cap: int,
        *,
        base_url: str,
        target_url: str,
        clock: Callable[[], float],
    ) -> Fetch:
        """Where to GET ``url`` from, or refuse it.

        ClawRouter names its own images ``http://localhost:<port>/images/...``; it binds
        IPv4 loopback only, and the port in the URL may not be the one we reach it on (a
        tunnel, an emulator on port 0), so those are fetched from the base URL
        (``target_url``, credentials included).  Any other URL is foreign: checked by
        address, however it is spelt.
        """
        started = clock()

        def made(target: str, trusted: bool) -> Fetch:
            return cls(url, role, cap, target, trusted, base_url, clock, started)

        if not url.lower().startswith(("http://", "https://")):
            if role == INPUT:
                raise made(url, False).error("it is not an http(s) URL")
            raise InvalidRequestError(f"cannot download {quote(url, 80)}: not an http(s) URL")
        parsed = parse_url(url)
        if parsed is None:
            raise made(url, False).error("it is not a valid URL")
        if not parsed.host:
            raise made(url, False).error("it has no host")
        own = clawrouter_image_path(parsed)
        if own is not None:
            return made(target_url + own, True)
        reason = literal_refusal(parsed)
        if reason is not None:
            raise made(url, False).error(private_problem(reason))
        return made(url, False)

    def error(self, problem: str) -> ClawRouterError:
        """The error for an image that could not be fetched, by whose image it is."""
        shown = quote(self.url, 120)
        if self.role == INPUT:
            return InputImageError(
                f"could not fetch input image {shown}: {problem}; pass a public image URL, an "
                "earlier result's URL, or the image as a local file or data URI"
            )
        return DownloadError(
            f"could not download result image {shown}: {problem} — try again, or generate "
            "the image again"
        )

    def failure(self, err: httpx.TransportError) -> ClawRouterError:
        """An httpx error while fetching; nothing is paid here."""
        time_left = remaining()
        if isinstance(err, httpx.TimeoutException) and time_left is not None and time_left <= 0:
            return self._too_slow()
        if blocked(err):
            return self.error(private_problem(str(err.__cause__ or err)))
        # Only a URL under the base URL means ClawRouter itself is down; any other host is not it.
        if self.trusted and isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout)):
            return not_running_error(self.base_url, err)
        if self.role == RESULT and not self.trusted:
            return APIConnectionError(
                f"could not download {quote(self.url, 120)} ({err!r}): its host is unreachable "
                "or the transfer was cut off — try again, or generate the image again"
            )
        return self.error(f"its host is unreachable or the transfer broke ({err!r})")

    @contextlib.contextmanager
    def translating(self) -> Iterator[None]:
        """httpx errors of this fetch, connecting or while the body streams, in our terms."""
        try:
            yield
        except httpx.TransportError as err:
            raise self.failure(err) from err

    def check(self, response: httpx.Response) -> None:
        """The status, then the cap and deadline on every chunk.  The status check refuses
        any encoding but identity, so the bytes metered are the bytes kept."""
        status = response.status_code
        if 300 <= status < 400:
            raise self.error(f"it answered {status}, a redirect, and redirects are not followed")
        if status >= 400:
            if self.role == RESULT:
                raise DownloadError(
                    f"result image {quote(self.url, 120)} answered {status}; it may have "
                    "expired or never been stored — generate it again"
                )
            raise self.error(f"it answered {status}")
        problem = encoding_problem(response)
        if problem is not None:
            raise self.error(problem)
        meter(response, self._progress)

    def _progress(self, size: int) -> None:
        """After every chunk: the size cap and the overall deadline."""
        if size > self.cap:
            if self.role == INPUT:
                raise InputImageError(
                    f"input image {quote(self.url, 120)} is larger than "
                    f"{self.cap // (1024 * 1024)} MB; resize or compress it first"
                )
            raise DownloadError(
                f"{quote(self.url, 120)} is larger than the download cap ({self.cap:,} bytes); "
                "not downloaded"
            )
        if self.clock() - self.started > c.DOWNLOAD_DEADLINE_SECONDS:
            raise self._too_slow()

    def _too_slow(self) -> ClawRouterError:
        return self.error(f"it took longer than {c.DOWNLOAD_DEADLINE_SECONDS:g} s to arrive")

    @property
    def auth(self) -> httpx._client.UseClientDefault | None:
        """An injected client's auth goes to ClawRouter's own origin only."""
        return httpx.USE_CLIENT_DEFAULT if self.trusted else None


def private_problem(reason: str) -> str:
    return (
        f"it points into this machine or a private network ({quote(reason, 80)}), which is "
        "never fetched"
    )

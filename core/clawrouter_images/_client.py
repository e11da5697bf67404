"""ImageClient and AsyncImageClient: twins that only do I/O, over a base with no I/O.

What is decided rather than done lives below them, in modules that do no I/O: the priced
call (``_call``), the retry policy and its attempts (``_retry``), the fetch policy
(``_fetch``), reading answers (``_answers``), the save plan (``_files``).  ``_BaseClient``
(``_base``) holds the configuration and builds requests; the twins send, sleep, read and
write.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import httpx

from . import _constants as c
from ._answers import check_answer, inline_bytes, read_health, read_result, result_url
from ._base import _BaseClient, about, resolve_base_url, total_seconds
from ._bodies import release
from ._call import PricedCall, TimeoutTypes
from ._deadline import deadline
from ._exceptions import quote
from ._fetch import INPUT, RESULT, Role
from ._transport import (
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    PerLoop,
    async_foreign_client,
    async_http_client,
    sync_foreign_client,
    sync_http_client,
)

if TYPE_CHECKING:
    # Loaded with the first edit or save (see _inputs, _files and their uses below): a
    # client that only generates never needs them.
    from ._catalog import ImageModel
    from ._files import Offload
    from ._inputs import ImageBytes, ImageInputs, PreparedInput
    from ._models import Health, ImageData, ImageResponse

_F = TypeVar("_F", bound=Callable[..., object])

# The twins' public methods share one docstring each, so that they cannot drift apart.
_GENERATE_DOC = """Generate ``n`` images from ``prompt``.

        ``model``: a catalogue name or id, or an ``ImageModel`` (default google/nano-banana).
        ``size``: ``"WIDTHxHEIGHT"`` (default: the model's first size).  ``n``: 1 to the
        model's cap, each paid for.  ``max_cost_usd``: refuse this call if its estimate is
        above it (default: the client's).  ``timeout``: seconds or an ``httpx.Timeout`` for
        this call (default: the client's).  ``extra_body``: more JSON fields for the upstream
        (``quality``, ``style``, ...); it may not set the fields above.

        Raises ``InvalidRequestError`` or ``BudgetExceededError`` before anything is sent;
        after sending, a ``ClawRouterError`` whose ``may_have_been_paid`` says whether money
        may have left the wallet (such a call is never re-sent).
        """
_EDIT_DOC = """Edit one image, or combine 1-4, following ``prompt``.

        ``image`` and ``mask`` take a local path, bytes, a binary file, a data URI or an
        http(s) URL (or, for ``image``, a list of 1-4 of them); they are read and checked
        here, then sent as data URIs.  An opaque ``mask`` (white = edit, black = keep) is
        converted so that both mask conventions agree.  ``model`` defaults to
        openai/gpt-image-1; the other arguments, and what is raised, are as for
        ``generate``.  ``InputImageError`` names an input that is missing, too large or not
        an image.
        """
_SAVE_DOC = """Write every image of ``response`` into ``directory`` and return the new paths.

        Each file appears only once complete; an existing file is never replaced.  Any
        failure raises ``SaveError``, which keeps ``response`` (with its URLs) and the paths
        saved so far; no partial file is left behind.
        """
_DOWNLOAD_DOC = """The bytes of one result image (URL, localised URL, data URI or ``b64_json``).

        ClawRouter's own ``/images/`` results come from the base URL; any other URL only
        from a public address.  Raises ``DownloadError`` (a ``ResponseValidationError``) or
        ``APIConnectionError``.
        """
_HEALTH_DOC = """ClawRouter's status and wallet; ``full=True`` adds the balance (slower)."""


def _doc(text: str) -> Callable[[_F], _F]:
    def apply(function: _F) -> _F:
        function.__doc__ = text
        return function

    return apply


def _preview_client(target_url: str) -> ImageClient:
    """A client for a notebook preview's download: short timeout, no retries."""
    return ImageClient(target_url, timeout=c.PREVIEW_TIMEOUT_SECONDS, max_retries=0)


def _kept(response: ImageResponse, target_url: str) -> ImageResponse:
    """``response`` with what this process needs beside it: the notebook preview's client."""
    response._local.preview = functools.partial(_preview_client, target_url)
    return response


def _close_all(clients: list[httpx.Client]) -> None:
    for client in clients:
        client.close()


async def _async_sleep(seconds: float) -> None:
    # asyncio is imported here, not at module level: it is a visible share of importing
    # the package, and sync users never need it.
    import asyncio

    await asyncio.sleep(seconds)


class ImageClient(_BaseClient):
    """Generate and edit images through ClawRouter (blocking).

    ``base_url`` defaults to ``CLAWROUTER_BASE_URL``, else ``BLOCKRUN_PROXY_PORT`` on
    127.0.0.1, else ``http://127.0.0.1:8402``; a user name and password in it are sent but
    never shown.  ``timeout`` (seconds or ``httpx.Timeout``) defaults to 5 s to connect
    and 330 s to read, long enough for the slowest model; connect and read together are
    each call's total deadline.  ``max_retries`` applies only to failures that cannot have
    been paid.  ``max_cost_usd`` caps each call's estimate; ``budget_usd`` caps the
    client's total (see ``spent_usd``).

    Image URLs other than ClawRouter's own results are fetched only from public addresses
    (see ``_network``).  An injected ``http_client`` carries every request to ClawRouter;
    its headers, auth and cookies go to ClawRouter's own origin only, and it is left open
    on ``close()``.  Build it with ``DefaultHttpxClient(proxy=..., verify=..., ...)`` to
    keep this package's pool, deadlines and, for foreign URLs, the address rule; any other
    ``httpx.Client`` is used as is for every request, foreign URLs included, so that rule
    then covers only what a URL's text shows.
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
        guarded = http_client is None or isinstance(http_client, DefaultHttpxClient)
        self._foreign_http: httpx.Client | None = None if guarded else http_client
        self._sleep: Callable[[float], None] = time.sleep
        # The clients this one built, closed by close() or when this client is collected.
        # The finaliser holds them, not only this object: were they part of the same
        # garbage, their sockets' own finalisers could run first and warn (ResourceWarning).
        self._owned: list[httpx.Client] = [self._http] if self._owns_http else []
        self._finalizer = weakref.finalize(self, _close_all, self._owned)

    def close(self) -> None:
        """Close the connections this client opened (an injected ``http_client`` stays open)."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> ImageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @_doc(_GENERATE_DOC)
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
        call = self._plan(
            c.GENERATIONS_PATH,
            prompt,
            model=model,
            size=size,
            n=n,
            max_cost_usd=max_cost_usd,
            timeout=timeout,
            extra_body=extra_body,
        )
        return self._call(call)

    @_doc(_EDIT_DOC)
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
        call = self._plan(
            c.IMAGE2IMAGE_PATH,
            prompt,
            model=model,
            size=size,
            n=n,
            max_cost_usd=max_cost_usd,
            timeout=timeout,
            extra_body=extra_body,
            image=image,
            mask=mask,
        )
        return self._call(call, image, mask)

    def _call(self, call: PricedCall, image: object = None, mask: object = None) -> ImageResponse:
        """Send a priced call (its edit inputs read and checked first) and read its answer."""
        if not call.editing:
            return self._execute(call, {})
        items, mask_item = self._inputs(image, mask)
        images = [self._fetch_input(item) for item in items]
        checked_mask = self._fetch_input(mask_item) if mask_item is not None else None
        return self._execute(call, self._edit_fields(image, images, checked_mask))

    @_doc(_HEALTH_DOC)
    def health(self, full: bool = False) -> Health:
        request = self._health_request(full)
        with about(request):
            response = self._send(request, cap=c.MAX_HEALTH_BYTES, paid=False)
            return read_health(response, base_url=self.base_url)

    @_doc(_DOWNLOAD_DOC)
    def download(self, image: ImageData | str) -> bytes:
        inline = inline_bytes(image)
        if inline is not None:
            return inline
        return self._fetch(result_url(image), RESULT, c.MAX_DOWNLOAD_BYTES)

    @_doc(_SAVE_DOC)
    def save(self, response: ImageResponse, directory: str | os.PathLike[str]) -> list[Path]:
        from ._files import save_plan, saving

        paths: list[Path] = []
        with (
            saving(response, paths),
            contextlib.closing(save_plan(response, directory, paths)) as files,
        ):
            for out, url in files:
                if url is not None:
                    with self._open(url, RESULT, c.MAX_DOWNLOAD_BYTES) as chunks:
                        for chunk in chunks:
                            out.write(chunk)
        return paths

    # -- I/O ------------------------------------------------------------------------------

    def _execute(
        self, call: PricedCall, images: dict[str, list[ImageBytes] | ImageBytes]
    ) -> ImageResponse:
        request = self._request(call, images)
        with about(request), self._paying(call):
            response = self._send(request, cap=call.answer_cap, paid=True)
            return _kept(read_result(call, response, base_url=self.base_url), self._target_url)

    def _send(self, request: httpx.Request, *, cap: int, paid: bool) -> httpx.Response:
        self._check_open()
        attempts = self._attempts(request, paid=paid, sleep=self._sleep)
        for attempt in attempts:
            with attempt, deadline(total_seconds(request), self._call_clock):
                response = self._http.send(request, stream=True, follow_redirects=False)
                try:
                    check_answer(response, cap, base_url=self.base_url, paid=paid)
                    response.read()
                finally:
                    response.close()
                    release(response)
                attempt.outcome = response
        return attempts.response

    def _foreign(self) -> httpx.Client:
        if self._foreign_http is None:
            with self._lock:
                if self._foreign_http is None:
                    self._foreign_http = (
                        self._http._for_foreign_urls()
                        if isinstance(self._http, DefaultHttpxClient)
                        else sync_foreign_client(self.timeout)
                    )
                    self._owned.append(self._foreign_http)
        return self._foreign_http

    @contextlib.contextmanager
    def _open(self, url: str, role: Role, cap: int) -> Iterator[Iterator[bytes]]:
        """GET an image (a result or an input URL) as raw chunks, every rule applied."""
        self._check_open()
        fetch = self._fetching(url, role, cap)
        http = self._http if fetch.trusted else self._foreign()
        request = self._get_request(fetch.target, c.DOWNLOAD_TIMEOUT)
        with (
            about(request),
            deadline(c.DOWNLOAD_DEADLINE_SECONDS, self._call_clock),
            fetch.translating(),
        ):
            response = http.send(request, stream=True, follow_redirects=False, auth=fetch.auth)
            try:
                fetch.check(response)
                yield response.iter_bytes(c.DOWNLOAD_CHUNK_BYTES)
            finally:
                response.close()
                release(response)

    def _fetch(self, url: str, role: Role, cap: int) -> bytes:
        body = bytearray()
        with self._open(url, role, cap) as chunks:
            for chunk in chunks:
                body += chunk
        return bytes(body)

    def _fetch_input(self, item: PreparedInput) -> ImageBytes:
        from ._inputs import ImageBytes, check_image_bytes

        if isinstance(item, ImageBytes):
            return item
        data = self._fetch(item.url, INPUT, c.MAX_INPUT_IMAGE_BYTES)
        return check_image_bytes(data, quote(item.url, 120))


class AsyncImageClient(_BaseClient):
    """Generate and edit images through ClawRouter (asyncio or trio).  Same arguments as
    ``ImageClient``.

    Works from whichever event loop awaits it, one after another or at once from several
    threads' loops: each loop gets its own connections, closed when that loop shuts down
    (``asyncio.run``, ``asyncio.Runner`` and pytest-asyncio all do that).  The budget and
    ``spent_usd`` are one per client across loops.  An injected ``http_client`` is bound
    to the loop it was first used in; built with ``DefaultAsyncHttpxClient``, it keeps
    this package's pool, deadlines and address rule as ``ImageClient``'s does.
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
        # An injected client that is not a DefaultAsyncHttpxClient carries foreign URLs too.
        self._foreign_by_injected = http_client is not None and not isinstance(
            http_client, DefaultAsyncHttpxClient
        )
        self._foreign_per_loop = PerLoop(
            http_client._for_foreign_urls
            if isinstance(http_client, DefaultAsyncHttpxClient)
            else lambda: async_foreign_client(timeout_)
        )
        self._sleep: Callable[[float], Awaitable[None]] = _async_sleep

    async def aclose(self) -> None:
        """Close this loop's connections (other loops' close as those loops shut down); an
        injected ``http_client`` stays open."""
        self._closed = True
        if self._http is None:
            await self._per_loop.aclose()
        await self._foreign_per_loop.aclose()

    async def __aenter__(self) -> AsyncImageClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @_doc(_GENERATE_DOC)
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
        call = self._plan(
            c.GENERATIONS_PATH,
            prompt,
            model=model,
            size=size,
            n=n,
            max_cost_usd=max_cost_usd,
            timeout=timeout,
            extra_body=extra_body,
        )
        return await self._call(call)

    @_doc(_EDIT_DOC)
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
        call = self._plan(
            c.IMAGE2IMAGE_PATH,
            prompt,
            model=model,
            size=size,
            n=n,
            max_cost_usd=max_cost_usd,
            timeout=timeout,
            extra_body=extra_body,
            image=image,
            mask=mask,
        )
        return await self._call(call, image, mask)

    async def _call(
        self, call: PricedCall, image: object = None, mask: object = None
    ) -> ImageResponse:
        """Send a priced call (its edit inputs read and checked first) and read its answer."""
        if not call.editing:
            return await self._execute(call, {})
        items, mask_item = self._inputs(image, mask)
        images = [await self._fetch_input(item) for item in items]
        checked_mask = await self._fetch_input(mask_item) if mask_item is not None else None
        # Converting a large opaque mask is long CPU work: a worker thread (asyncio or
        # trio alike) does it while the event loop keeps serving.
        from anyio import to_thread

        fields = await to_thread.run_sync(self._edit_fields, image, images, checked_mask)
        return await self._execute(call, fields)

    @_doc(_HEALTH_DOC)
    async def health(self, full: bool = False) -> Health:
        request = self._health_request(full)
        with about(request):
            response = await self._send(request, cap=c.MAX_HEALTH_BYTES, paid=False)
            return read_health(response, base_url=self.base_url)

    @_doc(_DOWNLOAD_DOC)
    async def download(self, image: ImageData | str) -> bytes:
        inline = inline_bytes(image)
        if inline is not None:
            return inline
        return await self._fetch(result_url(image), RESULT, c.MAX_DOWNLOAD_BYTES)

    @_doc(_SAVE_DOC)
    async def save(self, response: ImageResponse, directory: str | os.PathLike[str]) -> list[Path]:
        return await self._save(response, directory)

    async def _save(
        self,
        response: ImageResponse,
        directory: str | os.PathLike[str],
        *,
        proven: bool = False,
        offload: Offload | None = None,
    ) -> list[Path]:
        """``save``; ``proven``: the batch proved ``directory`` already (see ``save_plan``);
        ``offload``: what runs the disk steps off the loop (a batch's ``DiskWorker``),
        else a worker thread per step (``off_loop``)."""
        from ._files import off_loop, save_plan, saving

        run_off: Offload = offload or off_loop

        paths: list[Path] = []
        with (
            saving(response, paths),
            contextlib.closing(save_plan(response, directory, paths, proven=proven)) as files,
        ):
            # Disk work goes off the loop (run_off): proving the folder, and each later step
            # (committing an image: open, write, fsync, link).  The first step in a proven
            # folder touches no disk (files open when committed or grown).
            step = next(files, None) if proven else await run_off(lambda: next(files, None))
            while step is not None:
                out, url = step
                if url is not None:
                    async with self._open(url, RESULT, c.MAX_DOWNLOAD_BYTES) as chunks:
                        async for chunk in chunks:
                            if out.spills(len(chunk)):
                                await run_off(functools.partial(out.write, chunk))
                            else:
                                out.write(chunk)
                step = await run_off(lambda: next(files, None))
        return paths

    # -- I/O ------------------------------------------------------------------------------

    async def _clawrouter(self) -> httpx.AsyncClient:
        self._check_open()
        return self._http or await self._per_loop.get()

    async def _foreign(self) -> httpx.AsyncClient:
        self._check_open()
        if self._foreign_by_injected:
            assert self._http is not None
            return self._http
        return await self._foreign_per_loop.get()

    async def _execute(
        self, call: PricedCall, images: dict[str, list[ImageBytes] | ImageBytes]
    ) -> ImageResponse:
        request = self._request(call, images)
        with about(request), self._paying(call):
            response = await self._send(request, cap=call.answer_cap, paid=True)
            return _kept(read_result(call, response, base_url=self.base_url), self._target_url)

    async def _send(self, request: httpx.Request, *, cap: int, paid: bool) -> httpx.Response:
        http = await self._clawrouter()
        attempts = self._attempts(request, paid=paid, sleep=self._sleep)
        async for attempt in attempts:
            with attempt, deadline(total_seconds(request), self._call_clock):
                response = await http.send(request, stream=True, follow_redirects=False)
                try:
                    check_answer(response, cap, base_url=self.base_url, paid=paid)
                    await response.aread()
                finally:
                    await response.aclose()
                    release(response)
                attempt.outcome = response
        return attempts.response

    @contextlib.asynccontextmanager
    async def _open(self, url: str, role: Role, cap: int) -> AsyncIterator[AsyncIterator[bytes]]:
        """GET an image (a result or an input URL) as raw chunks, every rule applied."""
        fetch = self._fetching(url, role, cap)
        http = await (self._clawrouter() if fetch.trusted else self._foreign())
        request = self._get_request(fetch.target, c.DOWNLOAD_TIMEOUT)
        with (
            about(request),
            deadline(c.DOWNLOAD_DEADLINE_SECONDS, self._call_clock),
            fetch.translating(),
        ):
            response = await http.send(
                request, stream=True, follow_redirects=False, auth=fetch.auth
            )
            try:
                fetch.check(response)
                yield response.aiter_bytes(c.DOWNLOAD_CHUNK_BYTES)
            finally:
                await response.aclose()
                release(response)

    async def _fetch(self, url: str, role: Role, cap: int) -> bytes:
        body = bytearray()
        async with self._open(url, role, cap) as chunks:
            async for chunk in chunks:
                body += chunk
        return bytes(body)

    async def _fetch_input(self, item: PreparedInput) -> ImageBytes:
        from ._inputs import ImageBytes, check_image_bytes

        if isinstance(item, ImageBytes):
            return item
        data = await self._fetch(item.url, INPUT, c.MAX_INPUT_IMAGE_BYTES)
        return check_image_bytes(data, quote(item.url, 120))


__all__ = ["AsyncImageClient", "ImageClient", "resolve_base_url"]

"""``Emulator``: an ASGI application that answers like ClawRouter on its image routes.

Routes are matched like ClawRouter matches them, by exact comparison of the raw request
target (``req.url``), in its order:

- ``/health`` or ``/health?...`` (any method): ``{"status":"ok","wallet","paymentChain"}``,
  plus ``balance`` (``"$X.XX"``), ``isLow`` and ``isEmpty`` with ``full=true``
  (``balanceError`` when the emulator has no balance).
- ``GET /v1/models``: a short chat-model list (the real one has 252 chat ids and no image
  models).
- ``GET /images/<file>``: the image directory (``_storage``).
- ``POST /v1/images/generations``: the body goes to the upstream untouched.
- ``POST /v1/images/image2image``: the body is parsed (a parse error is ``400 Invalid
  request`` with V8's message), string ``image``/``mask`` values become data URIs
  (``_resolve``; failures are ``400 Invalid request``), a falsy ``model`` becomes
  ``openai/gpt-image-1``, then it goes to the upstream.
- Any other path starting with ``/v1`` (other methods, a query string, a trailing slash,
  ``/v1/images/edits``) falls through to the chat router, which answers
  ``502 All models in fallback chain failed`` as plain text labelled application/json.
- Anything else: ``404 {"error":"Not found"}`` (``HEAD`` without a body).

Unlike ClawRouter, the emulator caps what a request can make it hold: a body over
``max_body_bytes`` is answered ``413 {"error":"Request body too large","details":...}``
(any route, unpaid) without reading the rest, and image2image reads only regular files
and downloads of at most the client's input cap (``_resolve``).

The upstream part (model checks, pictures, faults) is in ``_upstream``.  Every request is
recorded in the ledger before its answer is sent.  A request still unanswered after
``idle_timeout`` seconds gets no answer at all: the connection closes, as ClawRouter's
300 s socket timeout does.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx
from starlette.types import Receive, Scope, Send

from .._catalog import MODELS, ImageModel
from .._constants import (
    DEFAULT_EDIT_MODEL,
    DEFAULT_GENERATE_MODEL,
    DEFAULT_HOST,
    DEFAULT_PORT,
    GENERATIONS_PATH,
    HEALTH_PATH,
    IMAGE2IMAGE_PATH,
    IMAGES_PATH_PREFIX,
)
from ._drop import bind_transport, unbind_transport
from ._faults import Fault, FaultBook, FaultKind
from ._inprocess import SyncASGITransport, async_transport
from ._jsparse import JSParseError, js_falsy, js_json_parse
from ._ledger import Ledger, LedgerEntry, Trace, access_line, estimate_usd, shorten_data_uris
from ._resolve import DownloadTooLarge, Fetched, FetchFailed, ResolveError, resolve_value
from ._storage import ImageStore
from ._upstream import upstream_answer
from ._wire import (
    MAX_BODY_BYTES,
    Answer,
    BodyTooLarge,
    Drop,
    DropMidBody,
    Reply,
    Request,
    deliver,
    error_reply,
    json_reply,
    read_body,
    read_head,
)

logger = logging.getLogger("clawrouter_images.emulator")

PaymentChain = Literal["base", "solana"]

DEFAULT_WALLET = "0xC1a0E30000000000000000000000000000008402"
"""A made-up wallet address: the emulator never signs anything."""
DEFAULT_UPSTREAM_HOST = "blockrun.emulator.invalid"
"""Host of the emulator's fake upstream file server (``.invalid`` never resolves)."""

_FALLTHROUGH_TEXT = b"All models in fallback chain failed"
_CONTEXT_LIMIT_KB = 5120
_CHAT_MODELS = ("auto", "eco", "premium")
_LOW_BALANCE_USD = 1.0
_EMPTY_BALANCE_USD = 0.0001


def _parse_url(url: str) -> httpx.URL:
    """``url`` parsed, or ``FetchFailed`` where WHATWG parsing (Node's fetch) refuses it."""
    try:
        split = urlsplit(url)
        split.port  # noqa: B018 - raises ValueError when out of range
        if any(char.isspace() for char in split.netloc):
            raise ValueError(url)
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as err:
        raise FetchFailed(f"Failed to parse URL from {url}") from err


def _js_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


class Emulator:
    """ClawRouter's image API, offline: pictures from the prompt, scriptable faults, a ledger.

    ``image_dir``: where localised results are kept (default: a temporary directory
    removed by ``close()`` or garbage collection).  ``port``: the port written into result
    URLs (``serve()`` replaces it with the real one).  ``idle_timeout``: seconds after
    which an unanswered request is dropped without a response (ClawRouter: 300).
    ``cwd`` and ``home``: where image2image reads relative and ``~/`` paths (default: the
    process's).  ``wallet``, ``payment_chain``, ``balance_usd``: what ``/health`` reports
    (``balance_usd=None`` reports ``balanceError``; the balance goes down by what the
    ledger says was paid).  ``upstream_host``: the host name of ``remote_url`` results.
    ``max_body_bytes``: a longer request body is answered ``413`` as soon as its
    ``Content-Length`` or its count of bytes received passes this, without reading the
    rest (default: what a 4-image edit at the client's ``MAX_INPUT_IMAGE_BYTES`` needs,
    about 267 MiB).  ``models``: image models the upstream serves beyond the catalogue, as a
    deployer describes them (``ImageModel``), priced in the ledger as given.
    """

    def __init__(
        self,
        *,
        image_dir: str | os.PathLike[str] | None = None,
        port: int = DEFAULT_PORT,
        idle_timeout: float = 300.0,
        cwd: str | os.PathLike[str] | None = None,
        home: str | os.PathLike[str] | None = None,
        wallet: str = DEFAULT_WALLET,
        payment_chain: PaymentChain = "base",
        balance_usd: float | None = 5.0,
        upstream_host: str = DEFAULT_UPSTREAM_HOST,
        max_body_bytes: int = MAX_BODY_BYTES,
        models: Sequence[ImageModel] = (),
    ) -> None:
        if idle_timeout <= 0:
            raise ValueError("idle_timeout must be > 0")
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must be >= 0")
        if image_dir is None:
            image_dir = tempfile.mkdtemp(prefix="clawrouter-emulator-")
            self._cleanup: weakref.finalize[Any, Any] | None = weakref.finalize(
                self, shutil.rmtree, image_dir, ignore_errors=True
            )
        else:
            self._cleanup = None
        self.port = port
        self.idle_timeout = idle_timeout
        self.models: Mapping[str, ImageModel] = {**MODELS, **{m.id: m for m in models}}
        self.cwd = Path(cwd) if cwd is not None else None
        self.home = Path(home) if home is not None else None
        self.wallet = wallet
        self.payment_chain: PaymentChain = payment_chain
        self.balance_usd = balance_usd
        self.upstream_host = upstream_host.lower()
        self.max_body_bytes = max_body_bytes
        self._store = ImageStore(Path(image_dir))
        self._faults = FaultBook()
        self._ledger = Ledger()
        self._job_ids = itertools.count(1)
        self._job_lock = threading.Lock()

    # -- configuration and state -------------------------------------------------------

    @property
    def app(self) -> Emulator:
        """The ASGI application (the emulator itself)."""
        return self

    @property
    def image_dir(self) -> Path:
        return self._store.directory

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: where a client reaches the emulator."""
        return f"http://{DEFAULT_HOST}:{self.port}"

    @property
    def ledger(self) -> list[LedgerEntry]:
        """Every request received so far, oldest first (a copy)."""
        return self._ledger.entries()

    @property
    def spent_usd(self) -> float:
        """Estimated USD of the requests the real flow would have paid for."""
        return self._ledger.spent_usd()

    def add_fault(
        self,
        fault: Fault | FaultKind,
        *,
        model: str | None = None,
        path: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` matching requests (``None``: all of them) misbehave.

        ``model`` (as the body names it; on image2image after the default is injected) and
        ``path`` (``/v1/images/generations`` or ``/v1/images/image2image``) narrow which
        requests match; faults are used in the order they were added.  A fault applies
        only to requests that reach the upstream: not to ones ClawRouter refuses itself.
        """
        self._faults.add(
            fault if isinstance(fault, Fault) else Fault(fault), model=model, path=path, times=times
        )

    @property
    def pending_faults(self) -> list[Fault]:
        return self._faults.pending()

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        """Forget the ledger and every pending fault (the images stay)."""
        self._ledger.clear()
        self._faults.clear()

    def close(self) -> None:
        """Remove the image directory if the emulator created it."""
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _next_job_id(self) -> str:
        with self._job_lock:
            return f"imgjob_{next(self._job_ids):04d}"

    # -- in-process clients ------------------------------------------------------------

    def async_transport(self) -> httpx.ASGITransport:
        """An httpx transport that calls the emulator in-process."""
        return async_transport(self)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on the emulator, with ``base_url`` set."""
        kwargs.setdefault("base_url", self.base_url)
        return httpx.AsyncClient(transport=self.async_transport(), **kwargs)

    def sync_client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` on the emulator (in-process), with ``base_url`` set."""
        kwargs.setdefault("base_url", self.base_url)
        return httpx.Client(transport=SyncASGITransport(self), **kwargs)

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = read_head(scope)
        trace = Trace()
        arrived = time.time()
        answer: Answer
        try:
            request = await read_body(request, receive, self.max_body_bytes)
        except BodyTooLarge as err:
            # 413, a status ClawRouter never sends, rather than its 400 wrapper: nothing
            # was forwarded, but the real ClawRouter would have forwarded this body and
            # maybe paid for it, so the client must not learn "400 = refused unpaid" here.
            # Its default for a status it does not know (may have been paid, not retried)
            # is the true one for the real server.
            answer = error_reply(413, "Request body too large", f"{err}; nothing was forwarded")
        else:
            answer = await self._answer_in_time(request, trace)
        status: int | None = None
        if isinstance(answer, Reply):
            status = answer.status
        elif isinstance(answer, DropMidBody):
            status = answer.reply.status
        entry = LedgerEntry(
            method=request.method,
            path=request.target,
            body=trace.body,
            model=trace.model,
            size=trace.size,
            n=trace.n,
            status=status,
            paid=trace.paid,
            estimated_cost_usd=trace.estimated_cost_usd,
            fault=trace.fault,
            received_at=arrived,
        )
        self._ledger.record(entry)
        if logger.isEnabledFor(logging.INFO):
            logger.info("%s", access_line(entry))
        await deliver(answer, send, receive)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer_in_time(self, request: Request, trace: Trace) -> Answer:
        with anyio.move_on_after(self.idle_timeout):
            return await self._route(request, trace)
        logger.info(
            "%s %s silent for %g s: closing the connection without a response",
            request.method,
            request.target,
            self.idle_timeout,
        )
        return Drop()

    async def _route(self, request: Request, trace: Trace) -> Answer:
        target: str = request.target
        method: str = request.method
        if request.host == self.upstream_host:
            if method == "GET":
                return self._store.get_upstream(target)
            return error_reply(404, "Not found")
        if target == HEALTH_PATH or target.startswith(HEALTH_PATH + "?"):
            return self._health(target)
        if target == "/v1/models" and method == "GET":
            return self._models()
        if target.startswith(IMAGES_PATH_PREFIX) and method == "GET":
            return self._store.get(target)
        if target == GENERATIONS_PATH and method == "POST":
            return await self._generations(request.body, trace)
        if target == IMAGE2IMAGE_PATH and method == "POST":
            return await self._image2image(request.body, trace)
        if target.startswith("/v1"):
            used_kb = math.ceil(len(request.body) / 1024)
            headers = (
                ("x-context-used-kb", str(used_kb)),
                ("x-context-limit-kb", str(_CONTEXT_LIMIT_KB)),
            )
            return Reply(502, _FALLTHROUGH_TEXT, headers=headers)
        if method == "HEAD":
            return Reply(404)
        return error_reply(404, "Not found")

    # -- local routes ----------------------------------------------------------------------

    def _health(self, target: str) -> Reply:
        params: dict[str, str] = {}
        for key, value in parse_qsl(target.partition("?")[2], keep_blank_values=True):
            params.setdefault(key, value)  # URLSearchParams.get: the first one
        payload: dict[str, object] = {
            "status": "ok",
            "wallet": self.wallet,
            "paymentChain": self.payment_chain,
        }
        if params.get("full") == "true":
            if self.balance_usd is None:
                payload["balanceError"] = "Could not fetch balance"
            else:
                balance = max(0.0, self.balance_usd - self.spent_usd)
                payload["balance"] = f"${balance:.2f}"
                payload["isLow"] = balance < _LOW_BALANCE_USD
                payload["isEmpty"] = balance < _EMPTY_BALANCE_USD
        return json_reply(200, payload)

    def _models(self) -> Reply:
        created = int(time.time())
        data = [
            {"id": m, "object": "model", "created": created, "owned_by": "blockrun"}
            for m in _CHAT_MODELS
        ]
        return json_reply(200, {"object": "list", "data": data})

    # -- image routes ----------------------------------------------------------------------

    def _note(self, trace: Trace, payload: object, default_model: str) -> None:
        """Record model, size, n and the estimate, whatever the upstream will think of them."""
        if isinstance(payload, dict):
            model, size, n = payload.get("model"), payload.get("size"), payload.get("n", 1)
            trace.model = model if isinstance(model, str) and model else None
            trace.size = size if isinstance(size, str) else None
            trace.n = n if isinstance(n, int) and not isinstance(n, bool) else None
        trace.estimated_cost_usd = estimate_usd(
            trace.model or default_model, trace.size, trace.n, self.models
        )

    async def _generations(self, body: bytes, trace: Trace) -> Answer:
        # ClawRouter parses the body only for its usage log and forwards it byte for byte.
        text = body.decode("utf-8", errors="replace")
        try:
            payload = js_json_parse(text)
        except JSParseError:
            trace.body = text or None
            self._note(trace, None, DEFAULT_GENERATE_MODEL)
            return await upstream_answer(
                self, "generations", GENERATIONS_PATH, None, valid_json=False, trace=trace
            )
        trace.body = shorten_data_uris(payload)
        self._note(trace, payload, DEFAULT_GENERATE_MODEL)
        return await upstream_answer(
            self, "generations", GENERATIONS_PATH, payload, valid_json=True, trace=trace
        )

    async def _image2image(self, body: bytes, trace: Trace) -> Answer:
        text = body.decode("utf-8", errors="replace")
        try:
            payload = js_json_parse(text)
        except JSParseError as err:
            trace.body = text or None
            return error_reply(400, "Invalid request", str(err))
        trace.body = shorten_data_uris(payload)
        if payload is None:
            return error_reply(
                400, "Invalid request", "Cannot read properties of null (reading 'image')"
            )
        if isinstance(payload, (str, int, float, bool)):
            shown = str(payload).lower() if isinstance(payload, bool) else str(payload)
            details = f"Cannot create property 'model' on {_js_type(payload)} '{shown}'"
            return error_reply(400, "Invalid request", details)
        if isinstance(payload, dict):
            for field in ("image", "mask"):
                value = payload.get(field)
                if isinstance(value, str) and value:
                    try:
                        payload[field] = await resolve_value(
                            field, value, home=self._home(), cwd=self._cwd(), fetch=self._fetch
                        )
                    except ResolveError as err:
                        self._note(trace, payload, DEFAULT_EDIT_MODEL)
                        return error_reply(400, "Invalid request", str(err))
            if js_falsy(payload.get("model")):
                payload["model"] = DEFAULT_EDIT_MODEL
        self._note(trace, payload, DEFAULT_EDIT_MODEL)
        return await upstream_answer(
            self, "image2image", IMAGE2IMAGE_PATH, payload, valid_json=True, trace=trace
        )

    def _home(self) -> Path:
        return self.home if self.home is not None else Path.home()

    def _cwd(self) -> Path:
        return self.cwd if self.cwd is not None else Path.cwd()

    async def _internal_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A request the emulator makes to itself must never close the outer connection.
        token = bind_transport(None)
        try:
            await self(scope, receive, send)
        finally:
            unbind_transport(token)

    async def _fetch(self, url: str, max_bytes: int) -> Fetched:
        """GET ``url`` like Node's ``fetch``; the emulator's own URLs are answered in-process.

        Unlike ClawRouter's, the download is capped: the body is counted decoded as it
        arrives and abandoned past ``max_bytes``; a non-2xx body is not read at all.
        """
        parsed = _parse_url(url)
        own = (
            parsed.scheme == "http"
            and parsed.host in ("localhost", "127.0.0.1")
            and (parsed.port or 80) == self.port
        )
        transport = (
            httpx.ASGITransport(app=self._internal_app)
            if own or parsed.host == self.upstream_host
            else None
        )
        async with httpx.AsyncClient(
            transport=transport, follow_redirects=True, timeout=self.idle_timeout
        ) as client:
            try:
                async with client.stream("GET", url) as response:
                    content_type = response.headers.get("content-type")
                    if not response.is_success:
                        return Fetched(response.status_code, content_type, b"")
                    chunks: list[bytes] = []
                    total = 0
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                        if total > max_bytes:
                            raise DownloadTooLarge(url)
                        chunks.append(chunk)
            except httpx.HTTPError as err:
                raise FetchFailed("fetch failed") from err
        return Fetched(response.status_code, content_type, b"".join(chunks))

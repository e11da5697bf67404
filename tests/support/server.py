"""One fake ClawRouter for every test folder, on ``httpx.MockTransport`` or a loopback port.

Unscripted, it answers like ClawRouter: a POST to an image route makes ``n`` PNGs, answered
as ``data[].url`` on ``http://localhost:8402/images/`` (or inline, with ``inline``) and
served at ``/images/<name>``; anything else is a 404.  ``on`` scripts a route; ``otherwise``
answers every unscripted request; ``strict`` fails the test on one.  Every request is
recorded.  ``Loopback`` serves the same fake on a real port.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from clawrouter_images import AsyncImageClient, ImageClient

from .png import png_bytes

BASE_URL = "http://127.0.0.1:8402"
# ClawRouter names its images after the port it listens on, on "localhost".
IMAGE_URL_PREFIX = "http://localhost:8402/images/"
IMAGE_ROUTES = ("/v1/images/generations", "/v1/images/image2image")
CREATED = 1795503044

Answer = Callable[[httpx.Request], httpx.Response]
Headers = Mapping[str, str] | Sequence[tuple[str, str]]
Outcome = Answer | Exception


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """``head`` once and then ``chunk`` ``repeat`` times, so a huge body is never held whole;
    with ``breaks``, the connection is lost after it instead of the body ending."""

    def __init__(self, head: bytes, chunk: bytes = b"", repeat: int = 0, breaks: bool = False):
        self._head, self._chunk, self._repeat, self._breaks = head, chunk, repeat, breaks

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        for _ in range(self._repeat):
            yield self._chunk
        if self._breaks:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self:
            yield part


class FakeClawRouter:
    """ClawRouter, and any other host the client reaches, answering from a script.

    ``on(method, target, *outcomes)`` answers requests whose whole URL, path with query, or
    path equals ``target`` with the outcomes in order, repeating the last one.  An outcome
    is an answer built by ``json``/``text``/``content``/``broken``/``images``/``replay`` or
    an exception to raise.
    """

    base_url = BASE_URL

    def __init__(self, *, strict: bool = False, otherwise: Outcome | None = None) -> None:
        self.strict = strict
        self.otherwise = otherwise
        """The outcome of every unscripted request, instead of ClawRouter's answers."""
        self.inline = False
        """Answer ``b64_json`` instead of URLs, as some upstreams do."""
        self.requests: list[httpx.Request] = []
        self.served: dict[str, bytes] = {}
        """Images at ``/images/<name>``: the ones it made and the ones given to ``serve``."""
        self._routes: dict[tuple[str, str], list[Outcome]] = {}
        self._failure: tuple[int, object] | None = None
        self._failures_left: int | None = None
        self._counter = itertools.count(1)

    # -- the script ------------------------------------------------------------------------

    def on(self, method: str, target: str, *outcomes: Outcome) -> FakeClawRouter:
        assert outcomes, "script at least one outcome"
        self._routes[(method, target)] = list(outcomes)
        return self

    def fail(self, status: int, body: object, *, times: int | None = None) -> None:
        """Answer the next ``times`` image POSTs (all of them by default) with an error."""
        self._failure, self._failures_left = (status, body), times

    def serve(self, name: str, data: bytes | None = None) -> str:
        """Serve an image at ``/images/<name>``, like an earlier result; return its URL."""
        self.served[name] = png_bytes() if data is None else data
        return IMAGE_URL_PREFIX + name

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, **options: Any) -> ImageClient:
        """An ``ImageClient`` on this fake that does not retry (``options`` go to it)."""
        options.setdefault("max_retries", 0)
        return ImageClient(
            self.base_url, http_client=httpx.Client(transport=self.transport()), **options
        )

    def async_client(self, **options: Any) -> AsyncImageClient:
        """An ``AsyncImageClient`` on this fake that does not retry (``options`` go to it)."""
        options.setdefault("max_retries", 0)
        http = httpx.AsyncClient(transport=self.transport())
        return AsyncImageClient(self.base_url, http_client=http, **options)

    # -- what was received -----------------------------------------------------------------

    def sent(self, method: str | None = "POST", path: str | None = None) -> list[httpx.Request]:
        return [
            r for r in self.requests if method in (None, r.method) and path in (None, r.url.path)
        ]

    @property
    def posts(self) -> list[httpx.Request]:
        return self.sent("POST")

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON body of each POST."""
        parsed = [json.loads(post.content) for post in self.posts]
        assert all(isinstance(body, dict) for body in parsed)
        return parsed

    def body(self, index: int = -1) -> dict[str, Any]:
        """The JSON body of the ``index``-th POST."""
        return self.bodies()[index]

    def sent_image(self, index: int = -1, key: str = "image") -> bytes:
        """The bytes of the data URI the ``index``-th POST sent in ``key``."""
        uri = self.body(index)[key]
        assert isinstance(uri, str), f"{key} is not a single data URI: {uri!r}"
        head, _, encoded = uri.partition(",")
        assert head.startswith("data:image/"), head
        assert head.endswith(";base64"), head
        return base64.b64decode(encoded)

    def seen(self) -> list[tuple[str, str, object]]:
        """Method, path and JSON body (None without one) of each request: comparable across fakes."""
        return [
            (r.method, r.url.path, json.loads(r.content) if r.content else None)
            for r in self.requests
        ]

    def image(self, url: str) -> bytes:
        """The bytes served at a result URL."""
        return self.served[url.removeprefix(IMAGE_URL_PREFIX)]

    @staticmethod
    def data_uri(data: bytes, mime: str = "image/png") -> str:
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    # -- answering -------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode("ascii")
        for target in (str(request.url), path, request.url.path):
            outcomes = self._routes.get((request.method, target))
            if outcomes is not None:
                break
        else:
            if self.strict:
                raise AssertionError(f"unexpected request {request.method} {request.url}")
            if self.otherwise is None:
                return self._as_clawrouter(request)
            outcomes = [self.otherwise]
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            if isinstance(outcome, httpx.RequestError):
                outcome.request = request
            raise outcome
        return outcome(request)

    def _as_clawrouter(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path in IMAGE_ROUTES:
            if self._failure is not None and self._failures_left != 0:
                if self._failures_left is not None:
                    self._failures_left -= 1
                status, error = self._failure
                return httpx.Response(status, json=error)
            count = json.loads(request.content).get("n", 1)
            data = []
            for number in itertools.islice(self._counter, count):
                url = self.serve(f"{number}.png", png_bytes(seed=number))
                if self.inline:
                    data.append({"b64_json": base64.b64encode(self.image(url)).decode()})
                else:
                    data.append({"url": url})
            return httpx.Response(200, json={"created": CREATED, "data": data})
        name = path.removeprefix("/images/")
        if request.method == "GET" and path.startswith("/images/") and name in self.served:
            return httpx.Response(
                200, content=self.served[name], headers={"content-type": "image/png"}
            )
        return httpx.Response(404, json={"error": "Not found"})

    # -- answers ---------------------------------------------------------------------------

    @staticmethod
    def content(
        body: bytes, status: int = 200, headers: Headers | None = None, repeat: int = 1
    ) -> Answer:
        """``body`` sent ``repeat`` times; streamed, so its encoding is decoded by the client.

        ``headers`` may be pairs, so that a header can be sent twice.
        """

        def answer(request: httpx.Request) -> httpx.Response:
            sent = httpx.Headers(headers)
            sent.setdefault("content-length", str(len(body) * repeat))
            return httpx.Response(status, headers=sent, stream=Body(b"", body, repeat))

        return answer

    @staticmethod
    def json(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
        return FakeClawRouter.content(
            json.dumps(body).encode(),
            status,
            {"content-type": "application/json", **(headers or {})},
        )

    @staticmethod
    def text(body: str, status: int = 200, headers: Headers | None = None) -> Answer:
        return FakeClawRouter.content(body.encode(), status, headers)

    @staticmethod
    def broken(head: bytes) -> Answer:
        """A 200 whose body sends ``head`` and then loses the connection."""

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, stream=Body(head, breaks=True))

        return answer

    @staticmethod
    def images(*urls: str, **extra: object) -> Answer:
        """A successful generation answer holding ``urls`` (and any ``extra`` fields)."""
        return FakeClawRouter.json(
            {"created": CREATED, "data": [{"url": u} for u in urls], **extra}
        )

    @staticmethod
    def replay(record: dict[str, Any]) -> Outcome:
        """The recorded response of a transcript, as an outcome."""
        response = record["response"]
        if response["status"] is None:
            # The connection closed with no HTTP response; this is what httpx raises then.
            return httpx.RemoteProtocolError("Server disconnected without sending a response.")
        headers = {
            name: value
            for name, value in response.get("headers", {}).items()
            if name not in ("content-length", "transfer-encoding")
        }
        if "json" in response:
            body = json.dumps(response["json"]).encode()
        elif "text" in response:
            body = response["text"].encode()
        else:
            body = b""
        return FakeClawRouter.content(body, response["status"], headers)


# -- the same fake on a real socket ------------------------------------------------------------


class Loopback(ThreadingHTTPServer):
    """A 127.0.0.1 port handing each request to ``fake``: for clients built from the
    environment, and for bodies that must really stream (compressed ones)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Bridge)
        self.fake = FakeClawRouter()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-body is what these tests provoke: not worth a traceback."""


class _Bridge(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Loopback

    def _answer(self) -> None:
        content = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = httpx.Request(
            self.command,
            f"http://{self.headers['Host']}{self.path}",
            headers=list(self.headers.items()),
            content=content,
        )
        try:
            response = self.server.fake.handle(request)
        except httpx.TransportError:
            self.close_connection = True  # the outcome was a lost connection
            return
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name != "connection":
                self.send_header(name, value)
        # One request a connection: no client keeps a socket open past its test, and a body
        # without a length ends where the connection does.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        raw = [response.content] if response.is_stream_consumed else response.iter_raw()
        try:
            for chunk in raw:
                self.wfile.write(chunk)
        except (OSError, httpx.TransportError):
            pass  # the client stopped reading, as it should, or the outcome broke the body

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass

"""Hostile bodies from whatever answers at the base URL: compression bombs, oversized bodies,
slow downloads, JSON nested a million levels deep, redirects, unusable payment challenges.

Every body the client reads is covered: the paid answer of ``generate``, ``/health``, a
result fetched by ``download()`` and by ``save()``, and an input URL of ``edit()``.  They
come from a real HTTP server on loopback (``stub``), so that compressed bodies really
stream: the client asks for identity and must refuse any other encoding before a byte is
decoded.  Each bomb would inflate to 256 MB; the refusal must leave memory where it was.
A fake clock (``client._clock``) drives the download deadline, so nothing sleeps.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import importlib
import importlib.util
import json
import logging
import resource
import sys
import tracemalloc
import zlib
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import zstandard
from tests.support.png import png_bytes
from tests.support.server import FakeClawRouter
from tests.support.twin import GENERATE_ARGS

import clawrouter_images._constants as constants
from clawrouter_images import (
    APIStatusError,
    ClawRouterError,
    DownloadError,
    Health,
    ImageData,
    ImageResponse,
    InputImageError,
    ResponseValidationError,
    SaveError,
    UpstreamError,
)
from clawrouter_images._inputs import ImageBytes
from clawrouter_images.agent_tools import ToolAnswer
from clawrouter_images.agent_tools._results import ResultImage, tool_result

if TYPE_CHECKING:
    from tests.support.server import Answer
    from tests.support.twin import MakeTwin, Mode, Route, Twin

PROMPT = "a lighthouse at dusk"
GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
HEALTH = "/health"
RESULT_PATH = "/images/hostile.png"
# How ClawRouter names its results: fetched from the base URL, whatever the port says.
RESULT_URL = f"http://localhost:8402{RESULT_PATH}"
CLIENT_TIMEOUT = 20.0

PNG = png_bytes()
PNG_HEAD = b"\x89PNG\r\n\x1a\n"
MB = 1024 * 1024
BOMB_BYTES = 256 * MB
# A refusal before decoding allocates next to nothing; decoding one 64 KB network read of
# a gzip bomb allocates 64 MB, of a zstd bomb all 256 MB.
MAX_TRACED_PEAK = 32 * MB
MAX_RSS_GROWTH = 100 * MB

JSON_TYPE = (("Content-Type", "application/json"),)
PNG_TYPE = (("Content-Type", "image/png"),)

# -- the server and the clients -----------------------------------------------------------

reply = FakeClawRouter.content
NOT_FOUND = reply(b'{"error":"Not found"}', 404, JSON_TYPE)


@pytest.fixture
def stub(fake: FakeClawRouter) -> FakeClawRouter:
    """``fake`` answering 404 to whatever a test did not script, as any server but ClawRouter."""
    fake.otherwise = NOT_FOUND
    return fake


@pytest.fixture
def caller(make_twin: MakeTwin, loopback: str, stub: FakeClawRouter) -> Twin:
    """The client of ``mode`` on ``stub`` served on a real port (see the module docstring)."""
    return make_twin(loopback, timeout=CLIENT_TIMEOUT)


def _injected(
    mode: Mode, make_twin: MakeTwin, base_url: str, *, follow_redirects: bool = False
) -> Twin:
    """A client given an httpx client the caller built (httpx's default headers and all)."""
    http: httpx.Client | httpx.AsyncClient = (
        httpx.Client(trust_env=False, follow_redirects=follow_redirects)
        if mode == "sync"
        else httpx.AsyncClient(trust_env=False, follow_redirects=follow_redirects)
    )
    return make_twin(base_url, http_client=http, timeout=CLIENT_TIMEOUT)


async def _generate(caller: Twin, **kwargs: Any) -> ImageResponse:
    return await caller.generate(PROMPT, **GENERATE_ARGS, **kwargs)


class FakeClock:
    """``client._clock``: each reading is ``step`` seconds after the previous one."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


# -- bodies --------------------------------------------------------------------------------


def _answer(*urls: str, **extra: object) -> bytes:
    return json.dumps({"created": 1795503044, "data": [{"url": u} for u in urls], **extra}).encode()


ANSWER = _answer(RESULT_URL)
HEALTH_OK = b'{"status":"ok","wallet":"0xabc","paymentChain":"base"}'
GOOD_ANSWER = reply(ANSWER, 200, JSON_TYPE)
GOOD_HEALTH = reply(HEALTH_OK, 200, JSON_TYPE)
GOOD_IMAGE = reply(PNG, 200, PNG_TYPE)


def _packer(encoding: str) -> tuple[Any, str]:
    """A compressor for ``encoding`` and the name of its final method."""
    if encoding == "gzip":
        return zlib.compressobj(9, zlib.DEFLATED, 31), "flush"
    if encoding == "deflate":
        return zlib.compressobj(9, zlib.DEFLATED, 15), "flush"
    if encoding == "zstd":
        return zstandard.ZstdCompressor(level=19).compressobj(), "flush"
    brotli = importlib.import_module("brotli")
    return brotli.Compressor(quality=9), "finish"


@cache
def bomb(encoding: str) -> bytes:
    """A PNG head and 256 MB of zeros, compressed: a few hundred KB on the wire."""
    packer, finish = _packer(encoding)
    add = packer.process if encoding == "br" else packer.compress
    zeros = bytes(4 * MB)
    parts = [add(PNG_HEAD)]
    parts += [add(zeros) for _ in range(BOMB_BYTES // len(zeros))]
    parts.append(getattr(packer, finish)())
    return b"".join(parts)


def _inflate_head(encoding: str, raw: bytes, size: int) -> bytes:
    """The first ``size`` bytes ``raw`` decodes to, never more."""
    if encoding in ("gzip", "deflate"):
        return zlib.decompressobj(31 if encoding == "gzip" else 15).decompress(raw, size)
    if encoding == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(raw)
        head: bytes = reader.read(size)
        return head
    brotli = importlib.import_module("brotli")
    decoder = brotli.Decompressor()
    # brotli cannot bound its output: feed a few bytes only.
    out: bytes = decoder.process(raw[:64])[:size]
    return out


ENCODINGS = [
    "gzip",
    "deflate",
    "zstd",
    pytest.param(
        "br",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("brotli") is None, reason="brotli is not installed"
        ),
    ),
]
KINDS = ("answer", "health", "download", "save", "input")


@dataclass(frozen=True)
class Kind:
    """One body the client reads, and how it refuses a bad one."""

    error: type[ClawRouterError]
    paid: bool
    """``may_have_been_paid`` of the error (for save: of the SaveError)."""
    says: str
    """Text of the message (for save: of its ``__cause__``)."""
    served_at: tuple[str, str]


KIND: dict[str, Kind] = {
    "answer": Kind(
        ResponseValidationError, True, "the request may have been paid", ("POST", GENERATIONS)
    ),
    "health": Kind(ResponseValidationError, False, "is the base URL right?", ("GET", HEALTH)),
    "download": Kind(DownloadError, False, "could not download result image", ("GET", RESULT_PATH)),
    "save": Kind(SaveError, True, "could not download result image", ("GET", RESULT_PATH)),
    "input": Kind(InputImageError, False, "could not fetch input image", ("GET", RESULT_PATH)),
}


async def _read(kind: str, caller: Twin, stub: FakeClawRouter, out: Path) -> object:
    """Do what reads the body served for ``kind``; return what it returned."""
    if kind == "answer":
        return await _generate(caller)
    if kind == "health":
        return await caller.health()
    if kind == "input":
        return await caller.edit(PROMPT, RESULT_URL)
    response = await _generate(caller)
    if kind == "download":
        return await caller.download(response.data[0])
    return await caller.save(response, out)


def _names(folder: Path) -> list[str]:
    """The names of the files in ``folder`` (none if it does not exist)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _serve(kind: str, stub: FakeClawRouter, answer: Answer) -> None:
    """``answer`` where ``kind`` reads it; every other route answers as ClawRouter would."""
    stub.on("POST", GENERATIONS, GOOD_ANSWER)
    stub.on("POST", IMAGE2IMAGE, GOOD_ANSWER)
    stub.on("GET", HEALTH, GOOD_HEALTH)
    stub.on("GET", RESULT_PATH, GOOD_IMAGE)
    stub.on(*KIND[kind].served_at, answer)


async def _refused(kind: str, caller: Twin, stub: FakeClawRouter, out: Path) -> str:
    """Read ``kind``'s body, check the typed refusal, and return the message that explains it."""
    expected = KIND[kind]
    with pytest.raises(ClawRouterError) as caught:
        await _read(kind, caller, stub, out)
    err = caught.value
    assert type(err) is expected.error, repr(err)
    assert err.may_have_been_paid is expected.paid
    if kind == "save":
        assert isinstance(err, SaveError)
        assert err.result is not None
        assert err.result.urls == [RESULT_URL]
        assert err.saved_paths == []
        assert err.result._local.saved == []
        assert type(err.__cause__) is DownloadError, repr(err.__cause__)
        assert _names(out) == []
        err = err.__cause__
    assert expected.says in err.message
    if kind == "input":
        assert stub.sent("POST") == [], "an input that was refused must not be paid for"
        assert caller.client.spent_usd == 0
    if kind == "answer":
        assert caller.client.spent_usd > 0
    return err.message


@contextlib.contextmanager
def _memory_stays_flat(max_peak: int = MAX_TRACED_PEAK) -> Iterator[None]:
    """Fail if the block allocated more than a refusal needs (Python heap and process peak)."""
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours = not tracemalloc.is_tracing()
    if ours:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if ours:
            tracemalloc.stop()
    # ru_maxrss is in KB on Linux, bytes on macOS.
    unit = 1 if sys.platform == "darwin" else 1024
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * unit
    assert peak < max_peak, f"{peak:,} bytes allocated while refusing"
    assert grown < MAX_RSS_GROWTH, f"the process grew by {grown:,} bytes"


# -- compression bombs ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_bombs_are_small_and_inflate(encoding: str) -> None:
    """Each bomb is under 300 KB on the wire and inflates to a PNG head and zeros (checked 1 MB deep)."""
    raw = bomb(encoding)
    assert len(raw) < 300 * 1024
    head = _inflate_head(encoding, raw, MB)
    assert head.startswith(PNG_HEAD)
    assert head[len(PNG_HEAD) :] == bytes(len(head) - len(PNG_HEAD))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_compressed_body_is_refused_before_decoding(
    encoding: str, kind: str, caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """A compression bomb in any body is refused, typed, naming its encoding, with memory flat."""
    raw = bomb(encoding)
    _serve(kind, stub, reply(raw, 200, (*PNG_TYPE, ("Content-Encoding", encoding))))
    with _memory_stays_flat():
        message = await _refused(kind, caller, stub, tmp_path / "out")
    assert f"it sent a {encoding}-encoded body, which this client never asks for" in message
    assert "larger than" not in message  # refused for its encoding, not after inflating


ENCODING_HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "upper-case": (("Content-Encoding", "GZIP"),),
    "padded": (("Content-Encoding", "  gzip  "),),
    "x-gzip": (("Content-Encoding", "x-gzip"),),
    "identity-then-gzip": (("Content-Encoding", "identity, gzip"),),
    "gzip-then-identity": (("Content-Encoding", "gzip, identity"),),
    "two-headers": (("Content-Encoding", "identity"), ("Content-Encoding", "gzip")),
    "gzip-twice": (("Content-Encoding", "gzip, gzip"),),
    "unknown": (("Content-Encoding", "aes128gcm"),),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("headers", ENCODING_HEADERS.values(), ids=ENCODING_HEADERS.keys())
async def test_any_spelling_of_an_encoding_is_refused(
    headers: tuple[tuple[str, str], ...],
    kind: str,
    caller: Twin,
    stub: FakeClawRouter,
    tmp_path: Path,
) -> None:
    """Content-Encoding in any case, padding, list or repetition, unless only identity, is refused."""
    _serve(kind, stub, reply(bomb("gzip"), 200, (*PNG_TYPE, *headers)))
    with _memory_stays_flat():
        message = await _refused(kind, caller, stub, tmp_path / "out")
    assert "-encoded body, which this client never asks for" in message


IDENTITY_HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "no-header": (),
    "identity": (("Content-Encoding", "identity"),),
    "Identity-padded": (("Content-Encoding", " Identity "),),
    "empty": (("Content-Encoding", ""),),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("headers", IDENTITY_HEADERS.values(), ids=IDENTITY_HEADERS.keys())
async def test_identity_bodies_are_read(
    headers: tuple[tuple[str, str], ...],
    kind: str,
    caller: Twin,
    stub: FakeClawRouter,
    tmp_path: Path,
) -> None:
    """The same routes answering without an encoding, or with identity, are read as usual."""
    good_type, good = {"answer": (JSON_TYPE, ANSWER), "health": (JSON_TYPE, HEALTH_OK)}.get(
        kind, (PNG_TYPE, PNG)
    )
    _serve(kind, stub, reply(good, 200, (*good_type, *headers)))
    result = await _read(kind, caller, stub, tmp_path / "out")
    if kind in ("answer", "input"):
        assert isinstance(result, ImageResponse)
        assert result.urls == [RESULT_URL]
    elif kind == "health":
        assert isinstance(result, Health)
        assert result.ok
    elif kind == "download":
        assert result == PNG
    else:
        assert isinstance(result, list)
        assert [path.read_bytes() for path in result] == [PNG]


async def test_every_request_asks_for_identity(
    caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """Every request (paid POSTs, health, results, inputs) says Accept-Encoding: identity."""
    _serve("answer", stub, GOOD_ANSWER)
    response = await _generate(caller)
    await caller.download(response.data[0])
    await caller.save(response, tmp_path)
    await caller.health()
    await caller.edit(PROMPT, RESULT_URL)
    seen = stub.sent(None)
    assert [(s.method, s.url.path) for s in seen] == [
        ("POST", GENERATIONS),
        ("GET", RESULT_PATH),
        ("GET", RESULT_PATH),
        ("GET", HEALTH),
        ("GET", RESULT_PATH),
        ("POST", IMAGE2IMAGE),
    ]
    assert {s.headers.get("accept-encoding") for s in seen} == {"identity"}


@pytest.mark.parametrize("kind", KINDS)
async def test_an_injected_client_asking_for_gzip_still_gets_identity_only(
    mode: Mode,
    kind: str,
    stub: FakeClawRouter,
    make_twin: MakeTwin,
    loopback: str,
    tmp_path: Path,
) -> None:
    """An injected httpx client (whose defaults ask for gzip) sends identity and refuses a bomb."""
    injected = _injected(mode, make_twin, loopback)
    assert injected.http_client is not None
    assert "gzip" in injected.http_client.headers["accept-encoding"]
    _serve(kind, stub, reply(bomb("gzip"), 200, (*PNG_TYPE, ("Content-Encoding", "gzip"))))
    try:
        with _memory_stays_flat():
            await _refused(kind, injected, stub, tmp_path / "out")
    finally:
        await injected.close()
    assert {s.headers.get("accept-encoding") for s in stub.sent(None)} == {"identity"}


# -- oversized bodies, counted as they arrive ------------------------------------------------

# With these caps every kind refuses after about 1 MB; each body sent is 32 MB.
SMALL_CAPS = {
    "MAX_ANSWER_BYTES_PER_IMAGE": 256 * 1024,
    "MAX_DOWNLOAD_BYTES": MB,
    "MAX_INPUT_IMAGE_BYTES": MB,
}
OVER_CAP = {
    "answer": "its body is larger than 1,310,720 bytes",
    "health": "its body is larger than 1,048,576 bytes",
    "download": "is larger than the download cap (1,048,576 bytes); not downloaded",
    "save": "is larger than the download cap (1,048,576 bytes); not downloaded",
    "input": "is larger than 1 MB; resize or compress it first",
}
MAX_OVERSIZE_PEAK = 12 * MB


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL_CAPS.items():
        monkeypatch.setattr(constants, name, value)


@pytest.mark.usefixtures("small_caps")
@pytest.mark.parametrize("kind", KINDS)
async def test_oversized_identity_body_is_refused_at_the_cap(
    kind: str, caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """A 32 MB identity body is refused once its cap is passed, without reading the rest."""
    chunk = PNG_HEAD + bytes(MB - len(PNG_HEAD))
    _serve(kind, stub, reply(chunk, 200, PNG_TYPE, repeat=32))
    expected = KIND[kind]
    with _memory_stays_flat(MAX_OVERSIZE_PEAK), pytest.raises(ClawRouterError) as caught:
        await _read(kind, caller, stub, tmp_path / "out")
    err = caught.value
    assert type(err) is expected.error
    assert err.may_have_been_paid is expected.paid
    message = err.message if kind != "save" else str(err.__cause__)
    assert OVER_CAP[kind] in message
    if kind == "input":
        assert stub.sent("POST") == []


@pytest.mark.usefixtures("small_caps")
async def test_the_answer_cap_grows_with_n(caller: Twin, stub: FakeClawRouter) -> None:
    """An answer too big for one image is refused for n=1 and read for n=2 (cap n x per-image + overhead)."""
    body = _answer(RESULT_URL, RESULT_URL, padding="x" * (1_450_000))
    assert 1_310_720 < len(body) < 1_572_864
    stub.on("POST", GENERATIONS, reply(body, 200, JSON_TYPE))
    response = await _generate(caller, n=2)
    assert response.urls == [RESULT_URL, RESULT_URL]
    with pytest.raises(ResponseValidationError, match="larger than 1,310,720 bytes") as caught:
        await _generate(caller, n=1)
    assert caught.value.may_have_been_paid


# -- the download deadline -------------------------------------------------------------------

SLOW_KINDS = ("download", "save", "input")
# Four chunks of 256 KB or more: readings at 0 (start), 50, 100, 150 s pass the 120 s deadline.
SLOW_BYTES = PNG_HEAD + bytes(4 * MB - len(PNG_HEAD))
SLOW_BODY = reply(SLOW_BYTES, 200, PNG_TYPE)


@pytest.mark.parametrize("kind", SLOW_KINDS)
async def test_a_download_past_the_deadline_is_refused(
    kind: str, caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """A result or input arriving over more than DOWNLOAD_DEADLINE_SECONDS is refused mid-body."""
    _serve(kind, stub, SLOW_BODY)
    clock = FakeClock(step=50.0)
    caller.client._clock = clock
    message = await _refused(kind, caller, stub, tmp_path / "out")
    assert "it took longer than 120 s to arrive" in message
    assert clock.now <= 250.0, "the deadline is checked per chunk: it stops at the first late one"


@pytest.mark.parametrize("kind", SLOW_KINDS)
async def test_waiting_before_the_first_byte_counts_toward_the_deadline(
    kind: str, caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """The deadline starts before the request is sent: the first chunk 121 s later is refused."""
    _serve(kind, stub, GOOD_IMAGE)
    caller.client._clock = FakeClock(step=121.0)
    message = await _refused(kind, caller, stub, tmp_path / "out")
    assert "it took longer than 120 s to arrive" in message


@pytest.mark.parametrize("kind", SLOW_KINDS)
async def test_a_download_within_the_deadline_is_read(
    kind: str, caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """The same body arriving a second per chunk is read whole."""
    _serve(kind, stub, SLOW_BODY)
    caller.client._clock = FakeClock(step=1.0)
    result = await _read(kind, caller, stub, tmp_path / "out")
    if kind == "download":
        assert result == SLOW_BYTES
    elif kind == "save":
        assert isinstance(result, list)
        assert [path.read_bytes() for path in result] == [SLOW_BYTES]
    else:
        assert isinstance(result, ImageResponse)
        assert len(stub.sent("POST", IMAGE2IMAGE)) == 1


async def test_the_paid_answer_has_no_deadline(caller: Twin, stub: FakeClawRouter) -> None:
    """The paid POST may legitimately take minutes: the download deadline never cuts it off."""
    _serve("answer", stub, reply(_answer(RESULT_URL, padding="x" * (2 * MB)), 200, JSON_TYPE))
    caller.client._clock = FakeClock(step=1000.0)
    response = await _generate(caller)
    assert response.urls == [RESULT_URL]


# -- JSON nested a million levels deep --------------------------------------------------------

DEEP = 1_000_000
NESTED: dict[str, tuple[str, str, int, bytes, type[ClawRouterError], bool]] = {
    # name: (method, path, status, body, error, may_have_been_paid)
    "answer-array": (
        "POST",
        GENERATIONS,
        200,
        b"[" * DEEP + b"]" * DEEP,
        ResponseValidationError,
        True,
    ),
    "answer-object": (
        "POST",
        GENERATIONS,
        200,
        b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        ResponseValidationError,
        True,
    ),
    "answer-inside-data": (
        "POST",
        GENERATIONS,
        200,
        b'{"data":[{"url":' + b"[" * DEEP + b"]" * DEEP + b"}]}",
        ResponseValidationError,
        True,
    ),
    "error-500": ("POST", GENERATIONS, 500, b"[" * DEEP + b"]" * DEEP, APIStatusError, True),
    "error-502-details": (
        "POST",
        GENERATIONS,
        502,
        b'{"error":"Image generation failed","details":' + b"[" * DEEP + b"]" * DEEP + b"}",
        UpstreamError,
        True,
    ),
    "error-400": (
        "POST",
        GENERATIONS,
        400,
        b'{"error":' * DEEP + b"1" + b"}" * DEEP,
        APIStatusError,
        True,  # no recorded refusal reads like this: it may have been paid
    ),
    # Under the 1 MB health cap, so that parsing is what fails.
    "health": ("GET", HEALTH, 200, b"[" * 500_000 + b"]" * 500_000, ResponseValidationError, False),
    "health-error-400": (
        "GET",
        HEALTH,
        400,
        b"[" * 500_000 + b"]" * 500_000,
        APIStatusError,
        False,
    ),
}


@pytest.mark.parametrize(("name", "case"), NESTED.items(), ids=NESTED.keys())
async def test_deeply_nested_json_is_a_typed_error(
    name: str,
    case: tuple[str, str, int, bytes, type[ClawRouterError], bool],
    caller: Twin,
    stub: FakeClawRouter,
) -> None:
    """JSON nested a million levels deep raises the typed error of its route, never RecursionError."""
    method, path, status, body, error, paid = case
    stub.on(method, path, reply(body, status, JSON_TYPE))
    with pytest.raises(ClawRouterError) as caught:
        await (caller.health() if path == HEALTH else _generate(caller))
    err = caught.value
    assert isinstance(err, error), repr(err)
    assert err.may_have_been_paid is paid
    assert len(err.message) < 2000
    if isinstance(err, APIStatusError):
        assert err.status_code == status


async def _outcome(call: Awaitable[ImageResponse]) -> ImageResponse | ClawRouterError:
    """The response of ``call``, or the typed error it raised (anything else fails the test)."""
    try:
        return await call
    except ClawRouterError as err:
        return err


# Depths around the interpreter's recursion limit: parsing may succeed, and whatever follows
# (validation, the error message, repr) must not recurse past the limit either.
BOUNDARY_DEPTHS = (500, 900, 950, 980, 990, 995, 1000, 1100)


@pytest.mark.parametrize("depth", BOUNDARY_DEPTHS)
@pytest.mark.parametrize("where", ["extra-field", "image-field", "error-details"])
async def test_json_nested_near_the_recursion_limit_never_escapes(
    where: str, depth: int, caller: Twin, stub: FakeClawRouter
) -> None:
    """An answer nested near the recursion limit gives a response or a typed error, and both repr."""
    nested = "[" * depth + "]" * depth
    if where == "extra-field":
        text = f'{{"created":1,"data":[{{"url":"{RESULT_URL}"}}],"trace":{nested}}}'
        status = 200
    elif where == "image-field":
        text = f'{{"created":1,"data":[{{"url":"{RESULT_URL}","trace":{nested}}}]}}'
        status = 200
    else:
        text = f'{{"error":"Image generation failed","details":{nested}}}'
        status = 502
    stub.on("POST", GENERATIONS, reply(text.encode(), status, JSON_TYPE))
    outcome = await _outcome(_generate(caller))
    if isinstance(outcome, ClawRouterError):
        assert outcome.may_have_been_paid
        assert len(repr(outcome)) < 2000
    else:
        assert outcome.urls == [RESULT_URL]
        assert len(repr(outcome)) < 5000


# -- what an answer may not decide ----------------------------------------------------------


@pytest.mark.parametrize(("n", "sent"), [(1, 3), (2, 5), (3, 4)])
async def test_more_images_than_asked_for_keeps_the_first_n(
    n: int,
    sent: int,
    caller: Twin,
    stub: FakeClawRouter,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An answer with more images than n keeps only the first n, and save() writes only those."""
    urls = [f"http://localhost:8402/images/extra-{i}.png" for i in range(sent)]
    stub.on("POST", GENERATIONS, reply(_answer(*urls), 200, JSON_TYPE))
    for url in urls:
        stub.on("GET", httpx.URL(url).path, GOOD_IMAGE)
    with caplog.at_level(logging.WARNING, logger="clawrouter_images"):
        response = await _generate(caller, n=n)
    assert response.urls == urls[:n]
    assert f"answered {sent} images for n={n}" in caplog.text
    paths = await caller.save(response, tmp_path)
    assert len(paths) == n
    assert _names(tmp_path) == sorted(p.name for p in paths)
    assert [s.url.path for s in stub.sent("GET")] == [httpx.URL(u).path for u in urls[:n]]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("saved_paths", ["/etc/passwd", str(Path.home() / ".ssh" / "id_rsa")]),
        ("_saved_paths", ["/etc/passwd"]),
        ("_saved", ["/etc/passwd"]),
        ("_local", {"saved": ["/etc/passwd"], "base_url": "http://169.254.169.254"}),
        ("_base_url", "http://169.254.169.254"),
        ("base_url", "http://169.254.169.254"),
    ],
)
async def test_local_state_never_comes_from_the_wire(
    key: str, value: object, caller: Twin, stub: FakeClawRouter, tmp_path: Path
) -> None:
    """Keys in the answer are wire data, whatever they are called: the preview reads only
    what save() wrote, and fetches only from the client's own base URL."""
    body = _answer(RESULT_URL, **{key: value})
    _serve("answer", stub, reply(body, 200, JSON_TYPE))
    response = await _generate(caller)
    assert response._local.saved == []
    assert response._local.preview is not None
    with response._local.preview() as preview:  # a client for the caller's own base URL
        assert preview.base_url == caller.base_url
    assert "/etc/passwd" not in response._repr_html_()
    paths = await caller.save(response, tmp_path)
    assert response._local.saved == paths
    assert str(tmp_path) not in response.model_dump_json()  # local state stays out of dumps
    assert _names(tmp_path) == [p.name for p in paths]


# -- reprs never carry image bytes -------------------------------------------------------------

BIG_B64 = base64.b64encode(bytes(768 * 1024)).decode()  # 1 MB of base64
BIG_BYTES = PNG_HEAD + bytes(MB)
MAX_REPR_CHARS = 1000


def _tool_answer() -> ToolAnswer:
    response = ImageResponse(data=[ImageData(b64_json=BIG_B64)], prompt=PROMPT)
    images = [ResultImage("image/png", data=BIG_BYTES)]
    return ToolAnswer("text", tool_result(response), images)


REPRS: dict[str, Any] = {
    "ImageResponse-b64_json": lambda: ImageResponse(data=[ImageData(b64_json=BIG_B64)]),
    "ImageResponse-data-uri": lambda: ImageResponse(
        data=[ImageData(url="data:image/png;base64," + BIG_B64)]
    ),
    "ImageResponse-extra-str": lambda: ImageResponse.model_validate(
        {"data": [{"url": RESULT_URL}], "image_base64": BIG_B64}
    ),
    "ImageData-b64_json": lambda: ImageData(b64_json=BIG_B64),
    "ImageData-revised-prompt": lambda: ImageData(url=RESULT_URL, revised_prompt=BIG_B64),
    "ImageResponse-extra-list": pytest.param(
        lambda: ImageResponse.model_validate(
            {"data": [{"url": RESULT_URL}], "images_base64": [BIG_B64]}
        ),
    ),
    "ImageData-extra-dict": pytest.param(
        lambda: ImageData.model_validate({"url": RESULT_URL, "original": {"b64_json": BIG_B64}}),
    ),
    "ResultImage": lambda: ResultImage("image/png", data=BIG_BYTES),
    "ToolAnswer": _tool_answer,
    "ImageToolResult-artifact": lambda: _tool_answer().artifact,
    "ImageBytes": lambda: ImageBytes(data=BIG_BYTES, mime="image/png", source="photo.png"),
}


@pytest.mark.parametrize("make", REPRS.values(), ids=REPRS.keys())
def test_repr_never_carries_image_bytes(make: Any) -> None:
    """repr() and str() of a result, an image or a tool artifact holding 1 MB of image stay short."""
    value = make()
    assert len(repr(value)) < MAX_REPR_CHARS
    assert len(str(value)) < MAX_REPR_CHARS


# -- redirects and payment errors ---------------------------------------------------------------


@pytest.mark.parametrize("route", ["generate", "edit"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_of_the_paid_post_says_redirect(
    status: int, route: Route, caller: Twin, stub: FakeClawRouter, loopback: str
) -> None:
    """A redirect of the POST is an APIStatusError saying so, never followed and never 'not JSON';
    something other than ClawRouter answered, which may have passed the POST on: possibly paid."""
    path = GENERATIONS if route == "generate" else IMAGE2IMAGE
    moved = f"{loopback}/moved{path}"
    headers = (("Location", moved), ("Content-Type", "text/html"))
    stub.on("POST", path, reply(b"<html><body>Moved</body></html>", status, headers))
    stub.on("POST", f"/moved{path}", GOOD_ANSWER)
    with pytest.raises(APIStatusError) as caught:
        await caller.call(route, PROMPT)
    err = caught.value
    assert err.status_code == status
    assert f"answered {status}, a redirect to {moved}" in err.message
    assert "not JSON" not in err.message
    assert err.may_have_been_paid
    assert "may have been paid" in err.message
    assert caller.client.spent_usd > 0
    assert [s.url.path for s in stub.sent(None)] == [path]


@pytest.mark.parametrize("status", [307, 308])
async def test_a_redirect_of_health_says_redirect(
    status: int, caller: Twin, stub: FakeClawRouter
) -> None:
    """A redirect of /health is an APIStatusError saying so, not a health that did not parse."""
    stub.on("GET", HEALTH, reply(b"", status, (("Location", "http://example.com/health"),)))
    with pytest.raises(APIStatusError, match=f"answered {status}, a redirect"):
        await caller.health()
    assert len(stub.sent(None)) == 1


@pytest.mark.parametrize("status", [307, 308])
async def test_an_injected_client_that_follows_redirects_does_not_follow_the_paid_post(
    mode: Mode, status: int, stub: FakeClawRouter, make_twin: MakeTwin, loopback: str
) -> None:
    """Even an injected client built with follow_redirects=True does not re-send the paid POST elsewhere."""
    injected = _injected(mode, make_twin, loopback, follow_redirects=True)
    stub.on("POST", GENERATIONS, reply(b"", status, (("Location", f"/moved{GENERATIONS}"),)))
    stub.on("POST", f"/moved{GENERATIONS}", GOOD_ANSWER)
    try:
        with pytest.raises(APIStatusError, match="a redirect"):
            await _generate(injected)
    finally:
        await injected.close()
    assert [s.url.path for s in stub.sent(None)] == [GENERATIONS]


UNPAID_502: dict[str, tuple[str, bool]] = {
    # name: (details, may_have_been_paid)
    "malformed-challenge": (
        "Failed to parse payment requirements: Invalid payment required header",
        False,
    ),
    "missing-challenge": (
        "Failed to parse payment requirements: Invalid payment required response",
        False,
    ),
    "solana-only": (
        'No network/scheme registered for x402 version: 2 which comply with the payment requirements. {"x402Version":2}',
        False,
    ),
    "upper-case": ("FAILED TO PARSE PAYMENT REQUIREMENTS: bad header", False),
    "fetch-failed": ("fetch failed", True),
    "phrase-not-at-the-start": ("upstream said: Failed to parse payment requirements", True),
    "no-details": ("", True),
}


@pytest.mark.parametrize("route", ["generate", "edit"])
@pytest.mark.parametrize(("details", "paid"), UNPAID_502.values(), ids=UNPAID_502.keys())
async def test_502_payment_challenges_clawrouter_could_not_use_are_not_paid(
    details: str, paid: bool, route: Route, caller: Twin, stub: FakeClawRouter
) -> None:
    """A 502 whose details say ClawRouter never paid is unpaid (spent stays 0); 'fetch failed' stays possibly paid."""
    body: dict[str, str] = {"error": "Image generation failed"}
    if details:
        body["details"] = details
    path = GENERATIONS if route == "generate" else IMAGE2IMAGE
    stub.on("POST", path, reply(json.dumps(body).encode(), 502, JSON_TYPE))
    with pytest.raises(UpstreamError) as caught:
        await caller.call(route, PROMPT)
    err = caught.value
    assert err.status_code == 502
    assert err.may_have_been_paid is paid
    assert (caller.client.spent_usd > 0) is paid
    assert len(stub.sent("POST")) == 1  # a 502 is never re-sent


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_health_error_is_never_marked_paid(
    status: int, caller: Twin, stub: FakeClawRouter
) -> None:
    """GET /health is free: its error answers never say the request may have been paid."""
    stub.on("GET", HEALTH, reply(b'{"error":"boom"}', status, JSON_TYPE))
    with pytest.raises(APIStatusError) as caught:
        await caller.health()
    assert not caught.value.may_have_been_paid
    assert "may have been paid" not in caught.value.message


# -- an input URL that fails is the caller's problem, not a paid result ---------------------------


INPUT_ROLES: dict[str, tuple[object, object]] = {
    # role: (image, mask) of the edit; RESULT_URL is the input that fails
    "image": (RESULT_URL, None),
    "image-list": (["http://localhost:8402/images/photo.png", RESULT_URL], None),
    "mask": (PNG, RESULT_URL),
}


@pytest.mark.parametrize("status", [404, 410, 403, 500, 503])
@pytest.mark.parametrize("role", INPUT_ROLES)
async def test_an_input_url_that_fails_says_input_image(
    role: str, status: int, caller: Twin, stub: FakeClawRouter
) -> None:
    """An edit whose input URL answers an error says 'input image', never 'generate it again', and sends nothing."""
    _serve("input", stub, reply(b'{"error":"Not found"}', status, JSON_TYPE))
    stub.on("GET", "/images/photo.png", GOOD_IMAGE)
    image, mask = INPUT_ROLES[role]
    with pytest.raises(InputImageError) as caught:
        await caller.edit(PROMPT, image, mask=mask)
    message = caught.value.message
    assert f"could not fetch input image {RESULT_URL}: it answered {status}" in message
    assert "generate it again" not in message
    assert "may have been paid" not in message
    assert not caught.value.may_have_been_paid
    assert stub.sent("POST") == []
    assert caller.client.spent_usd == 0


async def test_a_result_url_that_fails_says_generate_it_again(
    caller: Twin, stub: FakeClawRouter
) -> None:
    """The same 404 for a result (not an input) tells the user to generate it again."""
    _serve("download", stub, reply(b'{"error":"Not found"}', 404, JSON_TYPE))
    response = await _generate(caller)
    with pytest.raises(ResponseValidationError, match="generate it again"):
        await caller.download(response.data[0])

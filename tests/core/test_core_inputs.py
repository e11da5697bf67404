"""Image inputs: every accepted kind becomes a checked data URI; anything else is refused first."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from tests.support.png import png_pixels

from clawrouter_images import APIConnectionError, ImageClient, InputImageError

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

IMAGE2IMAGE = "/v1/images/image2image"
RESULT = "http://localhost:8402/images/1795503061269-yzh4bnoh.png"
CAP = 50 * 1024 * 1024

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake jpeg body"
GIF = b"GIF89a\x01\x00\x01\x00fake gif body"
# A mask in the upstreams' convention (transparent = edit): sent as it is.
ALPHA_MASK = png_pixels([[(0, 0, 0, 255), (255, 255, 255, 0)]])
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 fake webp body"


@pytest.fixture
def answering(server: Server) -> Server:
    server.on("POST", IMAGE2IMAGE, server.images(RESULT))
    return server


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def decode(uri: str) -> tuple[str, bytes]:
    """The MIME type and the bytes of a data URI."""
    header, _, payload = uri.partition(",")
    assert header.startswith("data:")
    assert header.endswith(";base64")
    return header[5:-7], base64.b64decode(payload, validate=True)


# -- every kind of input -------------------------------------------------------------------------


async def test_path_string(twin: Twin, answering: Server, tmp_path: Path, png: bytes) -> None:
    """A local path string is read by the client and sent as a data URI, not as the path."""
    path = tmp_path / "cat.png"
    path.write_bytes(png)
    await twin.edit("make it blue", str(path))
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_pathlike(twin: Twin, answering: Server, tmp_path: Path, png: bytes) -> None:
    """A pathlib.Path is read and sent as a data URI."""
    path = tmp_path / "cat.png"
    path.write_bytes(png)
    await twin.edit("make it blue", path)
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_tilde_path(
    twin: Twin,
    answering: Server,
    tmp_path: Path,
    png: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A path starting with ~ is expanded to the user's home on the client's machine."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "cat.png").write_bytes(png)
    await twin.edit("make it blue", "~/pics/cat.png")
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_relative_path_uses_client_directory(
    twin: Twin,
    answering: Server,
    tmp_path: Path,
    png: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A relative path is read from the client's working directory, not ClawRouter's."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "cat.png").write_bytes(png)
    await twin.edit("make it blue", "pics/cat.png")
    assert decode(answering.body()["image"]) == ("image/png", png)


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
async def test_raw_bytes(twin: Twin, answering: Server, png: bytes, wrap: Any) -> None:
    """bytes, bytearray and memoryview inputs are sent as data URIs."""
    await twin.edit("make it blue", wrap(png))
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_binary_file_object(twin: Twin, answering: Server, png: bytes) -> None:
    """A binary file object is read and sent as a data URI."""
    await twin.edit("make it blue", io.BytesIO(png))
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_open_file(twin: Twin, answering: Server, tmp_path: Path, png: bytes) -> None:
    """A file opened with 'rb' is read and sent as a data URI."""
    path = tmp_path / "cat.png"
    path.write_bytes(png)
    with path.open("rb") as handle:
        await twin.edit("make it blue", handle)
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_data_uri_is_checked_and_sent(twin: Twin, answering: Server, png: bytes) -> None:
    """A data URI of an image is decoded, checked and sent with its real type."""
    await twin.edit("make it blue", data_uri("image/png", png))
    assert decode(answering.body()["image"]) == ("image/png", png)


@pytest.mark.parametrize(
    ("data", "mime"),
    [(JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
)
async def test_type_comes_from_the_bytes(
    twin: Twin, answering: Server, tmp_path: Path, data: bytes, mime: str
) -> None:
    """The data URI's type is sniffed from the bytes, whatever the file's extension says."""
    path = tmp_path / "misnamed.png"
    path.write_bytes(data)
    await twin.edit("make it blue", path)
    assert decode(answering.body()["image"]) == (mime, data)


async def test_http_url_is_fetched_by_the_client(twin: Twin, answering: Server, png: bytes) -> None:
    """An http(s) URL is downloaded by the client and sent as a data URI."""
    url = "https://images.example.test/cat.png"
    answering.on("GET", url, answering.content(png, headers={"content-type": "text/plain"}))
    await twin.edit("make it blue", url)
    assert decode(answering.body()["image"]) == ("image/png", png)
    assert [str(r.url) for r in answering.sent("GET")] == [url]


async def test_earlier_result_url_is_fetched_from_base_url(
    make_twin: MakeTwin, server: Server, png: bytes
) -> None:
    """An earlier result's localhost /images/ URL is fetched through the client's base URL."""
    server.on("GET", "/images/1795503044964-xm1yzv09.png", server.content(png))
    server.on("POST", IMAGE2IMAGE, server.images(RESULT))
    api = make_twin(server, base_url="http://127.0.0.1:18402")
    await api.edit("make it blue", "http://localhost:8402/images/1795503044964-xm1yzv09.png")
    assert (
        str(server.sent("GET")[0].url) == "http://127.0.0.1:18402/images/1795503044964-xm1yzv09.png"
    )
    assert decode(server.body()["image"]) == ("image/png", png)


async def test_list_of_mixed_inputs(
    twin: Twin, answering: Server, tmp_path: Path, png: bytes
) -> None:
    """A list of a path, bytes, a data URI and a URL is sent as a list of data URIs, in order."""
    path = tmp_path / "a.jpg"
    path.write_bytes(JPEG)
    url = "https://images.example.test/d.webp"
    answering.on("GET", url, answering.content(WEBP))
    await twin.edit("combine", [path, GIF, data_uri("image/png", png), url], model="gpt-image-1")
    sent = [decode(uri) for uri in answering.body()["image"]]
    assert sent == [
        ("image/jpeg", JPEG),
        ("image/gif", GIF),
        ("image/png", png),
        ("image/webp", WEBP),
    ]


async def test_single_item_list_stays_a_list(twin: Twin, answering: Server, png: bytes) -> None:
    """A one-item list is sent as a one-item list; a single input as a string."""
    await twin.edit("make it blue", (png,))
    assert isinstance(answering.body()["image"], list)
    await twin.edit("make it blue", png)
    assert isinstance(answering.body()["image"], str)


async def test_mask_is_sent_as_data_uri(
    twin: Twin, answering: Server, tmp_path: Path, png: bytes
) -> None:
    """A mask path is read and sent as a data URI in the mask field."""
    mask = tmp_path / "mask.png"
    mask.write_bytes(ALPHA_MASK)
    await twin.edit("fill the sky", png, mask=mask, model="gpt-image-1")
    body = answering.body()
    assert decode(body["mask"]) == ("image/png", ALPHA_MASK)
    assert decode(body["image"]) == ("image/png", png)


# -- refused before anything is paid -------------------------------------------------------------


async def _refused(api: Twin, image: object, words: str, **kwargs: Any) -> InputImageError:
    with pytest.raises(InputImageError, match=words) as info:
        await api.edit("make it blue", image, **kwargs)
    assert api.server.sent("POST") == []
    assert api.spent_usd == 0
    return info.value


async def test_missing_file(twin: Twin, tmp_path: Path) -> None:
    """A path that does not exist is refused, naming it."""
    err = await _refused(twin, str(tmp_path / "nope.png"), "not found")
    assert "nope.png" in str(err)


async def test_directory(twin: Twin, tmp_path: Path) -> None:
    """A directory is refused as not an image file."""
    await _refused(twin, tmp_path, "is a directory")


async def test_fifo(twin: Twin, tmp_path: Path) -> None:
    """A FIFO is refused without being opened (opening one would block)."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    await _refused(twin, fifo, "not a regular file")


def test_fifo_never_blocks(tmp_path: Path, png: bytes) -> None:
    """Refusing a FIFO returns promptly even though nothing ever writes to it."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        try:
            ImageClient(http_client=http).edit("make it blue", fifo)
        except BaseException as err:
            outcome.append(err)
        finally:
            http.close()

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # unblock the reader so the thread can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("edit() blocked on a FIFO")
    assert len(outcome) == 1
    assert isinstance(outcome[0], InputImageError)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
async def test_character_device(twin: Twin) -> None:
    """/dev/zero (endless) is refused as not a regular file, without reading it."""
    await _refused(twin, "/dev/zero", "not a regular file")


async def test_symlink_loop(twin: Twin, tmp_path: Path) -> None:
    """A symlink loop is refused with a clear error, not an OSError."""
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    await _refused(twin, tmp_path / "a.png", "cannot read image")


async def test_symlink_to_image_is_followed(
    twin: Twin, answering: Server, tmp_path: Path, png: bytes
) -> None:
    """A symlink to a real image is read like the image (the programmatic client trusts its caller)."""
    (tmp_path / "real.png").write_bytes(png)
    (tmp_path / "link.png").symlink_to(tmp_path / "real.png")
    await twin.edit("make it blue", tmp_path / "link.png")
    assert decode(answering.body()["image"]) == ("image/png", png)


async def test_empty_file(twin: Twin, tmp_path: Path) -> None:
    """An empty file is refused as empty."""
    (tmp_path / "empty.png").write_bytes(b"")
    await _refused(twin, tmp_path / "empty.png", "is empty")


async def test_non_image_file(twin: Twin, tmp_path: Path) -> None:
    """A file that is not PNG/JPEG/WebP/GIF is refused, whatever its extension."""
    path = tmp_path / "notes.png"
    path.write_text("these are my notes, not a picture")
    err = await _refused(twin, path, "not a PNG, JPEG, WebP or GIF")
    assert "notes.png" in str(err)


async def test_non_image_bytes(twin: Twin) -> None:
    """Bytes that are not an image (e.g. a PDF) are refused."""
    await _refused(twin, b"%PDF-1.7 not an image", "not a PNG, JPEG, WebP or GIF")


async def test_text_mode_file(twin: Twin, tmp_path: Path) -> None:
    """A file object opened in text mode is refused with advice to use 'rb'."""
    path = tmp_path / "cat.png"
    path.write_text("x")
    with path.open() as handle:
        await _refused(twin, handle, "'rb'")


async def test_unsupported_type(twin: Twin) -> None:
    """An input of an unsupported type (an int) is refused, listing what is accepted."""
    await _refused(twin, 42, "unsupported image input")


async def test_empty_list(twin: Twin) -> None:
    """An empty list of images is refused."""
    await _refused(twin, [], "empty")


async def test_empty_path(twin: Twin) -> None:
    """An empty or blank path string is refused."""
    await _refused(twin, "   ", "empty")


async def test_bad_item_in_list(twin: Twin, png: bytes, tmp_path: Path) -> None:
    """One bad item in a list refuses the whole call."""
    await _refused(twin, [png, tmp_path / "missing.png"], "not found", model="gpt-image-1")


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd",
        "file:/etc/passwd",
        "ftp://example.test/cat.png",
        "s3://bucket/cat.png",
        "javascript:alert(1)",
    ],
)
async def test_other_schemes_refused(twin: Twin, uri: str) -> None:
    """file:, other non-http schemes and scheme-like strings are refused, never read or sent."""
    await _refused(twin, uri, "only local paths, http\\(s\\) URLs and data URIs")


async def test_url_without_host_refused(twin: Twin) -> None:
    """An http URL with no host is refused."""
    await _refused(twin, "http:///cat.png", "no host")


@pytest.mark.parametrize(
    "uri",
    [
        "data:text/plain;base64,aGVsbG8=",
        "data:application/pdf;base64,JVBERi0=",
        "data:text/html,<b>hi</b>",
    ],
)
async def test_non_image_data_uri_refused(twin: Twin, uri: str) -> None:
    """A data URI of a non-image type (or not base64) is refused."""
    await _refused(twin, uri, "data URI|not an image|base64")


async def test_data_uri_lying_about_its_type(twin: Twin) -> None:
    """A data URI labelled image/png whose bytes are text is refused."""
    await _refused(twin, data_uri("image/png", b"just some text"), "not a PNG")


async def test_data_uri_with_invalid_base64(twin: Twin) -> None:
    """A data URI whose payload is not valid base64 is refused."""
    await _refused(twin, "data:image/png;base64,@@not-base64@@", "invalid base64")


async def test_url_answering_404(twin: Twin, server: Server) -> None:
    """An input URL that answers 404 is refused before the edit is sent."""
    url = "https://images.example.test/gone.png"
    server.on("GET", url, server.json({"error": "Not found"}, 404))
    err = await _refused(twin, url, "could not fetch input image")
    assert "404" in str(err)


async def test_url_answering_html(twin: Twin, server: Server) -> None:
    """An input URL that answers a web page instead of an image is refused."""
    url = "https://images.example.test/page"
    server.on("GET", url, server.text("<html>hello</html>", headers={"content-type": "image/png"}))
    await _refused(twin, url, "not a PNG")


async def test_url_host_down(twin: Twin, server: Server) -> None:
    """An unreachable input URL is an input error naming the URL, not 'ClawRouter is not running'."""
    url = "https://images.example.test/cat.png"
    server.on("GET", url, httpx.ConnectError("[Errno 111] Connection refused"))
    err = await _refused(twin, url, "could not fetch input image")
    assert url in str(err)
    assert "not running" not in str(err)


async def test_result_url_with_clawrouter_down(make_twin: MakeTwin, server: Server) -> None:
    """A localhost /images/ input with ClawRouter down says ClawRouter is not running."""
    server.on("GET", "/images/x.png", httpx.ConnectError("refused"))
    api = make_twin(server)
    with pytest.raises((InputImageError, APIConnectionError), match="not running at"):
        await api.edit("make it blue", "http://localhost:8402/images/x.png")
    assert server.sent("POST") == []


# -- size caps -----------------------------------------------------------------------------------


async def test_huge_file_refused_from_its_size(twin: Twin, tmp_path: Path, png: bytes) -> None:
    """A file over 50 MB is refused from its size on disk, before it is read."""
    path = tmp_path / "huge.png"
    path.write_bytes(png)
    os.truncate(path, CAP + 1024 * 1024)  # sparse: nothing to read on most filesystems
    err = await _refused(twin, path, "over the 50 MB limit")
    assert "51.0 MB" in str(err)


class _RecordingReader(io.BytesIO):
    """A binary file that records how much each read() asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(size)
        return super().read(size)


async def test_file_object_is_read_with_a_bound(twin: Twin, answering: Server, png: bytes) -> None:
    """A file object is read with a size bound just over the cap, never to its end unbounded."""
    reader = _RecordingReader(png)
    await twin.edit("make it blue", reader)
    assert reader.asked
    assert all(size is not None and 0 < size <= CAP + 1 for size in reader.asked)


async def test_huge_file_object_refused(twin: Twin) -> None:
    """A file object holding more than 50 MB is refused."""
    reader = _RecordingReader(b"\x89PNG\r\n\x1a\n" + bytes(CAP))
    await _refused(twin, reader, "larger than 50 MB")


async def test_huge_data_uri_refused(twin: Twin) -> None:
    """A data URI decoding to more than 50 MB is refused before it is decoded."""
    uri = "data:image/png;base64," + "A" * (CAP // 3 * 4 + 400)
    await _refused(twin, uri, "larger than 50 MB")


# -- the streamed request body -------------------------------------------------------------------


class _StreamRecorder(httpx.MockTransport):
    """Reads the request body chunk by chunk, as a socket would, and answers one image."""

    def __init__(self) -> None:
        super().__init__(lambda request: httpx.Response(500))
        self.chunks: list[bytes] = []
        self.headers: httpx.Headers | None = None

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.headers = request.headers
        body = {"created": 1, "data": [{"url": RESULT}]}
        return httpx.Response(200, json=body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        self.chunks.extend(request.stream)
        return self._answer(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        self.chunks.extend([chunk async for chunk in request.stream])
        return self._answer(request)


def _big_png(size: int) -> bytes:
    pattern = bytes(range(256))
    return (b"\x89PNG\r\n\x1a\n" + pattern * (size // 256 + 1))[:size]


async def test_large_edit_body_is_streamed(
    make_twin: MakeTwin, server: Server, tmp_path: Path
) -> None:
    """A 20 MB input goes out in chunks, with an exact Content-Length and a valid JSON body."""
    image = _big_png(20 * 1024 * 1024 + 7)
    path = tmp_path / "big.png"
    path.write_bytes(image)
    recorder = _StreamRecorder()
    api = make_twin(server, transport=recorder)
    prompt = "make it blue — «très» ☕"
    await api.edit(prompt, path, extra_body={"quality": "high"})
    body = b"".join(recorder.chunks)
    assert recorder.headers is not None
    assert int(recorder.headers["content-length"]) == len(body)
    assert "transfer-encoding" not in recorder.headers
    assert recorder.headers["content-type"] == "application/json"
    assert max(len(chunk) for chunk in recorder.chunks) < 1024 * 1024
    parsed = json.loads(body)
    assert parsed["prompt"] == prompt
    assert parsed["quality"] == "high"
    assert parsed["model"] == "openai/gpt-image-1"
    assert decode(parsed["image"]) == ("image/png", image)


async def test_list_and_mask_body_is_valid_json(
    make_twin: MakeTwin, server: Server, png: bytes
) -> None:
    """A streamed body with an image list and a mask parses as JSON with every field in place."""
    recorder = _StreamRecorder()
    api = make_twin(server, transport=recorder)
    await api.edit("combine", [png, JPEG, GIF], model="gpt-image-1", size="1536x1024", n=2)
    parsed = json.loads(b"".join(recorder.chunks))
    assert [decode(uri)[1] for uri in parsed["image"]] == [png, JPEG, GIF]
    assert (parsed["size"], parsed["n"]) == ("1536x1024", 2)
    recorder.chunks.clear()
    await api.edit("fill", png, mask=ALPHA_MASK, model="gpt-image-1")
    parsed = json.loads(b"".join(recorder.chunks))
    assert decode(parsed["mask"]) == ("image/png", ALPHA_MASK)
    assert decode(parsed["image"]) == ("image/png", png)


async def test_invalid_request_error_is_a_value_error(twin: Twin) -> None:
    """Input errors can be caught as ValueError by callers that do not know this library."""
    with pytest.raises(ValueError, match="not found"):
        await twin.edit("make it blue", "/nonexistent/cat.png")

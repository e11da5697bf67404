"""ImageResponse in a notebook: thumbnails, never the full image data."""

from __future__ import annotations

import base64
import functools
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import clawrouter_images._client
from clawrouter_images import ImageClient, ImageData, ImageResponse, _display
from clawrouter_images._client import _preview_client
from clawrouter_images._constants import PREVIEW_TIMEOUT_SECONDS
from tests.support.png import png_bytes

Image = pytest.importorskip("PIL.Image")
RED = (200, 30, 30)


def _response(**fields: object) -> ImageResponse:
    base: dict[str, object] = {
        "prompt": "a red square",
        "model": "google/nano-banana",
        "size": "1024x1024",
        "estimated_cost_usd": 0.0525,
    }
    return ImageResponse.model_validate({**base, **fields})


def test_html_embeds_a_thumbnail_not_the_image() -> None:
    """A large inline image appears as a thumbnail much smaller than the image itself."""
    big = png_bytes(2048, 2048, RED)
    response = _response(data=[ImageData(b64_json=base64.b64encode(big).decode())])
    html = response._repr_html_()
    embedded = html.split("data:image/png;base64,", 1)[1].split('"', 1)[0]
    thumb = Image.open(io.BytesIO(base64.b64decode(embedded)))
    assert max(thumb.size) <= 256
    assert len(embedded) < len(base64.b64encode(big)) / 4


def test_html_uses_a_saved_file(tmp_path: Path) -> None:
    """A saved image is shown from the file, with the prompt, model and cost in the caption."""
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(512, 256, RED))
    response = _response(data=[ImageData(url="http://localhost:8402/images/1-x.png")])
    response._local.saved.append(path)  # as save() records it
    html = response._repr_html_()
    assert "data:image/png;base64," in html
    for shown in ("a red square", "google/nano-banana", "0.0525"):
        assert shown in html


def test_html_links_an_image_it_cannot_fetch() -> None:
    """A response not made by a client (nowhere to fetch from) links its URL; no <img> to it."""
    response = _response(data=[ImageData(url="http://localhost:8402/images/1-x.png")])
    html = response._repr_html_()
    assert 'href="http://localhost:8402/images/1-x.png"' in html
    assert "<img" not in html
    assert response._repr_png_() is None


def test_preview_before_saving_is_an_inline_thumbnail(clawrouter_server: str) -> None:
    """An image not saved yet is fetched once and inlined small, so a remote kernel shows it."""
    with ImageClient() as client:  # reaches the emulator through CLAWROUTER_BASE_URL
        response = client.generate("a red square", model="banana-pro", size="2048x2048")
    html = response._repr_html_()
    assert 'src="http' not in html
    assert len(html) < 64_000  # a thumbnail, not the 2048x2048 image
    embedded = html.split("data:image/png;base64,", 1)[1].split('"', 1)[0]
    with Image.open(io.BytesIO(base64.b64decode(embedded))) as thumb:
        assert max(thumb.size) == 256
    assert response._repr_png_() == base64.b64decode(embedded)  # made once, kept


def test_preview_of_an_unreachable_image_is_a_link() -> None:
    """ClawRouter gone: the preview links the URL, with no error and no broken <img>."""
    response = _response(data=[ImageData(url="http://localhost:9/images/1-x.png")])
    response._local.preview = functools.partial(_preview_client, "http://127.0.0.1:9")
    html = response._repr_html_()
    assert 'href="http://localhost:9/images/1-x.png"' in html
    assert "<img" not in html


@pytest.mark.parametrize("saved", [False, True])
def test_without_pillow_the_preview_never_inlines_the_image(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, saved: bool
) -> None:
    """No Pillow: links and a one-line hint naming the extra, never the full image inline."""
    big = png_bytes(1024, 1024)
    response = _response(data=[ImageData(b64_json=base64.b64encode(big).decode())])
    if saved:
        path = tmp_path / "a.png"
        path.write_bytes(big)
        response._local.saved.append(path)
    monkeypatch.setitem(sys.modules, "PIL", None)
    html = response._repr_html_()
    assert "base64" not in html
    assert "clawrouter-images[pillow]" in html
    assert response._repr_png_() is None


def test_png_repr_is_a_thumbnail_of_the_first_image() -> None:
    """_repr_png_ gives a small PNG of the first image."""
    response = _response(
        data=[ImageData(b64_json=base64.b64encode(png_bytes(1024, 512, RED)).decode())]
    )
    png = response._repr_png_()
    assert png is not None
    assert Image.open(io.BytesIO(png)).size == (256, 128)


# -- the preview's download: a total deadline, tried once ---------------------------------


class _Drip(httpx.SyncByteStream):
    """One byte per chunk, each arriving ``every`` seconds later on ``clock``."""

    def __init__(self, clock: list[float], every: float, chunks: int) -> None:
        self.clock, self.every, self.chunks, self.sent = clock, every, chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.clock[0] += self.every
            self.sent += 1
            yield b"\x89"


def _preview_through(
    monkeypatch: pytest.MonkeyPatch, answer: Callable[[httpx.Request], httpx.Response]
) -> list[httpx.Request]:
    """The preview's downloads answered by ``answer``; the requests it made."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer(request)

    def client(base_url: str) -> ImageClient:
        transport = httpx.MockTransport(handler)
        return ImageClient(base_url, http_client=httpx.Client(transport=transport), max_retries=0)

    monkeypatch.setattr(clawrouter_images._client, "_preview_client", client)
    return requests


def _unsaved(url: str = "http://localhost:8402/images/1-x.png") -> ImageResponse:
    response = _response(data=[ImageData(url=url)])
    # As the client records it: its own _preview_client for its base URL.
    response._local.preview = lambda: clawrouter_images._client._preview_client(
        "http://127.0.0.1:8402"
    )
    return response


def test_a_dripping_download_ends_at_the_preview_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte every 5 s: the preview gives up after PREVIEW_TIMEOUT_SECONDS of it (not the
    client's 120 s download deadline) and shows a link."""
    clock = [1000.0]
    monkeypatch.setattr(_display, "_now", lambda: clock[0])
    drip = _Drip(clock, every=5.0, chunks=100)
    _preview_through(monkeypatch, lambda request: httpx.Response(200, stream=drip))
    html = _unsaved()._repr_html_()
    assert "<img" not in html
    assert 'href="http://localhost:8402/images/1-x.png"' in html
    assert drip.sent * drip.every <= PREVIEW_TIMEOUT_SECONDS + drip.every


def test_an_image_without_a_thumbnail_is_not_fetched_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed thumbnail is remembered: _repr_html_ then _repr_png_ fetch once, not twice."""
    requests = _preview_through(
        monkeypatch, lambda request: httpx.Response(200, content=b"\x89PNG\r\n\x1a\nbroken")
    )
    response = _unsaved()
    assert "no preview" in response._repr_html_()
    assert response._repr_png_() is None
    assert "no preview" in response._repr_html_()
    assert len(requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "http://localhost:8402/images/" + "a" * 5000 + ".png",
    ],
)
def test_only_http_urls_of_sane_length_are_linked(url: str) -> None:
    """Any other URL (or one too long to be a real link) is shown as text, never an href."""
    html = _response(data=[ImageData(url=url)])._repr_html_()
    assert "href=" not in html
    assert html.count("a" * 81) == 0  # shown shortened


def test_a_saved_path_is_shown_as_text(tmp_path: Path) -> None:
    """A saved file that gives no thumbnail is named, not linked (it is no URL)."""
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    response = _response(data=[ImageData(url="javascript:alert(1)")])
    response._local.saved.append(path)
    html = response._repr_html_()
    assert str(path) in html
    assert "href=" not in html


def test_a_saved_file_gone_since_falls_back(tmp_path: Path) -> None:
    """The saved file was deleted: the preview uses what else it has and does not raise."""
    response = _response(
        data=[ImageData(b64_json=base64.b64encode(png_bytes(512, 256, RED)).decode())]
    )
    response._local.saved.append(tmp_path / "gone.png")
    png = response._repr_png_()
    assert png is not None
    assert Image.open(io.BytesIO(png)).size == (256, 128)

"""ImageResponse in a notebook: thumbnails, never the full image data."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from clawrouter_images import ImageData, ImageResponse
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
    response._saved.append(path)  # as save() records it
    html = response._repr_html_()
    assert "data:image/png;base64," in html
    for shown in ("a red square", "google/nano-banana", "0.0525"):
        assert shown in html


def test_html_falls_back_to_the_url_without_local_bytes() -> None:
    """With nothing local, the HTML points at the image URL instead of fetching it."""
    response = _response(data=[ImageData(url="http://localhost:8402/images/1-x.png")])
    assert 'src="http://localhost:8402/images/1-x.png"' in response._repr_html_()
    assert response._repr_png_() is None


def test_png_repr_is_a_thumbnail_of_the_first_image() -> None:
    """_repr_png_ gives a small PNG of the first image."""
    response = _response(
        data=[ImageData(b64_json=base64.b64encode(png_bytes(1024, 512, RED)).decode())]
    )
    png = response._repr_png_()
    assert png is not None
    assert Image.open(io.BytesIO(png)).size == (256, 128)

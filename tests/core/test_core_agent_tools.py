"""The framework-neutral tool contract: descriptions, schemas, result text and input policy."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clawrouter_images import MODELS, ImageClient, ImageData, ImageResponse, InputImageError
from clawrouter_images.agent_tools import ImageToolConfig
from clawrouter_images.agent_tools._descriptions import (
    MAX_DESCRIPTION_CHARS,
    edit_description,
    generate_description,
)
from clawrouter_images.agent_tools._file_policy import check_local_path
from clawrouter_images.agent_tools._results import format_result
from clawrouter_images.agent_tools._schemas import edit_schema, generate_schema

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter

AVAILABLE = [m for m in MODELS.values() if m.available]
EDITORS = [m for m in AVAILABLE if m.edits]


def test_generate_description_names_every_available_model_and_price() -> None:
    """Each available model appears with its price; delisted and unavailable ones do not."""
    text = generate_description()
    assert len(text) <= MAX_DESCRIPTION_CHARS
    for model in AVAILABLE:
        assert f"- {model.alias}" in text
        assert model.price_text() in text
    for model in MODELS.values():
        if not model.available:
            assert f"- {model.alias} " not in text


def test_descriptions_open_with_when_to_use_them() -> None:
    """The first sentence tells the LLM when to call the tool, in the brief's words."""
    assert generate_description().startswith("Generate images")
    assert "generate, create, draw or make an image" in generate_description()
    assert "edit, modify, change or retouch" in edit_description()


def test_description_gives_sizes_by_shape_and_who_takes_them() -> None:
    """Portrait and landscape sizes are listed with the models that take them."""
    text = generate_description()
    assert "portrait 1024x1792 (nano-banana)" in text
    assert "landscape" in text
    assert "banana-pro up to 4096" in text


def test_edit_description_offers_only_editing_models() -> None:
    """The edit tool lists the models that can edit, with gpt-image as the default."""
    text = edit_description()
    assert len(text) <= MAX_DESCRIPTION_CHARS
    for model in AVAILABLE:
        assert (f"- {model.alias}" in text) == model.edits
    assert "- gpt-image (default)" in text


def test_a_delisted_model_is_offered_only_when_configured_in() -> None:
    """Configuring dall-e-3 in shows it with its status, so the LLM knows why it fails."""
    text = generate_description(ImageToolConfig(models=["nano-banana", "dall-e-3"]))
    assert "dall-e-3" in text
    assert "delisted upstream 2026-05-25" in text


@given(st.sets(st.sampled_from([m.alias for m in MODELS.values()]), min_size=1))
def test_any_model_selection_fits_and_names_every_price(aliases: set[str]) -> None:
    """Whatever models are configured, each with its price fits in 1024 characters."""
    config = ImageToolConfig(models=sorted(aliases))
    text = generate_description(config)
    assert len(text) <= MAX_DESCRIPTION_CHARS
    for alias in aliases:
        model = next(m for m in MODELS.values() if m.alias == alias)
        assert f"- {alias}" in text
        assert model.price_text() in text


def test_schemas_enumerate_the_offered_models_and_nothing_else() -> None:
    """The LLM may choose a model from an enum, but never timeouts, folders or URLs."""
    generate = generate_schema().model_json_schema()
    assert set(generate["properties"]) == {"prompt", "model", "size", "n"}
    enum = generate["properties"]["model"]["anyOf"][0]["enum"]
    assert enum == [m.alias for m in AVAILABLE]
    edit = edit_schema().model_json_schema()
    assert set(edit["properties"]) == {"prompt", "image", "mask", "model", "size", "n"}
    assert edit["properties"]["model"]["anyOf"][0]["enum"] == [m.alias for m in EDITORS]
    assert "white areas are edited, black areas kept" in edit["properties"]["mask"]["description"]


def _response(**fields: object) -> ImageResponse:
    base: dict[str, object] = {
        "prompt": "a [red] fox",
        "model": "google/nano-banana",
        "size": "1024x1024",
        "estimated_cost_usd": 0.0525,
    }
    return ImageResponse.model_validate({**base, **fields})


def test_result_text_has_model_size_cost_and_a_markdown_image() -> None:
    """The LLM reads the model, size, estimated cost and ![prompt](url) per image."""
    response = _response(data=[ImageData(url="http://localhost:8402/images/1-a.png")])
    text = format_result(response, [Path("/out/a-red-fox.png")])
    assert "google/nano-banana at 1024x1024" in text
    assert "$0.0525" in text
    assert "![a red fox](http://localhost:8402/images/1-a.png)" in text
    assert "Saved: /out/a-red-fox.png" in text


def test_result_text_never_carries_base64() -> None:
    """An inline-only result is shown by its saved file, never as base64."""
    payload = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(3000)).decode()
    response = _response(data=[ImageData(b64_json=payload), ImageData(b64_json=payload)])
    text = format_result(response, [Path("/out/a.png")])
    assert payload[:40] not in text
    assert "](file:///out/a.png)" in text
    assert "returned inline" in text


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:22/",
        "http://localhost:8080/admin.png",
        "http://10.0.0.5/cat.png",
        "http://192.168.1.1/router.png",
        "http://[::1]:8402/x.png",
        "http://app.localhost/x.png",
    ],
)
def test_urls_into_the_local_network_are_refused(url: str, fake: FakeClawRouter) -> None:
    """An LLM-chosen URL cannot make the client fetch from this machine or its network."""
    http = httpx.Client(transport=fake.transport())
    with ImageClient("http://127.0.0.1:8402", http_client=http) as client:
        # The tool policy passes URLs on; the client decides by address when it fetches.
        image = check_local_path(url, [])
        with pytest.raises(InputImageError, match="private network"):
            client.edit("x", image)
    http.close()
    assert fake.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://images.example.org/cat.png",
        "http://localhost:8402/images/1795485942728-k0tmygue.png",
        "http://127.0.0.1:8402/images/1795485942728-k0tmygue.png",
    ],
)
def test_public_urls_and_clawrouter_results_are_allowed(url: str) -> None:
    """Public URLs and ClawRouter's own localised results pass the path policy unchanged."""
    assert check_local_path(url, []) == url

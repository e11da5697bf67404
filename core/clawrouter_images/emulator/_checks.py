"""The emulator's stand-in for the upstream's checks: which requests BlockRun would take.

What the real upstream checks is not visible from ClawRouter, so these checks are the
emulator's own, plausible choices (a client validates the same things before paying):

- ``model`` must be the full id of a catalogue model whose status is ``available``;
  aliases such as ``nano-banana`` are not resolved (ClawRouter forwards ``model``
  verbatim, and resolving aliases is the client's job).  Anything else answers
  ``400 {"error":"Invalid request","details":"Unknown model: <model>"}``.  No model on
  generations means ``google/nano-banana``.  ``openai/dall-e-3`` answers the gateway's
  recorded ``400 {"error":"Delisted 2026-05-25: OpenAI removed dall-e-3 from the API"}``.
- ``prompt`` must be a non-empty string; ``n`` an integer from 1 to the model's cap;
  ``size`` ``WxH`` that the model accepts (default: its first size; ``auto`` allowed);
  ``output_format`` png, jpeg or webp; ``response_format`` url or b64_json.
- image2image: the model must be able to edit; ``image`` must be a data URI or a list of
  1 to ``max_input_images`` data URIs (ClawRouter converts only single strings, so a
  list holding a path arrives as a path and is refused here); ``mask`` must be a data URI,
  only for models that take masks, and not with several images.

All of those are answered before payment.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .._catalog import MODELS, ImageModel
from .._constants import DEFAULT_EDIT_MODEL, DEFAULT_GENERATE_MODEL
from ._drawing import ImageFormat
from ._jsparse import js_falsy
from ._wire import Reply, error_reply, json_reply

Route = Literal["generations", "image2image"]

_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_FORMATS: dict[object, ImageFormat] = {"png": "png", "jpeg": "jpeg", "webp": "webp"}
DELISTED = {"openai/dall-e-3": "Delisted 2026-05-25: OpenAI removed dall-e-3 from the API"}


@dataclass(frozen=True)
class Job:
    """A request the upstream accepted."""

    route: Route
    model: ImageModel
    model_field: object
    """``model`` as the body held it (echoed by Google-style answers, null when absent)."""
    prompt: str
    width: int
    height: int
    n: int
    image_format: ImageFormat
    b64: bool
    images: tuple[bytes, ...] = ()
    mask: bytes | None = None


def invalid(details: str) -> Reply:
    return error_reply(400, "Invalid request", details)


def _decode_data_uri(value: str) -> bytes:
    header, comma, payload = value.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise ValueError("not a base64 data URI")
    try:
        return base64.b64decode(payload)
    except (binascii.Error, ValueError) as err:
        raise ValueError("invalid base64") from err


def _check_model(raw: object, route: Route, models: Mapping[str, ImageModel]) -> ImageModel | Reply:
    if not isinstance(raw, str):
        return invalid(f"Unknown model: {json.dumps(raw)}")
    if raw in DELISTED:
        return json_reply(400, {"error": DELISTED[raw]})
    model = models.get(raw)
    if model is None or not model.available:
        return invalid(f"Unknown model: {raw}")
    if route == "image2image" and not model.can_edit:
        return invalid(f"Model {raw} does not support image editing")
    return model


def _check_images(
    payload: dict[str, object], model: ImageModel
) -> tuple[tuple[bytes, ...], bytes | None] | Reply:
    image = payload.get("image")
    if image is None or image == "":
        return invalid("image is required")
    values: Sequence[object] = image if isinstance(image, list) else [image]
    if not isinstance(image, (str, list)) or not values:
        return invalid("image must be a data URI or a list of data URIs")
    if len(values) > model.max_input_images:
        return invalid(f"{model.id} takes at most {model.max_input_images} input images")
    decoded: list[bytes] = []
    for index, value in enumerate(values):
        name = f"image[{index}]" if isinstance(image, list) else "image"
        if not isinstance(value, str) or not value.startswith("data:"):
            shown = value if not isinstance(value, str) else value[:80]
            return invalid(f"{name} must be a data URI (data:image/...;base64,...), got {shown!r}")
        try:
            decoded.append(_decode_data_uri(value))
        except ValueError as err:
            return invalid(f"{name} is not a readable image: {err}")
    mask_value = payload.get("mask")
    if mask_value is None or mask_value == "":
        return tuple(decoded), None
    if not model.can_mask:
        return invalid(f"Model {model.id} does not support mask")
    if len(decoded) > 1:
        return invalid("mask cannot be combined with several images")
    if not isinstance(mask_value, str) or not mask_value.startswith("data:"):
        return invalid("mask must be a data URI (data:image/png;base64,...)")
    try:
        return tuple(decoded), _decode_data_uri(mask_value)
    except ValueError as err:
        return invalid(f"mask is not a readable image: {err}")


def validate(
    route: Route,
    payload: object,
    *,
    valid_json: bool,
    models: Mapping[str, ImageModel] = MODELS,
) -> Job | Reply:
    """The upstream's checks, in order; a ``Reply`` is its 400.  ``models``: what the
    upstream serves, by full id (the catalogue, plus any model the emulator was given)."""
    if not valid_json:
        return json_reply(400, {"error": "Invalid JSON body"})
    if not isinstance(payload, dict):
        return invalid("Request body must be a JSON object")
    raw_model = payload.get("model")
    if js_falsy(raw_model):
        raw_model = DEFAULT_GENERATE_MODEL if route == "generations" else DEFAULT_EDIT_MODEL
    model = _check_model(raw_model, route, models)
    if isinstance(model, Reply):
        return model
    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return invalid("prompt is required")
    n = payload.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= model.max_n:
        return invalid(f"n must be an integer from 1 to {model.max_n} for {model.id}")
    size: object = payload.get("size")
    if size is None or size == "auto":
        size = model.default_size
    match = _SIZE.match(size) if isinstance(size, str) else None
    if match is None or not model.accepts_size(match.group(0)):
        return invalid(f"size {size} is not supported by {model.id}; use {model.sizes_text()}")
    requested_format = payload.get("output_format", "png")
    image_format = _FORMATS.get(requested_format) if isinstance(requested_format, str) else None
    if image_format is None:
        return invalid("output_format must be one of png, jpeg, webp")
    response_format = payload.get("response_format", "url")
    if response_format not in ("url", "b64_json"):
        return invalid("response_format must be url or b64_json")
    images: tuple[bytes, ...] = ()
    mask: bytes | None = None
    if route == "image2image":
        checked = _check_images(payload, model)
        if isinstance(checked, Reply):
            return checked
        images, mask = checked
    return Job(
        route=route,
        model=model,
        model_field=payload.get("model"),
        prompt=prompt,
        width=int(match.group(1)),
        height=int(match.group(2)),
        n=n,
        image_format=image_format,
        b64=response_format == "b64_json",
        images=images,
        mask=mask,
    )

"""Reading ClawRouter's answers: a paid answer keeps every usable image, whatever else is odd.

An answer to the POST came after the request may have been paid, so nothing in it may be
thrown away for a side field this client did not expect (``created`` as a date string,
``revised_prompt`` as an object, a ``null`` among the images).  Each field the client
types is read if it can be and otherwise left to the default, its raw value kept beside it
as ``<name>_raw``; each image that carries a usable URL or ``b64_json`` is kept.  Only an
answer with no usable image at all is an error, and that error names the URLs found.

What counts as a usable URL is decided here once: an http(s) URL of sane length with no
white space, quotes, angle brackets or characters beyond printable ASCII, or a ``data:image/...;base64,`` URI.  Anything
else is not a URL: it is never fetched, never saved from, and never shown to an LLM.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import httpx

from ._bodies import encoding_problem, meter
from ._constants import LOGGER_NAME
from ._deadline import remaining
from ._exceptions import (
    APIStatusError,
    DownloadError,
    ResponseValidationError,
    loads_json,
    quote,
    status_error,
    timeout_error,
    unexpected_body_error,
)
from ._network import usable_url

if TYPE_CHECKING:
    from ._call import PricedCall
    from ._models import Health, ImageData, ImageResponse

log = logging.getLogger(LOGGER_NAME)


def _created(value: object) -> int | None:
    """Seconds since the epoch from an int, a finite float, or an ISO 8601 date string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str) and len(value) <= 64:
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            # 3.10's fromisoformat does not read a trailing Z.
            when = datetime.fromisoformat(text.removesuffix("Z").removesuffix("z"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return int(when.timestamp())
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _read(raw: dict[str, object], name: str, value: object) -> dict[str, object]:
    """``{name: value}``, plus ``name_raw`` when the answer's own value could not be read."""
    field: dict[str, object] = {name: value}
    if name in raw and raw[name] is not None and value is None:
        field[f"{name}_raw"] = raw[name]
    return field


def image_items(data: object, n: int) -> tuple[list[dict[str, object]], int]:
    """The usable images of an answer's ``data`` (at most ``n``) and how many were not.

    An item is usable when it has a usable URL or a non-empty ``b64_json``; a lone object
    in place of a list counts as a list of one.
    """
    entries = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    kept: list[dict[str, object]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        url = usable_url(entry.get("url"))
        b64 = entry.get("b64_json")
        b64 = b64 if isinstance(b64, str) and b64.strip() else None
        if url is None and b64 is None:
            continue
        item: dict[str, object] = {
            key: value
            for key, value in entry.items()
            if isinstance(key, str) and key not in ("url", "b64_json", "revised_prompt")
        }
        item.update(url=url, b64_json=b64)
        if entry.get("url") is not None and url is None:
            item["url_raw"] = entry["url"]
        item.update(_read(entry, "revised_prompt", _text(entry.get("revised_prompt"))))
        kept.append(item)
    return kept[:n], len(entries) - len(kept[:n])


def answer_fields(body: dict[str, object]) -> dict[str, object]:
    """The answer's top-level fields, typed ones read leniently (see the module)."""
    fields = {key: value for key, value in body.items() if key not in ("data", "created")}
    fields.update(_read(body, "created", _created(body.get("created"))))
    return fields


# -- answers as they arrive -----------------------------------------------------------------


def answer_problem(base_url: str, problem: str, *, paid: bool) -> ResponseValidationError:
    return ResponseValidationError(
        f"ClawRouter at {base_url} answered, but {problem}; "
        + (
            "the request may have been paid — check ClawRouter's log before sending it again"
            if paid
            else "is the base URL right?"
        ),
        may_have_been_paid=paid,
    )


def check_answer(response: httpx.Response, cap: int, *, base_url: str, paid: bool) -> None:
    """Make reading ``response`` stop at ``cap`` bytes or at the call's deadline; refuse a
    compressed body first (``_bodies``)."""
    problem = encoding_problem(response)
    if problem is not None:
        raise answer_problem(base_url, problem, paid=paid)

    def progress(size: int) -> None:
        if size > cap:
            raise answer_problem(base_url, f"its body is larger than {cap:,} bytes", paid=paid)
        time_left = remaining()
        if time_left is not None and time_left <= 0:
            raise timeout_error(base_url, None, paid=paid)

    meter(response, progress)


def redirect_error(response: httpx.Response, base_url: str, *, paid: bool) -> APIStatusError:
    # ClawRouter never redirects, so whatever answered is something in front of it (a proxy,
    # a login page), and whether it passed the POST on first cannot be known: the answer to
    # a POST counts as possibly paid.  Redirects stay unfollowed.
    location = quote(response.headers.get("location", "(no Location)"), 120)
    step = (
        "the request may have been paid, so it was not retried; check ClawRouter's log "
        "and the base URL before sending it again"
        if paid
        else "check the base URL"
    )
    return APIStatusError(
        f"{base_url} answered {response.status_code}, a redirect to {location}: "
        f"ClawRouter never redirects, so something else answered — {step}",
        status_code=response.status_code,
        response=response,
        may_have_been_paid=paid,
    )


def read_result(call: PricedCall, response: httpx.Response, *, base_url: str) -> ImageResponse:
    """The images of the answer to a paid POST, read leniently: every usable image is
    kept; only an answer with none is an error, naming the URLs it holds."""
    status = response.status_code
    if 300 <= status < 400:
        raise redirect_error(response, base_url, paid=True)
    if status >= 400:
        raise status_error(
            response, base_url=base_url, model=call.model.id, instead=call.instead, route=call.path
        )
    try:
        body = loads_json(response.content)
    except ValueError as err:
        raise unexpected_body_error(
            f"its body is not JSON ({quote(str(err), 80)}: {quote(response.text, 120)!r})",
            response.text,
            status,
        ) from None
    if not isinstance(body, dict):
        raise unexpected_body_error("its body is not a JSON object", body, status)
    items, skipped = image_items(body.get("data"), call.n)
    if not items:
        if body.get("poll_url") or body.get("status") in ("queued", "in_progress"):
            raise unexpected_body_error(
                f"with an unfinished job (id={quote(repr(body.get('id')), 60)}, "
                f"status={quote(repr(body.get('status')), 40)}) instead of images: "
                f"ClawRouter does not wait for {call.model.id} on this route",
                body,
                status,
            )
        raise unexpected_body_error("with no usable image URL or b64_json in `data`", body, status)
    if skipped:
        # Never take more than was asked for (each image would be saved and shown), nor
        # what is not an image reference.
        log.warning(
            "ClawRouter answered %d images for n=%d; kept the first %d usable",
            len(items) + skipped,
            call.n,
            len(items),
        )
    fields = answer_fields(body)
    fields.update(
        data=items,
        model=call.model.id,
        size=call.size,
        prompt=call.prompt,
        estimated_cost_usd=call.estimate,
    )
    try:
        result = _response_model().model_validate(fields)
    except Exception as err:  # the fields were read leniently; this is a bug, not the wire
        raise unexpected_body_error(
            f"with a body this client could not keep ({quote(str(err), 200)})", body, status
        ) from None
    result._local.answered = (id(result), fields)
    return result


def read_health(response: httpx.Response, *, base_url: str) -> Health:
    """``GET /health``'s answer; /health is free, so no status of it means money left."""
    if 300 <= response.status_code < 400:
        raise redirect_error(response, base_url, paid=False)
    if response.status_code >= 400:
        raise status_error(response, base_url=base_url, model=None)
    from ._models import Health

    try:
        return Health.model_validate(loads_json(response.content))
    except ValueError:
        raise ResponseValidationError(
            f"{base_url}/health did not answer like ClawRouter "
            f"({quote(response.text, 120)!r}); is the base URL right?",
            body=response.text,
        ) from None


@functools.cache
def _response_model() -> type[ImageResponse]:
    """``ImageResponse``, loaded with the first answer: defining pydantic models loads
    pydantic's field machinery, which importing the client need not pay."""
    from ._models import ImageResponse

    return ImageResponse


# -- a result's bytes -------------------------------------------------------------------------


def inline_bytes(item: ImageData | str) -> bytes | None:
    """Bytes of a result that carries them inline (b64_json or a data URI), else None."""
    encoded: str | None
    if isinstance(item, str):
        encoded = item.partition(",")[2] if item.startswith("data:") else None
    elif item.b64_json:
        encoded = item.b64_json
    elif item.url and item.url.startswith("data:"):
        encoded = item.url.partition(",")[2]
    else:
        encoded = None
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DownloadError("a result image holds invalid base64") from None


def result_url(item: ImageData | str) -> str:
    """The URL to download a result from."""
    url = item if isinstance(item, str) else item.url
    if not url:
        raise DownloadError("this result has neither a URL nor b64_json to download")
    return url

"""Reading a paid answer: every usable image reference is kept, whatever else is odd.

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

import math
import re
from collections.abc import Iterator
from datetime import datetime, timezone

# Browsers, CDNs and LLM context windows all stop well before this: a longer "URL" from
# the server is no link anyone can use, only a flood of text.
MAX_URL_CHARS = 2048
# Printable ASCII only: a URL with other characters (a right-to-left override, a lookalike
# letter) is percent-encoded by whoever means it; white space, quotes and brackets end it.
_HTTP_URL = re.compile(r"https?://[!#-&(-;=?-\[\]_a-z~]+", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"data:image/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,", re.IGNORECASE)
# How far error messages look for URLs in an answer they could not use.
_MAX_SHOWN_URLS = 4
_MAX_WALK = 2000


def usable_url(value: object) -> str | None:
    """``value`` if it is a URL this package may fetch, save from or show, else None."""
    if not isinstance(value, str):
        return None
    if _DATA_IMAGE.match(value):
        return value
    if len(value) > MAX_URL_CHARS or not _HTTP_URL.fullmatch(value):
        return None
    from ._network import parse_url

    parsed = parse_url(value)
    return value if parsed is not None and parsed.host else None


def linkable(url: str | None) -> bool:
    """Whether a result URL may be shown as a link (to an LLM, in a notebook): usable, and
    not inline data."""
    return url is not None and not url.startswith("data:") and usable_url(url) is not None


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


def _strings(value: object) -> Iterator[str]:
    """Every string inside ``value``, breadth first, a bounded number of nodes."""
    queue = [value]
    seen = 0
    while queue and seen < _MAX_WALK:
        node = queue.pop(0)
        seen += 1
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node)


def found_urls(body: object) -> list[str]:
    """The http(s) URLs an answer holds anywhere (a few), for a message that must not lose
    them: each is usable (``usable_url``), so it is short and safe to show."""
    urls: list[str] = []
    for text in _strings(body):
        for match in _HTTP_URL.finditer(text[: MAX_URL_CHARS * _MAX_SHOWN_URLS * 4]):
            url = usable_url(match.group().rstrip(".,;:)]}"))
            if url is not None and url not in urls:
                urls.append(url)
                if len(urls) == _MAX_SHOWN_URLS:
                    return urls
    return urls

"""What a call gives back: short text for the LLM, images for a vision model, and the JSON
artifact the LLM does not read."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, TypeVar

from .._catalog import format_usd
from .._exceptions import holds_encoded, quote
from .._network import linkable

if TYPE_CHECKING:
    from pathlib import Path

    from .._models import ImageResponse

_PartT = TypeVar("_PartT")


@dataclass(frozen=True)
class ResultImage:
    """One image sized for a vision model: its bytes and their media type."""

    mime_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        # Reprs land in agent traces and logs: never the image itself.
        return f"ResultImage(mime_type={self.mime_type!r}, data=<{len(self.data):,} bytes>)"


class ImageToolResult(TypedDict):
    """The artifact of a tool call: everything the LLM does not read, as plain JSON data.

    A dict of strings, numbers and lists, so it survives ``messages_to_dict`` and
    ``json.dumps``, LangGraph checkpointers and ``ToolOutput.model_dump_json()`` unchanged.
    It never holds image bytes: ``urls`` and ``saved_paths`` point at the images.
    """

    model: str | None
    size: str | None
    prompt: str | None
    estimated_cost_usd: float
    urls: list[str]
    """Result URLs (inline results have none: see ``saved_paths``)."""
    saved_paths: list[str]
    """The files written, in the order of the images (empty without ``save_dir``)."""
    response: dict[str, Any]
    """What ClawRouter answered, as JSON, with inline image data left out."""


class ToolAnswer(NamedTuple):
    """What a tool call gives an adapter: the text and images for the LLM, and the artifact."""

    text: str
    artifact: ImageToolResult
    images: list[ResultImage]
    """Each image sized for a vision model (only with ``return_image_block``)."""

    def parts(
        self, text: Callable[[str], _PartT], image: Callable[[str, str], _PartT]
    ) -> list[_PartT]:
        """The content a framework hands the LLM: the text, then each image as
        ``image(base64, mime_type)``, so that no image ever travels inside the text."""
        return [
            text(self.text),
            *(image(base64.b64encode(i.data).decode("ascii"), i.mime_type) for i in self.images),
        ]


def tool_result(response: ImageResponse, saved_paths: Sequence[Path] = ()) -> ImageToolResult:
    """The JSON artifact of ``response`` and the files it was saved to."""
    # The answer as the client read it is the model's JSON form already (a test holds the
    # two equal); a response made, copied or unpickled elsewhere is dumped.
    kept = response._local.answered
    if kept is not None and kept[0] == id(response):
        wire = dict(kept[1])
    else:
        wire = response.model_dump(mode="json")
    wire["data"] = [_without_inline(item) for item in wire.get("data") or []]
    return {
        "model": response.model,
        "size": response.size,
        "prompt": response.prompt,
        "estimated_cost_usd": response.estimated_cost_usd,
        "urls": [url for url in response.urls if linkable(url)],
        "saved_paths": [str(path) for path in saved_paths],
        # Extra fields the server added may hold images too (image_base64,
        # output.images[].data): the artifact keeps none of them.
        "response": without_encoded_data(wire),
    }


def _without_inline(item: dict[str, Any]) -> dict[str, Any]:
    """An image's JSON without its inline bytes (a copy: the answer itself is kept whole)."""
    kept = {key: value for key, value in item.items() if key != "b64_json"}
    if str(kept.get("url") or "").startswith("data:"):
        kept["url"] = None
    return kept


def format_result(response: ImageResponse, saved_paths: Sequence[Path] = ()) -> str:
    """Short text for the LLM: model, size, estimated cost, one markdown image per result.

    Never base64: an inline-only result is shown by its saved path, or described.
    """
    count = len(response.data)
    head = (
        f"{count} image{'s' if count != 1 else ''} from {response.model} at {response.size}, "
        f"estimated cost {format_usd(response.estimated_cost_usd)}."
    )
    alt = _alt_text(response.prompt)
    lines = [head]
    for index, item in enumerate(response.data):
        url = item.url if linkable(item.url) else None
        saved = saved_paths[index] if index < len(saved_paths) else None
        if url:
            lines.append(f"![{alt}]({_markdown_url(url)})")
        elif saved is not None:
            lines.append(f"![{alt}]({_markdown_url(saved.as_uri())})")
        elif item.url and not item.url.startswith("data:"):
            # Not a URL anyone should follow (too long, spaces, another scheme): never pasted.
            lines.append(f"(image {index + 1} came back without a usable URL)")
        else:
            lines.append(f"(image {index + 1} returned inline; set a save directory to keep it)")
        if item.revised_prompt:
            # Server text: one line, bounded, so that it cannot pose as anything else.
            revised = " ".join(item.revised_prompt.split())
            lines.append(f"Revised prompt: {quote(revised, 200)}")
    if saved_paths:
        lines.append("Saved: " + ", ".join(str(p) for p in saved_paths))
    return "\n".join(lines)


def _markdown_url(url: str) -> str:
    # A usable URL holds no white space or quotes; parentheses would end the link early.
    return url.replace("(", "%28").replace(")", "%29")


def without_encoded_data(value: Any) -> Any:
    """``value`` (JSON data) with every string that holds encoded data (a data URI, a long
    base64 run) replaced by a note of its length."""
    if isinstance(value, str):
        if value.startswith("data:") or holds_encoded(value):
            return f"[{len(value)} chars of encoded data left out]"
        return value
    if isinstance(value, dict):
        return {key: without_encoded_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_encoded_data(item) for item in value]
    return value


# Brackets and line breaks would end the markdown image early.
_ALT_BREAKERS = re.compile(r"[\[\]\n\r]+")


def _alt_text(prompt: str | None) -> str:
    text = " ".join(_ALT_BREAKERS.sub(" ", prompt or "image").split())
    return quote(text, 80)

"""What the LLM reads about each tool: when to use it, and which model and size to pick,
built from the catalogue for the offered models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._catalog import parse_size
from .._constants import MAX_INPUT_IMAGES
from ._config import ImageToolConfig

if TYPE_CHECKING:
    from .._catalog import ImageModel

# LlamaIndex refuses longer tool descriptions when converting to OpenAI tools.
MAX_DESCRIPTION_CHARS = 1024

_SHAPES = ("square", "portrait", "landscape")


def _shape(size: str) -> str:
    width, height = parse_size(size)
    return "square" if width == height else ("portrait" if height > width else "landscape")


def _sizes_by_shape(offered: list[ImageModel]) -> str:
    """``Sizes: square 1024x1024 (all); 2048x2048 (banana-pro, seedream). portrait ...``."""
    takers: dict[str, list[str]] = {}
    for model in offered:
        for size in model.sizes:
            takers.setdefault(size, []).append(model.alias)
    everyone = [m.alias for m in offered]
    parts = []
    for shape in _SHAPES:
        # Sizes taken by the same models share one entry, which keeps the text short.
        groups: dict[tuple[str, ...], list[str]] = {}
        for size, names in takers.items():
            if _shape(size) == shape:
                groups.setdefault(tuple(names), []).append(size)
        entries = [
            f"{', '.join(sizes)} ({'all' if list(names) == everyone else ', '.join(names)})"
            for names, sizes in groups.items()
        ]
        if entries:
            parts.append(f"{shape} " + "; ".join(entries))
    free = [f"{m.alias} up to {m.free_sizes.max_side}" for m in offered if m.free_sizes]
    if free:
        parts.append("any WxH: " + ", ".join(free))
    return "Sizes: " + ". ".join(parts) + "."


def _model_lines(offered: list[ImageModel], default: ImageModel) -> str:
    lines = []
    for model in offered:
        tag = " (default)" if model == default else ""
        note = f" [{model.status_note}]" if not model.available else ""
        lines.append(f"- {model.alias}{tag} {model.price_text()}: {model.best_for}{note}")
    return "\n".join(lines)


def _fit(parts: list[str]) -> str:
    """Join description parts, dropping the least essential ones (from the end) to fit the limit."""
    while len(parts) > 2 and len("\n".join(parts)) > MAX_DESCRIPTION_CHARS:
        parts = parts[:-1]
    text = "\n".join(parts)
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 1] + "…"


def generate_description(config: ImageToolConfig | None = None) -> str:
    """When to use the generate tool and which model and size to pick, from the catalogue."""
    return _description(config or ImageToolConfig(), editing=False)


def edit_description(config: ImageToolConfig | None = None) -> str:
    """When to use the edit tool and which model to pick, from the catalogue."""
    return _description(config or ImageToolConfig(), editing=True)


def _description(config: ImageToolConfig, *, editing: bool) -> str:
    offered = config.offered(editing=editing)
    if editing:
        when = (
            "Edit an existing image following an instruction. Use when the user asks to edit, "
            "modify, change or retouch an image: from a URL, a local file or an earlier result. "
            "USD per image:"
        )
        returns = f"Up to {MAX_INPUT_IMAGES} input images; {_mask_rule(offered)} "
    else:
        when = (
            "Generate images from a text prompt. Use when the user asks to generate, create, "
            "draw or make an image. USD per image:"
        )
        returns = ""
    return _fit(
        [
            when,
            _model_lines(offered, config.default_for(editing=editing)),
            _sizes_by_shape(offered),
            returns + "Returns markdown image links.",
        ]
    )


def _mask_rule(offered: list[ImageModel]) -> str:
    """Which offered models take a mask, from the catalogue."""
    maskers = [m.alias for m in offered if m.can_mask]
    if not maskers:
        return "no offered model takes a mask."
    return f"a mask only with one image and {' or '.join(maskers)}."

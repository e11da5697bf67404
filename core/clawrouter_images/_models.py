"""Response models.

They allow unknown fields, because ClawRouter passes the upstream's JSON through and newer
servers add keys.  Request bodies are built by the client's ``_plan`` from its own checked
arguments (and ``extra_body``, checked there), so they need no model of their own.
The client loads this module with its first answer, not at import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from ._exceptions import quote

if TYPE_CHECKING:
    from ._client import ImageClient


def _short(value: Any, depth: int = 0) -> Any:
    """``value`` for a repr: strings shortened, containers shortened inside, deep ones elided."""
    if isinstance(value, str):
        return quote(value, 60)
    if isinstance(value, (list, tuple, dict)):
        if depth >= 3:
            return f"<{type(value).__name__} of {len(value)}>"
        if isinstance(value, dict):
            return {key: _short(item, depth + 1) for key, item in list(value.items())[:20]}
        return [_short(item, depth + 1) for item in value[:20]]
    return value


class ImageData(BaseModel):
    """One result image: a URL (usually ClawRouter's localised ``/images/...``) or ``b64_json``."""

    # defer_build: schemas are built on first use (a CLI that only lists models never needs them).
    model_config = ConfigDict(extra="allow", defer_build=True)

    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None

    def __repr_args__(self) -> Any:
        # A repr or a log line must never carry megabytes of image data.
        for name, value in super().__repr_args__():
            yield name, _short(value)


@dataclass
class LocalState:
    """What this process did with an answer, kept beside it and never part of it."""

    preview: Callable[[], ImageClient] | None = None
    """A client for where the answer came from, made by the client that read it, so that a
    notebook preview can fetch a thumbnail of an image not saved yet (the localhost URL
    itself would not load on a remote kernel) without this module importing the client."""
    saved: list[Path] = field(default_factory=list)
    """What save() wrote, for the notebook preview (save() returns the paths)."""
    thumbnails: dict[int, bytes] = field(default_factory=dict)
    answered: tuple[int, dict[str, Any]] | None = None
    """The answer as this client read it (JSON data, the call's own fields included), with
    the ``id`` of the response it was read into: what that response holds, kept so that the
    agent tools' artifact need not dump the model again.  A copy (``model_copy`` shares
    this state) has another ``id``, and is dumped."""


class ImageResponse(BaseModel):
    """What ClawRouter answered, plus what was asked for and what it is estimated to cost."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    created: int | None = None
    # Mutable defaults are safe here: pydantic copies them per instance.
    data: list[ImageData] = []
    model: str | None = None  # the model asked for (full id)
    size: str | None = None  # the size asked for
    prompt: str | None = None  # the prompt sent
    estimated_cost_usd: float = 0.0  # catalogue estimate, gateway margin included

    @functools.cached_property
    def _local(self) -> LocalState:
        # Not PrivateAttr: pydantic would initialise those on every answer, a visible share
        # of a fast call; a cached property is made when first used, and no answer, input
        # or dump can reach it either.
        return LocalState()

    def __getstate__(self) -> dict[Any, Any]:
        # The local state stays in this process (a pickled answer, inside an error or not,
        # travels to others): its preview client is made for a URL that may hold a password.
        state = super().__getstate__()
        fields = state["__dict__"]
        if "_local" in fields:
            state["__dict__"] = {k: v for k, v in fields.items() if k != "_local"}
        return state

    def __repr_args__(self) -> Any:
        # Extra fields from the server may hold base64 too, at any depth.
        for name, value in super().__repr_args__():
            yield name, _short(value)

    @property
    def urls(self) -> list[str]:
        return [item.url for item in self.data if item.url]

    def _repr_html_(self) -> str:
        """Jupyter: a row of thumbnails with the prompt, model, size and estimated cost."""
        from ._display import response_html

        return response_html(self)

    def _repr_png_(self) -> bytes | None:
        """Jupyter: a thumbnail of the first image (needs Pillow)."""
        from ._display import thumbnail

        return thumbnail(self, 0) if self.data else None


class Health(BaseModel):
    """``GET /health``: ClawRouter's wallet, chain and (with ``full=True``) balance."""

    # ClawRouter's keys are camelCase (paymentChain, isLow, ...).
    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=to_camel, defer_build=True
    )

    status: str
    wallet: str | None = None
    payment_chain: str | None = None
    balance: str | float | None = None
    is_low: bool | None = None
    is_empty: bool | None = None
    balance_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

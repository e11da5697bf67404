"""Request and response models.

Requests forbid unknown fields (a typo must not be paid for); responses allow them,
because ClawRouter passes the upstream's JSON through and newer servers add keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._exceptions import quote


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    prompt: str
    size: str
    n: int = Field(ge=1)


class GenerateRequest(_Request):
    """Body of ``POST /v1/images/generations`` (before ``extra_body`` is merged)."""


class EditRequest(_Request):
    """Body of ``POST /v1/images/image2image`` without the images, which are streamed in."""


class ImageData(BaseModel):
    """One result image: a URL (usually ClawRouter's localised ``/images/...``) or ``b64_json``."""

    model_config = ConfigDict(extra="allow")

    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None

    def __repr_args__(self) -> Any:
        # A repr or a log line must never carry megabytes of image data.
        for name, value in super().__repr_args__():
            yield name, quote(value, 60) if isinstance(value, str) else value


class ImageResponse(BaseModel):
    """What ClawRouter answered, plus what was asked for and what it is estimated to cost."""

    model_config = ConfigDict(extra="allow")

    created: int | None = None
    data: list[ImageData] = Field(default_factory=list)
    model: str | None = Field(default=None, description="The model asked for (full id).")
    size: str | None = Field(default=None, description="The size asked for.")
    prompt: str | None = Field(default=None, description="The prompt sent.")
    estimated_cost_usd: float = Field(default=0.0, description="Catalogue estimate incl. margin.")
    saved_paths: list[Path] = Field(
        default_factory=list, description="Files written by ``save()`` for this response."
    )

    @property
    def urls(self) -> list[str]:
        return [item.url for item in self.data if item.url]

    def _repr_html_(self) -> str:
        """Jupyter: a row of thumbnails with the prompt, model, size and estimated cost."""
        from ._display import response_html

        return response_html(self)

    def _repr_png_(self) -> bytes | None:
        """Jupyter: a thumbnail of the first image, when its bytes are here and Pillow is."""
        from ._display import local_bytes, thumbnail_png

        data = local_bytes(self, 0) if self.data else None
        return thumbnail_png(data) if data is not None else None


class Health(BaseModel):
    """``GET /health``: ClawRouter's wallet, chain and (with ``full=True``) balance."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: str
    wallet: str | None = None
    payment_chain: str | None = Field(default=None, alias="paymentChain")
    balance: str | float | None = None
    is_low: bool | None = Field(default=None, alias="isLow")
    is_empty: bool | None = Field(default=None, alias="isEmpty")
    balance_error: str | None = Field(default=None, alias="balanceError")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

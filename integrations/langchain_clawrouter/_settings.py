"""What the person deploying the tools configures, shared by both tools and the toolkit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from typing_extensions import Self

from clawrouter_images import AsyncImageClient, ImageClient
from clawrouter_images.agent_tools import ImageToolConfig, ImageTools


class ClawRouterSettings(BaseModel):
    """The fields of ``ImageToolConfig``, plus where ClawRouter is and the clients to reach it.

    None of this is visible to the LLM: it cannot pick the save directory, the readable
    folders, the spending cap or the server.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    models: list[str] | None = None
    """Model names or ids the LLM may choose from (default: every available model)."""
    default_model: str | None = None
    """Model used for generation when the LLM names none (default: nano-banana)."""
    default_edit_model: str | None = None
    """Model used for edits when the LLM names none (default: gpt-image)."""
    save_dir: str | Path | None = None
    """Where result images are saved (default: not saved; the LLM gets URLs)."""
    allowed_dirs: list[str | Path] | None = None
    """Folders local input images may come from (default: the working directory and
    ClawRouter's image directory); symlinks and ``..`` are resolved first."""
    max_cost_usd: float | None = None
    """Refuse any call estimated above this many USD."""
    return_image_block: bool = False
    """Also return each image as a base64 image content block, for vision models."""
    base_url: str | None = None
    """ClawRouter's URL (default: an injected client's, else ``CLAWROUTER_BASE_URL``, else
    ``BLOCKRUN_PROXY_PORT`` on 127.0.0.1, else ``http://127.0.0.1:8402``).  After
    construction it holds the URL the sync client uses."""
    client: ImageClient | None = Field(default=None, exclude=True)
    """Client for sync calls (default: built for ``base_url`` at construction)."""
    async_client: AsyncImageClient | None = Field(default=None, exclude=True)
    """Client for async calls (default: built for ``base_url`` at construction)."""

    _runner: ImageTools = PrivateAttr()

    def image_tool_config(self) -> ImageToolConfig:
        return ImageToolConfig(
            models=self.models,
            default_model=self.default_model,
            default_edit_model=self.default_edit_model,
            save_dir=self.save_dir,
            allowed_dirs=self.allowed_dirs,
            max_cost_usd=self.max_cost_usd,
            return_image_block=self.return_image_block,
        )

    @model_validator(mode="after")
    def _connect(self) -> Self:
        """Check the model configuration and build the clients that were not injected.

        Building them now (it costs well under a millisecond) reads the environment once,
        at construction, and lets a toolkit hand the same two clients to both its tools.
        """
        self._runner = ImageTools(
            self.image_tool_config(),
            client=self.client,
            async_client=self.async_client,
            base_url=self.base_url,
        )
        self.client = self._runner.client
        self.async_client = self._runner.async_client
        self.base_url = self.client.base_url
        return self

    def close(self) -> None:
        """Close the sync client these tools built (injected clients are yours to close)."""
        self._runner.close()

    async def aclose(self) -> None:
        """Close both clients these tools built."""
        await self._runner.aclose()

    def settings(self) -> dict[str, Any]:
        """These fields as keyword arguments, to build tools that share them."""
        return {name: getattr(self, name) for name in ClawRouterSettings.model_fields}

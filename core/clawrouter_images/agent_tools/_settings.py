"""The one configuration model of every adapter: the deployer's choices, where ClawRouter
is, and the clients and budget the tools built together share."""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from typing_extensions import Self

from .._budget import Budget
from ._config import ImageToolConfig

if TYPE_CHECKING:
    from .. import AsyncImageClient, ImageClient
    from ._runner import ImageTools


def _instance_of(name: str) -> AfterValidator:
    """Checks a value is None or a ``clawrouter_images.<name>``, imported only when a value
    comes: the clients' classes (and httpx behind them) load when the tools are built, not
    when an adapter is imported."""

    def check(value: object) -> object:
        wanted = getattr(importlib.import_module("clawrouter_images"), name)
        if value is not None and not isinstance(value, wanted):
            raise ValueError(f"expected a clawrouter_images.{name}, got {type(value).__name__}")
        return value

    return AfterValidator(check)


class ImageToolSettings(ImageToolConfig):
    """``ImageToolConfig`` plus where ClawRouter is and the clients to reach it: the one
    configuration model of every adapter, which builds their ``ImageTools`` runner.

    None of this is visible to the LLM: it cannot pick the save directory, the readable
    folders, the spending cap or the server.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str | None = None
    """ClawRouter's URL (default: an injected client's, else ``CLAWROUTER_BASE_URL``, else
    ``BLOCKRUN_PROXY_PORT`` on 127.0.0.1, else ``http://127.0.0.1:8402``).  After
    construction it holds the URL the sync client uses."""
    # Typed Any for pydantic (it would import the clients to build the model) and checked
    # by _instance_of; type checkers see the real types.
    if TYPE_CHECKING:
        client: ImageClient | None = Field(default=None, exclude=True)
    else:
        client: Annotated[Any, _instance_of("ImageClient")] = Field(default=None, exclude=True)
    """Client for sync calls (default: built for ``base_url`` at construction)."""
    if TYPE_CHECKING:
        async_client: AsyncImageClient | None = Field(default=None, exclude=True)
    else:
        async_client: Annotated[Any, _instance_of("AsyncImageClient")] = Field(
            default=None, exclude=True
        )
    """Client for async calls (default: built for ``base_url`` at construction)."""
    budget: Budget | None = Field(default=None, exclude=True)
    """The budget these tools spend from (default: a new one of ``budget_usd``); tools
    given the same one share it, as a toolkit's tools do."""

    @functools.cached_property
    def _runner(self) -> ImageTools:
        from ._runner import ImageTools

        return ImageTools(
            self,
            client=self.client,
            async_client=self.async_client,
            base_url=self.base_url,
            budget=self.budget,
        )

    @model_validator(mode="after")
    def _connect(self) -> Self:
        """Check the model configuration and build the clients that were not injected.

        Building them now (well under a millisecond) reads the environment once, at
        construction, and lets one configuration hand the same two clients to every tool.
        """
        runner = self._runner
        self.client = runner.client
        self.async_client = runner.async_client
        self.base_url = self.client.base_url
        self.budget = runner.budget
        return self

    @property
    def spent_usd(self) -> float:
        """Estimated USD these tools (and any sharing their budget) spent, or may have."""
        return self._runner.budget.spent_usd

    def close(self) -> None:
        """Close the sync client built here (injected clients are yours to close)."""
        self._runner.close()

    async def aclose(self) -> None:
        """Close both clients built here."""
        await self._runner.aclose()

    def settings(self) -> dict[str, Any]:
        """These fields as keyword arguments, to build more tools that share the clients."""
        return {name: getattr(self, name) for name in ImageToolSettings.model_fields}

"""``ImageClient`` and ``AsyncImageClient`` behind one awaitable API, so each case is written once."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from types import EllipsisType
from typing import Any, Literal

import httpx

from clawrouter_images import AsyncImageClient, Health, ImageClient, ImageData, ImageResponse

from .png import png_bytes
from .server import FakeClawRouter

Mode = Literal["sync", "async"]
Route = Literal["generate", "edit"]

# One small call per route: a small picture keeps generation quick; edits use the default
# editing model, so that its own error messages are the ones checked.
GENERATE_ARGS: dict[str, Any] = {"model": "cogview", "size": "512x512"}
EDIT_ARGS: dict[str, Any] = {"model": "gpt-image"}


def record_sleeps(client: ImageClient | AsyncImageClient, sleeps: list[float]) -> None:
    """Retry sleeps land in ``sleeps`` instead of being slept."""
    if isinstance(client, ImageClient):
        client._sleep = sleeps.append
        return

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    client._sleep = record


class Twin:
    """The client of one ``mode`` behind one awaitable API; its retry sleeps land in ``sleeps``.

    ``target`` is a fake (reached through ``httpx.MockTransport``, or ``transport``) or the
    base URL of a real server.  ``http_client`` (an ``httpx`` client of the mode) is injected;
    the twin closes it with its client.  ``base_url=None`` leaves the base URL to the
    environment.
    """

    def __init__(
        self,
        mode: Mode,
        target: FakeClawRouter | str,
        *,
        base_url: str | EllipsisType | None = ...,
        transport: httpx.MockTransport | None = None,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        self.mode = mode
        self.sleeps: list[float] = []
        self._fake = target if isinstance(target, FakeClawRouter) else None
        if isinstance(target, FakeClawRouter):
            base_url = target.base_url if base_url is ... else base_url
            transport = transport or target.transport()
            http_client = (
                httpx.Client(transport=transport)
                if mode == "sync"
                else httpx.AsyncClient(transport=transport)
            )
        elif base_url is ...:
            base_url = target
        self.http_client = http_client
        """The ``httpx`` client the twin's client was given (None when it built its own)."""
        self.client: ImageClient | AsyncImageClient
        if mode == "sync":
            assert http_client is None or isinstance(http_client, httpx.Client)
            self.client = ImageClient(base_url, http_client=http_client, **options)
        else:
            assert http_client is None or isinstance(http_client, httpx.AsyncClient)
            self.client = AsyncImageClient(base_url, http_client=http_client, **options)
        record_sleeps(self.client, self.sleeps)

    @property
    def server(self) -> FakeClawRouter:
        """The fake this twin's requests reach."""
        assert self._fake is not None, "this twin talks to a real server"
        return self._fake

    @property
    def spent_usd(self) -> float:
        return self.client.spent_usd

    @property
    def base_url(self) -> str:
        return self.client.base_url

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def generate(self, prompt: Any, **kwargs: Any) -> ImageResponse:
        response: ImageResponse = await self._call("generate", prompt, **kwargs)
        return response

    async def edit(self, prompt: Any, image: Any, **kwargs: Any) -> ImageResponse:
        response: ImageResponse = await self._call("edit", prompt, image, **kwargs)
        return response

    async def health(self, full: bool = False) -> Health:
        health: Health = await self._call("health", full=full)
        return health

    async def save(self, response: ImageResponse, directory: str | Path) -> list[Path]:
        paths: list[Path] = await self._call("save", response, directory)
        return paths

    async def download(self, image: ImageData | str) -> bytes:
        data: bytes = await self._call("download", image)
        return data

    async def call(self, route: Route, prompt: str = "a lighthouse at dusk") -> ImageResponse:
        """One small call on ``route``: cogview 512x512, or an edit of a tiny PNG."""
        if route == "generate":
            return await self.generate(prompt, **GENERATE_ARGS)
        return await self.edit(prompt, png_bytes(), **EDIT_ARGS)

    async def close(self) -> None:
        if isinstance(self.client, ImageClient):
            self.client.close()
        else:
            await self.client.aclose()
        if isinstance(self.http_client, httpx.Client):
            self.http_client.close()
        elif self.http_client is not None:
            await self.http_client.aclose()


MakeTwin = Callable[..., Twin]
"""``make_twin(target, **options)``: a ``Twin`` of the parametrized mode, closed after the test."""

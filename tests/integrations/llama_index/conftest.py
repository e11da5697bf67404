"""Spec factories for the LlamaIndex tests, on the shared fake ClawRouter (``fake``).

- ``make_spec``: a spec on the fake's clients; keyword arguments go to the spec.
- ``refusing_client`` / ``refusing_async_client``: clients that fail the test if they send
  anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from tests.support.server import FakeClawRouter

from clawrouter_images import AsyncImageClient, ImageClient
from llama_index.tools.clawrouter import ClawRouterImageToolSpec


@pytest.fixture
def image_client(fake: FakeClawRouter) -> Iterator[ImageClient]:
    with fake.client() as client:
        yield client


@pytest.fixture
async def async_image_client(fake: FakeClawRouter) -> AsyncIterator[AsyncImageClient]:
    async with fake.async_client() as client:
        yield client


@pytest.fixture
def refusing_client() -> Iterator[ImageClient]:
    """A sync client that fails the test if it sends anything."""
    with FakeClawRouter(strict=True).client() as client:
        yield client


@pytest.fixture
async def refusing_async_client() -> AsyncIterator[AsyncImageClient]:
    """An async client that fails the test if it sends anything."""
    async with FakeClawRouter(strict=True).async_client() as client:
        yield client


SpecFactory = Callable[..., ClawRouterImageToolSpec]


@pytest.fixture
def make_spec(image_client: ImageClient, async_image_client: AsyncImageClient) -> SpecFactory:
    """Build a spec on the fake's clients; keyword arguments go to the spec."""

    def make(**kwargs: Any) -> ClawRouterImageToolSpec:
        kwargs.setdefault("client", image_client)
        kwargs.setdefault("async_client", async_image_client)
        return ClawRouterImageToolSpec(**kwargs)

    return make

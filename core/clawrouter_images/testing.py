"""pytest fixtures to test your own code and agents against ClawRouter's emulator, offline.

Installing the package registers this plugin with pytest (a ``pytest11`` entry point);
where entry points are not loaded (``-p no:...``, ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), turn
it on in your top-level ``conftest.py``::

    pytest_plugins = ["clawrouter_images.testing"]

Fixtures (each test gets fresh ones; needs the ``[emulator]`` extra):

``clawrouter_emulator``
    An ``Emulator`` keeping its images in the test's ``tmp_path``.  Script failures with
    ``add_fault(...)`` (``"payment_rejected"``, ``"delisted"``, ``"rate_limited"``,
    ``"timeout"``, ...) and read what was asked and paid in ``ledger`` / ``spent_usd``.
``clawrouter_client`` / ``clawrouter_async_client``
    An ``ImageClient`` / ``AsyncImageClient`` answered by that emulator in-process (no
    socket), to inject into your code or into the tools
    (``ClawRouterImageToolkit(client=..., async_client=...)``).  Retries are off, so a
    fault you add is exactly what your code sees.
``clawrouter_server``
    The emulator on a free 127.0.0.1 port, with ``CLAWROUTER_BASE_URL`` pointing at it
    for the test, so code that builds its own client (``ImageClient()``, the LangChain
    toolkit, the LlamaIndex tool spec) reaches it unchanged.  Yields the base URL.

Example::

    def test_my_agent_draws(clawrouter_server, clawrouter_emulator, tmp_path):
        answer = my_agent("Draw me a cyberpunk city at night", save_dir=tmp_path)
        [request] = [e for e in clawrouter_emulator.ledger if e.method == "POST"]
        assert request.model == "google/nano-banana"
        assert clawrouter_emulator.spent_usd < 0.10

The emulator is imported when a fixture is first used, not when this plugin loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Loaded into every pytest run of every environment this package is installed in: only
# names here, and the client, httpx and pydantic once a fixture is used.
if TYPE_CHECKING:
    from ._client import AsyncImageClient, ImageClient
    from .emulator import Emulator

__all__ = [
    "clawrouter_async_client",
    "clawrouter_client",
    "clawrouter_emulator",
    "clawrouter_server",
]


@pytest.fixture
def clawrouter_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A fresh ClawRouter emulator whose images live under the test's ``tmp_path``."""
    from .emulator import Emulator

    with Emulator(image_dir=tmp_path / "clawrouter-emulator") as emulator:
        yield emulator


@pytest.fixture
def clawrouter_client(clawrouter_emulator: Emulator) -> Iterator[ImageClient]:
    """An ``ImageClient`` answered in-process by ``clawrouter_emulator`` (retries off)."""
    from ._client import ImageClient

    with (
        clawrouter_emulator.sync_client() as http_client,
        ImageClient(clawrouter_emulator.base_url, max_retries=0, http_client=http_client) as client,
    ):
        yield client


@pytest.fixture
def clawrouter_async_client(clawrouter_emulator: Emulator) -> AsyncImageClient:
    """An ``AsyncImageClient`` answered in-process by ``clawrouter_emulator`` (retries off).

    A plain fixture, so it works without an async pytest plugin; its transport calls the
    emulator directly and holds no connection, so there is nothing to close.
    """
    from ._client import AsyncImageClient

    return AsyncImageClient(
        clawrouter_emulator.base_url,
        max_retries=0,
        http_client=clawrouter_emulator.async_client(),
    )


@pytest.fixture
def clawrouter_server(
    clawrouter_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """``clawrouter_emulator`` on a free loopback port, with ``CLAWROUTER_BASE_URL`` set to it."""
    from ._constants import ENV_BASE_URL
    from .emulator import serve

    with serve(clawrouter_emulator, port=0) as base_url:
        monkeypatch.setenv(ENV_BASE_URL, base_url)
        yield base_url

"""Fixtures for the MCP server's tests: the server runs as a subprocess (as an MCP client
starts it) and is driven by the ``mcp`` SDK's own stdio client.

- ``served``: an emulator on a loopback port (its ledger tells what was paid) and its URL.
- ``connect``: ``async with connect("--save-dir", ...) as session`` starts
  ``clawrouter-images mcp`` against ``served`` with those options (in ``tmp_path``, or
  the ``cwd=`` given; its stderr into ``errlog=``, a text file) and yields an initialised
  ``ClientSession``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest
from tests.support.mcp_server import Connect, server_command

from clawrouter_images.emulator import Emulator, serve


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Emulator, str]]:
    emulator = Emulator(image_dir=tmp_path / "clawrouter")
    with serve(emulator, port=0) as base_url:
        yield emulator, base_url


@pytest.fixture
def connect(served: tuple[Emulator, str], tmp_path: Path) -> Connect:
    # Imported here: without mcp, each test module skips itself (importorskip in a
    # conftest would be a collection error, not a skip).
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    _, base_url = served

    @contextlib.asynccontextmanager
    async def session(
        *options: str, cwd: Path | None = None, errlog: TextIO = sys.stderr, **kwargs: Any
    ) -> AsyncIterator[ClientSession]:
        where = ("--emulator",) if "--emulator" in options else ("--base-url", base_url)
        command, args = server_command(*[o for o in options if o != "--emulator"], *where)
        parameters = StdioServerParameters(command=command, args=args, cwd=cwd or tmp_path)
        async with (
            stdio_client(parameters, errlog=errlog) as (read, write),
            ClientSession(read, write, **kwargs) as client,
        ):
            await client.initialize()
            yield client

    return session

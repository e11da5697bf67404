"""The MCP server's command line and the session-opening fixture's type, for tests/mcp."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp import ClientSession

Connect = Callable[..., contextlib.AbstractAsyncContextManager["ClientSession"]]
"""``connect(*options)``: the server started with those options, as an open session."""


def server_command(*options: str) -> tuple[str, list[str]]:
    """The command an MCP client's configuration would name, run by this interpreter."""
    return sys.executable, ["-m", "clawrouter_images", "mcp", *options]

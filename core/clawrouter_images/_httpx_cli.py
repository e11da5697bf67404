"""Keep httpx's command-line client out of library imports.

``import httpx`` imports ``httpx._main`` (click, rich, pygments: 20-40 ms) whenever click
happens to be installed, for the ``httpx`` command only.  Until something calls
``httpx.main``, a stand-in module takes its place; the first call imports the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_NAME = "httpx._main"


# What httpx's CLI imports; without all of them httpx falls back to its own stub `main`,
# which says what to install, and that is left as it is.
_CLI_NEEDS = ("click", "pygments", "rich")


def defer_httpx_cli() -> None:
    """Install the stand-in, unless httpx (or its CLI) was imported already: then the cost
    is paid, and a module someone else loaded is never replaced."""
    if "httpx" in sys.modules or _NAME in sys.modules:
        return
    if not all(importlib.util.find_spec(name) for name in _CLI_NEEDS):
        return
    stand_in = types.ModuleType(_NAME, "Stand-in until httpx.main is called.")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        return importlib.import_module(_NAME).main(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in

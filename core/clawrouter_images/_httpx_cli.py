"""Keep httpx's command-line client out of library imports.

``import httpx`` imports ``httpx._main`` (click, rich, pygments: the larger part of
importing httpx) whenever click happens to be installed, for the ``httpx`` command only.  Until something calls
``httpx.main``, a stand-in module takes its place; the first call imports the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_NAME = "httpx._main"


def defer_httpx_cli() -> None:
    """Install the stand-in, unless httpx (or its CLI) was imported already: then the cost
    is paid, and a module someone else loaded is never replaced.

    httpx tries its CLI whenever click is installed, and pays for click (and pygments)
    even where rich is missing and the CLI then fails to import: so click alone decides.
    """
    if "httpx" in sys.modules or _NAME in sys.modules:
        return
    if importlib.util.find_spec("click") is None:
        return  # httpx's own attempt fails at once, at no cost
    stand_in = types.ModuleType(_NAME, "Stand-in until httpx.main is called.")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        try:
            real = importlib.import_module(_NAME)
        except ImportError as err:  # what httpx's own fallback says, as an exit
            raise SystemExit(
                "The httpx command line client could not run because the required "
                "dependencies were not installed.\nMake sure you've installed everything "
                f"with: pip install 'httpx[cli]' ({err})"
            ) from err
        return real.main(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in

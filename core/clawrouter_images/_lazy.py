"""Names a package exports, each loaded from its module on first use (PEP 562).

Importing ``clawrouter_images`` (which every pytest run in the environment does, through
the plugin) or its agent-tool contract (which each adapter does at import) then costs
almost nothing until a name is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, table: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public names are ``table``'s
    keys, each loaded from the (relative) module it maps to."""

    def get(name: str) -> object:
        where = table.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where, package), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    def listing() -> list[str]:
        # The public names and the dunders, not the module's own helpers; a public
        # submodule once it has been imported.
        shown = {name for name in namespace if name.startswith("__") and name.endswith("__")}
        shown.update(
            name
            for name, value in namespace.items()
            if not name.startswith("_") and getattr(value, "__name__", "") == f"{package}.{name}"
        )
        return sorted(shown | set(table) | set(namespace.get("__all__", ())))

    return get, listing

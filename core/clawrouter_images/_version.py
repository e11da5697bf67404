"""The installed distribution's version, looked up on first use.

importlib.metadata costs a few ms, so ``clawrouter_images.__version__`` is resolved lazily
(module ``__getattr__``) instead of at import time.
"""

from __future__ import annotations

from functools import cache


@cache
def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clawrouter-images")
    except PackageNotFoundError:  # running from a source checkout without an install
        return "0.0.0+source"

"""httpx's command-line client is not imported with the library, and still works."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("click", "pygments", "rich")),
    reason="httpx's CLI needs click, pygments and rich",
)


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def test_httpx_cli_is_not_imported_with_the_client() -> None:
    """Importing the client (and httpx with it) loads neither click nor rich."""
    out = _run(
        "import sys; from clawrouter_images import ImageClient; import httpx; "
        "print(sorted(m for m in ('click', 'rich', 'pygments', 'httpx') if m in sys.modules))"
    )
    assert out.strip() == "['httpx']"


def test_httpx_main_still_runs_the_real_cli() -> None:
    """httpx.main, called after the library was imported, runs httpx's own command line."""
    out = _run("import clawrouter_images, httpx; httpx.main(['--help'], standalone_mode=False)")
    assert "A next generation HTTP client." in out


def test_an_httpx_imported_first_is_left_alone() -> None:
    """When httpx came first, its real CLI module stays in place (nothing is swapped)."""
    out = _run(
        "import httpx, sys; real = sys.modules['httpx._main']; import clawrouter_images; "
        "from clawrouter_images import ImageClient; print(sys.modules['httpx._main'] is real)"
    )
    assert out.strip() == "True"


def test_without_rich_click_is_not_paid_for_either() -> None:
    """Where httpx's CLI cannot import (rich missing), httpx would still import click and
    pygments before failing: the stand-in spares that too, and calling ``httpx.main`` says
    what to install, as httpx's own fallback does."""
    blocked = "import sys; sys.modules['rich'] = None; "
    out = _run(
        blocked + "from clawrouter_images import ImageClient; import httpx; "
        "print(sorted(m for m in ('click', 'pygments') if m in sys.modules))"
    )
    assert out.strip() == "[]"
    done = subprocess.run(
        [sys.executable, "-c", blocked + "import clawrouter_images, httpx; httpx.main()"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "pip install 'httpx[cli]'" in done.stderr

"""Which copy of a package a test run imports.

The adapters' tests run against whichever copy is installed: the source tree in an editable
install, the built wheel in CI's per-adapter environments (.ci/run). A source folder left on
``sys.path`` would silently test the wrong copy; these checks catch it.
"""

from __future__ import annotations

import json
from importlib.metadata import distribution
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse
from urllib.request import url2pathname


def assert_imported_from_its_distribution(name: str, module: ModuleType) -> None:
    """``module`` is the file the installed distribution ``name`` provides: one its wheel's
    RECORD lists, or, for an editable install, one inside the project folder it points at."""
    dist = distribution(name)
    imported = Path(str(module.__file__)).resolve()
    direct_url = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct_url.get("dir_info", {}).get("editable"):
        project = Path(url2pathname(urlparse(direct_url["url"]).path)).resolve()
        assert imported.is_relative_to(project), (imported, project)
    else:
        installed = {Path(str(dist.locate_file(file))).resolve() for file in dist.files or ()}
        assert imported in installed, (imported, dist.locate_file(""))

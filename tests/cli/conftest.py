"""Fixtures shared by the command's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clawrouter_images.emulator import Emulator, serve


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Emulator, str]]:
    """An emulator on a real loopback port, and its base URL."""
    emulator = Emulator(image_dir=tmp_path / "served")
    with serve(emulator, port=0) as base_url:
        yield emulator, base_url

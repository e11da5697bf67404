"""Fixtures for the agent stacks' tests: ``served``, the emulator on a loopback port (its
ledger tells what was paid) and its URL, in a working folder of the test's own (the README
blocks save into ``images/`` there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clawrouter_images.emulator import Emulator, serve


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, str]]:
    emulator = Emulator(image_dir=tmp_path / "clawrouter")
    monkeypatch.chdir(tmp_path)
    with serve(emulator, port=0) as base_url:
        yield emulator, base_url

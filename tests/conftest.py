"""Settings shared by every test directory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Recorded exchanges of the real ClawRouter (copied from the team's shared/ folder, so a
# fresh clone runs every transcript test); see transcripts/README.md for their format.
TRANSCRIPTS = Path(__file__).parent / "transcripts"

# CI decides whether a submission lands, so there the property tests replay the same
# examples every run (a new counter-example shows up in a developer's run instead);
# elsewhere hypothesis keeps exploring.  Deadlines are off: a loaded 2-core machine
# makes single examples slow without anything being wrong.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def transcript() -> Callable[[str], dict[str, Any]]:
    """``transcript(name)``: the recorded exchange ``transcripts/<name>.json``."""

    def load(name: str) -> dict[str, Any]:
        record = json.loads((TRANSCRIPTS / f"{name}.json").read_text(encoding="utf-8"))
        assert isinstance(record, dict)
        return record

    return load


@pytest.fixture
def transcript_names() -> list[str]:
    """Names of every recorded transcript."""
    return sorted(path.stem for path in TRANSCRIPTS.glob("*.json"))

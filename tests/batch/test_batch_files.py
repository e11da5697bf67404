"""How a batch uses its folder: proven writable once, before anything is sent, not per save."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clawrouter_images import _files

from .conftest import Jsonl, Run, results

FIVE = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(5)]


async def test_the_folder_is_proven_once_per_run(
    jsonl: Jsonl, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``prepare_save_dir`` (a write probe: a file created and removed) runs once, when the
    run opens the folder; each save then only creates its own files there."""
    proven: list[Path] = []
    original = _files.prepare_save_dir

    def counted(directory: str | os.PathLike[str]) -> Path:
        proven.append(Path(directory))
        return original(directory)

    monkeypatch.setattr(_files, "prepare_save_dir", counted)
    out = tmp_path / "out"
    summary = await run(jsonl(FIVE), out, concurrency=3)
    assert summary.ok == 5
    assert proven == [out]
    saved = sorted(path for record in results(out) for path in record["paths"])
    assert saved == [f"picture-{i}.png" for i in range(5)]

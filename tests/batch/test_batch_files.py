"""How a batch uses its folder: proven writable once, before anything is sent; each
``"sending"`` record on disk before its POST, the requests in flight sharing the fsyncs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from clawrouter_images import AsyncImageClient, _files
from clawrouter_images.batch import arun_batch
from clawrouter_images.emulator import Emulator

from .conftest import Jsonl, Run, results

FIVE = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(5)]
EIGHT = [{"id": f"r{i}", "prompt": f"picture {i}"} for i in range(8)]


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


class _DurableCheck(httpx.AsyncBaseTransport):
    """Before each POST, looks for its prompt's "sending" record in the part of the results
    file that an fsync has covered; notes each POST that went out without one."""

    def __init__(self, inner: httpx.AsyncBaseTransport, results: Path, on_disk: list[int]):
        self.inner, self.results, self.on_disk = inner, results, on_disk
        self.posts: list[str] = []
        self.early: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            prompt = json.loads(request.content)["prompt"]
            self.posts.append(prompt)
            durable = self.results.read_bytes()[: max(self.on_disk, default=0)]
            records = [json.loads(line) for line in durable.splitlines()]
            if {"status": "sending", "prompt": prompt}.items() not in [
                {k: r[k] for k in ("status", "prompt")}.items() for r in records
            ]:
                self.early.append(prompt)
        return await self.inner.handle_async_request(request)


async def test_each_post_waits_for_its_sending_record_on_disk(
    jsonl: Jsonl, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No POST leaves before an fsync covered its "sending" record; the eight requests
    starting together share their fsyncs rather than taking one each."""
    out = tmp_path / "out"
    results_path = out / "results.jsonl"
    on_disk: list[int] = []  # the results file's size as each of its fsyncs began
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        real_fsync(fd)
        if results_path.exists() and os.path.samestat(info, results_path.stat()):
            on_disk.append(info.st_size)

    monkeypatch.setattr(os, "fsync", fsync)
    check = _DurableCheck(emulator.async_transport(), results_path, on_disk)
    async with httpx.AsyncClient(transport=check) as http:
        client = AsyncImageClient(emulator.base_url, max_retries=0, http_client=http)
        summary = await arun_batch(jsonl(EIGHT), out, client=client, concurrency=8)
    assert summary.ok == 8
    assert sorted(check.posts) == sorted(item["prompt"] for item in EIGHT)
    assert check.early == []
    sends = len(on_disk) - 1  # the last fsync is the journal's close
    assert 1 <= sends < 8


@pytest.mark.parametrize(
    "path",
    [
        "picture-1.png",
        "sub/a red fox #2.png",
        "../elsewhere/x.png",
        "/abs/x.png",
        "c:x.png",
        "кот.png",
    ],
)
def test_contact_sheet_links_match_resolved_links(tmp_path: Path, path: str) -> None:
    """The sheet links a record's relative path as it stands; every path links as the
    gallery's resolving ``href`` would (no symbolic links involved)."""
    from clawrouter_images._gallery import href
    from clawrouter_images.batch._sheet import _link

    root = tmp_path / "out"
    root.mkdir()
    assert _link(path, root) == href(root / path, root)

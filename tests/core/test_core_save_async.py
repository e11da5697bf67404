"""AsyncImageClient.save(): its disk work (open, write, fsync, link) runs off the event loop,
and a save cancelled while that work runs still leaves only whole files behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from clawrouter_images import AsyncImageClient, ImageResponse, SaveError, _files

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import Twin

GENERATIONS = "/v1/images/generations"


async def _answer(client: AsyncImageClient, server: Server, png: bytes, n: int) -> ImageResponse:
    urls = [f"http://localhost:8402/images/{i}.png" for i in range(n)]
    for url in urls:
        server.on("GET", httpx.URL(url).path, server.content(png))
    server.on("POST", GENERATIONS, server.json({"created": 1, "data": [{"url": u} for u in urls]}))
    return await client.generate("a red fox", model="cogview", size="512x512", n=n)


def _client(server: Server) -> AsyncImageClient:
    return AsyncImageClient(
        server.base_url, http_client=httpx.AsyncClient(transport=server.transport())
    )


def _watch(
    monkeypatch: pytest.MonkeyPatch, name: str, seen: list[int], before: Callable[[], None]
) -> None:
    """Record the thread of each call of ``AtomicImageFile.<name>``; ``before`` runs first."""
    original = getattr(_files.AtomicImageFile, name)

    def watched(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        before()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_files.AtomicImageFile, name, watched)


@pytest.mark.parametrize("n", [1, 3])
async def test_disk_work_runs_off_the_loop(
    server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    """Opening each temporary file and committing it (fsync, link) happen in a worker thread;
    the event loop's thread only receives the bytes."""
    opened: list[int] = []
    committed: list[int] = []
    _watch(monkeypatch, "_open", opened, lambda: None)
    _watch(monkeypatch, "commit", committed, lambda: None)
    async with _client(server) as client:
        response = await _answer(client, server, png, n)
        paths = await client.save(response, tmp_path)
    loop_thread = threading.get_ident()
    assert len(opened) == len(committed) == n
    assert loop_thread not in opened + committed
    assert [path.read_bytes() for path in paths] == [png] * n


def _hold_commits(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, threading.Event]:
    """Each commit (in its worker thread) sets the first event on the loop, then waits for
    the test to set the second."""
    loop = asyncio.get_running_loop()
    entered = asyncio.Event()
    release = threading.Event()

    def hold() -> None:
        loop.call_soon_threadsafe(entered.set)
        assert release.wait(timeout=60), "the test never released the commit"

    _watch(monkeypatch, "commit", [], hold)
    return entered, release


async def test_loop_serves_while_a_commit_blocks(
    server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one save's commit is held (a slow fsync), another coroutine runs to the end on
    the same loop; the held save then completes."""
    entered, release = _hold_commits(monkeypatch)
    async with _client(server) as client:
        response = await _answer(client, server, png, 1)
        saving = asyncio.ensure_future(client.save(response, tmp_path))
        await entered.wait()
        other = await client.download(response.data[0])  # served while the commit is held
        release.set()
        paths = await saving
    assert other == png
    assert paths == [tmp_path / "a-red-fox.png"]


async def test_cancelled_during_commit_leaves_whole_files_only(
    server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save cancelled while its commit runs in the worker thread waits for that step: the
    image it was committing lands whole, nothing half-written or temporary remains, and
    the cancellation still reaches the caller."""
    entered, release = _hold_commits(monkeypatch)
    async with _client(server) as client:
        response = await _answer(client, server, png, 2)
        saving = asyncio.ensure_future(client.save(response, tmp_path))
        await entered.wait()
        saving.cancel()  # the awaited step is cancelled now, while the thread still holds it
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await saving
    assert sorted(os.listdir(tmp_path)) == ["a-red-fox-1.png"]
    assert (tmp_path / "a-red-fox-1.png").read_bytes() == png
    assert response._local.saved == [tmp_path / "a-red-fox-1.png"]


# -- images larger than what is kept in memory ---------------------------------------------------


async def test_a_large_image_goes_to_its_temporary_file_and_lands_whole(
    twin: Twin, server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes beyond ``SPILL_BYTES`` open the temporary file (off the loop for the async
    client) and the rest streams into it; the image lands whole, under its final name only."""
    monkeypatch.setattr(_files, "SPILL_BYTES", len(png) + 1)
    opened: list[int] = []
    _watch(monkeypatch, "_open", opened, lambda: None)
    server.on("GET", "/images/big.png", server.content(png, repeat=4))
    server.on("POST", GENERATIONS, server.images("http://localhost:8402/images/big.png"))
    response = await twin.generate("a red fox")
    paths = await twin.save(response, tmp_path)
    assert paths == [tmp_path / "a-red-fox.png"]
    assert paths[0].read_bytes() == png * 4
    assert os.listdir(tmp_path) == ["a-red-fox.png"]
    loop_thread = threading.get_ident()  # the sync client's calls run on it too
    assert opened
    assert {thread == loop_thread for thread in opened} == {twin.mode == "sync"}


async def test_a_large_download_cut_off_leaves_no_file(
    twin: Twin, server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download cut off after its bytes went to the temporary file leaves nothing: the
    temporary file is removed."""
    monkeypatch.setattr(_files, "SPILL_BYTES", 8)
    server.on("GET", "/images/big.png", server.broken(png))
    server.on("POST", GENERATIONS, server.images("http://localhost:8402/images/big.png"))
    response = await twin.generate("a red fox")
    with pytest.raises(SaveError):
        await twin.save(response, tmp_path)
    assert os.listdir(tmp_path) == []


async def test_a_proven_folder_removed_since_is_made_again(
    server: Server, tmp_path: Path, png: bytes
) -> None:
    """A batch proves its folder once; if the folder is removed afterwards, a save into it
    makes it again (as any save does) rather than failing the paid image."""
    folder = tmp_path / "out" / "deep"
    async with _client(server) as client:
        response = await _answer(client, server, png, 2)
        _files.prepare_save_dir(folder)
        shutil.rmtree(tmp_path / "out")
        paths = await client._save(response, folder, proven=True)
    assert paths == [folder / "a-red-fox-1.png", folder / "a-red-fox-2.png"]
    assert sorted(os.listdir(folder)) == ["a-red-fox-1.png", "a-red-fox-2.png"]

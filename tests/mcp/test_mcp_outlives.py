"""A call that may be paid outlives the client that gives up on it: it runs to the end, its
images are saved, the budget counts it, stderr says so, and the next answer reports it."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, types
from tests.support.mcp_server import Connect

from clawrouter_images.emulator import Emulator, Fault


async def _until(condition: Callable[[], Any], what: str) -> Any:
    """``condition()`` once it holds: a bounded poll (the server finishes on its own)."""
    with anyio.fail_after(60):
        # The server is another process: there is no event to await, only what it writes.
        while not (found := condition()):  # noqa: ASYNC110
            await anyio.sleep(0.02)
    assert found, what
    return found


async def _give_up_once_in_flight(session: ClientSession, arguments: dict[str, Any]) -> None:
    """Call ``generate_image`` and stop waiting at its first progress report (the request
    is out by then), as a client's timeout or a user's cancel does."""
    with anyio.CancelScope() as waiting:

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            waiting.cancel()

        await session.call_tool("generate_image", arguments, progress_callback=on_progress)
    assert waiting.cancelled_caught, "the call ended before the client gave up"
    if int(version("mcp").split(".")[0]) < 2:
        # mcp 1.x clients drop a request without telling the server; 2.x send this.
        # (Typed against 2.x, whose names differ.)
        legacy: Any = session
        v1: Any = types
        cancelled = v1.CancelledNotification(
            method="notifications/cancelled",
            params=v1.CancelledNotificationParams(
                requestId=legacy._request_id - 1, reason="gave up"
            ),
        )
        await legacy.send_notification(v1.ClientNotification(cancelled))


async def test_a_call_the_client_gave_up_on_is_saved_counted_and_reported(
    connect: Connect, served: tuple[Emulator, str], tmp_path: Path
) -> None:
    emulator, _ = served
    # Slow enough that the client gives up (at the first progress report) long before.
    emulator.add_fault(Fault("slow", delay=2.0), times=1)
    saved = tmp_path / "out"
    log = tmp_path / "stderr.txt"
    options = ("--save-dir", str(saved), "--budget-usd", "0.06", "--progress-every", "0.05")
    with log.open("w") as errlog:
        async with connect(*options, errlog=errlog) as session:
            await _give_up_once_in_flight(session, {"prompt": "a slow fox"})
            # Said on stderr once saved, and kept for the next answer.
            told = "stopped waiting for finished"
            line = await _until(
                lambda: [x for x in log.read_text().splitlines() if told in x], "stderr"
            )
            (image,) = saved.iterdir()
            later = await session.call_tool("generate_image", {"prompt": "another fox"})
            again = await session.call_tool("generate_image", {"prompt": "a third fox"})
    wire = later.model_dump(mode="json", by_alias=True)
    text = wire["content"][0]["text"]
    # Counted: the budget of 0.06 held one call, so the next is refused, and says why...
    assert wire["isError"]
    assert "budget of $0.06 reached" in text
    # ...and what became of the call the client gave up on: its image, saved.
    assert "A generate_image call that the client stopped waiting for finished: 1 image" in text
    assert f"Saved: {image}" in text
    assert f"Saved: {image}" in line[0]
    # Told once.
    assert told not in again.model_dump(mode="json", by_alias=True)["content"][0]["text"]
    assert [entry.paid for entry in emulator.ledger if entry.method == "POST"] == [True]

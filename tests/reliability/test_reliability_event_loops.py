"""Async clients, tools and tool specs serve whichever event loop awaits them.

Every test here runs real event loops one after another (``asyncio.run`` per request, as a
script, a CLI or a sync web handler does) against the emulator on a real port, with the
connections the package pools itself, and proves that nothing is lost, paid twice or
left to the garbage collector.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import ToolMessage

from clawrouter_images import AsyncImageClient, ImageClient, estimate_cost, resolve_model
from langchain_clawrouter import ClawRouterGenerateImage, ClawRouterImageToolkit
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.reliability.conftest import Served

# The small call every test makes (the conftest's GENERATE_ARGS, spelt out: test modules
# here reach the conftest only through fixtures).
GENERATE_ARGS: dict[str, Any] = {"model": "cogview", "size": "512x512"}
COST = estimate_cost(resolve_model("cogview"), "512x512", 1)


Leaks = Callable[[], list[str]]


@pytest.fixture
def leaks() -> Iterator[Leaks]:
    """``leaks()``: every ResourceWarning and unraisable exception so far, after a full GC."""
    unraisable: list[str] = []
    previous = sys.unraisablehook

    def hook(event: Any) -> None:
        unraisable.append(f"unraisable: {event.exc_value!r} in {event.object!r}")

    sys.unraisablehook = hook
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def found() -> list[str]:
            gc.collect()
            resource = [
                f"{w.category.__name__}: {w.message}"
                for w in caught
                if issubclass(w.category, ResourceWarning)
            ]
            return unraisable + resource

        yield found
    sys.unraisablehook = previous


def _loops(count: int, run: Callable[[], Any]) -> list[Any]:
    """``run()`` in ``count`` fresh event loops, one after another, as separate scripts would."""
    return [asyncio.run(run()) for _ in range(count)]


def test_async_client_in_one_loop_after_another(served: Served, leaks: Leaks) -> None:
    """One AsyncImageClient serves three asyncio.run calls in a row, each paid once."""
    client = AsyncImageClient(served.base_url)
    responses = _loops(3, lambda: client.generate("a lighthouse", **GENERATE_ARGS))
    assert [len(r.data) for r in responses] == [1, 1, 1]
    assert served.paid() == 3
    assert client.spent_usd == pytest.approx(3 * COST)
    assert leaks() == []


def test_async_client_downloads_in_a_later_loop(
    served: Served, tmp_path: Path, leaks: Leaks
) -> None:
    """A result generated in one loop is saved from another, through that loop's own pool."""
    client = AsyncImageClient(served.base_url)
    (response,) = _loops(1, lambda: client.generate("a lighthouse", **GENERATE_ARGS))
    (paths,) = _loops(1, lambda: client.save(response, tmp_path))
    assert [p.parent for p in paths] == [tmp_path]
    assert leaks() == []


def test_async_client_from_several_threads_loops_at_once(served: Served, leaks: Leaks) -> None:
    """Threads each running their own loop share one client, one budget and one spent_usd."""
    client = AsyncImageClient(served.base_url, budget_usd=10 * COST)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _loops(2, lambda: client.generate("a lighthouse", **GENERATE_ARGS))
        except BaseException as err:  # reported below, with the thread's traceback
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert served.paid() == 6
    assert client.spent_usd == pytest.approx(6 * COST)
    assert leaks() == []


def test_langchain_tool_in_one_loop_after_another(served: Served, leaks: Leaks) -> None:
    """tool.ainvoke from two asyncio.run calls in a row: two successes, two payments."""
    tool = ClawRouterGenerateImage(base_url=served.base_url)
    call = {
        "name": tool.name,
        "args": {"prompt": "a lighthouse", "model": "cogview", "size": "512x512"},
        "id": "c1",
        "type": "tool_call",
    }
    messages = _loops(2, lambda: tool.ainvoke(call))
    assert all(isinstance(m, ToolMessage) and m.status == "success" for m in messages)
    assert served.paid() == 2
    assert leaks() == []


def test_llama_index_tool_in_one_loop_after_another(served: Served, leaks: Leaks) -> None:
    """The spec's async tool from two asyncio.run calls in a row: two successes, two payments."""
    spec = ClawRouterImageToolSpec(base_url=served.base_url)
    tool = {t.metadata.name: t for t in spec.to_tool_list()}["generate_image"]
    outputs = _loops(2, lambda: tool.acall(prompt="a lighthouse", model="cogview", size="512x512"))
    assert [o.is_error for o in outputs] == [False, False]
    assert served.paid() == 2
    assert leaks() == []


def test_dropped_clients_tools_and_toolkits_warn_nothing(served: Served, leaks: Leaks) -> None:
    """Clients, tools and toolkits used and then dropped without close() leave no warning."""
    sync = ImageClient(served.base_url)
    sync.generate("a lighthouse", **GENERATE_ARGS)  # a pooled keep-alive connection now
    toolkit = ClawRouterImageToolkit(base_url=served.base_url)
    tools = toolkit.get_tools()
    spec = ClawRouterImageToolSpec(base_url=served.base_url)
    spec.to_tool_list()[0].call(prompt="a lighthouse", model="cogview", size="512x512")

    async def inside_a_loop() -> None:
        aio = AsyncImageClient(served.base_url)
        await aio.generate("a lighthouse", **GENERATE_ARGS)
        # Dropped while its loop still runs: its connections close with the loop.

    asyncio.run(inside_a_loop())
    del sync, toolkit, tools, spec
    assert leaks() == []
    assert served.paid() == 3


class _Cycle:
    """An object in a reference cycle with a client, as framework objects often are."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.me = self


def test_clients_in_reference_cycles_warn_nothing(served: Served, leaks: Leaks) -> None:
    """Clients collected as part of cyclic garbage close their sockets before those can warn."""
    for _ in range(5):
        sync = ImageClient(served.base_url)
        sync.generate("a lighthouse", **GENERATE_ARGS)
        _Cycle(sync)

        async def inside_a_loop() -> None:
            aio = AsyncImageClient(served.base_url)
            await aio.generate("a lighthouse", **GENERATE_ARGS)
            _Cycle(aio)
            gc.collect()  # collected while its loop runs
            await asyncio.sleep(0)

        asyncio.run(inside_a_loop())
        del sync
    assert leaks() == []
    assert served.paid() == 10


def test_async_client_on_trio(served: Served, tmp_path: Path) -> None:
    """httpx runs on trio too: generate and save there, one run after another."""
    trio = pytest.importorskip("trio")
    client = AsyncImageClient(served.base_url)

    async def once() -> list[Path]:
        response = await client.generate("a lighthouse", **GENERATE_ARGS)
        return await client.save(response, tmp_path)

    assert len(trio.run(once)) == 1
    assert len(trio.run(once)) == 1
    trio.run(client.aclose)
    assert served.paid() == 2


def test_closed_async_client_refuses_to_send(served: Served) -> None:
    """After aclose() a client sends nothing more, from any loop, and says why."""
    client = AsyncImageClient(served.base_url)
    asyncio.run(client.aclose())
    with pytest.raises(Exception, match="was closed; create a new one"):
        asyncio.run(client.generate("a lighthouse", **GENERATE_ARGS))
    assert served.paid() == 0

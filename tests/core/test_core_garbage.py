"""A call leaves nothing of the client's or its HTTP stack's for the cycle collector.

httpx binds each response's stream to the response, a reference cycle holding the request,
headers and connection-pool objects; the clients drop the stream once the response is
closed, so reference counting frees all of it, and the collector seldom has to run.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter
    from tests.support.twin import MakeTwin

CALLS = 20
# Whose objects count: the client's, and the HTTP stack's it holds.
OURS = ("clawrouter_images", "httpx", "httpcore", "h11")


@pytest.mark.parametrize("over", ["mock transport", "loopback socket"])
async def test_calls_and_downloads_leave_nothing_for_the_cycle_collector(
    over: str, make_twin: MakeTwin, fake: FakeClawRouter, loopback: str, tmp_path: Path
) -> None:
    twin = make_twin(fake) if over == "mock transport" else make_twin(loopback)
    response = await twin.call("generate")
    await twin.save(response, tmp_path / "warm")  # first use: lazy imports, pools, caches
    gc.collect()
    gc.disable()
    try:
        for number in range(CALLS):
            response = await twin.call("generate")
            await twin.save(response, tmp_path / str(number))
        del response
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = sorted(
            {type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith(OURS)}
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    # Over a socket, asyncio's transports of closed connections are cycles of asyncio's own.
    assert left == []


def test_the_url_rule_keeps_no_large_string() -> None:
    """The URL rule remembers its last few answers: only short http(s) URLs, never a data
    URI (megabytes each) or an overlong string."""
    from clawrouter_images._network import MAX_URL_CHARS, _usable_http, usable_url

    _usable_http.cache_clear()
    big = "data:image/png;base64," + "A" * 4_000_000
    assert usable_url(big) == big
    assert usable_url("http://localhost:8402/images/" + "a" * MAX_URL_CHARS) is None
    assert _usable_http.cache_info().currsize == 0
    assert usable_url("http://localhost:8402/images/x.png") is not None
    assert _usable_http.cache_info().currsize == 1

"""Progress while a slow call is in flight: LangChain custom events (astream_events and
LangGraph's custom stream) and LlamaIndex instrumentation events, sync and async."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler

from clawrouter_images import AsyncImageClient, ImageClient

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
instrument = pytest.importorskip("llama_index.core.instrumentation")

BASE_URL = "http://127.0.0.1:8402"
EVENT = "clawrouter_image_progress"
ANSWER = {"created": 1, "data": [{"url": "http://localhost:8402/images/1-slow.png"}]}
TICK = 0.001  # seconds between reports: the slow answer waits for them, not for a clock


def _slow_sync_client(until: threading.Event) -> ImageClient:
    """A ClawRouter whose image answer comes only once ``until`` is set (or after 10 s)."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert until.wait(10), "no progress was reported while the call was in flight"
        return httpx.Response(200, json=ANSWER)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    return ImageClient(BASE_URL, http_client=http, max_retries=0)


def _slow_async_client(until: asyncio.Event) -> AsyncImageClient:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.wait_for(until.wait(), 10)
        return httpx.Response(200, json=ANSWER)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return AsyncImageClient(BASE_URL, http_client=http, max_retries=0)


async def test_langchain_progress_reaches_astream_events() -> None:
    """While the async call waits, on_custom_event carries model, elapsed time and a message."""
    enough = asyncio.Event()
    tool = langchain_clawrouter.ClawRouterGenerateImage(
        client=ImageClient(BASE_URL), async_client=_slow_async_client(enough), progress_every_s=TICK
    )
    progress: list[dict[str, Any]] = []
    stream = tool.astream_events({"prompt": "a slow fox", "model": "gpt-image-2"}, version="v2")
    async for event in stream:
        if event["event"] == "on_custom_event":
            assert event["name"] == EVENT
            progress.append(event["data"])
            if len(progress) == 2:
                enough.set()
    assert len(progress) >= 2
    first = progress[0]
    assert (first["tool"], first["model"]) == ("generate_image", "openai/gpt-image-2")
    assert first["message"].startswith("generating with openai/gpt-image-2: ")
    assert progress[-1]["elapsed_s"] >= first["elapsed_s"]


def test_langgraph_custom_stream_shows_progress_of_a_sync_call() -> None:
    """create_agent(...).stream(stream_mode="custom") yields the sync tool's progress."""
    agents = pytest.importorskip("langchain.agents")
    from clawrouter_images_demo import scripted_chat_model

    enough = threading.Event()
    seen: list[dict[str, Any]] = []

    class Counting(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            seen.append(data)
            if len(seen) >= 2:
                enough.set()

    toolkit = langchain_clawrouter.ClawRouterImageToolkit(
        client=_slow_sync_client(enough), progress_every_s=TICK
    )
    tools = toolkit.get_tools()
    agent = agents.create_agent(scripted_chat_model(), tools)
    chunks = list(
        agent.stream(
            {"messages": [{"role": "user", "content": "Draw me a cyberpunk city at night"}]},
            config={"callbacks": [Counting()]},
            stream_mode="custom",
        )
    )
    shown = [chunk[EVENT] for chunk in chunks if EVENT in chunk]
    assert len(shown) >= 2
    assert shown[0]["model"] == "google/nano-banana"
    assert shown[0]["tool"] == "generate_image"


class _Collect(BaseEventHandler):
    """Collects the spec's progress events; sets ``enough`` after two."""

    events: list[Any]
    enough: Any = None

    @classmethod
    def class_name(cls) -> str:
        return "Collect"

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, llama_clawrouter.ImageProgressEvent):
            self.events.append(event)
            if len(self.events) >= 2:
                self.enough.set()


@pytest.fixture
def collect() -> Any:
    root = instrument.get_dispatcher()
    handler = _Collect(events=[])
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


def test_llamaindex_sync_progress_reaches_an_event_handler(collect: Any) -> None:
    """A sync call's progress arrives as ImageProgressEvent on the root dispatcher."""
    collect.enough = threading.Event()
    spec = llama_clawrouter.ClawRouterImageToolSpec(
        client=_slow_sync_client(collect.enough), progress_every_s=TICK
    )
    tool = {t.metadata.name: t for t in spec.to_tool_list()}["generate_image"]
    assert not tool.call(prompt="a slow fox", model="banana-pro").is_error
    assert len(collect.events) >= 2
    event = collect.events[0]
    assert (event.tool, event.model) == ("generate_image", "google/nano-banana-pro")
    assert "generating with google/nano-banana-pro" in event.message


async def test_llamaindex_async_progress_reaches_an_event_handler(collect: Any) -> None:
    """An async call's progress comes from a timer task beside the request."""
    collect.enough = asyncio.Event()
    spec = llama_clawrouter.ClawRouterImageToolSpec(
        client=ImageClient(BASE_URL),
        async_client=_slow_async_client(collect.enough),
        progress_every_s=TICK,
    )
    tool = {t.metadata.name: t for t in spec.to_tool_list()}["edit_image"]
    output = await tool.acall(prompt="snow", image="data:image/png;base64," + _PNG_B64)
    assert not output.is_error, output.content
    assert collect.events[0].tool == "edit_image"


def test_a_failing_progress_handler_does_not_fail_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A report that raises is logged; the paid call still returns its images."""
    enough = threading.Event()
    from clawrouter_images.agent_tools import ImageToolConfig, ImageTools
    from clawrouter_images.agent_tools._schemas import GenerateArgs

    tools = ImageTools(ImageToolConfig(progress_every_s=TICK), client=_slow_sync_client(enough))
    failures = 0

    def broken(update: Any) -> None:
        nonlocal failures
        failures += 1
        if failures >= 2:
            enough.set()
        raise RuntimeError("handler bug")

    with caplog.at_level(logging.WARNING, logger="clawrouter_images"):
        answer = tools.run(GenerateArgs(prompt="a fox"), on_progress=broken)
    assert answer.artifact["urls"] == ["http://localhost:8402/images/1-slow.png"]
    assert "a progress report failed" in caplog.text


def test_a_fast_call_reports_nothing() -> None:
    """At the default interval a call that answers at once reports no progress."""
    from clawrouter_images.agent_tools import ImageTools
    from clawrouter_images.agent_tools._schemas import GenerateArgs

    done = threading.Event()
    done.set()
    reports: list[Any] = []
    ImageTools(client=_slow_sync_client(done)).run(GenerateArgs(prompt="x"), reports.append)
    assert reports == []


_PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"
)

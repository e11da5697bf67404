"""Tool results survive where agents keep them, and images reach vision models at a size
every provider accepts (issue: results are JSON; image blocks the vision models accept)."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from clawrouter_images import AsyncImageClient, ImageClient
from clawrouter_images._constants import VISION_MAX_BYTES, VISION_MAX_SIDE
from clawrouter_images._pixels import Unreadable
from clawrouter_images._vision import for_vision
from clawrouter_images.agent_tools import ImageToolConfig, ImageTools
from clawrouter_images.agent_tools._results import tool_result
from clawrouter_images.agent_tools._schemas import GenerateArgs
from clawrouter_images.emulator import Emulator, Fault

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
messages_module = pytest.importorskip("langchain_core.messages")
tool_call = pytest.importorskip("langchain_core.messages.tool").tool_call

BASE_URL = "http://127.0.0.1:8402"
BIG_URL = "http://localhost:8402/images/1795503044001-photo001.png"


def _photo_png(width: int, height: int) -> bytes:
    """A photo-like PNG: noise compresses badly, as photographs do (~3 bytes a pixel)."""
    image = Image.merge("RGB", [Image.effect_noise((width, height), 90)] * 3)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


# -- results are plain JSON ----------------------------------------------------------------


@pytest.fixture
def toolkit(
    clawrouter_client: ImageClient, clawrouter_async_client: AsyncImageClient, tmp_path: Path
) -> Any:
    return langchain_clawrouter.ClawRouterImageToolkit(
        client=clawrouter_client,
        async_client=clawrouter_async_client,
        save_dir=tmp_path / "out",
        return_image_block=True,
    )


def _generate(toolkit: Any) -> Any:
    tool = {t.name: t for t in toolkit.get_tools()}["generate_image"]
    return tool.invoke(tool_call(name=tool.name, args={"prompt": "a red fox", "n": 2}, id="c1"))


def test_tool_message_survives_messages_to_dict_and_json(toolkit: Any, tmp_path: Path) -> None:
    """json.dumps(messages_to_dict([msg])) works and gives back the URLs, paths and cost."""
    message = _generate(toolkit)
    text = json.dumps(messages_module.messages_to_dict([message]))
    (restored,) = messages_module.messages_from_dict(json.loads(text))
    assert restored.artifact == message.artifact
    artifact = restored.artifact
    assert len(artifact["urls"]) == 2
    assert all(url.startswith("http://localhost:8402/images/") for url in artifact["urls"])
    assert [Path(p).parent for p in artifact["saved_paths"]] == [tmp_path / "out"] * 2
    assert artifact["estimated_cost_usd"] == pytest.approx(0.105)
    # The images went to the model as blocks; none of their bytes are in the artifact.
    assert [block["type"] for block in message.content] == ["text", "image", "image"]
    assert len(json.dumps(artifact)) < 4096


def test_tool_message_survives_a_langgraph_checkpointer(toolkit: Any) -> None:
    """An agent's checkpointed ToolMessage comes back with the same artifact."""
    memory = pytest.importorskip("langgraph.checkpoint.memory")
    agents = pytest.importorskip("langchain.agents")
    from clawrouter_images_demo import scripted_chat_model

    agent = agents.create_agent(
        scripted_chat_model(), toolkit.get_tools(), checkpointer=memory.InMemorySaver()
    )
    config = {"configurable": {"thread_id": "t1"}}
    live = agent.invoke(
        {"messages": [{"role": "user", "content": "Draw me a cyberpunk city at night"}]}, config
    )
    [sent] = [m for m in live["messages"] if isinstance(m, messages_module.ToolMessage)]
    stored = agent.get_state(config).values["messages"]
    [kept] = [m for m in stored if isinstance(m, messages_module.ToolMessage)]
    assert kept is not sent
    assert kept.artifact == sent.artifact
    assert kept.artifact["saved_paths"]
    assert kept.artifact["urls"]
    assert kept.artifact["estimated_cost_usd"] == pytest.approx(0.0525)


def test_llamaindex_tool_output_dumps_to_json_with_urls_and_paths(
    clawrouter_client: ImageClient, clawrouter_async_client: AsyncImageClient, tmp_path: Path
) -> None:
    """ToolOutput.model_dump_json() keeps the URLs and saved paths, and no image bytes."""
    spec = llama_clawrouter.ClawRouterImageToolSpec(
        client=clawrouter_client,
        async_client=clawrouter_async_client,
        save_dir=tmp_path,
        return_image_block=True,
    )
    tool = {t.metadata.name: t for t in spec.to_tool_list()}["generate_image"]
    output = tool.call(prompt="a lighthouse")
    dumped = json.loads(output.model_dump_json())
    raw = dumped["raw_output"]
    assert raw == output.raw_output
    assert raw["urls"][0].startswith("http://localhost:8402/images/")
    assert Path(raw["saved_paths"][0]).parent == tmp_path
    assert "ImageBlock" not in json.dumps(raw)
    assert [type(b).__name__ for b in output.blocks] == ["TextBlock", "ImageBlock"]


def test_inline_results_leave_their_bytes_out_of_the_artifact(
    clawrouter_emulator: Emulator, clawrouter_client: ImageClient
) -> None:
    """A b64_json answer's artifact keeps the answer's fields, not its base64."""
    clawrouter_emulator.add_fault(Fault("b64_json"))
    response = clawrouter_client.generate("a fox")
    assert response.data[0].b64_json
    artifact = tool_result(response)
    assert artifact["urls"] == []
    assert "b64_json" not in artifact["response"]["data"][0]
    assert len(json.dumps(artifact)) < 2048


# -- image blocks the vision models accept -----------------------------------------------


@pytest.fixture
def photo_server() -> Iterator[tuple[ImageClient, bytes]]:
    """A ClawRouter stand-in whose one result is a 2400x2400 photo-like PNG (~8 MB)."""
    photo = _photo_png(2400, 2400)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"created": 1, "data": [{"url": BIG_URL}]})
        return httpx.Response(200, content=photo, headers={"content-type": "image/png"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    with ImageClient(BASE_URL, http_client=http) as client:
        yield client, photo
    http.close()


@pytest.mark.parametrize("save", [True, False], ids=["saved", "not-saved"])
def test_a_big_result_reaches_the_model_downscaled_and_stays_whole_on_disk(
    photo_server: tuple[ImageClient, bytes], tmp_path: Path, save: bool
) -> None:
    """The block is at most VISION_MAX_SIDE a side and VISION_MAX_BYTES; the file is the original."""
    client, photo = photo_server
    assert len(photo) > 2 * VISION_MAX_BYTES
    config = ImageToolConfig(
        return_image_block=True, save_dir=tmp_path if save else None, models=["banana-pro"]
    )
    tools = ImageTools(config, client=client)
    answer = tools.run(GenerateArgs(prompt="a photo", model="banana-pro"))
    (image,) = answer.images
    assert image.data is not None
    assert len(image.data) <= VISION_MAX_BYTES
    assert image.mime_type == "image/jpeg"
    with Image.open(io.BytesIO(image.data)) as shown:
        assert max(shown.size) == VISION_MAX_SIDE
    if save:
        (saved,) = answer.artifact["saved_paths"]
        assert Path(saved).read_bytes() == photo
    assert answer.artifact["urls"] == [BIG_URL]


VISION_CASES: dict[str, tuple[Any, str, int | None]] = {
    # name: (image maker, MIME type of the block, long side of the block or None = unchanged)
    "small png as is": (
        lambda: _encoded(Image.new("RGB", (640, 480), "teal"), "PNG"),
        "image/png",
        None,
    ),
    "small jpeg as is": (
        lambda: _encoded(Image.new("RGB", (800, 600), "navy"), "JPEG"),
        "image/jpeg",
        None,
    ),
    "small webp as is": (
        lambda: _encoded(Image.new("RGB", (300, 200), "red"), "WEBP"),
        "image/webp",
        None,
    ),
    "wide png shrunk": (
        lambda: _encoded(Image.new("RGB", (4096, 1024), "teal"), "PNG"),
        "image/jpeg",
        VISION_MAX_SIDE,
    ),
    "tall jpeg shrunk": (
        lambda: _encoded(Image.new("RGB", (1024, 4096), "navy"), "JPEG"),
        "image/jpeg",
        VISION_MAX_SIDE,
    ),
    "transparent png keeps alpha": (
        lambda: _encoded(Image.new("RGBA", (3000, 3000), (0, 0, 0, 0)), "PNG"),
        "image/png",
        VISION_MAX_SIDE,
    ),
    "gif converted": (lambda: _encoded(Image.new("P", (64, 64)), "GIF"), "image/jpeg", 64),
}


@pytest.mark.parametrize("case", list(VISION_CASES))
def test_for_vision_table(case: str) -> None:
    """Each image comes out in a type every provider reads, within the side and byte limits."""
    make, mime, side = VISION_CASES[case]
    data = make()
    copy = for_vision(data)
    assert not isinstance(copy, Unreadable), copy
    out, out_mime = copy
    assert out_mime == mime
    assert len(out) <= VISION_MAX_BYTES
    with Image.open(io.BytesIO(out)) as image:
        assert max(image.size) <= VISION_MAX_SIDE
        if side is None:
            assert out == data
        else:
            assert max(image.size) == side
        if "alpha" in case:
            assert image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def test_a_huge_image_header_is_refused_without_decoding() -> None:
    """An image claiming 100,000 x 100,000 pixels is refused from its header alone."""
    head = _encoded(Image.new("L", (1, 1)), "PNG")
    # Rewrite the IHDR size: the pixels are never there, and must never be decoded.
    bomb = head[:16] + (100_000).to_bytes(4, "big") * 2 + head[24:]
    copy = for_vision(bomb)
    assert isinstance(copy, Unreadable)
    assert re.match(r"is 100000x100000, too large|could not be read as an image", copy.reason)


def test_a_result_that_is_no_image_is_described_not_lost() -> None:
    """When the bytes cannot be shown, the text says so and the artifact is intact."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"created": 1, "data": [{"url": BIG_URL}]})
        return httpx.Response(200, content=b"<html>not an image</html>")

    with ImageClient(
        BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(answer))
    ) as client:
        tools = ImageTools(ImageToolConfig(return_image_block=True), client=client)
        answer_ = tools.run(GenerateArgs(prompt="a fox"))
    assert answer_.images == []
    assert "(image 1 is not shown to you: it could not be read as an image" in answer_.text
    assert answer_.artifact["urls"] == [BIG_URL]


def test_image_blocks_without_pillow_fail_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """return_image_block=True without Pillow is refused when the tools are built, naming the extra."""
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ValueError, match=r"clawrouter-images\[pillow\]"):
        ImageTools(ImageToolConfig(return_image_block=True), base_url=BASE_URL)
    with pytest.raises(ValueError, match=r"clawrouter-images\[pillow\]"):
        langchain_clawrouter.ClawRouterGenerateImage(return_image_block=True, base_url=BASE_URL)
    ImageTools(ImageToolConfig(), base_url=BASE_URL).close()  # without blocks, no Pillow needed

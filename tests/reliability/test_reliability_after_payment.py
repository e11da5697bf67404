"""After the payment nothing may lose the result; before it, nothing checkable is left unchecked.

Real file systems where the machine allows it: a tmpfs of one page (a full disk) and a
read-only tmpfs, mounted by the test itself and skipped where mounting is refused.  Every
failure after the paid answer arrived is a ``SaveError`` that keeps the answer and
names its URLs, for the client, the LangChain tool and the LlamaIndex tool alike, and no
temporary or partial file survives.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from langchain_core.messages import ToolMessage
from llama_index.core.tools.calling import call_tool

from clawrouter_images import (
    APIConnectionError,
    ClawRouterError,
    ImageClient,
    InvalidRequestError,
    SaveError,
)
from langchain_clawrouter import ClawRouterGenerateImage
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.reliability.conftest import Served
    from tests.support.server import FakeClawRouter
    from tests.support.twin import Twin

GENERATE_ARGS: dict[str, Any] = {"model": "cogview", "size": "1024x1024"}
TOOL_ARGS: dict[str, Any] = {"prompt": "a lighthouse", "model": "cogview", "size": "1024x1024"}


def _mount(target: Path, options: str) -> Iterator[Path]:
    target.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"this machine refuses a tmpfs mount: {done.stderr.decode().strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 4 KiB file system: any real image overflows it."""
    yield from _mount(tmp_path / "full", "size=4k")


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder on a read-only file system (root's permissions do not help here)."""
    yield from _mount(tmp_path / "ro", "ro,size=64k")


def _entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


# -- before paying --------------------------------------------------------------------------

Unusable = Callable[[Path], Path]

UNUSABLE: dict[str, Unusable] = {
    "a file": lambda tmp: _file(tmp / "taken"),
    "under a file": lambda tmp: _file(tmp / "taken") / "images",
    "nul byte": lambda tmp: tmp / "bad\x00name",
}


def _file(path: Path) -> Path:
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize("where", list(UNUSABLE))
@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_unusable_save_folder_is_refused_before_paying(
    served: Served, tmp_path: Path, where: str, framework: str
) -> None:
    """A save_dir that cannot take files stops the tool call before any request is sent."""
    folder = UNUSABLE[where](tmp_path)
    text, failed = _call_tool(framework, served.base_url, folder)
    assert failed
    assert "cannot save into" in text
    assert served.posts() == []


@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_a_save_folder_replaced_after_the_tools_were_built_is_refused_before_paying(
    served: Served, tmp_path: Path, framework: str
) -> None:
    """A folder fine when the tools were built, replaced by a file since: the call stops
    before any request is sent."""
    folder = tmp_path / "images"

    def replace_with_a_file() -> None:
        folder.rmdir()
        _file(folder)

    text, failed = _call_tool(framework, served.base_url, folder, broken=replace_with_a_file)
    assert failed
    assert "cannot save into" in text
    assert "is not a folder" in text
    assert served.posts() == []


@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_read_only_save_folder_is_refused_before_paying(
    served: Served, read_only: Path, framework: str
) -> None:
    """A save_dir on a read-only file system stops the tool call before any request is sent."""
    text, failed = _call_tool(framework, served.base_url, read_only)
    assert failed
    assert "Read-only file system" in text
    assert served.posts() == []


def _call_tool(
    framework: str, base_url: str, save_dir: Path, *, broken: Callable[[], object] | None = None
) -> tuple[str, bool]:
    """A tool call saving into ``save_dir``: the message and whether it failed.  A folder
    refused when the tools are built counts as a failed call (nothing can be sent).
    ``broken`` runs after the tools are built, to make the folder unusable there."""
    try:
        return _built_and_called(framework, base_url, save_dir, broken)
    # InvalidRequestError, or pydantic's ValidationError holding it (the settings models).
    except ValueError as err:
        return str(err), True


def _built_and_called(
    framework: str, base_url: str, save_dir: Path, broken: Callable[[], object] | None
) -> tuple[str, bool]:
    if framework == "langchain":
        tool = ClawRouterGenerateImage(base_url=base_url, save_dir=save_dir)
        if broken is not None:
            broken()
        call = {"name": tool.name, "args": TOOL_ARGS, "id": "c1", "type": "tool_call"}
        message = tool.invoke(call)
        assert isinstance(message, ToolMessage)
        assert isinstance(message.content, str)
        return message.content, message.status == "error"
    spec = ClawRouterImageToolSpec(base_url=base_url, save_dir=save_dir)
    if broken is not None:
        broken()
    # call_tool is how LlamaIndex agents call tools: an exception becomes is_error output.
    output = call_tool(spec.to_tool_list()[0], TOOL_ARGS)
    return output.content, output.is_error


# -- after paying ---------------------------------------------------------------------------


async def test_full_disk_keeps_the_result_and_leaves_no_file(
    twin: Twin, served: Served, full_disk: Path
) -> None:
    """A disk that fills up while saving: SaveError with the answer and its URL, nothing left."""
    response = await twin.generate("a lighthouse", **GENERATE_ARGS)
    with pytest.raises(SaveError) as caught:
        await twin.save(response, full_disk)
    error = caught.value
    assert error.result is response
    assert error.may_have_been_paid
    assert isinstance(error.__cause__, OSError)
    assert "No space left on device" in error.message
    assert response.urls[0] in error.message
    assert _entries(full_disk) == []
    assert served.paid() == 1


async def test_save_folder_removed_after_the_call_keeps_the_result(
    twin: Twin, tmp_path: Path
) -> None:
    """A folder replaced by a file between the call and save(): SaveError keeps the answer."""
    response = await twin.generate("a lighthouse", **GENERATE_ARGS)
    target = _file(tmp_path / "gone")
    with pytest.raises(SaveError) as caught:
        await twin.save(response, target)
    assert caught.value.result is response
    assert response.urls[0] in caught.value.message


async def test_second_image_failing_keeps_the_first(
    twin: Twin, served: Served, tmp_path: Path
) -> None:
    """Two images, the second fails: the first is saved and named in the error."""
    response = await twin.generate("a lighthouse", n=2, **GENERATE_ARGS)
    response.data[1].url = "http://127.0.0.1:9/gone.png"
    with pytest.raises(SaveError) as caught:
        await twin.save(response, tmp_path / "out")
    (saved,) = caught.value.saved_paths
    assert Path(saved).parent == tmp_path / "out"
    assert saved in caught.value.message
    assert _entries(tmp_path / "out") == [Path(saved).name]


@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_tool_on_a_full_disk_tells_the_llm_where_the_images_are(
    served: Served, full_disk: Path, framework: str
) -> None:
    """The LLM reads the paid result's URL in the tool error, so it has no reason to pay again."""
    text, failed = _call_tool(framework, served.base_url, full_disk)
    assert failed
    (entry,) = served.posts()
    assert entry.paid
    assert "No space left on device" in text
    assert "/images/" in text
    assert "may have been paid" in text
    assert _entries(full_disk) == []


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("Event loop is closed"),
        RecursionError(),
        UnicodeDecodeError("utf-8", b"", 0, 1, "x"),
    ],
    ids=["runtime", "recursion", "unicode"],
)
def test_unexpected_failure_after_sending_is_typed_and_paid(
    error: Exception, fake: FakeClawRouter
) -> None:
    """A non-httpx error while the POST is in flight is a ClawRouterError marked possibly paid."""
    fake.otherwise = error
    with (
        httpx.Client(transport=fake.transport()) as http,
        ImageClient("http://127.0.0.1:8402", http_client=http, max_retries=0) as client,
    ):
        with pytest.raises(APIConnectionError) as caught:
            client.generate("a lighthouse")
        assert caught.value.may_have_been_paid
        assert client.spent_usd > 0
    assert len(fake.requests) == 1


def test_nested_json_answer_is_a_typed_error(fake: FakeClawRouter) -> None:
    """A 200 whose JSON nests a million levels deep is a typed error, never RecursionError."""
    body = b"[" * 1_000_000 + b"]" * 1_000_000
    fake.otherwise = fake.content(body)
    with (
        httpx.Client(transport=fake.transport()) as http,
        ImageClient(fake.base_url, http_client=http) as client,
        pytest.raises(ClawRouterError) as caught,
    ):
        client.generate("a lighthouse")
    assert caught.value.may_have_been_paid


def test_save_dir_check_is_the_one_the_client_uses(tmp_path: Path) -> None:
    """The folder check refuses with InvalidRequestError and creates what it may."""
    from clawrouter_images._files import prepare_save_dir

    created = prepare_save_dir(tmp_path / "a" / "b")
    assert created.is_dir()
    assert _entries(created) == []
    with pytest.raises(InvalidRequestError, match="not a folder"):
        prepare_save_dir(_file(tmp_path / "f"))
    with contextlib.suppress(FileNotFoundError):
        (tmp_path / "f").unlink()

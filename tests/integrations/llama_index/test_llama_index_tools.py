"""Contract tests of ``ClawRouterImageToolSpec`` (LlamaIndex has no standard tool suite)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from llama_index.core.base.llms.types import ImageBlock, TextBlock
from llama_index.core.tools import FunctionTool, ToolOutput
from llama_index.core.tools.calling import acall_tool, call_tool
from llama_index.core.tools.tool_spec.base import BaseToolSpec
from tests.support.installed import assert_imported_from_its_distribution
from tests.support.png import png_bytes

import clawrouter_images
import llama_index.tools.clawrouter
from clawrouter_images import (
    AsyncImageClient,
    BudgetExceededError,
    ImageClient,
    InputImageError,
    InvalidRequestError,
    PaymentRequiredError,
)
from clawrouter_images.agent_tools import ImageToolConfig, ImageToolResult
from clawrouter_images.agent_tools._descriptions import (
    MAX_DESCRIPTION_CHARS,
    edit_description,
    generate_description,
)
from clawrouter_images.agent_tools._schemas import edit_schema, generate_schema
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.integrations.llama_index.conftest import SpecFactory
    from tests.support.server import FakeClawRouter


def tools_by_name(spec: ClawRouterImageToolSpec) -> dict[str, FunctionTool]:
    return {tool.metadata.get_name(): tool for tool in spec.to_tool_list()}


def model_enum(tool: FunctionTool) -> list[str]:
    properties = tool.metadata.get_parameters_dict()["properties"]
    choices = [option for option in properties["model"]["anyOf"] if "enum" in option]
    return list(choices[0]["enum"])


# -- package ------------------------------------------------------------------------------


def test_public_api_is_the_tool_spec_and_its_progress_event() -> None:
    """The package exports ClawRouterImageToolSpec, a BaseToolSpec, and its progress event."""
    assert llama_index.tools.clawrouter.__all__ == ["ClawRouterImageToolSpec", "ImageProgressEvent"]
    assert issubclass(ClawRouterImageToolSpec, BaseToolSpec)


def test_namespace_portions_have_no_init() -> None:
    """llama_index/ and llama_index/tools/ are PEP 420 portions, so llama_index.core still imports
    (checked on the copy imported: the source tree, or the installed wheel)."""
    package = Path(str(llama_index.tools.clawrouter.__file__)).parent
    assert not (package.parents[1] / "__init__.py").exists()
    assert not (package.parent / "__init__.py").exists()
    assert (package / "py.typed").exists()
    assert importlib.import_module("llama_index.core.tools") is not None


def test_the_installed_copies_are_the_ones_tested() -> None:
    """The adapter and the core imported here are those of the installed distributions (in CI,
    the wheels), not a source folder on the path."""
    assert_imported_from_its_distribution(
        "llama-index-tools-clawrouter", llama_index.tools.clawrouter
    )
    assert_imported_from_its_distribution("clawrouter-images", clawrouter_images)


def test_missing_llama_index_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without llama-index-core the import error gives the exact pip line."""
    monkeypatch.setitem(sys.modules, "llama_index.core.tools", None)
    monkeypatch.delitem(sys.modules, "llama_index.tools.clawrouter.base")
    with pytest.raises(ImportError, match="pip install llama-index-tools-clawrouter"):
        importlib.import_module("llama_index.tools.clawrouter.base")


# -- tool list ----------------------------------------------------------------------------


def test_tool_list_has_generate_and_edit(make_spec: SpecFactory) -> None:
    """to_tool_list() returns the two FunctionTools under the contract's names."""
    tools = make_spec().to_tool_list()
    assert [tool.metadata.name for tool in tools] == ["generate_image", "edit_image"]
    assert all(isinstance(tool, FunctionTool) for tool in tools)


def test_tool_names_can_be_overridden(make_spec: SpecFactory) -> None:
    """generate_tool_name and edit_tool_name rename what the LLM sees."""
    spec = make_spec(generate_tool_name="draw", edit_tool_name="retouch")
    assert list(tools_by_name(spec)) == ["draw", "retouch"]


@pytest.mark.parametrize("selection", [["edit_image"], [("edit_image", "aedit_image")]])
def test_tools_have_native_sync_and_async_functions(
    make_spec: SpecFactory, selection: list[str | tuple[str, str]]
) -> None:
    """Each tool calls the spec's own sync and async methods, with no thread or loop bridge."""
    spec = make_spec()
    (tool,) = spec.to_tool_list(spec_functions=selection)
    assert tool.fn == spec.edit_image
    assert tool.async_fn == spec.aedit_image
    generate = tools_by_name(spec)["generate_image"]
    assert generate.fn == spec.generate_image
    assert generate.async_fn == spec.agenerate_image


def test_unknown_spec_function_is_refused(make_spec: SpecFactory) -> None:
    """A spec function name that is not a tool raises a ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="edit_image"):
        make_spec().to_tool_list(spec_functions=["delete_image"])


def test_schemas_are_the_contracts(make_spec: SpecFactory) -> None:
    """fn_schema is the contract's schema for the same configuration."""
    config = ImageToolConfig(models=["nano-banana", "gpt-image"])
    tools = tools_by_name(make_spec(models=["nano-banana", "gpt-image"]))
    for name, schema in (("generate_image", generate_schema), ("edit_image", edit_schema)):
        fn_schema = tools[name].metadata.fn_schema
        assert fn_schema is not None
        assert fn_schema.model_json_schema() == schema(config).model_json_schema()


def test_schemas_offer_the_configured_models(make_spec: SpecFactory) -> None:
    """The model enum lists the offered models; the edit tool only those that can edit."""
    tools = tools_by_name(make_spec(models=["banana-pro", "cogview", "gpt-image"]))
    assert model_enum(tools["generate_image"]) == ["banana-pro", "cogview", "gpt-image"]
    assert model_enum(tools["edit_image"]) == ["banana-pro", "gpt-image"]


def test_descriptions_are_the_contracts_and_fit(make_spec: SpecFactory) -> None:
    """Descriptions come from the contract, fit 1024 characters and convert to OpenAI tools."""
    tools = tools_by_name(make_spec())
    expected = {"generate_image": generate_description(), "edit_image": edit_description()}
    for name, tool in tools.items():
        assert tool.metadata.description == expected[name]
        assert len(tool.metadata.description) <= MAX_DESCRIPTION_CHARS
        openai_tool = tool.metadata.to_openai_tool()
        assert openai_tool["function"]["name"] == name


def test_return_direct_is_configurable(make_spec: SpecFactory) -> None:
    """return_direct reaches both tools' metadata; it is off by default."""
    assert not any(tool.metadata.return_direct for tool in make_spec().to_tool_list())
    assert all(tool.metadata.return_direct for tool in make_spec(return_direct=True).to_tool_list())


def test_edit_tool_is_left_out_without_an_editing_model(make_spec: SpecFactory) -> None:
    """With no offered model able to edit, only generate_image is a tool and edits are refused."""
    spec = make_spec(models=["cogview"])
    assert list(tools_by_name(spec)) == ["generate_image"]
    with pytest.raises(ValueError, match="none of the offered models can edit"):
        spec.to_tool_list(spec_functions=["edit_image"])
    with pytest.raises(InvalidRequestError, match="no editing model"):
        spec.edit_image(prompt="x", image="https://example.invalid/a.png")


def test_bad_model_list_fails_at_construction(make_spec: SpecFactory) -> None:
    """A configured model that does not exist is refused when the spec is built."""
    with pytest.raises(ValueError, match="no-such-model"):
        make_spec(models=["no-such-model"])


# -- calls --------------------------------------------------------------------------------


def test_sync_call_returns_text_and_raw_result(
    make_spec: SpecFactory, fake: FakeClawRouter
) -> None:
    """A sync call answers a TextBlock with a markdown image; raw_output is the JSON artifact."""
    tool = tools_by_name(make_spec())["generate_image"]
    output = tool.call(prompt="a cyberpunk city at night", model="nano-banana")
    assert [type(block) for block in output.blocks] == [TextBlock]
    assert "![a cyberpunk city at night](http://localhost:8402/images/1.png)" in output.content
    assert "google/nano-banana" in output.content
    assert _artifact(output)["urls"] == ["http://localhost:8402/images/1.png"]
    assert fake.body(0) == {
        "model": "google/nano-banana",
        "prompt": "a cyberpunk city at night",
        "size": "1024x1024",
        "n": 1,
    }


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_raw_input_is_what_the_llm_passed(
    make_spec: SpecFactory, fake: FakeClawRouter, mode: str
) -> None:
    """raw_input keeps the LLM's arguments as FunctionTool records them; raw_output is the
    artifact, not the answer the blocks were made from."""
    tool = tools_by_name(make_spec())["generate_image"]
    arguments = {"prompt": "a fox", "n": 1}
    output = tool.call(**arguments) if mode == "sync" else await tool.acall(**arguments)
    assert output.raw_input == {"args": (), "kwargs": arguments}
    assert type(output.raw_output) is dict
    assert output.content == str(output)
    assert output.content.startswith("1 image from google/nano-banana")


async def test_async_call_uses_the_async_client(
    make_spec: SpecFactory, fake: FakeClawRouter, refusing_client: ImageClient
) -> None:
    """acall() runs on the AsyncImageClient; the sync client is never touched."""
    tool = tools_by_name(make_spec(client=refusing_client))["generate_image"]
    output = await tool.acall(prompt="a samurai", model="banana-pro", size="1024x1792")
    _artifact(output)
    assert "![a samurai](http://localhost:8402/images/1.png)" in output.content
    body = fake.body(0)
    assert (body["model"], body["size"]) == ("google/nano-banana-pro", "1024x1792")


def test_sync_call_does_not_touch_the_async_client(
    make_spec: SpecFactory, fake: FakeClawRouter, refusing_async_client: AsyncImageClient
) -> None:
    """call() runs on the ImageClient; the async client is never touched."""
    tool = tools_by_name(make_spec(async_client=refusing_async_client))["generate_image"]
    output = tool.call(prompt="a fox")
    _artifact(output)
    assert len(fake.posts) == 1


def test_image_blocks_are_opt_in(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """return_image_block=True adds one ImageBlock per image with the served bytes."""
    tool = tools_by_name(make_spec(return_image_block=True))["generate_image"]
    output = tool.call(prompt="two foxes", n=2)
    text, *images = output.blocks
    assert isinstance(text, TextBlock)
    assert text.text.count("![two foxes](") == 2
    assert len(images) == 2
    for block, name in zip(images, ["1.png", "2.png"], strict=True):
        assert isinstance(block, ImageBlock)
        assert block.image_mimetype == "image/png"
        assert block.url is None
        assert block.inline_url() == fake.data_uri(fake.served[name])


async def test_async_image_blocks(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """The async path adds the same ImageBlocks."""
    tool = tools_by_name(make_spec(return_image_block=True))["generate_image"]
    output = await tool.acall(prompt="a fox")
    (block,) = [b for b in output.blocks if isinstance(b, ImageBlock)]
    assert block.inline_url() == fake.data_uri(fake.served["1.png"])


def test_results_are_saved(make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path) -> None:
    """With save_dir, every image is written there and listed in raw_output and the text."""
    tool = tools_by_name(make_spec(save_dir=tmp_path / "out"))["generate_image"]
    output = tool.call(prompt="a lighthouse", n=2)
    saved = [Path(path) for path in _artifact(output)["saved_paths"]]
    assert [path.parent for path in saved] == [tmp_path / "out"] * 2
    assert [path.read_bytes() for path in saved] == [fake.served["1.png"], fake.served["2.png"]]
    assert str(saved[0]) in output.content


async def test_async_edit_sends_the_image(
    make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path
) -> None:
    """An async edit sends an allowed local file as a data URI to image2image."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes(seed=500))
    tool = tools_by_name(make_spec(allowed_dirs=[tmp_path]))["edit_image"]
    output = await tool.acall(prompt="make it snow", image=str(photo))
    _artifact(output)
    (post,) = fake.posts
    body = fake.body()
    assert post.url.path == "/v1/images/image2image"
    assert body["image"] == fake.data_uri(png_bytes(seed=500))
    assert body["model"] == "openai/gpt-image-1"


# -- errors -------------------------------------------------------------------------------

PAYMENT_REJECTED = (402, {"error": "Payment rejected", "details": "insufficient funds"})


def test_server_error_becomes_is_error_output(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """A 402 raises PaymentRequiredError, which call_tool turns into an is_error output."""
    fake.fail(*PAYMENT_REJECTED)
    tool = tools_by_name(make_spec())["generate_image"]
    with pytest.raises(PaymentRequiredError):
        tool.call(prompt="a fox")
    output = call_tool(tool, {"prompt": "a fox"})
    assert output.is_error
    assert isinstance(output.exception, PaymentRequiredError)
    assert "fund the ClawRouter wallet" in output.content


async def test_async_server_error_becomes_is_error_output(
    make_spec: SpecFactory, fake: FakeClawRouter
) -> None:
    """acall_tool turns the same error into an is_error output on the async path."""
    fake.fail(*PAYMENT_REJECTED)
    tool = tools_by_name(make_spec())["generate_image"]
    output = await acall_tool(tool, {"prompt": "a fox"})
    assert output.is_error
    assert isinstance(output.exception, PaymentRequiredError)
    assert "fund the ClawRouter wallet" in output.content


def assert_refused_before_sending(
    output: ToolOutput, fake: FakeClawRouter, error: type[Exception], text: str
) -> None:
    assert output.is_error
    assert isinstance(output.exception, error)
    assert text in output.content
    assert fake.requests == []


def test_model_not_offered_is_refused(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """A model outside the enum is an is_error output listing the choices; nothing is sent."""
    tool = tools_by_name(make_spec(models=["nano-banana", "gpt-image"]))["generate_image"]
    output = call_tool(tool, {"prompt": "a fox", "model": "banana-pro"})
    assert_refused_before_sending(output, fake, InvalidRequestError, "'nano-banana' or 'gpt-image'")


def test_wrong_argument_types_are_refused(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """Arguments that do not fit the schema are refused with the field named; nothing is sent."""
    tool = tools_by_name(make_spec())["generate_image"]
    output = call_tool(tool, {"prompt": "a fox", "n": 9})
    assert_refused_before_sending(output, fake, InvalidRequestError, "n: Input should be less")


def test_over_max_cost_is_refused(make_spec: SpecFactory, fake: FakeClawRouter) -> None:
    """A call estimated above max_cost_usd is an is_error output; nothing is sent."""
    tool = tools_by_name(make_spec(max_cost_usd=0.05))["generate_image"]
    output = call_tool(tool, {"prompt": "a fox", "model": "banana-pro", "size": "4096x4096"})
    assert_refused_before_sending(output, fake, BudgetExceededError, "max_cost_usd")


# -- file policy --------------------------------------------------------------------------


@pytest.fixture
def outside_file(tmp_path: Path, fake: FakeClawRouter) -> Path:
    """A real image outside the allowed folder (tmp_path / "allowed")."""
    secret = tmp_path / "secret" / "private.png"
    secret.parent.mkdir()
    secret.write_bytes(png_bytes(seed=1))
    (tmp_path / "allowed").mkdir()
    return secret


def edit_tool(make_spec: SpecFactory, tmp_path: Path) -> FunctionTool:
    return tools_by_name(make_spec(allowed_dirs=[tmp_path / "allowed"]))["edit_image"]


def test_path_outside_allowed_dirs_is_refused(
    make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path, outside_file: Path
) -> None:
    """A local file outside the allowed folders is refused; nothing is sent."""
    output = call_tool(edit_tool(make_spec, tmp_path), {"prompt": "x", "image": str(outside_file)})
    assert_refused_before_sending(output, fake, InputImageError, "outside the folders")


def test_symlink_escaping_is_refused(
    make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path, outside_file: Path
) -> None:
    """A symlink inside the allowed folder pointing outside it is refused; nothing is sent."""
    link = tmp_path / "allowed" / "link.png"
    link.symlink_to(outside_file)
    output = call_tool(edit_tool(make_spec, tmp_path), {"prompt": "x", "image": str(link)})
    assert_refused_before_sending(output, fake, InputImageError, "outside the folders")


def test_dotdot_escaping_is_refused(
    make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path, outside_file: Path
) -> None:
    """A path that climbs out of the allowed folder with .. is refused; nothing is sent."""
    sneaky = tmp_path / "allowed" / ".." / "secret" / "private.png"
    output = call_tool(edit_tool(make_spec, tmp_path), {"prompt": "x", "image": str(sneaky)})
    assert_refused_before_sending(output, fake, InputImageError, "outside the folders")


async def test_async_mask_outside_allowed_dirs_is_refused(
    make_spec: SpecFactory, fake: FakeClawRouter, tmp_path: Path, outside_file: Path
) -> None:
    """The policy also guards the mask, on the async path; nothing is sent."""
    inside = tmp_path / "allowed" / "photo.png"
    inside.write_bytes(png_bytes(seed=2))
    arguments = {"prompt": "x", "image": str(inside), "mask": str(outside_file)}
    output = await acall_tool(edit_tool(make_spec, tmp_path), arguments)
    assert_refused_before_sending(output, fake, InputImageError, "outside the folders")


# -- clients ------------------------------------------------------------------------------


def test_clients_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without injected clients or base_url, both are built from CLAWROUTER_BASE_URL."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", "http://127.0.0.1:9999")
    spec = ClawRouterImageToolSpec()
    assert _urls(spec)[0] == "http://127.0.0.1:9999"
    assert _urls(spec)[1] == "http://127.0.0.1:9999"


def test_base_url_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """base_url= sets where both clients reach ClawRouter."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", "http://127.0.0.1:9999")
    spec = ClawRouterImageToolSpec(base_url="http://127.0.0.1:8500")
    assert _urls(spec)[0] == _urls(spec)[1] == "http://127.0.0.1:8500"


def test_one_injected_client_locates_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """An injected sync client's base URL is used for the async client built beside it."""
    monkeypatch.delenv("CLAWROUTER_BASE_URL", raising=False)
    with ImageClient("http://127.0.0.1:8600") as client:
        spec = ClawRouterImageToolSpec(client=client)
        assert spec.client is client
        assert _urls(spec)[1] == "http://127.0.0.1:8600"


def _urls(spec: ClawRouterImageToolSpec) -> tuple[str, str]:
    """Where the spec's two clients (always built at construction) reach ClawRouter."""
    assert spec.client is not None
    assert spec.async_client is not None
    return spec.client.base_url, spec.async_client.base_url


def _artifact(output: ToolOutput) -> ImageToolResult:
    """raw_output is the artifact: plain JSON data that survives a round trip unchanged."""
    raw = output.raw_output
    assert isinstance(raw, dict)
    assert json.loads(json.dumps(raw)) == raw
    return cast("ImageToolResult", raw)

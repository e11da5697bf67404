"""Both adapters take one configuration and tell the LLM the same thing about bad arguments."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clawrouter_images.agent_tools import ImageToolConfig, ImageToolSettings, invalid_arguments
from clawrouter_images.agent_tools._schemas import edit_schema, generate_schema

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
calling = pytest.importorskip("llama_index.core.tools.calling")

BASE_URL = "http://127.0.0.1:9"  # nothing is sent: validation refuses first

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "empty prompt and n too high": ("generate_image", {"prompt": "", "n": 99}),
    "unknown model": ("generate_image", {"prompt": "x", "model": "dall-e-9"}),
    "unknown argument": ("generate_image", {"prompt": "x", "quality": "hd"}),
    "missing image": ("edit_image", {"prompt": "x"}),
    "five images": ("edit_image", {"prompt": "x", "image": ["a.png"] * 5}),
}


def _expected(tool: str, args: dict[str, Any]) -> str:
    schema = (generate_schema if tool == "generate_image" else edit_schema)(ImageToolConfig())
    with pytest.raises(ValidationError) as caught:
        schema.model_validate(args)
    return invalid_arguments(caught.value)


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_arguments_read_the_same_in_both_frameworks(case: str) -> None:
    """LangChain's validation answer and LlamaIndex's error output carry the contract's message."""
    tool_name, args = CASES[case]
    expected = _expected(tool_name, args)
    assert expected.startswith("Invalid arguments: ")

    toolkit = langchain_clawrouter.ClawRouterImageToolkit(base_url=BASE_URL)
    lc_tool = {t.name: t for t in toolkit.get_tools()}[tool_name]
    answer = lc_tool.invoke({"name": tool_name, "args": args, "id": "c1", "type": "tool_call"})
    assert answer.content == expected

    spec = llama_clawrouter.ClawRouterImageToolSpec(base_url=BASE_URL)
    li_tool = {t.metadata.name: t for t in spec.to_tool_list()}[tool_name]
    output = calling.call_tool(li_tool, args)
    assert output.is_error
    assert expected in output.content


ADAPTERS = {
    "LangChain generate tool": lambda: langchain_clawrouter.ClawRouterGenerateImage,
    "LangChain edit tool": lambda: langchain_clawrouter.ClawRouterEditImage,
    "LangChain toolkit": lambda: langchain_clawrouter.ClawRouterImageToolkit,
    "LlamaIndex spec": lambda: llama_clawrouter.ClawRouterImageToolSpec,
}


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_every_adapter_is_configured_by_the_one_settings_model(adapter: str) -> None:
    """Each adapter takes ImageToolSettings' fields, as declared there, and no copy of them."""
    cls = ADAPTERS[adapter]()
    assert issubclass(cls, ImageToolSettings)
    for name, field in ImageToolSettings.model_fields.items():
        assert repr(cls.model_fields[name]) == repr(field), name


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize(
    "typo", [{"max_cost": 0.1}, {"save_directory": "x"}, {"model": "nano-banana"}]
)
def test_a_misspelt_setting_is_refused_by_every_adapter(adapter: str, typo: dict[str, Any]) -> None:
    """A setting that does not exist fails construction instead of being dropped silently."""
    with pytest.raises(ValidationError, match=next(iter(typo))):
        ADAPTERS[adapter]()(base_url=BASE_URL, **typo)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_the_same_settings_build_every_adapter(adapter: str, tmp_path: Any) -> None:
    """The settings() of one adapter build any other, sharing its clients."""
    source = llama_clawrouter.ClawRouterImageToolSpec(
        base_url=BASE_URL, models=["nano-banana", "gpt-image"], save_dir=tmp_path, max_cost_usd=0.2
    )
    built = ADAPTERS[adapter]()(**source.settings())
    assert built.client is source.client
    assert built.async_client is source.async_client
    assert built.offered(editing=False) == source.offered(editing=False)
    assert (built.save_dir, built.max_cost_usd) == (tmp_path, 0.2)


@pytest.mark.parametrize("folder", ["/proc/nope", "/dev/null/images"])
def test_an_unusable_save_dir_is_refused_when_the_tools_are_built(folder: str) -> None:
    """The deployer hears it at construction, not the LLM at its first call."""
    from langchain_clawrouter import ClawRouterImageToolkit
    from llama_index.tools.clawrouter import ClawRouterImageToolSpec

    for build in (ClawRouterImageToolkit, ClawRouterImageToolSpec):
        # A settings model: pydantic's ValidationError (a ValueError) carries the message.
        with pytest.raises(ValueError, match="cannot save into"):
            build(save_dir=folder)

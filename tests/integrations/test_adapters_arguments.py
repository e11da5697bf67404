"""Both adapters tell the LLM the same thing about the same invalid arguments."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clawrouter_images.agent_tools import (
    ImageToolConfig,
    edit_schema,
    generate_schema,
    invalid_arguments,
)

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

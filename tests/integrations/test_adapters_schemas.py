"""The tools' schemas keep within what OpenAI's strict mode and Anthropic's tool rules accept,
while the limits they cannot carry are still enforced when a call is validated."""

from __future__ import annotations

from typing import Any

import pytest

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
function_calling = pytest.importorskip("langchain_core.utils.function_calling")

BASE_URL = "http://127.0.0.1:9"  # nothing is sent
# The keywords both OpenAI's strict mode and Anthropic's strict tool use accept (no default,
# minLength/maxLength, minimum/maximum, minItems/maxItems).
PORTABLE = {
    "type",
    "description",
    "title",
    "enum",
    "anyOf",
    "items",
    "properties",
    "required",
    "additionalProperties",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "every model": {},
    "two models": {"models": ["nano-banana", "gpt-image"]},
    "one model, n at most 1": {"models": ["dall-e-3"]},
}


def _schemas(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each tool's parameters as each framework hands them to a model."""
    found: dict[str, dict[str, Any]] = {}
    toolkit = langchain_clawrouter.ClawRouterImageToolkit(base_url=BASE_URL, **config)
    for tool in toolkit.get_tools():
        for strict in (True, False):
            converted = function_calling.convert_to_openai_tool(tool, strict=strict)
            found[f"LangChain {tool.name} strict={strict}"] = converted["function"]["parameters"]
    spec = llama_clawrouter.ClawRouterImageToolSpec(base_url=BASE_URL, **config)
    for function_tool in spec.to_tool_list():
        parameters = function_tool.metadata.to_openai_tool()["function"]["parameters"]
        found[f"LlamaIndex {function_tool.metadata.name}"] = parameters
    return found


def _walk(node: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}: {key}" for key in node if key not in PORTABLE]
    if "properties" in node and set(node.get("required", [])) != set(node["properties"]):
        problems.append(f"{where}: not every property is required")
    for name, child in node.get("properties", {}).items():
        problems += _walk(child, f"{where}.{name}")
    for index, child in enumerate(node.get("anyOf", [])):
        problems += _walk(child, f"{where}|{index}")
    if "items" in node:
        problems += _walk(node["items"], f"{where}[]")
    return problems


@pytest.mark.parametrize("config", list(CONFIGS))
def test_schemas_use_only_portable_keywords_and_require_every_property(config: str) -> None:
    """No default, length or range keyword anywhere; optional arguments are nullable instead."""
    for name, parameters in _schemas(CONFIGS[config]).items():
        assert _walk(parameters, name) == []
        for optional in ("model", "size"):
            assert {"type": "null"} in parameters["properties"][optional]["anyOf"], name


@pytest.mark.parametrize("config", list(CONFIGS))
def test_n_is_an_enum_of_what_the_offered_models_take(config: str) -> None:
    """n's limit survives as an enum: 1 up to the largest n of the offered models."""
    most = 1 if config.startswith("one model") else 4
    for name, parameters in _schemas(CONFIGS[config]).items():
        assert parameters["properties"]["n"]["enum"] == list(range(1, most + 1)), name


def test_strict_mode_marks_objects_closed() -> None:
    """LangChain's strict conversion keeps additionalProperties false on the arguments."""
    for name, parameters in _schemas({}).items():
        if "strict=True" in name:
            assert parameters["additionalProperties"] is False


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "n": 9}, "n"),
        ({"prompt": "x", "image": []}, "image"),
        ({"prompt": "x", "image": ["a.png"] * 5}, "image"),
    ],
)
def test_limits_left_out_of_the_schema_are_still_enforced(
    arguments: dict[str, Any], problem: str
) -> None:
    """What the schema only says in words is refused at validation, before anything is sent."""
    toolkit = langchain_clawrouter.ClawRouterImageToolkit(base_url=BASE_URL)
    tool_name = "edit_image" if "image" in arguments else "generate_image"
    tool = {t.name: t for t in toolkit.get_tools()}[tool_name]
    arguments = {"image": "a.png", **arguments} if tool_name == "edit_image" else arguments
    answer = tool.invoke({"name": tool_name, "args": arguments, "id": "c1", "type": "tool_call"})
    assert answer.status == "error"
    assert answer.content.startswith(f"Invalid arguments: {problem}")


def test_a_custom_args_schema_is_left_as_given() -> None:
    """A deployer's own args_schema is shown as LangChain would show it."""
    from clawrouter_images.agent_tools._schemas import generate_schema

    custom = generate_schema()
    tool = langchain_clawrouter.ClawRouterGenerateImage(base_url=BASE_URL, args_schema=custom)
    assert tool.tool_call_schema is not tool.args_schema  # LangChain's own subset model
    assert not isinstance(tool.tool_call_schema, dict)


def test_arguments_a_custom_args_schema_lets_through_are_checked_by_the_contract() -> None:
    """A deployer's looser args_schema cannot carry past the contract what it refuses:
    the LLM reads which argument is wrong, and nothing is sent."""
    from pydantic import BaseModel

    class Loose(BaseModel):
        prompt: str
        n: int = 1

    tool = langchain_clawrouter.ClawRouterGenerateImage(base_url=BASE_URL, args_schema=Loose)
    call = {"name": "generate_image", "args": {"prompt": "a fox", "n": 99}, "id": "c1"}
    answer = tool.invoke({**call, "type": "tool_call"})
    assert answer.status == "error"
    assert answer.content.startswith("Invalid arguments: n: ")
    assert tool.spent_usd == 0

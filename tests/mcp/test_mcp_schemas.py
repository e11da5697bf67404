"""The schemas the MCP server shows: the open shape every agent stack reads as meant, the
structured result's schema, and OpenAI's strict mode where a framework asks for it."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # the mcp SDK's own validator
import pytest
from pydantic import ValidationError
from tests.support.openai_strict import strict_violations

from clawrouter_images.agent_tools import ImageToolConfig, ImageTools
from clawrouter_images.agent_tools._schemas import open_arguments

CONFIGS: dict[str, dict[str, Any]] = {
    "every model": {},
    "two models": {"models": ["nano-banana", "gpt-image"]},
    "one model, n at most 1": {"models": ["dall-e-3"]},
}
BASE_URL = "http://127.0.0.1:9"  # nothing is sent


def _offered(config: str) -> list[Any]:
    return ImageTools(ImageToolConfig(**CONFIGS[config]), base_url=BASE_URL).tools


def _keys(node: Any) -> set[str]:
    """Every key anywhere in a JSON document."""
    if isinstance(node, dict):
        return set(node).union(*(_keys(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(value) for value in node))
    return set()


@pytest.mark.parametrize("config", list(CONFIGS))
def test_the_open_shape_requires_only_what_has_no_default(config: str) -> None:
    """Optional arguments may be left out or null (a list of types, null in the enum,
    marked nullable for smolagents); a union is a list of types with items; no anyOf."""
    for tool in _offered(config):
        schema = tool.open_schema
        fields = tool.schema.model_fields
        assert schema["required"] == [n for n, f in fields.items() if f.is_required()]
        assert "anyOf" not in _keys(schema), tool.name
        for name in set(fields) - set(schema["required"]):
            node = schema["properties"][name]
            assert "null" in node["type"], (tool.name, name)
            assert (node["nullable"], node["default"]) == (True, None)
            assert None in node.get("enum", [None])
        assert schema["properties"]["size"]["examples"] == ["1024x1024"]
        assert "Left out or null: 1." in schema["properties"]["n"]["description"]
        if tool.name == "edit_image":
            image = schema["properties"]["image"]
            assert (image["type"], image["items"]) == (["string", "array"], {"type": "string"})


def test_the_strict_shape_of_the_native_tools_is_unchanged() -> None:
    """LangChain and LlamaIndex keep every property required and nullable by anyOf."""
    (generate, _) = _offered("every model")
    schema = generate.schema.model_json_schema()
    assert schema["required"] == ["prompt", "model", "size", "n"]
    assert {"type": "null"} in schema["properties"]["size"]["anyOf"]
    assert not {"default", "examples", "nullable"} & _keys(schema)


# (arguments to edit_image, accepted by both the open schema and the contract)
CALLS: list[tuple[dict[str, Any], bool]] = [
    ({"prompt": "x", "image": "a.png"}, True),
    ({"prompt": "x", "image": ["a.png", "b.png"]}, True),
    ({"prompt": "x", "image": "a.png", "model": None, "size": None, "n": None, "mask": None}, True),
    ({"prompt": "x", "image": "a.png", "model": "gpt-image", "size": "1024x1024", "n": 2}, True),
    ({"prompt": "x"}, False),
    ({"prompt": None, "image": "a.png"}, False),
    ({"prompt": "x", "image": None}, False),
    ({"prompt": "x", "image": 3}, False),
    ({"prompt": "x", "image": [3]}, False),
    ({"prompt": "x", "image": "a.png", "model": "no-such-model"}, False),
    ({"prompt": "x", "image": "a.png", "n": 9}, False),
    ({"prompt": "x", "image": "a.png", "extra": 1}, False),
]


@pytest.mark.parametrize(("arguments", "accepted"), CALLS)
def test_the_open_schema_and_the_contract_agree(arguments: dict[str, Any], accepted: bool) -> None:
    """What a client validating against the open schema lets through, the server accepts
    (null read as the default), and what it refuses the server refuses too."""
    (_, edit) = _offered("every model")
    by_schema = jsonschema.Draft202012Validator(edit.open_schema).is_valid(arguments)
    try:
        edit.schema.model_validate(open_arguments(edit.schema, arguments))
        by_contract = True
    except ValidationError:
        by_contract = False
    assert (by_schema, by_contract) == (accepted, accepted)


def test_null_is_read_as_the_default() -> None:
    (generate, _) = _offered("every model")
    args = generate.schema.model_validate(
        open_arguments(generate.schema, {"prompt": "x", "n": None, "size": None})
    )
    assert (args.n, args.size, args.model) == (1, None, None)


# The checker itself: each rule refuses what it should (a schema OpenAI's strict mode takes,
# then one change each).
ACCEPTED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": ["string", "null"], "description": "x"},
        "b": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
    },
    "required": ["a", "b"],
    "additionalProperties": False,
}
BROKEN: list[tuple[str, Any, str]] = [
    ("required", ["a"], "(root): an object requires every property"),
    ("additionalProperties", True, "(root): an object sets additionalProperties: false"),
    ("type", "array", "(root): the root is an object"),
]
BROKEN_PROPERTY: list[tuple[str, Any, str]] = [
    ("default", None, ".a: no unsupported keyword"),
    ("minLength", 1, ".a: no unsupported keyword"),
    ("type", ["string", "date"], ".a: types are supported ones"),
    ("enum", list(range(1001)), ".a: at most 1000 enum values"),
]


def test_the_strict_checker_accepts_the_documented_subset_and_names_each_breach() -> None:
    assert strict_violations(ACCEPTED) == []
    for key, value, problem in BROKEN:
        broken = {**copy.deepcopy(ACCEPTED), key: value}
        assert any(p.startswith(problem) for p in strict_violations(broken)), key
    for key, value, problem in BROKEN_PROPERTY:
        broken = copy.deepcopy(ACCEPTED)
        broken["properties"]["a"][key] = value
        assert any(p.startswith(problem) for p in strict_violations(broken)), key
    nested: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        nested = {"type": "array", "items": nested}
    deep = {**copy.deepcopy(ACCEPTED), "properties": {"a": nested}, "required": ["a"]}
    assert any("at most 10 levels" in p for p in strict_violations(deep))


@pytest.mark.parametrize("config", list(CONFIGS))
def test_langchain_strict_conversion_gives_what_openai_accepts(config: str) -> None:
    """The native LangChain tools keep the strict shape: convert_to_openai_tool(strict=True)
    gives schemas OpenAI's strict mode accepts.  The open shape would not do there: LangChain
    closes the objects (and, from langchain-core 1.x, requires every property) but leaves
    each ``default`` in place, which strict mode refuses on Azure and older models."""
    function_calling = pytest.importorskip("langchain_core.utils.function_calling")
    langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
    toolkit = langchain_clawrouter.ClawRouterImageToolkit(base_url=BASE_URL, **CONFIGS[config])
    for tool in toolkit.get_tools():
        converted = function_calling.convert_to_openai_tool(tool, strict=True)
        assert strict_violations(converted["function"]["parameters"]) == [], tool.name
    for offered in _offered(config):
        as_dict = {"name": offered.name, "description": "", "parameters": offered.open_schema}
        converted = function_calling.convert_to_openai_tool(as_dict, strict=True)
        problems = strict_violations(converted["function"]["parameters"])
        assert ".model: no unsupported keyword" in problems, problems


@pytest.mark.parametrize("config", list(CONFIGS))
def test_llama_index_hands_on_properties_and_required_as_given(config: str) -> None:
    """LlamaIndex's to_openai_tool passes the properties and ``required`` on untouched: the
    strict shape is what its OpenAI LLM's strict mode needs (the open one would leave
    optional properties out of ``required``, and keep their ``default``)."""
    pytest.importorskip("llama_index.core")  # the adapter's source is on the path anyway
    llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
    spec = llama_clawrouter.ClawRouterImageToolSpec(base_url=BASE_URL, **CONFIGS[config])
    for tool, offered in zip(spec.to_tool_list(), _offered(config), strict=True):
        parameters = tool.metadata.to_openai_tool()["function"]["parameters"]
        strict = offered.schema.model_json_schema()
        assert (parameters["properties"], parameters["required"]) == (
            strict["properties"],
            strict["required"],
        )
        assert strict_violations({**parameters, "additionalProperties": False}) == []

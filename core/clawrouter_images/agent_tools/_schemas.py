"""What the LLM may pass: the argument models, narrowed per configuration to the offered
models, their two JSON shapes (strict for the native tools, open for MCP clients), and the one
message saying which argument is wrong."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .._constants import MAX_INPUT_IMAGES
from .._exceptions import quote
from ._config import ImageToolConfig

if TYPE_CHECKING:
    from .._catalog import ImageModel

_PROMPT_HELP = (
    "What to draw, in detail: subject, style, composition, lighting, text to render. Not empty."
)
SIZE_EXAMPLE = "1024x1024"
_SIZE_HELP = f"WIDTHxHEIGHT, e.g. {SIZE_EXAMPLE}, or null for the model's default; see the tool description for sizes per model."
_N_HELP = "How many images (each is paid for). Keep 1 unless the user asks for variations."
_IMAGE_HELP = (
    "The image(s) to edit: a local file path, an http(s) URL, a data URI, or the URL of an "
    f"earlier result. A list of 1 to {MAX_INPUT_IMAGES} images combines them."
)
_MASK_HELP = (
    "Optional mask (path, URL or data URI; null for none) the same size as the image: white "
    "areas are edited, black areas kept (a mask whose edited areas are transparent works too). "
    "Only with a single image."
)


# Keywords OpenAI's strict mode or Anthropic's tool schemas do not take.  The limits they
# carry are said in the descriptions instead, and still enforced when a call is validated.
_UNPORTABLE = (
    "default",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    # Said in the open shape only (see open_schema); the strict one stays as it was.
    "examples",
)


def _portable(node: dict[str, Any]) -> None:
    for key in _UNPORTABLE:
        node.pop(key, None)
    if "const" in node:  # a one-model Literal: every schema dialect knows enum
        node["enum"] = [node.pop("const")]
    for child in [*node.get("anyOf", []), *([node["items"]] if "items" in node else [])]:
        _portable(child)


def _portable_schema(schema: dict[str, Any]) -> None:
    """The JSON schema an LLM sees, inside what OpenAI's strict mode and Anthropic accept:
    every property required (an optional one is nullable instead), no defaults, no length or
    range keywords, no extra properties."""
    properties = schema.get("properties", {})
    schema["required"] = list(properties)
    schema["additionalProperties"] = False
    for node in properties.values():
        _portable(node)


_ARGS_CONFIG = ConfigDict(extra="forbid", json_schema_extra=_portable_schema, defer_build=True)


class GenerateArgs(BaseModel):
    """What the LLM passes to ``generate_image``; ``generate_schema`` narrows it per configuration."""

    model_config = _ARGS_CONFIG

    prompt: str
    model: str | None = None
    size: str | None = None
    n: int = 1

    def images(self) -> dict[str, str | list[str] | None]:
        """The arguments naming input images, for the file policy: none."""
        return {}


class EditArgs(BaseModel):
    """What the LLM passes to ``edit_image``; ``edit_schema`` narrows it per configuration."""

    model_config = _ARGS_CONFIG

    prompt: str
    image: str | list[str]
    mask: str | None = None
    model: str | None = None
    size: str | None = None
    n: int = 1

    def images(self) -> dict[str, str | list[str] | None]:
        """The arguments naming input images, for the file policy (an empty mask is none)."""
        # The mask first: a call naming two refused files is refused for its mask.
        return {"mask": self.mask or None, "image": self.image}


def invalid_arguments(error: Exception) -> str:
    """The one message, in both frameworks, telling the LLM which argument is wrong and why.

    Framework defaults ("Tool input validation error") give an LLM nothing to act on.
    """
    if not isinstance(error, ValidationError):  # e.g. a pydantic v1 error from a user schema
        problems = [quote(str(error), 300)]
    else:
        problems = []
        for item in error.errors(include_url=False):
            where = ".".join(str(part) for part in item["loc"]) or "arguments"
            problem = f"{where}: {item['msg']}"
            if item["type"] != "missing":
                # An LLM may pass a whole data URI; echoing it back would flood the context.
                problem += f" (got {quote(repr(item['input']), 80)})"
            problems.append(problem)
    return (
        "Invalid arguments: " + "; ".join(problems) + ". Call the tool again with valid arguments."
    )


def _model_field(offered: list[ImageModel], default: ImageModel) -> Any:
    names = tuple(m.alias for m in offered)
    # typing caches unions and Literals compare as sets, so a bare ``Literal[names] | None``
    # could come back as an earlier config's union, listing the models in its order; the
    # order-sensitive metadata keeps each union distinct.
    return (
        Annotated[Literal[names], names] | None,
        Field(
            default=None,
            description=f"Model to use, or null for {default.alias}. See the description.",
        ),
    )


def _n_field(offered: list[ImageModel]) -> Any:
    most = max(m.max_n for m in offered)
    # An enum, not minimum/maximum: strict-mode schemas keep enums.
    choices: list[Any] = list(range(1, most + 1))
    return (
        int,
        Field(default=1, ge=1, le=most, description=_N_HELP, json_schema_extra={"enum": choices}),
    )


def _size_field() -> Any:
    return (str | None, Field(default=None, description=_SIZE_HELP, examples=[SIZE_EXAMPLE]))


def generate_schema(config: ImageToolConfig | None = None) -> type[GenerateArgs]:
    """The pydantic input schema of the generate tool, with the offered models as an enum."""
    config = config or ImageToolConfig()
    offered = config.offered(editing=False)
    return create_model(
        "GenerateImageInput",
        __base__=GenerateArgs,
        prompt=(str, Field(description=_PROMPT_HELP, min_length=1)),
        model=_model_field(offered, config.default_for(editing=False)),
        size=_size_field(),
        n=_n_field(offered),
    )


def edit_schema(config: ImageToolConfig | None = None) -> type[EditArgs]:
    """The pydantic input schema of the edit tool, with the offered editing models as an enum."""
    config = config or ImageToolConfig()
    offered = config.offered(editing=True)
    return create_model(
        "EditImageInput",
        __base__=EditArgs,
        prompt=(
            str,
            Field(
                description="The change to make, e.g. 'add a warm sunset background'. Not empty.",
                min_length=1,
            ),
        ),
        image=(
            str | Annotated[list[str], Field(min_length=1, max_length=MAX_INPUT_IMAGES)],
            Field(description=_IMAGE_HELP),
        ),
        mask=(str | None, Field(default=None, description=_MASK_HELP)),
        model=_model_field(offered, config.default_for(editing=True)),
        size=_size_field(),
        n=_n_field(offered),
    )


def open_schema(arguments: type[BaseModel]) -> dict[str, Any]:
    """The input schema an MCP client is shown: the strict shape above, opened up so that
    every agent stack reads it as meant (its MCP client hands the schema on as it is).

    - Only arguments without a default are required; every other one may be left out or
      given as null (null means its default, see ``open_arguments``: ``default`` is null,
      and the description says a default that is not).  A strict-mode framework closes
      it again (the OpenAI Agents SDK's ``convert_schemas_to_strict`` makes all required
      and drops ``default: null``).
    - A union is a list of types with ``items`` for its array, and ``null`` in its enum,
      never ``anyOf``: smolagents reads only ``type`` (an ``anyOf`` becomes a string).
    - ``nullable: true`` marks each optional argument: smolagents lets an argument be left
      out, or null, only if so marked (Gemini's schema has the same keyword).
    - ``examples`` from the fields (a size): PydanticAI's TestModel fills a string from them.
    """
    schema = arguments.model_json_schema()
    required: list[str] = []
    for name, node in schema["properties"].items():
        field = arguments.model_fields[name]
        _as_type_list(node)
        if field.examples:
            node["examples"] = list(field.examples)
        if field.is_required():
            required.append(name)
            continue
        types = node["type"] if isinstance(node.get("type"), list) else [node["type"]]
        node["type"] = [*types, "null"] if "null" not in types else types
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        if field.default is not None:
            said = node.get("description", "")
            node["description"] = f"{said} Left out or null: {field.default}.".lstrip()
        # Not the default itself: strict mode takes no default but null (which the OpenAI
        # Agents SDK drops when it makes a schema strict).
        node["default"] = None
        node["nullable"] = True
    schema["required"] = required
    return schema


def _as_type_list(node: dict[str, Any]) -> None:
    """``anyOf`` branches that differ only by type, as one node with a list of types.

    Anything else (a branch with more than a type, items and an enum; two arrays; an enum
    on some non-null branches only) keeps its ``anyOf``, which every client reads safely
    if not best: a merge that narrowed or widened the values would be wrong."""
    branches = node.get("anyOf")
    if not isinstance(branches, list):
        return
    types: list[str] = []
    merged: dict[str, Any] = {}
    for branch in branches:
        kind = branch.get("type")
        if not isinstance(kind, str) or set(branch) - {"type", "items", "enum"}:
            return
        for key in ("items", "enum"):
            if key in branch:
                if key in merged:
                    return
                merged[key] = branch[key]
        types.append(kind)
    valued = [branch for branch in branches if branch["type"] != "null"]
    if "enum" in merged:
        if not all("enum" in branch for branch in valued):
            return
        merged["enum"] = [*merged["enum"], *([None] if "null" in types else [])]
    del node["anyOf"]
    node["type"] = types
    node.update(merged)


def open_arguments(arguments: type[BaseModel], raw: Mapping[str, Any]) -> dict[str, Any]:
    """What an MCP client passed, read as ``open_schema`` says: an optional argument given
    as null takes its default (a required one given as null is refused by the schema)."""
    return {
        name: value
        for name, value in raw.items()
        if value is not None
        or name not in arguments.model_fields
        or arguments.model_fields[name].is_required()
    }


def result_schema() -> dict[str, Any]:
    """The JSON schema of a call's structured result, ``ImageToolResult`` (URLs, saved
    paths, model, size, estimated cost, ClawRouter's answer without image data)."""
    return copy.deepcopy(_result_schema())


@functools.cache
def _result_schema() -> dict[str, Any]:
    import typing

    import typing_extensions
    from pydantic import TypeAdapter

    from ._results import ImageToolResult

    # pydantic reads typing.TypedDict only from Python 3.12: the same fields, re-declared.
    declare: Any = typing_extensions.TypedDict
    shape = declare(ImageToolResult.__name__, typing.get_type_hints(ImageToolResult))
    return TypeAdapter(shape).json_schema()

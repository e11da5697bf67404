"""What the LLM may pass: the argument models, narrowed per configuration to the offered
models, and the one message saying which argument is wrong."""

from __future__ import annotations

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
_SIZE_HELP = "WIDTHxHEIGHT, e.g. 1024x1024, or null for the model's default; see the tool description for sizes per model."
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


def generate_schema(config: ImageToolConfig | None = None) -> type[GenerateArgs]:
    """The pydantic input schema of the generate tool, with the offered models as an enum."""
    config = config or ImageToolConfig()
    offered = config.offered(editing=False)
    return create_model(
        "GenerateImageInput",
        __base__=GenerateArgs,
        prompt=(str, Field(description=_PROMPT_HELP, min_length=1)),
        model=_model_field(offered, config.default_for(editing=False)),
        size=(str | None, Field(default=None, description=_SIZE_HELP)),
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
        size=(str | None, Field(default=None, description=_SIZE_HELP)),
        n=_n_field(offered),
    )

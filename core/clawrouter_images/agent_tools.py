"""The agent-tool contract both framework adapters share, with no framework imported.

It owns what an LLM sees and what it may touch:

- input schemas (``Literal`` enums of the offered models, field descriptions for an LLM,
  nothing the LLM should not control: no timeouts, save directory or base URL);
- descriptions built from the catalogue (which model for what, prices, sizes by shape),
  each at most ``MAX_DESCRIPTION_CHARS`` (LlamaIndex's limit);
- the file policy: a local input must lie inside a folder the deployer allowed (never an
  implicit working directory) and is opened once, through no symlink, so a manipulated
  LLM cannot send ``~/.ssh/id_rsa`` upstream, nor learn whether it exists;
- running a call (sync on ``ImageClient``, async natively on ``AsyncImageClient``),
  saving results, and the result: short text for the LLM plus a structured artifact.

Adapters only translate this into ``BaseTool`` / ``FunctionTool`` terms.
"""

from __future__ import annotations

import functools
import io
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, NoReturn, TypedDict, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    InstanceOf,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from ._budget import Budget
from ._catalog import (
    MODELS,
    ImageModel,
    alias_note,
    describe_call,
    estimate_cost,
    format_usd,
    parse_size,
    resolve_model,
)
from ._client import AsyncImageClient, ImageClient
from ._constants import (
    CLAWROUTER_IMAGE_DIR,
    DEFAULT_EDIT_MODEL,
    DEFAULT_GENERATE_MODEL,
    MAX_INPUT_IMAGES,
    PROGRESS_INTERVAL_SECONDS,
)
from ._exceptions import (
    ENCODED_RUN,
    ClawRouterError,
    InputImageError,
    InvalidRequestError,
    paid_result_error,
    quote,
)
from ._network import linkable
from ._pixels import Unreadable
from ._progress import ImageProgress, awaiting, watching
from ._vision import PILLOW_MISSING, for_vision, pillow_installed

if TYPE_CHECKING:
    from ._models import ImageResponse

__all__ = [
    "EDIT_TOOL_NAME",
    "GENERATE_TOOL_NAME",
    "MAX_DESCRIPTION_CHARS",
    "Budget",
    "EditArgs",
    "GenerateArgs",
    "ImageProgress",
    "ImageToolConfig",
    "ImageToolResult",
    "ImageToolSettings",
    "ImageTools",
    "ResultImage",
    "ToolAnswer",
    "check_local_path",
    "edit_description",
    "edit_schema",
    "format_result",
    "generate_description",
    "generate_schema",
    "invalid_arguments",
    "tool_result",
]

GENERATE_TOOL_NAME = "generate_image"
EDIT_TOOL_NAME = "edit_image"
# LlamaIndex refuses longer tool descriptions when converting to OpenAI tools.
MAX_DESCRIPTION_CHARS = 1024


class ImageToolConfig(BaseModel):
    """What the person deploying the tools decides (never the LLM).

    Every adapter takes these same fields (the LangChain tools and toolkit and the
    LlamaIndex spec are subclasses of ``ImageToolSettings``), so each is written once.
    """

    # A misspelt setting (say, max_cost instead of max_cost_usd) must not be dropped silently.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    models: Sequence[str | InstanceOf[ImageModel]] | None = None
    """Models the LLM may choose from: names or ids from the catalogue, or ``ImageModel``s
    for models newer than it (default: every available catalogued model; a delisted or
    unavailable one is offered only if listed here)."""
    default_model: str | InstanceOf[ImageModel] | None = None
    """Model used for generation when the LLM names none (default: nano-banana)."""
    default_edit_model: str | InstanceOf[ImageModel] | None = None
    """Model used for edits when the LLM names none (default: gpt-image)."""
    save_dir: str | Path | None = None
    """Where result images are saved (default: not saved; the LLM gets URLs)."""
    allowed_dirs: Sequence[str | Path] | None = None
    """Folders local input images may come from, besides ``save_dir`` and ClawRouter's
    image directory (default: none; there is no implicit working directory, so with none
    named the LLM can give local paths into those two folders only).  Below a folder,
    ``..`` is taken as written and a path through a symbolic link is refused; the folder's
    own path may hold links.  A root of the file system (``/``) works but warns: it lets
    the LLM send any image on the disk upstream."""
    max_cost_usd: float | None = None
    """Refuse any call estimated above this many USD, before it is sent."""
    budget_usd: float | None = None
    """The most all these tools may spend together, sync and async calls alike (calls in
    flight are reserved); a call that would go over is refused before it is sent."""
    return_image_block: bool = False
    """Also hand each image to a vision model (an image content block)."""
    progress_every_s: float = Field(default=PROGRESS_INTERVAL_SECONDS, gt=0)
    """How often a call in flight reports progress (framework events; see the adapters)."""

    # offered() runs several times a call: kept per list of models (by identity and length,
    # so that assigning a new list, or appending to this one, is seen).  Per-instance state
    # read on every call lives in cached properties, not PrivateAttr: pydantic reads a
    # private attribute through __getattr__ (~2 µs a read), a cached property from __dict__.
    @functools.cached_property
    def _offered(self) -> dict[tuple[bool, int, int], list[ImageModel]]:
        return {}

    def offered(self, *, editing: bool) -> list[ImageModel]:
        """The models offered to the LLM, for generating or for editing."""
        key = (editing, id(self.models), len(self.models or ()))
        found = self._offered.get(key)
        if found is None:
            found = self._offered[key] = self._choose(editing=editing)
        return found

    def _choose(self, *, editing: bool) -> list[ImageModel]:
        if self.models is None:
            chosen = [m for m in MODELS.values() if m.available]
        else:
            # Keyed by id: ImageModel is frozen but not hashable (its prices are a dict).
            chosen = list({m.id: m for m in map(resolve_model, self.models)}.values())
        if editing:
            chosen = [m for m in chosen if m.edits]
        if not chosen:
            kind = "editing" if editing else "generation"
            raise InvalidRequestError(f"no {kind} model among the configured models {self.models}")
        return chosen

    def offers_editing(self) -> bool:
        """Whether any offered model edits images: without one, no adapter offers ``edit_image``."""
        return any(model.edits for model in self.offered(editing=False))

    def default_for(self, *, editing: bool) -> ImageModel:
        offered = self.offered(editing=editing)
        wanted = self.default_edit_model if editing else self.default_model
        if wanted is not None:
            model = self.find(wanted, editing=editing)
            if model is None:
                name = wanted if isinstance(wanted, str) else wanted.id
                raise InvalidRequestError(f"default model {name!r} is not among the offered models")
            return model
        fallback = resolve_model(DEFAULT_EDIT_MODEL if editing else DEFAULT_GENERATE_MODEL)
        return fallback if fallback in offered else offered[0]

    def find(self, name: str | ImageModel, *, editing: bool) -> ImageModel | None:
        """The offered model ``name`` means (id or alias, any case), else None.

        Offered models come first, so a deployer's own ``ImageModel`` is found by its
        aliases too; the catalogue decides only for names none of them has.
        """
        offered = self.offered(editing=editing)
        if isinstance(name, ImageModel):
            return name if name in offered else None
        key = name.strip().lower()
        for model in offered:
            if key in (model.id.lower(), *(alias.lower() for alias in model.aliases)):
                return model
        found = resolve_model(name)
        return found if found in offered else None

    @field_validator("allowed_dirs")
    @classmethod
    def _check_allowed_dirs(cls, dirs: Sequence[str | Path] | None) -> Sequence[str | Path] | None:
        for folder in dirs or ():
            try:
                resolved = Path(folder).expanduser().resolve()
            except RuntimeError as err:
                # "~nosuchuser" or a symlink loop: said to the deployer now, not to the
                # LLM as a crash at its first local path.
                raise ValueError(f"allowed folder {folder!s} cannot be used: {err}") from None
            # A root of the file system is allowed, since a deployer may mean it (a
            # sandboxed container), but never silently.
            if resolved.parent == resolved:
                warnings.warn(
                    f"allowed_dirs includes {folder!s}, a root of the file system: the LLM "
                    "may send any image on this disk upstream",
                    UserWarning,
                    stacklevel=2,
                )
        return dirs

    def folders_named(self) -> bool:
        """Whether the deployer named any folder of their own (``allowed_dirs`` or ``save_dir``)."""
        return bool(self.allowed_dirs) or self.save_dir is not None

    def allowed_roots(self) -> list[Path]:
        """The folders local inputs may come from: ``allowed_dirs``, ``save_dir`` and
        ClawRouter's image directory, never the working directory.  Each as written (made
        absolute) and with its symlinks resolved, so a path is inside whether it is given
        through a symlinked folder or not."""
        dirs = [*(self.allowed_dirs or ())]
        if self.save_dir is not None:
            dirs.append(self.save_dir)
        dirs.append(CLAWROUTER_IMAGE_DIR)
        roots: list[Path] = []
        for folder in dirs:
            # abspath, not resolve(): the folder as written, without touching the file system.
            written = Path(os.path.abspath(Path(folder).expanduser()))  # noqa: PTH100
            for root in (written, written.resolve()):
                if root not in roots:
                    roots.append(root)
        return roots


# -- schemas -------------------------------------------------------------------------------

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


class EditArgs(BaseModel):
    """What the LLM passes to ``edit_image``; ``edit_schema`` narrows it per configuration."""

    model_config = _ARGS_CONFIG

    prompt: str
    image: str | list[str]
    mask: str | None = None
    model: str | None = None
    size: str | None = None
    n: int = 1


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


# -- descriptions --------------------------------------------------------------------------

_SHAPES = ("square", "portrait", "landscape")


def _shape(size: str) -> str:
    width, height = parse_size(size)
    return "square" if width == height else ("portrait" if height > width else "landscape")


def _sizes_by_shape(offered: list[ImageModel]) -> str:
    """``Sizes: square 1024x1024 (all); 2048x2048 (banana-pro, seedream). portrait ...``."""
    takers: dict[str, list[str]] = {}
    for model in offered:
        for size in model.sizes:
            takers.setdefault(size, []).append(model.alias)
    everyone = [m.alias for m in offered]
    parts = []
    for shape in _SHAPES:
        # Sizes taken by the same models share one entry, which keeps the text short.
        groups: dict[tuple[str, ...], list[str]] = {}
        for size, names in takers.items():
            if _shape(size) == shape:
                groups.setdefault(tuple(names), []).append(size)
        entries = [
            f"{', '.join(sizes)} ({'all' if list(names) == everyone else ', '.join(names)})"
            for names, sizes in groups.items()
        ]
        if entries:
            parts.append(f"{shape} " + "; ".join(entries))
    free = [f"{m.alias} up to {m.free_sizes.max_side}" for m in offered if m.free_sizes]
    if free:
        parts.append("any WxH: " + ", ".join(free))
    return "Sizes: " + ". ".join(parts) + "."


def _model_lines(offered: list[ImageModel], default: ImageModel) -> str:
    lines = []
    for model in offered:
        tag = " (default)" if model == default else ""
        note = f" [{model.status_note}]" if not model.available else ""
        lines.append(f"- {model.alias}{tag} {model.price_text()}: {model.best_for}{note}")
    return "\n".join(lines)


def _fit(parts: list[str]) -> str:
    """Join description parts, dropping the least essential ones (from the end) to fit the limit."""
    while len(parts) > 2 and len("\n".join(parts)) > MAX_DESCRIPTION_CHARS:
        parts = parts[:-1]
    text = "\n".join(parts)
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 1] + "…"


def generate_description(config: ImageToolConfig | None = None) -> str:
    """When to use the generate tool and which model and size to pick, from the catalogue."""
    return _description(config or ImageToolConfig(), editing=False)


def edit_description(config: ImageToolConfig | None = None) -> str:
    """When to use the edit tool and which model to pick, from the catalogue."""
    return _description(config or ImageToolConfig(), editing=True)


def _description(config: ImageToolConfig, *, editing: bool) -> str:
    offered = config.offered(editing=editing)
    if editing:
        when = (
            "Edit an existing image following an instruction. Use when the user asks to edit, "
            "modify, change or retouch an image: from a URL, a local file or an earlier result. "
            "USD per image:"
        )
        returns = f"Up to {MAX_INPUT_IMAGES} input images; {_mask_rule(offered)} "
    else:
        when = (
            "Generate images from a text prompt. Use when the user asks to generate, create, "
            "draw or make an image. USD per image:"
        )
        returns = ""
    return _fit(
        [
            when,
            _model_lines(offered, config.default_for(editing=editing)),
            _sizes_by_shape(offered),
            returns + "Returns markdown image links.",
        ]
    )


def _mask_rule(offered: list[ImageModel]) -> str:
    """Which offered models take a mask, from the catalogue."""
    maskers = [m.alias for m in offered if m.can_mask]
    if not maskers:
        return "no offered model takes a mask."
    return f"a mask only with one image and {' or '.join(maskers)}."


# -- file policy ---------------------------------------------------------------------------


def check_local_path(
    value: str, allowed_roots: Sequence[Path], *, folders_named: bool = True
) -> str | io.BytesIO:
    """Let URLs and data URIs through; read a local path only inside an allowed root.

    A URL or data URI comes back unchanged (the client checks URLs by address when it
    fetches them).  A local path comes back as the image itself: a binary file object
    holding the bytes, named for messages by the path as given, which the client reads
    like any file object.  The file is opened once, and that is what is read.

    The rule, in order:

    - Containment is decided on the path's text, before the file system is touched:
      ``~`` expanded, ``..`` taken as written; a relative path is outside, since no
      working directory is implied.  So a refused path gets the same answer whether or
      not it exists, is a folder or a link: the LLM learns nothing about files outside.
    - The file is opened below the deepest root holding it, name by name, through no
      symbolic link (``_safeopen``): a link below the root, even one pointing back
      inside, is refused with that same answer, and a folder swapped for a link while
      this runs cannot lead outside.
    - The opened file must be a regular image file within the size cap; inside the
      roots, "not found" and "not an image" are said as such.

    ``folders_named`` (see ``ImageToolConfig.folders_named``) picks the refusal's advice:
    with no folder of the deployer's own, it says how one is allowed.
    """
    from ._inputs import check_regular, os_errors, read_image_fd, reference_kind
    from ._safeopen import LinkRefused, Unsupported, open_beneath

    text = value.strip()
    if reference_kind(text) != "path":
        return text
    source = quote(text, 200)
    outside = InputImageError(_outside(source, allowed_roots, folders_named=folders_named))
    try:
        # expanduser reads the user database; abspath only the text (resolve() would
        # touch the file system, and follow links).
        written = Path(text).expanduser()
        candidate = Path(os.path.abspath(written))  # noqa: PTH100
    except (ValueError, RuntimeError):  # "~nosuchuser", NUL bytes, unencodable names
        raise outside from None
    root = _inside(candidate, allowed_roots) if written.is_absolute() else None
    if root is None:
        raise outside
    try:
        with os_errors(source):
            fd = open_beneath(
                root, candidate.relative_to(root).parts, lambda info: check_regular(info, source)
            )
    except LinkRefused:
        raise outside from None
    except Unsupported:
        raise InputImageError(
            f"image path {source} cannot be read: this system cannot open a file without "
            "following symbolic links, so these tools read no local file; ask the user to "
            "give a URL of the image"
        ) from None
    return _LocalImage(read_image_fd(fd, source).data, source)


def _outside(source: str, roots: Sequence[Path], *, folders_named: bool) -> str:
    """The one refusal of a path outside the roots: it names the path, never the file."""
    listed = ", ".join(str(r) for r in roots) or "(none)"
    if not folders_named:
        return (
            f"image path {source} is outside the folders this tool may read ({listed}): "
            "the deployer has allowed no folder for local images. Ask the user to give a "
            "URL of the image instead, or to allow its folder (allowed_dirs for the Python "
            "tools, --allowed-dir for the MCP server)"
        )
    return (
        f"image path {source} is outside the folders this tool may read ({listed}); "
        "ask the user to copy the image into one of them or to give a URL. A path must "
        "be absolute (or start with ~) and reach the image through no symbolic link"
    )


def _inside(path: Path, roots: Sequence[Path]) -> Path | None:
    """The deepest root holding ``path`` (by its text), or None.

    The deepest, because a root may lie inside another through a link of its own
    (``allowed_dirs=["/data", "/data/link"]``): below the outer one, the walk would meet
    that link and refuse.
    """
    holding = [root for root in roots if path.is_relative_to(root)]
    return max(holding, key=lambda root: len(root.parts), default=None)


class _LocalImage(io.BytesIO):
    """A local input read by the file policy, named by the path the LLM gave."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        # The client names a file object's image by ``name`` in its messages.
        self.name = name
        self._size = len(data)

    def __repr__(self) -> str:
        # Reprs land in agent traces and logs: never the image itself.
        return f"<local image {self.name!r}, {self._size:,} bytes>"


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultImage:
    """One image for a vision model: bytes with their type, or a URL it can fetch."""

    mime_type: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None

    def __repr__(self) -> str:
        # Reprs land in agent traces and logs: never the image itself.
        size = "no data" if self.data is None else f"{len(self.data):,} bytes"
        url = quote(self.url, 80) if self.url else None
        return f"ResultImage(mime_type={self.mime_type!r}, data=<{size}>, url={url!r})"


class ImageToolResult(TypedDict):
    """The artifact of a tool call: everything the LLM does not read, as plain JSON data.

    A dict of strings, numbers and lists, so it survives ``messages_to_dict`` and
    ``json.dumps``, LangGraph checkpointers and ``ToolOutput.model_dump_json()`` unchanged.
    It never holds image bytes: ``urls`` and ``saved_paths`` point at the images.
    """

    model: str | None
    size: str | None
    prompt: str | None
    estimated_cost_usd: float
    urls: list[str]
    """Result URLs (inline results have none: see ``saved_paths``)."""
    saved_paths: list[str]
    """The files written, in the order of the images (empty without ``save_dir``)."""
    response: dict[str, Any]
    """What ClawRouter answered, as JSON, with inline image data left out."""


class ToolAnswer(NamedTuple):
    """What a tool call gives an adapter: the text and images for the LLM, and the artifact."""

    text: str
    artifact: ImageToolResult
    images: list[ResultImage]
    """Each image sized for a vision model (only with ``return_image_block``)."""


def tool_result(response: ImageResponse, saved_paths: Sequence[Path] = ()) -> ImageToolResult:
    """The JSON artifact of ``response`` and the files it was saved to."""
    wire = response.model_dump(mode="json")
    for item in wire.get("data") or []:
        item.pop("b64_json", None)
        if str(item.get("url") or "").startswith("data:"):
            item["url"] = None
    return {
        "model": response.model,
        "size": response.size,
        "prompt": response.prompt,
        "estimated_cost_usd": response.estimated_cost_usd,
        "urls": [url for url in response.urls if linkable(url)],
        "saved_paths": [str(path) for path in saved_paths],
        # Extra fields the server added may hold images too (image_base64,
        # output.images[].data): the artifact keeps none of them.
        "response": without_encoded_data(wire),
    }


def format_result(response: ImageResponse, saved_paths: Sequence[Path] = ()) -> str:
    """Short text for the LLM: model, size, estimated cost, one markdown image per result.

    Never base64: an inline-only result is shown by its saved path, or described.
    """
    count = len(response.data)
    head = (
        f"{count} image{'s' if count != 1 else ''} from {response.model} at {response.size}, "
        f"estimated cost {format_usd(response.estimated_cost_usd)}."
    )
    alt = _alt_text(response.prompt)
    lines = [head]
    for index, item in enumerate(response.data):
        url = item.url if linkable(item.url) else None
        saved = saved_paths[index] if index < len(saved_paths) else None
        if url:
            lines.append(f"![{alt}]({_markdown_url(url)})")
        elif saved is not None:
            lines.append(f"![{alt}]({_markdown_url(saved.as_uri())})")
        elif item.url and not item.url.startswith("data:"):
            # Not a URL anyone should follow (too long, spaces, another scheme): never pasted.
            lines.append(f"(image {index + 1} came back without a usable URL)")
        else:
            lines.append(f"(image {index + 1} returned inline; set a save directory to keep it)")
        if item.revised_prompt:
            # Server text: one line, bounded, so that it cannot pose as anything else.
            revised = " ".join(item.revised_prompt.split())
            lines.append(f"Revised prompt: {quote(revised, 200)}")
    if saved_paths:
        lines.append("Saved: " + ", ".join(str(p) for p in saved_paths))
    return "\n".join(lines)


def _markdown_url(url: str) -> str:
    # A usable URL holds no white space or quotes; parentheses would end the link early.
    return url.replace("(", "%28").replace(")", "%29")


def without_encoded_data(value: Any) -> Any:
    """``value`` (JSON data) with every string that holds encoded data (a data URI, a long
    base64 run) replaced by a note of its length."""
    if isinstance(value, dict):
        return {key: without_encoded_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_encoded_data(item) for item in value]
    if isinstance(value, str) and (value.startswith("data:") or ENCODED_RUN.search(value)):
        return f"[{len(value)} chars of encoded data left out]"
    return value


def _alt_text(prompt: str | None) -> str:
    # Brackets and line breaks would end the markdown image early.
    text = " ".join(re.sub(r"[\[\]\n\r]+", " ", prompt or "image").split())
    return quote(text, 80)


# -- running -------------------------------------------------------------------------------


class ImageTools:
    """Runs the two tools for an adapter: validation, policy, the call, saving, the result.

    ``client`` serves sync calls and ``async_client`` async ones (never a thread hop between
    them).  A client that is not injected is built here, for ``base_url``, else an injected
    client's URL, else the environment's; ``close()`` / ``aclose()`` close only those.
    """

    def __init__(
        self,
        config: ImageToolConfig | None = None,
        *,
        client: ImageClient | None = None,
        async_client: AsyncImageClient | None = None,
        base_url: str | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.config = config or ImageToolConfig()
        limit = self.config.budget_usd
        if budget is not None and limit is not None and budget.limit_usd != limit:
            raise InvalidRequestError(
                f"budget_usd={limit} disagrees with the shared budget's {budget.limit_usd}; "
                "give one of them"
            )
        self.budget = budget or Budget(limit, advice=_BUDGET_ADVICE)
        config = self.config
        for name in [*(config.models or ()), config.default_model, config.default_edit_model]:
            note = alias_note(name) if isinstance(name, str) else None
            if note is not None:
                warnings.warn(note, UserWarning, stacklevel=2)
        # Fail at construction, not at the first tool call, on a bad model list.
        self.config.default_for(editing=False)
        if self.config.return_image_block and not pillow_installed():
            raise InvalidRequestError(PILLOW_MISSING)
        # One injected client tells where ClawRouter is for the other.  Both are built now
        # (well under a millisecond): the environment is read once, and every tool of an
        # adapter shares the same two.
        injected = client or async_client
        if base_url is None and injected is not None:
            # The URL it sends to, credentials included (base_url is the shown form).
            base_url = injected._target_url
        self._owns_client = client is None
        self._owns_async_client = async_client is None
        self.client = client or ImageClient(base_url)
        self.async_client = async_client or AsyncImageClient(base_url)

    def close(self) -> None:
        """Close the sync client if it was built here (injected clients are the caller's)."""
        if self._owns_client:
            self.client.close()

    async def aclose(self) -> None:
        """Close both clients, where they were built here."""
        self.close()
        if self._owns_async_client:
            await self.async_client.aclose()

    # Argument preparation is shared by the sync and async paths.

    def _model(self, model: str | None, *, editing: bool) -> ImageModel:
        if model is None:
            return self.config.default_for(editing=editing)
        found = self.config.find(model, editing=editing)
        if found is None:
            names = ", ".join(m.alias for m in self.config.offered(editing=editing))
            raise InvalidRequestError(
                f"model {model!r} is not offered by this tool; choose one of: {names}"
            )
        return found

    def _images(self, image: str | list[str]) -> str | io.BytesIO | list[str | io.BytesIO]:
        """URLs as they are, local files read (see ``check_local_path``)."""
        roots = self.config.allowed_roots()
        named = self.config.folders_named()
        if isinstance(image, list):
            return [check_local_path(item, roots, folders_named=named) for item in image]
        return check_local_path(image, roots, folders_named=named)

    def generate_kwargs(
        self, prompt: str, model: str | None, size: str | None, n: int
    ) -> dict[str, Any]:
        return {
            "prompt": prompt,
            "model": self._model(model, editing=False),
            "size": size or None,
            "n": n,
            "max_cost_usd": self.config.max_cost_usd,
        }

    def edit_kwargs(
        self,
        prompt: str,
        image: str | list[str],
        mask: str | None,
        model: str | None,
        size: str | None,
        n: int,
    ) -> dict[str, Any]:
        checked_mask = self._images(mask) if mask else None
        return {
            "prompt": prompt,
            "image": self._images(image),
            "mask": checked_mask,
            "model": self._model(model, editing=True),
            "size": size or None,
            "n": n,
            "max_cost_usd": self.config.max_cost_usd,
        }

    def _save_dir(self) -> Path | None:
        """The save folder, created and proven writable: checked before each paid call, so
        a folder that cannot take the images costs nothing (the LLM would retry, and pay)."""
        if self.config.save_dir is None:
            return None
        from ._files import prepare_save_dir  # with the first save, as the client loads it

        return prepare_save_dir(self.config.save_dir)

    def _answer(
        self, response: ImageResponse, paths: list[Path], fetched: list[bytes]
    ) -> ToolAnswer:
        """The text, the artifact, and (if asked) each image sized for a vision model."""
        images: list[ResultImage] = []
        notes: list[str] = []
        shown = response.data if self.config.return_image_block else []
        for index, item in enumerate(shown):
            # Saved and paid for: a failed copy for the model must not lose the result.
            try:
                data = paths[index].read_bytes() if paths else fetched[index]
            except OSError as err:
                reason = err.strerror or type(err).__name__
                notes.append(f"(image {index + 1} is not shown to you: {reason})")
                continue
            copy = for_vision(data)
            if isinstance(copy, Unreadable):
                notes.append(f"(image {index + 1} is not shown to you: it {copy.reason})")
                continue
            small, mime = copy
            images.append(ResultImage(mime_type=mime, data=small, url=item.url))
        text = "\n".join([format_result(response, paths), *notes])
        return ToolAnswer(text, tool_result(response, paths), images)

    # Typed entry points: the adapters hand over the validated arguments, and the same
    # preparation (policy, save folder) runs before either client is called.

    def _prepared(
        self, args: GenerateArgs | EditArgs
    ) -> tuple[dict[str, Any], Path | None, tuple[str, float]]:
        """The client's arguments, the save folder, and what the call is and would cost."""
        if isinstance(args, EditArgs):
            kwargs = self.edit_kwargs(
                args.prompt, args.image, args.mask, args.model, args.size, args.n
            )
        else:
            kwargs = self.generate_kwargs(args.prompt, args.model, args.size, args.n)
        model: ImageModel = kwargs["model"]
        size = kwargs["size"] or model.default_size
        n = kwargs["n"]
        cost = (describe_call(model, size, n), estimate_cost(model, size, n))
        return kwargs, self._save_dir(), cost

    def run(
        self,
        args: GenerateArgs | EditArgs,
        on_progress: Callable[[ImageProgress], None] | None = None,
    ) -> ToolAnswer:
        """Run the tool whose arguments ``args`` are; while the call is in flight,
        ``on_progress`` hears how it goes every ``progress_every_s`` seconds."""
        kwargs, directory, cost = self._prepared(args)
        tick = _ticks(args, kwargs["model"], on_progress)
        with self.budget.spending(*cost), watching(tick, self.config.progress_every_s):
            call = self.client.edit if isinstance(args, EditArgs) else self.client.generate
            response = call(**kwargs)
        return self._finish(response, directory)

    async def arun(
        self,
        args: GenerateArgs | EditArgs,
        on_progress: Callable[[ImageProgress], Awaitable[None] | None] | None = None,
    ) -> ToolAnswer:
        """``run`` on the async client (never a thread hop to the sync one); progress
        comes from a timer task beside the request."""
        kwargs, directory, cost = self._prepared(args)
        client = self.async_client
        tick = _ticks(args, kwargs["model"], on_progress)
        with self.budget.spending(*cost):
            call = client.edit if isinstance(args, EditArgs) else client.generate
            response = await awaiting(call(**kwargs), tick, self.config.progress_every_s)
        return await self._afinish(response, directory)

    def _finish(self, response: ImageResponse, directory: Path | None) -> ToolAnswer:
        paths: list[Path] = []
        try:
            paths = self.client.save(response, directory) if directory is not None else []
            fetched: list[bytes] = []
            if self.config.return_image_block and not paths:
                fetched = [self.client.download(item) for item in response.data]
            return self._answer(response, paths, fetched)
        except Exception as err:
            _raise_kept(err, response, paths)

    async def _afinish(self, response: ImageResponse, directory: Path | None) -> ToolAnswer:
        paths: list[Path] = []
        client = self.async_client
        try:
            paths = await client.save(response, directory) if directory is not None else []
            fetched: list[bytes] = []
            if self.config.return_image_block and not paths:
                fetched = [await client.download(item) for item in response.data]
            if not self.config.return_image_block:
                return self._answer(response, paths, fetched)
            # Sizing images for a vision model decodes them, CPU-heavy: a worker thread
            # (asyncio or trio alike) does it while the event loop keeps serving.
            from anyio import to_thread

            return await to_thread.run_sync(self._answer, response, paths, fetched)
        except Exception as err:
            _raise_kept(err, response, paths)


class ImageToolSettings(ImageToolConfig):
    """``ImageToolConfig`` plus where ClawRouter is and the clients to reach it: the one
    configuration model of every adapter, which builds their ``ImageTools`` runner.

    None of this is visible to the LLM: it cannot pick the save directory, the readable
    folders, the spending cap or the server.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str | None = None
    """ClawRouter's URL (default: an injected client's, else ``CLAWROUTER_BASE_URL``, else
    ``BLOCKRUN_PROXY_PORT`` on 127.0.0.1, else ``http://127.0.0.1:8402``).  After
    construction it holds the URL the sync client uses."""
    client: ImageClient | None = Field(default=None, exclude=True)
    """Client for sync calls (default: built for ``base_url`` at construction)."""
    async_client: AsyncImageClient | None = Field(default=None, exclude=True)
    """Client for async calls (default: built for ``base_url`` at construction)."""
    budget: Budget | None = Field(default=None, exclude=True)
    """The budget these tools spend from (default: a new one of ``budget_usd``); tools
    given the same one share it, as a toolkit's tools do."""

    @functools.cached_property
    def _runner(self) -> ImageTools:
        return ImageTools(
            self,
            client=self.client,
            async_client=self.async_client,
            base_url=self.base_url,
            budget=self.budget,
        )

    @model_validator(mode="after")
    def _connect(self) -> Self:
        """Check the model configuration and build the clients that were not injected.

        Building them now (well under a millisecond) reads the environment once, at
        construction, and lets one configuration hand the same two clients to every tool.
        """
        runner = self._runner
        self.client = runner.client
        self.async_client = runner.async_client
        self.base_url = self.client.base_url
        self.budget = runner.budget
        return self

    @property
    def spent_usd(self) -> float:
        """Estimated USD these tools (and any sharing their budget) spent, or may have."""
        return self._runner.budget.spent_usd

    def close(self) -> None:
        """Close the sync client built here (injected clients are yours to close)."""
        self._runner.close()

    async def aclose(self) -> None:
        """Close both clients built here."""
        await self._runner.aclose()

    def settings(self) -> dict[str, Any]:
        """These fields as keyword arguments, to build more tools that share the clients."""
        return {name: getattr(self, name) for name in ImageToolSettings.model_fields}


_ReportT = TypeVar("_ReportT")


def _ticks(
    args: GenerateArgs | EditArgs,
    model: ImageModel,
    report: Callable[[ImageProgress], _ReportT] | None,
) -> Callable[[float], _ReportT] | None:
    """``report`` as a tick of the elapsed seconds, wording what is happening."""
    if report is None:
        return None
    editing = isinstance(args, EditArgs)
    tool, doing = (EDIT_TOOL_NAME, "editing") if editing else (GENERATE_TOOL_NAME, "generating")

    def tick(elapsed: float) -> _ReportT:
        message = f"{doing} with {model.id}: {elapsed:.1f} s so far"
        return report(ImageProgress(tool, model.id, round(elapsed, 1), message))

    return tick


_BUDGET_ADVICE = "Tell the user the image budget is used up; do not call the image tools again."


def _raise_kept(err: Exception, response: ImageResponse, paths: list[Path]) -> NoReturn:
    """Raise a failure after the paid answer arrived as an error whose message lists its URLs."""
    if isinstance(err, ClawRouterError) and err.result is response:
        raise err  # save() already said so
    raise paid_result_error(err, response, [str(p) for p in paths]) from err

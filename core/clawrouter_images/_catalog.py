"""The model catalogue: every image model ClawRouter's gateway has listed, with what it costs.

Prices are the gateway's listed USD per image (ClawRouter's ``IMAGE_PRICING``); the
gateway adds a 5 % margin, which ``estimate_cost`` includes.  ClawRouter itself neither
resolves aliases nor validates sizes, so both are done here, before anything is paid.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ._constants import DEFAULT_EDIT_MODEL, DEFAULT_GENERATE_MODEL, GATEWAY_MARGIN
from ._exceptions import InvalidRequestError, quote

ModelStatus = Literal["available", "delisted", "unavailable"]

# ASCII digits only (``\d`` would take Arabic-Indic or full-width ones); ×, X and * because
# LLMs copy the multiplication sign from docs.  A sign is matched only to name the problem.
_SIZE_RE = re.compile(r"(-?[0-9]+)\s*[x×X*]\s*([+-]?[0-9]+)", re.ASCII)
# Longer than any real size, even with generous spacing: refused before the regex or int()
# sees it, so a megabyte of digits costs nothing (int() would refuse past 4300 digits anyway).
_MAX_SIZE_CHARS = 40


# Plain frozen dataclasses rather than pydantic models: the catalogue is built at import
# time, and pydantic's schema building would slow every `import clawrouter_images`.


@dataclass(frozen=True)
class FreeSizes:
    """Bounds for models that take any ``WxH`` inside them, not only their listed sizes."""

    min_side: int
    max_side: int
    max_pixels: int


@dataclass(frozen=True)
class ImageModel:
    """One image model: identity, prices, sizes, capabilities and status.

    ``price_usd`` is the listed USD per image at the default size, ``prices`` USD per
    image by size; ``sizes`` come first-is-default.
    """

    id: str
    price_usd: float
    sizes: tuple[str, ...]
    best_for: str
    aliases: tuple[str, ...] = ()
    prices: Mapping[str, float] = field(default_factory=dict, hash=False)
    free_sizes: FreeSizes | None = None
    max_n: int = 4
    can_edit: bool = False
    can_mask: bool = False
    max_input_images: int = 0
    status: ModelStatus = "available"
    status_note: str = ""
    replacement: str | None = None
    edit_note: str = ""
    """Why this model does not edit through ClawRouter although its upstream can
    (``can_edit`` and the fields beside it describe the upstream)."""

    def __post_init__(self) -> None:
        # A deployer builds these for models newer than the catalogue, and the budget
        # trusts them: a NaN price makes every sum NaN and every budget check pass.
        if isinstance(self.sizes, list):  # frozen: set once, before anything reads it
            object.__setattr__(self, "sizes", tuple(self.sizes))
        problem = _model_problem(self)
        if problem is not None:
            raise InvalidRequestError(f"ImageModel {quote(repr(self.id), 80)}: {problem}")

    @property
    def alias(self) -> str:
        """The short name people use (the first alias, else the id)."""
        return self.aliases[0] if self.aliases else self.id

    @property
    def edits(self) -> bool:
        """Whether an edit with this model completes through ClawRouter: what the client
        and the tools decide by (``can_edit`` is the upstream's ability)."""
        return self.can_edit and not self.edit_note

    @property
    def default_size(self) -> str:
        return self.sizes[0]

    @property
    def available(self) -> bool:
        return self.status == "available"

    def accepts_size(self, size: str) -> bool:
        """Whether this model takes ``size`` (any spelling ``parse_size`` reads)."""
        return self.size_problem(size) is None

    def check_size(self, size: str) -> str:
        """``size`` as ``WIDTHxHEIGHT`` if this model takes it.

        Otherwise raises ``InvalidRequestError`` saying what is wrong with it and which
        sizes would work.
        """
        if size in self.sizes:  # the usual case, spelt as listed: nothing to parse
            return size
        problem = self.size_problem(size)
        if problem is not None:
            raise InvalidRequestError(problem)
        return normalize_size(size)

    def size_problem(self, size: str) -> str | None:
        """``None`` if this model takes ``size``, else the message refusing it: what is wrong
        and which sizes would work.  The one place these words are written."""
        parsed = _parse(size)
        if isinstance(parsed, str):
            return f"{parsed}; {self.id} takes {self.sizes_text()}"
        width, height = parsed
        if f"{width}x{height}" in self.sizes:
            return None
        bounds = self.free_sizes
        if bounds is None:
            listed = self.sizes_text()
            return f"{self.id} does not take size {width}x{height}; it takes only {listed}"
        small = min(width, height) < bounds.min_side
        large = max(width, height) > bounds.max_side
        if small and large:
            wrong = "is too small on one side and too large on the other"
        elif small:
            wrong = "is too small"
        elif large:
            wrong = "is too large"
        elif width * height > bounds.max_pixels:
            wrong = f"has too many pixels ({width * height / 1e6:.1f} MP)"
        else:
            return None
        return f"size {width}x{height} {wrong} for {self.id}: it takes {self.sizes_text()}"

    def sizes_text(self) -> str:
        """Sizes as people read them, e.g. ``1024x1024, 2048x2048 (any WxH up to 4096x4096)``."""
        text = ", ".join(self.sizes)
        if self.free_sizes is not None:
            text += (
                f" (any WxH from {self.free_sizes.min_side} to {self.free_sizes.max_side} a side"
            )
            text += f", up to {self.free_sizes.max_pixels / 1e6:.1f} MP)"
        return text

    def price_for(self, size: str) -> float:
        """Listed USD per image at ``size``.

        A free size costs what the smallest listed size covering its area costs:
        the gateway bills by tier, and over-estimating is the safe side for a budget.
        """
        if not self.prices:  # one price for every size: nothing to parse
            return self.price_usd
        if size in self.prices:  # spelt as listed
            return self.prices[size]
        size = normalize_size(size)
        if size in self.prices:
            return self.prices[size]
        width, height = parse_size(size)
        area = width * height
        tiers = sorted((_area(s), price) for s, price in self.prices.items())
        for tier_area, price in tiers:
            if area <= tier_area:
                return price
        return tiers[-1][1]

    def price_text(self) -> str:
        """``$0.05`` or ``$0.10-$0.15`` for the descriptions and tables."""
        values = sorted({self.price_usd, *self.prices.values()})
        if values[0] == values[-1]:
            return format_usd(values[0])
        return f"{format_usd(values[0])}-{format_usd(values[-1])}"


def _price_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"is not a number ({quote(repr(value), 40)})"
    if not math.isfinite(value) or value < 0:
        return f"must be a finite number of USD, 0 or more, not {value!r}"
    return None


def _model_problem(model: ImageModel) -> str | None:
    """What makes ``model`` unusable, or None (the checks ``ImageModel`` runs when built)."""
    if not isinstance(model.id, str) or not model.id.strip() or not model.id.isprintable():
        return "the id must be a non-empty, printable string"
    if len(model.id) > 200:
        return "the id is longer than 200 characters"
    problem = _price_problem(model.price_usd)
    if problem is not None:
        return f"price_usd {problem}"
    for size, price in dict(model.prices).items():
        problem = _price_problem(price)
        if problem is not None:
            return f"the price for {quote(repr(size), 40)} {problem}"
    if not isinstance(model.sizes, tuple) or not model.sizes:
        return "sizes must be a non-empty tuple of 'WIDTHxHEIGHT' strings"
    for size in (*model.sizes, *dict(model.prices)):
        parsed = _parse(size) if isinstance(size, str) else "not a string"
        if isinstance(parsed, str) or min(parsed) < 1:
            return f"size {quote(repr(size), 40)} is not WIDTHxHEIGHT in whole pixels above 0"
    bounds = model.free_sizes
    if bounds is not None and not 1 <= bounds.min_side <= bounds.max_side:
        return "free_sizes needs 1 <= min_side <= max_side"
    if bounds is not None and bounds.max_pixels < 1:
        return "free_sizes.max_pixels must be 1 or more"
    for name in ("max_n", "max_input_images"):
        value = getattr(model, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < (name == "max_n"):
            return f"{name} must be a whole number, {int(name == 'max_n')} or more"
    if model.can_edit and model.max_input_images < 1:
        return "a model that edits takes at least one input image (max_input_images)"
    return None


def format_usd(value: float) -> str:
    """``0.1`` -> ``$0.10``, ``0.015`` -> ``$0.015``, ``0.0525`` -> ``$0.0525``."""
    text = f"{value:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _area(size: str) -> int:
    width, height = parse_size(size)
    return width * height


def _parse(size: str) -> tuple[int, int] | str:
    """``(width, height)``, or what is wrong with ``size`` whatever the model."""
    text = size.strip()
    if len(text) > _MAX_SIZE_CHARS:
        return (
            f"size {quote(repr(text[:20]), 40)}… is {len(text)} characters long, "
            "too long for WIDTHxHEIGHT"
        )
    # NFKC turns full-width digits and ｘ (what a CJK keyboard types) into ASCII; × stays.
    match = _SIZE_RE.fullmatch(unicodedata.normalize("NFKC", text))
    if match is None:
        return f"size {quote(repr(size), 40)} is not of the form WIDTHxHEIGHT (two whole numbers of pixels)"
    width, height = int(match.group(1)), int(match.group(2))
    if width < 0 or height < 0:
        return f"size {quote(repr(size), 40)} has a negative side"
    return width, height


def parse_size(size: str) -> tuple[int, int]:
    """``"1024x768"`` (or ``"1024 × 768"``, ``"1024X768"``, ``"1024*768"``) -> ``(1024, 768)``.

    Raises ``InvalidRequestError`` for anything that is not two whole numbers of pixels;
    whether a model takes the size is ``ImageModel.size_problem``'s question.
    """
    parsed = _parse(size)
    if isinstance(parsed, str):
        raise InvalidRequestError(f"{parsed}, e.g. '1024x1024'")
    return parsed


def normalize_size(size: str) -> str:
    """``"1024 × 1024"`` -> ``"1024x1024"``: LLMs copy the multiplication sign from docs."""
    width, height = parse_size(size)
    return f"{width}x{height}"


_GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536")

_MODELS: tuple[ImageModel, ...] = (
    ImageModel(
        id="google/nano-banana",
        aliases=("nano-banana", "banana"),
        price_usd=0.05,
        sizes=("1024x1024", "1216x832", "1024x1792"),
        can_edit=True,
        max_input_images=3,
        best_for="Fast, cheap, good quality",
    ),
    ImageModel(
        id="google/nano-banana-pro",
        aliases=("banana-pro", "nano-banana-pro"),
        price_usd=0.10,
        prices={"1024x1024": 0.10, "2048x2048": 0.10, "4096x4096": 0.15},
        sizes=("1024x1024", "2048x2048", "4096x4096"),
        free_sizes=FreeSizes(min_side=256, max_side=4096, max_pixels=4096 * 4096),
        can_edit=True,
        max_input_images=3,
        best_for="High resolution, up to 4096x4096",
    ),
    ImageModel(
        id="google/nano-banana-2",
        aliases=("nano-banana-2", "banana-2"),
        price_usd=0.09,
        prices={"1024x1024": 0.09},
        sizes=("1024x1024",),
        best_for="Newer Gemini model, square only",
    ),
    ImageModel(
        id="openai/gpt-image-1",
        aliases=("gpt-image", "gpt-image-1"),
        price_usd=0.02,
        prices={"1024x1024": 0.02, "1536x1024": 0.04, "1024x1536": 0.04},
        sizes=_GPT_IMAGE_SIZES,
        can_edit=True,
        can_mask=True,
        max_input_images=4,
        best_for="Budget; the default editor",
    ),
    ImageModel(
        id="openai/gpt-image-2",
        aliases=("gpt-image-2", "dalle", "dall-e"),
        price_usd=0.06,
        prices={"1024x1024": 0.06, "1536x1024": 0.12, "1024x1536": 0.12},
        sizes=_GPT_IMAGE_SIZES,
        can_edit=True,
        can_mask=True,
        max_input_images=4,
        # The upstream edits with it, but ClawRouter's image2image route hands back its
        # unfinished 202 job as a 200, after paying and without polling it
        # (i2i-gpt-image-2-202-stub): an edit would be paid and lost, so none is sent.
        edit_note=(
            "ClawRouter's image2image route returns gpt-image-2's unfinished job instead of "
            "waiting for it, so an edit would be paid and never delivered"
        ),
        best_for="Text in images; slow (up to 5 min)",
    ),
    ImageModel(
        id="bytedance/seedream-5-pro",
        aliases=("seedream", "seedream-5-pro"),
        price_usd=0.045,
        prices={"1024x1024": 0.045, "2048x1024": 0.045, "2048x2048": 0.09},
        sizes=("1024x1024", "2048x1024", "2048x2048"),
        free_sizes=FreeSizes(min_side=512, max_side=2848, max_pixels=2848 * 1600),
        best_for="Wide and 2K images, low price",
    ),
    ImageModel(
        id="xai/grok-imagine-image",
        aliases=("grok-imagine", "grok-imagine-image"),
        price_usd=0.02,
        prices={"1024x1024": 0.02},
        sizes=("1024x1024",),
        best_for="Cheap square images",
    ),
    ImageModel(
        id="xai/grok-imagine-image-pro",
        aliases=("grok-imagine-pro", "grok-imagine-image-pro"),
        price_usd=0.07,
        prices={"1024x1024": 0.07},
        sizes=("1024x1024",),
        best_for="Better square images (xAI)",
    ),
    ImageModel(
        id="zai/cogview-4",
        aliases=("cogview", "cogview-4"),
        price_usd=0.015,
        prices={
            "512x512": 0.015,
            "768x768": 0.015,
            "1024x1024": 0.015,
            "768x1344": 0.015,
            "1344x768": 0.015,
            "1440x1440": 0.02,
        },
        sizes=("1024x1024", "512x512", "768x768", "768x1344", "1344x768", "1440x1440"),
        best_for="Lowest price",
    ),
    ImageModel(
        id="openai/dall-e-3",
        aliases=("dall-e-3", "dalle3"),
        price_usd=0.04,
        sizes=("1024x1024", "1792x1024", "1024x1792"),
        max_n=1,
        best_for="Photorealistic, complex scenes",
        status="delisted",
        status_note="delisted upstream 2026-05-25",
        # ClawRouter's chat command names gpt-image-2 as the successor (its "dalle" alias);
        # gpt-image-1 is suggested instead, on purpose: it is closer to dall-e-3 in price
        # ($0.02-0.04 against $0.04; gpt-image-2 is $0.06-0.12) and answers in seconds,
        # where gpt-image-2 can take five minutes.
        replacement="openai/gpt-image-1",
    ),
    ImageModel(
        id="black-forest/flux-1.1-pro",
        aliases=("flux", "flux-1.1-pro"),
        price_usd=0.04,
        sizes=("1024x1024", "1216x832", "832x1216"),
        best_for="Artistic styles, fewer restrictions",
        status="unavailable",
        status_note="unavailable: no gateway entry",
        replacement="google/nano-banana",
    ),
)

# Aliases ClawRouter resolves to a model that their name does not suggest.
_SURPRISING_ALIASES = {
    "dalle": "openai/dall-e-3 is delisted",
    "dall-e": "openai/dall-e-3 is delisted",
}


def alias_note(name: str) -> str | None:
    """A sentence for the deployer when ``name`` means another model than it seems to."""
    why = _SURPRISING_ALIASES.get(name.strip().lower())
    if why is None:
        return None
    return f"model name {name!r} means {resolve_model(name).id} (ClawRouter's alias; {why})"


MODELS: Mapping[str, ImageModel] = {model.id: model for model in _MODELS}
"""Every known model by full id, available ones first."""

_BY_NAME: dict[str, ImageModel] = {}
for _model in _MODELS:
    for _name in (_model.id, *_model.aliases):
        _BY_NAME[_name.lower()] = _model


def resolve_model(model: str | ImageModel) -> ImageModel:
    """Find a model by full id or alias (case-insensitive): ``"banana-pro"`` -> google/nano-banana-pro.

    Raises ``InvalidRequestError`` listing the valid names for anything unknown.
    """
    if isinstance(model, ImageModel):
        return model
    key = model.strip().lower()
    found = _BY_NAME.get(key)
    if found is None:
        names = ", ".join(f"{m.alias} ({m.id})" for m in _MODELS if m.available)
        import difflib  # only to word a refusal

        offered = [name for name, each in _BY_NAME.items() if each.available]
        close = difflib.get_close_matches(key, offered, n=1, cutoff=0.75)
        guess = f"did you mean {_BY_NAME[close[0]].alias!r}? " if close else ""
        raise InvalidRequestError(
            f"unknown model {quote(repr(model), 80)}; {guess}choose one of: {names}"
        )
    return found


def editing_models(*, mask: bool = False) -> list[ImageModel]:
    """The available models that edit images (and, with ``mask=True``, take a mask)."""
    return [m for m in MODELS.values() if m.available and m.edits and (m.can_mask or not mask)]


def replacement_for(model: ImageModel, *, editing: bool = False) -> ImageModel:
    """What to suggest instead of ``model`` when it is refused: its catalogued successor,
    else the default model (for editing, the default editing model), never ``model`` itself."""
    if model.replacement:
        return resolve_model(model.replacement)
    defaults = (DEFAULT_EDIT_MODEL,) if editing else (DEFAULT_GENERATE_MODEL, DEFAULT_EDIT_MODEL)
    candidates = [resolve_model(name) for name in defaults] + (
        editing_models() if editing else [m for m in MODELS.values() if m.available]
    )
    return next(m for m in candidates if m.id != model.id)


def estimate_cost(model: str | ImageModel, size: str | None = None, n: int = 1) -> float:
    """Estimated USD for ``n`` images of ``size``, including the gateway's margin."""
    found = resolve_model(model)
    per_image = found.price_for(size or found.default_size)
    return round(per_image * n * (1 + GATEWAY_MARGIN), 6)


def describe_call(model: ImageModel, size: str, n: int) -> str:
    """``2 x google/nano-banana at 1024x1024``: how cap and budget messages name a call."""
    return f"{n} x {model.id} at {size}"


# -- the catalogue as a table ------------------------------------------------------------

# The columns of the catalogue as the command and the README show it.
_COLUMNS = ("alias", "id", "price / image", "sizes", "edit", "status", "best for")


def _model_rows(models: Iterable[ImageModel]) -> list[tuple[str, ...]]:
    return [
        (
            model.alias,
            model.id,
            model.price_text(),
            model.sizes_text(),
            ("yes, mask" if model.can_mask else "yes") if model.edits else "no",
            model.status if model.available else model.status_note,
            model.best_for,
        )
        for model in models
    ]


def models_markdown(models: Iterable[ImageModel]) -> str:
    """The catalogue as the Markdown table the README carries."""
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in _model_rows(models)]
    return "\n".join(lines)


def models_table(models: Iterable[ImageModel]) -> str:
    """The catalogue as an aligned text table (alias, id, price, sizes, edit, status, best for)."""
    header = _COLUMNS
    rows = [header, *_model_rows(models)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    )

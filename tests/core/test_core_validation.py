"""Validation before anything is sent or paid: models, aliases, sizes, n, prompts, extra_body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from clawrouter_images import MODELS, InvalidRequestError, estimate_cost, resolve_model

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import Twin

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
RESULT = "http://localhost:8402/images/1795503044964-xm1yzv09.png"

ALIASES = [
    (alias, model.id) for model in MODELS.values() if model.available for alias in model.aliases
]


@pytest.fixture
def answering(server: Server) -> Server:
    """The server answers every generation and edit with one image."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    server.on("POST", IMAGE2IMAGE, server.images(RESULT))
    return server


# -- models and aliases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "full_id"),
    [
        ("nano-banana", "google/nano-banana"),
        ("banana-pro", "google/nano-banana-pro"),
        ("gpt-image-1", "openai/gpt-image-1"),
        ("seedream", "bytedance/seedream-5-pro"),
        ("cogview-4", "zai/cogview-4"),
        ("NANO-BANANA", "google/nano-banana"),
        (" grok-imagine ", "xai/grok-imagine-image"),
    ],
)
async def test_alias_is_sent_as_full_id(
    twin: Twin, answering: Server, alias: str, full_id: str
) -> None:
    """A short or differently cased model name goes on the wire as the full upstream id."""
    await twin.generate("a red fox", model=alias)
    assert answering.body()["model"] == full_id


@pytest.mark.parametrize(("alias", "full_id"), ALIASES)
def test_every_catalogue_alias_resolves(alias: str, full_id: str) -> None:
    """Each alias of an available model resolves to that model, whatever its case."""
    assert resolve_model(alias).id == full_id
    assert resolve_model(alias.upper()).id == full_id


async def test_default_generate_model(twin: Twin, answering: Server) -> None:
    """generate() without a model asks google/nano-banana for its default 1024x1024."""
    response = await twin.generate("a red fox")
    assert answering.body()["model"] == "google/nano-banana"
    assert answering.body()["size"] == "1024x1024"
    assert answering.body()["n"] == 1
    assert response.model == "google/nano-banana"


async def test_default_edit_model(twin: Twin, answering: Server, png: bytes) -> None:
    """edit() without a model asks openai/gpt-image-1, ClawRouter's own default editor."""
    await twin.edit("make it blue", png)
    assert answering.body()["model"] == "openai/gpt-image-1"


async def test_unknown_model_lists_valid_ones(twin: Twin, server: Server) -> None:
    """An unknown model is refused before sending, listing the models that exist."""
    with pytest.raises(InvalidRequestError, match="unknown model") as info:
        await twin.generate("a red fox", model="midjourney-7")
    assert "google/nano-banana" in str(info.value)
    assert "openai/gpt-image-1" in str(info.value)
    assert server.requests == []


async def test_delisted_model_suggests_replacement(twin: Twin, server: Server) -> None:
    """dall-e-3 is refused locally (delisted upstream) with openai/gpt-image-1 suggested."""
    with pytest.raises(InvalidRequestError, match="delisted") as info:
        await twin.generate("a red fox", model="dall-e-3")
    assert "openai/gpt-image-1" in str(info.value)
    assert server.requests == []


async def test_unavailable_model_is_refused(twin: Twin, server: Server) -> None:
    """flux (no gateway entry) is refused locally with an available model suggested."""
    with pytest.raises(InvalidRequestError, match="not available") as info:
        await twin.generate("a red fox", model="flux")
    assert "google/nano-banana" in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("model", [42, ["nano-banana"], b"nano-banana"])
async def test_model_of_wrong_type_is_refused(twin: Twin, server: Server, model: object) -> None:
    """A model that is not a string is refused before sending."""
    with pytest.raises(InvalidRequestError, match="model"):
        await twin.generate("a red fox", model=model)
    assert server.requests == []


# -- sizes ---------------------------------------------------------------------------------------


async def test_size_not_taken_lists_model_sizes(twin: Twin, server: Server) -> None:
    """A size the model does not take is refused, naming the sizes it does take."""
    with pytest.raises(InvalidRequestError, match="does not take size 2048x2048") as info:
        await twin.generate("a red fox", model="gpt-image-1", size="2048x2048")
    assert "1536x1024" in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("size", ["big", "1024", "1024x", "x1024", "1024x1024x2", ""])
async def test_malformed_size_is_refused(twin: Twin, server: Server, size: str) -> None:
    """A size that is not WIDTHxHEIGHT is refused before sending."""
    with pytest.raises(InvalidRequestError, match="size"):
        await twin.generate("a red fox", size=size)
    assert server.requests == []


async def test_size_of_wrong_type_is_refused(twin: Twin, server: Server) -> None:
    """A size that is not a string (e.g. a tuple) is refused before sending."""
    with pytest.raises(InvalidRequestError, match="size"):
        await twin.generate("a red fox", size=(1024, 1024))
    assert server.requests == []


@pytest.mark.parametrize("size", ["1024 × 1024", "1024X1024", " 1024*1024 "])
async def test_size_spelling_is_normalised(twin: Twin, answering: Server, size: str) -> None:
    """A size written with ×, X, * or spaces is sent as WIDTHxHEIGHT."""
    await twin.generate("a red fox", size=size)
    assert answering.body()["size"] == "1024x1024"


async def test_free_size_inside_limits_is_accepted(twin: Twin, answering: Server) -> None:
    """nano-banana-pro takes any WxH inside its limits, not only its listed sizes."""
    response = await twin.generate("a red fox", model="banana-pro", size="3000x2000")
    assert answering.body()["size"] == "3000x2000"
    assert response.size == "3000x2000"


async def test_free_size_outside_limits_is_refused(twin: Twin, server: Server) -> None:
    """nano-banana-pro refuses a side above 4096 before sending."""
    with pytest.raises(InvalidRequestError, match="4096"):
        await twin.generate("a red fox", model="banana-pro", size="5000x1000")
    assert server.requests == []


# -- n -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -1, 5, 2.0, "2", True, None])
async def test_bad_n_is_refused(twin: Twin, server: Server, n: object) -> None:
    """n must be a whole number from 1 to the model's cap (4 for nano-banana)."""
    with pytest.raises(InvalidRequestError, match="from 1 to 4"):
        await twin.generate("a red fox", n=n)
    assert server.requests == []


async def test_n_cap_is_per_model(twin: Twin, answering: Server) -> None:
    """n=4 is accepted for nano-banana and sent as given."""
    await twin.generate("a red fox", n=4)
    assert answering.body()["n"] == 4


# -- prompts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t", None, 42])
async def test_empty_prompt_is_refused(twin: Twin, server: Server, prompt: object) -> None:
    """An empty, blank or non-string prompt is refused before sending."""
    with pytest.raises(InvalidRequestError, match="prompt"):
        await twin.generate(prompt)
    assert server.requests == []


async def test_overlong_prompt_is_refused(twin: Twin, server: Server) -> None:
    """A prompt over 32,000 characters is refused before sending."""
    with pytest.raises(InvalidRequestError, match="32000"):
        await twin.generate("x" * 32_001)
    assert server.requests == []


async def test_prompt_is_sent_verbatim(twin: Twin, answering: Server) -> None:
    """The prompt (non-ASCII, leading spaces and all) reaches the body unchanged."""
    await twin.generate('  café ☕ «quoted» "x"\n')
    assert answering.body()["prompt"] == '  café ☕ «quoted» "x"\n'


# -- editing capabilities ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["seedream", "nano-banana-2", "grok-imagine", "cogview"])
async def test_model_that_cannot_edit_is_refused(
    twin: Twin, server: Server, png: bytes, model: str
) -> None:
    """Editing with a model that cannot edit is refused, listing the editing models."""
    with pytest.raises(InvalidRequestError, match="cannot edit") as info:
        await twin.edit("make it blue", png, model=model)
    assert "openai/gpt-image-1" in str(info.value)
    assert server.requests == []


async def test_too_many_images_for_model(twin: Twin, server: Server, png: bytes) -> None:
    """nano-banana takes at most 3 input images; 4 are refused before sending."""
    with pytest.raises(InvalidRequestError, match="at most 3"):
        await twin.edit("combine", [png] * 4, model="nano-banana")
    assert server.requests == []


async def test_more_than_four_images_refused(twin: Twin, server: Server, png: bytes) -> None:
    """Five input images are refused before sending, even for a 4-image model."""
    with pytest.raises(InvalidRequestError, match="at most 4"):
        await twin.edit("combine", [png] * 5, model="gpt-image-1")
    assert server.requests == []


async def test_mask_with_several_images_refused(twin: Twin, server: Server, png: bytes) -> None:
    """A mask cannot be combined with several input images."""
    with pytest.raises(InvalidRequestError, match="single image"):
        await twin.edit("combine", [png, png], mask=png, model="gpt-image-1")
    assert server.requests == []


async def test_mask_with_model_without_masks_refused(
    twin: Twin, server: Server, png: bytes
) -> None:
    """A mask with a model that takes none (nano-banana) is refused, naming models that do."""
    with pytest.raises(InvalidRequestError, match="does not take a mask") as info:
        await twin.edit("fill", png, mask=png, model="nano-banana")
    assert "openai/gpt-image-1" in str(info.value)
    assert server.requests == []


async def test_validation_happens_before_reading_inputs(twin: Twin, server: Server) -> None:
    """A model that cannot edit is reported even when the input path does not exist."""
    with pytest.raises(InvalidRequestError, match="cannot edit"):
        await twin.edit("make it blue", "/nonexistent/cat.png", model="seedream")
    assert server.requests == []


# -- extra_body ----------------------------------------------------------------------------------


async def test_extra_body_is_merged(twin: Twin, answering: Server) -> None:
    """extra_body fields reach the request body verbatim next to the managed ones."""
    extra: dict[str, Any] = {"quality": "hd", "style": "vivid", "user": "u-1", "seed": 7}
    await twin.generate("a red fox", extra_body=extra)
    body = answering.body()
    assert {key: body[key] for key in extra} == extra
    assert body["model"] == "google/nano-banana"


async def test_extra_body_is_merged_into_edits(twin: Twin, answering: Server, png: bytes) -> None:
    """extra_body fields reach an image2image body too, beside the streamed image."""
    await twin.edit("make it blue", png, extra_body={"quality": "low"})
    body = answering.body()
    assert body["quality"] == "low"
    assert body["image"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("key", ["model", "prompt", "size", "n", "image", "mask"])
async def test_extra_body_may_not_override_managed_fields(
    twin: Twin, server: Server, key: str
) -> None:
    """extra_body cannot set a field the client manages (it would bypass validation)."""
    with pytest.raises(InvalidRequestError, match=key):
        await twin.generate("a red fox", extra_body={key: "x"})
    assert server.requests == []


async def test_extra_body_must_be_a_mapping(twin: Twin, server: Server) -> None:
    """extra_body that is not a mapping is refused before sending."""
    with pytest.raises(InvalidRequestError, match="extra_body"):
        await twin.generate("a red fox", extra_body=[("quality", "hd")])
    assert server.requests == []


@pytest.mark.parametrize("value", [{1, 2}, object(), float("nan")])
async def test_extra_body_must_be_json(twin: Twin, server: Server, value: object) -> None:
    """extra_body holding a value JSON cannot carry is refused before sending, and not charged."""
    with pytest.raises(InvalidRequestError, match="extra_body"):
        await twin.generate("a red fox", extra_body={"seed": value})
    assert server.requests == []
    assert twin.spent_usd == 0


# -- estimates -----------------------------------------------------------------------------------


def test_estimate_includes_gateway_margin() -> None:
    """The estimate is the listed price times n plus the gateway's 5 % margin."""
    assert estimate_cost("nano-banana") == pytest.approx(0.0525)
    assert estimate_cost("gpt-image-1", "1536x1024", 2) == pytest.approx(0.084)
    assert estimate_cost("banana-pro", "4096x4096") == pytest.approx(0.1575)


def test_estimate_of_free_size_uses_covering_tier() -> None:
    """A free size costs what the smallest listed size covering its area costs."""
    assert estimate_cost("banana-pro", "3000x3000") == estimate_cost("banana-pro", "4096x4096")
    assert estimate_cost("banana-pro", "1500x1000") == estimate_cost("banana-pro", "2048x2048")


def test_estimate_of_unknown_model_is_refused() -> None:
    """estimate_cost refuses an unknown model like the client does."""
    with pytest.raises(InvalidRequestError, match="unknown model"):
        estimate_cost("midjourney-7")


async def test_response_carries_the_estimate(twin: Twin, answering: Server) -> None:
    """A response records the model, size and estimated cost of what was asked."""
    response = await twin.generate("a red fox", model="gpt-image-1", size="1024x1536", n=3)
    assert response.model == "openai/gpt-image-1"
    assert response.size == "1024x1536"
    assert response.estimated_cost_usd == pytest.approx(0.04 * 3 * 1.05)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("nano-bananna", "nano-banana"), ("banana-por", "banana-pro"), ("gpt-imag", "gpt-image")],
)
def test_a_misspelt_model_gets_a_did_you_mean(typed: str, meant: str) -> None:
    """A near miss names the model meant, before the full list."""
    from clawrouter_images import resolve_model

    with pytest.raises(InvalidRequestError, match=f"did you mean '{meant}'\\? choose one of"):
        resolve_model(typed)


@pytest.mark.parametrize("typed", ["zzzz", "flux-1.1-pr"])
def test_no_guess_for_what_is_far_or_not_available(typed: str) -> None:
    """Nothing close, or only a delisted model close: no guess, just the list."""
    from clawrouter_images import resolve_model

    with pytest.raises(InvalidRequestError) as caught:
        resolve_model(typed)
    assert "did you mean" not in caught.value.message

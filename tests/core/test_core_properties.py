"""Property tests (hypothesis) for validation and estimates.

Refusals must happen before anything is sent: each property keeps one client per test and
checks that its server never received a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clawrouter_images import MODELS, ImageModel, InvalidRequestError, estimate_cost

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import Twin

GENERATIONS = "/v1/images/generations"
RESULT = "http://localhost:8402/images/1795503044964-xm1yzv09.png"

AVAILABLE = [model for model in MODELS.values() if model.available]
FIXED_SIZE = [model for model in AVAILABLE if model.free_sizes is None]
KNOWN_NAMES = {name.lower() for model in MODELS.values() for name in (model.id, *model.aliases)}
WHITESPACE = [chr(code) for code in range(0x3001) if chr(code).isspace()]

with_fixture = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60, deadline=None
)


@with_fixture
@given(
    model=st.sampled_from(FIXED_SIZE),
    width=st.integers(min_value=10, max_value=99_999),
    height=st.integers(min_value=10, max_value=99_999),
)
async def test_unlisted_size_is_refused(
    twin: Twin, server: Server, model: ImageModel, width: int, height: int
) -> None:
    """Any WxH a fixed-size model does not list is refused, and nothing is sent."""
    assume(f"{width}x{height}" not in model.sizes)
    with pytest.raises(InvalidRequestError, match="size"):
        await twin.generate("a red fox", model=model.id, size=f"{width}x{height}")
    assert server.requests == []


@with_fixture
@given(size=st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=30))
async def test_size_without_digits_is_refused(twin: Twin, server: Server, size: str) -> None:
    """Any size string with no digits at all is refused, and nothing is sent."""
    with pytest.raises(InvalidRequestError, match="size"):
        await twin.generate("a red fox", size=size)
    assert server.requests == []


@with_fixture
@given(
    side=st.one_of(st.integers(10, 255), st.integers(4097, 99_999)),
    other=st.integers(256, 4096),
    side_first=st.booleans(),
)
async def test_free_size_outside_bounds_is_refused(
    twin: Twin, server: Server, side: int, other: int, side_first: bool
) -> None:
    """nano-banana-pro refuses any WxH with a side under 256 or over 4096; nothing is sent."""
    size = f"{side}x{other}" if side_first else f"{other}x{side}"
    with pytest.raises(InvalidRequestError, match="size"):
        await twin.generate("a red fox", model="google/nano-banana-pro", size=size)
    assert server.requests == []


@with_fixture
@given(
    model=st.sampled_from(AVAILABLE),
    n=st.one_of(st.integers(max_value=0), st.integers(min_value=5)),
)
async def test_n_out_of_range_is_refused(
    twin: Twin, server: Server, model: ImageModel, n: int
) -> None:
    """Any n outside 1..max_n is refused for every model, and nothing is sent."""
    with pytest.raises(InvalidRequestError, match="n must be"):
        await twin.generate("a red fox", model=model.id, n=n)
    assert server.requests == []


@with_fixture
@given(n=st.one_of(st.floats(), st.text(max_size=3), st.booleans(), st.none()))
async def test_n_of_wrong_type_is_refused(twin: Twin, server: Server, n: object) -> None:
    """Any n that is not an int (floats, strings, booleans, None) is refused; nothing is sent."""
    with pytest.raises(InvalidRequestError, match="n must be"):
        await twin.generate("a red fox", n=n)
    assert server.requests == []


@with_fixture
@given(name=st.text(min_size=1, max_size=40))
async def test_unknown_model_string_is_refused(twin: Twin, server: Server, name: str) -> None:
    """Any non-empty string that names no model (case-insensitively) is refused; nothing is sent."""
    assume(name.strip().lower() not in KNOWN_NAMES)
    with pytest.raises(InvalidRequestError, match="unknown model"):
        await twin.generate("a red fox", model=name)
    assert server.requests == []


@with_fixture
@given(prompt=st.text(alphabet=st.sampled_from(WHITESPACE), max_size=20))
async def test_blank_prompt_is_refused(twin: Twin, server: Server, prompt: str) -> None:
    """Any empty or whitespace-only prompt is refused, and nothing is sent."""
    with pytest.raises(InvalidRequestError, match="prompt"):
        await twin.generate(prompt)
    assert server.requests == []


@with_fixture
@given(data=st.data())
async def test_valid_request_is_sent_as_asked(
    twin: Twin, server: Server, data: st.DataObject
) -> None:
    """Any available model with a listed size and n in 1..max_n is sent exactly as asked."""
    model = data.draw(st.sampled_from(AVAILABLE))
    size = data.draw(st.sampled_from(model.sizes))
    n = data.draw(st.integers(1, model.max_n))
    server.on("POST", GENERATIONS, server.images(RESULT))
    response = await twin.generate("a red fox", model=model.alias, size=size, n=n)
    body = server.body()
    assert (body["model"], body["size"], body["n"]) == (model.id, size, n)
    assert response.estimated_cost_usd == estimate_cost(model.id, size, n)


@settings(max_examples=200)
@given(
    model=st.sampled_from(AVAILABLE),
    n=st.integers(1, 3),
    data=st.data(),
)
def test_estimate_is_monotone_and_linear_in_n(
    model: ImageModel, n: int, data: st.DataObject
) -> None:
    """More images never cost less, and n images cost n times one image."""
    size = data.draw(st.sampled_from(model.sizes))
    one = estimate_cost(model.id, size, 1)
    assert one > 0
    assert estimate_cost(model.id, size, n + 1) > estimate_cost(model.id, size, n)
    assert estimate_cost(model.id, size, n) == pytest.approx(n * one)


@settings(max_examples=200)
@given(
    width=st.integers(256, 4096),
    height=st.integers(256, 4096),
)
def test_free_size_estimate_stays_within_listed_prices(width: int, height: int) -> None:
    """Any nano-banana-pro size costs between its cheapest and dearest listed price (with margin)."""
    cheapest = estimate_cost("google/nano-banana-pro", "1024x1024")
    dearest = estimate_cost("google/nano-banana-pro", "4096x4096")
    assert cheapest <= estimate_cost("google/nano-banana-pro", f"{width}x{height}") <= dearest


@settings(max_examples=200)
@given(
    small=st.integers(256, 4096),
    large=st.integers(256, 4096),
)
def test_free_size_estimate_grows_with_area(small: int, large: int) -> None:
    """A larger square never costs less than a smaller one."""
    low, high = sorted((small, large))
    assert estimate_cost("banana-pro", f"{low}x{low}") <= estimate_cost(
        "banana-pro", f"{high}x{high}"
    )

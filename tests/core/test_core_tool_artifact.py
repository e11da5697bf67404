"""The tools' artifact reuses the answer as the client read it: it must be the model's JSON."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clawrouter_images import ImageData, ImageResponse
from clawrouter_images.agent_tools._results import tool_result

GENERATIONS = "/v1/images/generations"
GOOD = "http://localhost:8402/images/1795485942728-k0tmygue.png"
B64 = "iVBORw0KGgo" + "A" * 200

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.just("data:image/png;base64," + B64),
        st.just(B64),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=8), children, max_size=3),
    ),
    max_leaves=8,
)
IMAGE_ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "url": st.one_of(
            st.just(GOOD), st.just("data:image/png;base64," + B64), st.just("not a url"), st.none()
        ),
        "b64_json": st.one_of(st.just(B64), st.just(""), st.integers()),
        "revised_prompt": st.one_of(st.text(max_size=30), JSON_VALUES),
        "extra": JSON_VALUES,
    },
)
ANSWERS = st.fixed_dictionaries(
    {"data": st.lists(IMAGE_ITEMS, min_size=1, max_size=3)},
    optional={
        "created": st.one_of(
            st.integers(0, 2**40), st.floats(0, 2e9), st.just("2026-07-01T00:00:00Z"), JSON_VALUES
        ),
        "model": JSON_VALUES,
        "size": JSON_VALUES,
        "estimated_cost_usd": JSON_VALUES,
        "extra": JSON_VALUES,
        "created_raw": JSON_VALUES,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=ANSWERS)
def test_the_answer_as_read_is_the_models_json(body: dict[str, Any]) -> None:
    """Whatever the answer, what the client keeps of it equals the model's JSON form, so the
    artifact built from it equals the one built by dumping the model."""
    from tests.support.server import FakeClawRouter

    fake = FakeClawRouter(strict=True)
    fake.on("POST", GENERATIONS, fake.json(body))
    with fake.client() as client:
        try:
            response = client.generate("a red fox", n=3)
        except Exception:  # no usable image: nothing is kept, and nothing to compare
            return
    assert response._local.answered is not None
    owner, kept = response._local.answered
    assert owner == id(response)
    before = copy.deepcopy(kept)
    assert kept == response.model_dump(mode="json")
    dumped = ImageResponse.model_validate(response.model_dump())
    assert dumped._local.answered is None
    assert tool_result(response) == tool_result(dumped)
    assert kept == before  # the artifact is a copy: the answer itself is kept whole


def test_a_copy_with_other_images_is_not_described_by_the_original_answer() -> None:
    """``model_copy`` shares the local state; the copy's artifact still shows its own images."""
    from tests.support.server import FakeClawRouter

    fake = FakeClawRouter(strict=True)
    fake.on("POST", GENERATIONS, fake.json({"data": [{"url": GOOD}]}))
    with fake.client() as client:
        response = client.generate("a red fox")
    other = "http://localhost:8402/images/other.png"
    changed = response.model_copy(update={"data": [ImageData(url=other)]})
    assert tool_result(changed)["response"]["data"][0]["url"] == other
    assert tool_result(response)["response"]["data"][0]["url"] == GOOD

"""Size refusals say what is wrong with the size and which sizes the model takes."""

from __future__ import annotations

import pytest

from clawrouter_images import MODELS, ImageModel, InvalidRequestError
from clawrouter_images._catalog import parse_size

FIXED = MODELS["google/nano-banana"]  # only its listed sizes
FREE = MODELS["google/nano-banana-pro"]  # any WxH from 256 to 4096 a side
WIDE = MODELS["bytedance/seedream-5-pro"]  # free sizes with a pixel cap below max_side²

NOT_A_SIZE = "not of the form WIDTHxHEIGHT"

REFUSED = [
    # (model, size, what the message must say)
    (FIXED, "2x2", "google/nano-banana does not take size 2x2"),
    (FIXED, "0x0", "does not take size 0x0"),
    (FIXED, "4096x4096", "does not take size 4096x4096"),
    (FIXED, "99999999999x1", "does not take size 99999999999x1"),
    (FIXED, "1024 × 1025", "does not take size 1024x1025"),
    (FREE, "2x2", "size 2x2 is too small for google/nano-banana-pro"),
    (FREE, "0x0", "size 0x0 is too small"),
    (FREE, "255x1024", "size 255x1024 is too small"),
    (FREE, "4097x1024", "size 4097x1024 is too large"),
    (FREE, "99999999999x99999999999", "is too large"),
    (FREE, "99999999999x1", "too small on one side and too large on the other"),
    (WIDE, "2848x2848", "size 2848x2848 has too many pixels (8.1 MP)"),
    *(
        (model, size, NOT_A_SIZE)
        for model in (FIXED, FREE)
        for size in (
            "big",
            "1024",
            "",
            "   ",
            "x",
            "1024x",
            "x1024",
            "1024x1024x2",
            "1024 by 1024",
            "1.5x1024",
            "1024x1024px",
            "+1024x1024",
            "1024x1024\x00",
            "\x001024x1024",
            "٣x٣",  # Arabic-Indic digits: digits, but not ones a size is written in
            "1024\n\nx1024;rm",
        )
    ),
    (FIXED, "-1024x1024", "size '-1024x1024' has a negative side"),
    (FREE, "1024x-5", "size '1024x-5' has a negative side"),
    (FREE, "9" * 5000 + "x1", "is 5002 characters long, too long for WIDTHxHEIGHT"),
    (FIXED, "1" * 10_000_000, "is 10000000 characters long"),
]


@pytest.mark.parametrize(
    ("model", "size", "problem"),
    REFUSED,
    ids=[f"{m.alias}-{s[:16]!r}" for m, s, _ in REFUSED],
)
def test_refusal_names_the_problem_and_sizes_that_work(
    model: ImageModel, size: str, problem: str
) -> None:
    """The message says what is wrong, and offers sizes the model really takes."""
    with pytest.raises(InvalidRequestError) as refused:
        model.check_size(size)
    message = str(refused.value)
    assert problem in message
    assert model.sizes_text() in message
    assert model.size_problem(size) == message
    assert not model.accepts_size(size)
    assert len(message) < 400  # whatever was typed, the message stays a line


@pytest.mark.parametrize(
    ("model", "size", "sent"),
    [
        (FIXED, "1216x832", "1216x832"),
        (FIXED, "1024 × 1792", "1024x1792"),
        (FIXED, " 1024X1024 ", "1024x1024"),
        (FIXED, "1024*1024", "1024x1024"),
        (FIXED, "１０２４ｘ１０２４", "1024x1024"),  # full width, as a CJK keyboard types it
        (FIXED, "01024x1024", "1024x1024"),
        (FREE, "256x4096", "256x4096"),
        (FREE, "4096x4096", "4096x4096"),
        (FREE, "3000 x 2000", "3000x2000"),
        (WIDE, "2848x1600", "2848x1600"),
    ],
)
def test_taken_sizes_come_back_as_widthxheight(model: ImageModel, size: str, sent: str) -> None:
    """A size the model takes, in any spelling people and LLMs use, is sent as WIDTHxHEIGHT."""
    assert model.size_problem(size) is None
    assert model.check_size(size) == sent


@pytest.mark.parametrize("size", ["2x2", "0x0", "99999999999x1", "1x1"])
def test_small_and_huge_sides_are_of_the_form(size: str) -> None:
    """The form check takes any digits: a size too small or too large is the model's to refuse."""
    width, height = parse_size(size)
    assert f"{width}x{height}" == size


@pytest.mark.parametrize("size", ["big", "1024", "-5x5", "9" * 5000 + "x1"])
def test_parse_size_refuses_what_is_not_a_size(size: str) -> None:
    """Without a model, a bad size is still an InvalidRequestError (a ValueError) with an example."""
    with pytest.raises(InvalidRequestError, match=r"size .*1024x1024"):
        parse_size(size)

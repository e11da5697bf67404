"""The tools declared once: what every adapter loops over, checks calls with and shows."""

from __future__ import annotations

import base64

import pytest

from clawrouter_images import InvalidRequestError
from clawrouter_images.agent_tools import (
    EDIT_TOOL_NAME,
    GENERATE_TOOL_NAME,
    TOOLS,
    ImageToolConfig,
    ImageTools,
    ToolAnswer,
)
from clawrouter_images.agent_tools._descriptions import edit_description, generate_description
from clawrouter_images.agent_tools._results import ResultImage

BASE_URL = "http://127.0.0.1:9"  # nothing is sent


@pytest.fixture
def runner() -> ImageTools:
    return ImageTools(base_url=BASE_URL)


def test_the_declared_tools_are_generate_then_edit() -> None:
    """TOOLS names generate_image (no editing) then edit_image (editing)."""
    assert [(tool.name, tool.editing) for tool in TOOLS] == [
        (GENERATE_TOOL_NAME, False),
        (EDIT_TOOL_NAME, True),
    ]


def test_a_runner_offers_every_declared_tool_with_its_description(runner: ImageTools) -> None:
    """With an editing model offered, both tools are offered, described by the contract."""
    assert [(tool.name, tool.description) for tool in runner.tools] == [
        (GENERATE_TOOL_NAME, generate_description()),
        (EDIT_TOOL_NAME, edit_description()),
    ]


def test_edit_is_not_offered_without_a_model_that_edits() -> None:
    """Only generate_image is offered when no offered model edits; asking for edit says why."""
    runner = ImageTools(ImageToolConfig(models=["cogview"]), base_url=BASE_URL)
    assert [tool.name for tool in runner.tools] == [GENERATE_TOOL_NAME]
    with pytest.raises(InvalidRequestError, match="no editing model"):
        runner.parse(EDIT_TOOL_NAME, {"prompt": "x", "image": "https://example.invalid/a.png"})


def test_parse_checks_against_the_schema_the_llm_was_shown(runner: ImageTools) -> None:
    """parse() refuses a model the configuration does not offer, naming the argument."""
    narrow = ImageTools(ImageToolConfig(models=["nano-banana"]), base_url=BASE_URL)
    assert runner.parse(GENERATE_TOOL_NAME, {"prompt": "x", "model": "cogview"}).model == "cogview"
    with pytest.raises(InvalidRequestError, match=r"^Invalid arguments: model: "):
        narrow.parse(GENERATE_TOOL_NAME, {"prompt": "x", "model": "cogview"})


def test_parse_refuses_an_undeclared_tool(runner: ImageTools) -> None:
    """A name no tool is declared under is refused with the declared names."""
    with pytest.raises(InvalidRequestError, match="unknown tool 'draw_image'; the tools are"):
        runner.parse("draw_image", {"prompt": "x"})


def test_parsed_edit_arguments_run_as_an_edit(runner: ImageTools) -> None:
    """What parse() returns for edit_image is dispatched to the edit tool."""
    from clawrouter_images.agent_tools._declared import tool_of

    args = runner.parse(EDIT_TOOL_NAME, {"prompt": "x", "image": "https://example.invalid/a.png"})
    assert tool_of(args).name == EDIT_TOOL_NAME


def test_parts_are_the_text_then_each_image_as_base64() -> None:
    """ToolAnswer.parts() hands a framework the text first, then every image's base64 and type."""
    images = [ResultImage("image/png", b"\x89PNG one"), ResultImage("image/jpeg", b"\xff\xd8 two")]
    answer = ToolAnswer("the text", {}, images)  # type: ignore[typeddict-item]
    parts = answer.parts(lambda text: ("text", text), lambda data, mime: (mime, data))
    assert parts == [
        ("text", "the text"),
        ("image/png", base64.b64encode(b"\x89PNG one").decode()),
        ("image/jpeg", base64.b64encode(b"\xff\xd8 two").decode()),
    ]

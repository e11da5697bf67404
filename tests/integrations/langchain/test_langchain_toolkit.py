"""The toolkit: both tools from one configuration, on one pair of clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_clawrouter import (
    ClawRouterEditImage,
    ClawRouterGenerateImage,
    ClawRouterImageToolkit,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import FakeClawRouter


def test_gives_both_tools() -> None:
    """get_tools returns generate_image then edit_image."""
    tools = ClawRouterImageToolkit().get_tools()
    assert [type(tool) for tool in tools] == [ClawRouterGenerateImage, ClawRouterEditImage]
    assert [tool.name for tool in tools] == ["generate_image", "edit_image"]


def test_tools_share_injected_clients(settings: dict[str, Any]) -> None:
    """Both tools use the clients given to the toolkit."""
    toolkit = ClawRouterImageToolkit(**settings)
    generate, edit = toolkit.get_tools()
    assert isinstance(generate, ClawRouterGenerateImage)
    assert isinstance(edit, ClawRouterEditImage)
    assert generate.client is edit.client is settings["client"]
    assert generate.async_client is edit.async_client is settings["async_client"]


def test_tools_share_clients_built_from_the_environment() -> None:
    """Without injected clients, the toolkit builds one of each and both tools use them."""
    toolkit = ClawRouterImageToolkit()
    generate, edit = toolkit.get_tools()
    assert isinstance(generate, ClawRouterGenerateImage)
    assert isinstance(edit, ClawRouterEditImage)
    assert generate.client is edit.client is toolkit.client
    assert generate.async_client is edit.async_client is toolkit.async_client


def test_configuration_reaches_both_tools(
    fake: FakeClawRouter, settings: dict[str, Any], saved: Path
) -> None:
    """Models, default model, cost cap and save directory configured once apply to both tools."""
    toolkit = ClawRouterImageToolkit(
        **settings,
        models=["gpt-image", "banana-pro"],
        default_model="banana-pro",
        max_cost_usd=0.05,
    )
    generate, edit = toolkit.get_tools()
    for tool in (generate, edit):
        assert tool.args["model"]["anyOf"][0]["enum"] == ["gpt-image", "banana-pro"]
    refused = generate.invoke({"prompt": "a samurai"})
    assert "google/nano-banana-pro at 1024x1024 is estimated at $0.1050" in refused
    assert "over max_cost_usd=$0.0500" in refused
    url = fake.serve("earlier.png")
    edit.invoke({"prompt": "add a sunset", "image": url})
    assert [body["model"] for body in fake.bodies()] == ["openai/gpt-image-1"]
    assert [path.parent for path in saved.iterdir()] == [saved]


def test_leaves_out_edit_when_no_configured_model_can_edit() -> None:
    """With only generation models configured, the toolkit gives generate_image alone."""
    tools = ClawRouterImageToolkit(models=["cogview", "seedream"]).get_tools()
    assert [tool.name for tool in tools] == ["generate_image"]

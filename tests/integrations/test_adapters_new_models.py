"""Models newer than the catalogue: a deployer's ImageModel is offered and priced like a
catalogued one, in both tool sets and both clients; the LLM still picks only offered models."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from tests.support.png import png_bytes

from clawrouter_images import ImageModel, estimate_cost
from clawrouter_images.agent_tools import ImageToolConfig, ImageTools

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter
    from tests.support.twin import Twin

langchain_clawrouter = pytest.importorskip("langchain_clawrouter")
llama_clawrouter = pytest.importorskip("llama_index.tools.clawrouter")
tool_call = pytest.importorskip("langchain_core.messages.tool").tool_call

IMAGINE = ImageModel(
    id="acme/imagine-3",
    aliases=("imagine-3", "imagine"),
    price_usd=0.03,
    prices={"1024x1024": 0.03, "1536x1024": 0.05},
    sizes=("1024x1024", "1536x1024"),
    can_edit=True,
    max_input_images=2,
    best_for="Newest model, not in the catalogue yet",
)
OFFERED: list[str | ImageModel] = [IMAGINE, "nano-banana"]


async def test_clients_take_an_image_model(twin: Twin, fake: FakeClawRouter) -> None:
    """generate() and edit() accept an ImageModel: its id is sent, its price estimated."""
    response = await twin.generate("a fox", model=IMAGINE, size="1536x1024")
    assert fake.body()["model"] == "acme/imagine-3"
    assert response.estimated_cost_usd == pytest.approx(0.05 * 1.05)
    await twin.edit("snow", "http://localhost:8402/images/1.png", model=IMAGINE)
    assert fake.body()["model"] == "acme/imagine-3"


def test_langchain_offers_a_new_model_like_a_catalogued_one(fake: FakeClawRouter) -> None:
    """Its alias is in the schema's enum and the description, the LLM's call reaches it, and
    the budget prices it."""
    toolkit = langchain_clawrouter.ClawRouterImageToolkit(
        client=fake.client(), models=OFFERED, budget_usd=1.0
    )
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    for tool in tools.values():
        schema = tool.tool_call_schema
        assert isinstance(schema, dict)
        assert schema["properties"]["model"]["anyOf"][0]["enum"][0] == "imagine-3"
        assert "$0.03-$0.05: Newest model, not in the catalogue yet" in tool.description
    args = {"prompt": "a fox", "model": "imagine-3", "size": "1536x1024"}
    message = tools["generate_image"].invoke(tool_call(name="generate_image", args=args, id="1"))
    assert message.status == "success", message.content
    assert fake.body()["model"] == "acme/imagine-3"
    assert toolkit.spent_usd == pytest.approx(estimate_cost(IMAGINE, "1536x1024"))
    assert message.artifact["model"] == "acme/imagine-3"
    json.dumps(message.artifact)


def test_llamaindex_offers_a_new_model_like_a_catalogued_one(fake: FakeClawRouter) -> None:
    """The spec's schema and description carry it, and a call with its alias reaches it."""
    spec = llama_clawrouter.ClawRouterImageToolSpec(client=fake.client(), models=OFFERED)
    tools = {t.metadata.name: t for t in spec.to_tool_list()}
    parameters = tools["edit_image"].metadata.to_openai_tool()["function"]["parameters"]
    assert parameters["properties"]["model"]["anyOf"][0]["enum"] == ["imagine-3", "nano-banana"]
    photo = fake.data_uri(png_bytes(4, 4))
    output = tools["edit_image"].call(prompt="snow", image=photo, model="imagine-3")
    assert not output.is_error
    assert fake.body()["model"] == "acme/imagine-3"


@pytest.mark.parametrize("name", ["banana-pro", "google/nano-banana-pro", "gpt-image"])
def test_the_llm_cannot_name_a_model_that_was_not_offered(fake: FakeClawRouter, name: str) -> None:
    """A catalogued model outside the offer is refused before anything is sent."""
    tool = langchain_clawrouter.ClawRouterGenerateImage(client=fake.client(), models=OFFERED)
    message = tool.invoke(tool_call(name=tool.name, args={"prompt": "x", "model": name}, id="1"))
    assert message.status == "error"
    assert fake.posts == []


def test_a_new_model_can_be_the_default(fake: FakeClawRouter) -> None:
    """default_model takes an ImageModel or one of its aliases."""
    for default in (IMAGINE, "imagine"):
        tools = ImageTools(
            ImageToolConfig(models=OFFERED, default_model=default), client=fake.client()
        )
        assert tools.config.default_for(editing=False) is IMAGINE


@pytest.mark.parametrize("name", ["dalle", "DALL-E"])
def test_a_surprising_alias_is_said_to_the_deployer(name: str) -> None:
    """models=["dalle"] means gpt-image-2; the deployer is told so when the tools are built."""
    with pytest.warns(UserWarning, match=r"means openai/gpt-image-2"):
        ImageTools(ImageToolConfig(models=[name]), base_url="http://127.0.0.1:9")

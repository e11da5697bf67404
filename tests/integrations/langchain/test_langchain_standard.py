"""LangChain's standard tool suites (langchain-tests) for both tools.

The integration suites run against the fake ClawRouter, so every call really goes
through the client, the fake server and back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_clawrouter import ClawRouterEditImage, ClawRouterGenerateImage

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter

ENV_BASE_URL = "http://127.0.0.1:18402"
# An earlier result the fake serves, so the edit example needs nothing from the internet.
EARLIER_RESULT = "http://localhost:8402/images/1795503044964-xm1yzv09.png"

GENERATE_EXAMPLE = {
    "prompt": "a golden retriever surfing on a wave",
    "model": "nano-banana",
    "size": "1024x1024",
}
EDIT_EXAMPLE = {
    "prompt": "add a warm sunset background",
    "image": EARLIER_RESULT,
    "model": "gpt-image",
}


class _OnTheFake:
    """Builds the tool on the fake ClawRouter's clients, serving ``EARLIER_RESULT``."""

    fake: FakeClawRouter

    @pytest.fixture(autouse=True)
    def _use_fake(self, fake: FakeClawRouter) -> None:
        self.fake = fake
        fake.serve(EARLIER_RESULT.rsplit("/", 1)[1])

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"client": self.fake.client(), "async_client": self.fake.async_client()}


class TestGenerateImageUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[ClawRouterGenerateImage]:
        return ClawRouterGenerateImage

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return GENERATE_EXAMPLE

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"CLAWROUTER_BASE_URL": ENV_BASE_URL}, {}, {"base_url": ENV_BASE_URL}


class TestEditImageUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[ClawRouterEditImage]:
        return ClawRouterEditImage

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return EDIT_EXAMPLE

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"CLAWROUTER_BASE_URL": ENV_BASE_URL}, {}, {"base_url": ENV_BASE_URL}


class TestGenerateImageIntegration(_OnTheFake, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[ClawRouterGenerateImage]:
        return ClawRouterGenerateImage

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return GENERATE_EXAMPLE


class TestEditImageIntegration(_OnTheFake, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[ClawRouterEditImage]:
        return ClawRouterEditImage

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return EDIT_EXAMPLE

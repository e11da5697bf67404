"""Both image tools from one configuration, sharing one client of each kind."""

from __future__ import annotations

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict

from clawrouter_images.agent_tools import TOOLS, ImageToolSettings

from .tools import ClawRouterEditImage, ClawRouterGenerateImage


class ClawRouterImageToolkit(ImageToolSettings, BaseToolkit):
    """``generate_image`` and ``edit_image`` through ClawRouter, configured once.

    Setup:
        ```bash
        pip install -U langchain-clawrouter
        npx @blockrun/clawrouter        # or: clawrouter-images emulate
        ```

    Instantiation:
        ```python
        from langchain_clawrouter import ClawRouterImageToolkit

        toolkit = ClawRouterImageToolkit(
            save_dir="images/",
            allowed_dirs=["~/Pictures"],
            max_cost_usd=0.20,
        )
        ```

    Tools:
        ```python
        toolkit.get_tools()
        # [ClawRouterGenerateImage(name='generate_image', ...),
        #  ClawRouterEditImage(name='edit_image', ...)]
        ```

    Use within an agent:
        ```python
        from langchain.agents import create_agent

        agent = create_agent("openai:gpt-4.1-mini", toolkit.get_tools())
        agent.invoke({"messages": [("user", "Draw me a cyberpunk city at night")]})
        ```

    ``edit_image`` is left out when none of the configured ``models`` can edit.
    """

    # A misspelt setting (say, max_cost instead of max_cost_usd) must not be dropped silently.
    model_config = ConfigDict(extra="forbid")

    def get_tools(self) -> list[BaseTool]:
        """The offered tools, sharing this toolkit's two clients."""
        settings = self.settings()
        return [_CLASSES[tool.name](**settings) for tool in TOOLS if tool.offered(self)]


_CLASSES = {cls.declared: cls for cls in (ClawRouterGenerateImage, ClawRouterEditImage)}

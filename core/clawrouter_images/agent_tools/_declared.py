"""The tools, declared once: each adapter loops over this list rather than naming them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from ._descriptions import edit_description, generate_description
from ._names import EDIT_TOOL_NAME, GENERATE_TOOL_NAME
from ._schemas import (
    EditArgs,
    GenerateArgs,
    edit_schema,
    generate_schema,
    open_schema,
    result_schema,
)

if TYPE_CHECKING:
    from ._config import ImageToolConfig

ToolArgs: TypeAlias = GenerateArgs | EditArgs


@dataclass(frozen=True)
class ImageTool:
    """One tool as every adapter offers it.

    Its schema and description list the offered models, so they are made from a
    configuration (``ImageTools.tool`` keeps them per configuration).
    """

    name: str
    """The name the LLM sees unless the deployer renames the tool."""
    arguments: type[ToolArgs]
    """What the LLM passes (``schema`` narrows it to the offered models)."""
    editing: bool
    """Whether the tool edits: offered only if an offered model can, and run by ``edit``."""
    doing: str
    """The progress reports' verb ("generating with ...")."""
    schema: Callable[[ImageToolConfig], type[ToolArgs]]
    description: Callable[[ImageToolConfig], str]

    def offered(self, config: ImageToolConfig) -> bool:
        """Whether ``config`` offers this tool."""
        return not self.editing or config.offers_editing()


TOOLS = (
    ImageTool(
        GENERATE_TOOL_NAME, GenerateArgs, False, "generating", generate_schema, generate_description
    ),
    ImageTool(EDIT_TOOL_NAME, EditArgs, True, "editing", edit_schema, edit_description),
)


class OfferedTool(NamedTuple):
    """A declared tool as one configuration offers it: what the LLM is shown."""

    tool: ImageTool
    schema: type[ToolArgs]
    description: str

    @property
    def name(self) -> str:
        return self.tool.name

    @property
    def open_schema(self) -> dict[str, Any]:
        """The input schema an MCP client is shown (see ``_schemas.open_schema``)."""
        return open_schema(self.schema)

    @property
    def output_schema(self) -> dict[str, Any]:
        """The JSON schema of the structured result: every tool answers an ``ImageToolResult``."""
        return result_schema()


def declared(name: str) -> ImageTool | None:
    """The tool declared as ``name``, else None."""
    return next((tool for tool in TOOLS if tool.name == name), None)


def tool_of(args: ToolArgs) -> ImageTool:
    """The declared tool whose arguments ``args`` are."""
    return next(tool for tool in TOOLS if isinstance(args, tool.arguments))

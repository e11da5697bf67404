"""The public surface of ``langchain_clawrouter``: code outside this repository relies on it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool, BaseToolkit
from tests.support.installed import assert_imported_from_its_distribution

import clawrouter_images
import langchain_clawrouter
from langchain_clawrouter import (
    ClawRouterEditImage,
    ClawRouterGenerateImage,
    ClawRouterImageToolkit,
)


def test_all_is_pinned() -> None:
    """`__all__` lists exactly the three public classes, sorted."""
    assert langchain_clawrouter.__all__ == [
        "ClawRouterEditImage",
        "ClawRouterGenerateImage",
        "ClawRouterImageToolkit",
    ]


def test_public_classes_are_langchain_types() -> None:
    """Both tools are BaseTools and the toolkit a BaseToolkit."""
    assert issubclass(ClawRouterGenerateImage, BaseTool)
    assert issubclass(ClawRouterEditImage, BaseTool)
    assert issubclass(ClawRouterImageToolkit, BaseToolkit)


def test_the_installed_copies_are_the_ones_tested() -> None:
    """The adapter and the core imported here are those of the installed distributions (in CI,
    the wheels), not a source folder on the path."""
    assert_imported_from_its_distribution("langchain-clawrouter", langchain_clawrouter)
    assert_imported_from_its_distribution("clawrouter-images", clawrouter_images)


def test_ships_type_information() -> None:
    """The package carries a py.typed marker."""
    assert (Path(langchain_clawrouter.__file__).parent / "py.typed").is_file()


def test_missing_langchain_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without langchain-core, importing the adapter says exactly what to install."""
    monkeypatch.setitem(sys.modules, "langchain_core.tools", None)
    monkeypatch.delitem(sys.modules, "langchain_clawrouter")
    with pytest.raises(ImportError, match="pip install langchain-clawrouter"):
        importlib.import_module("langchain_clawrouter")


def test_tools_use_native_async() -> None:
    """Both tools implement _arun themselves rather than LangChain's thread fallback."""
    assert ClawRouterGenerateImage._arun is not BaseTool._arun
    assert ClawRouterEditImage._arun is not BaseTool._arun


@pytest.mark.parametrize("cls", [ClawRouterGenerateImage, ClawRouterEditImage])
def test_docstrings_follow_the_integration_template(cls: type[BaseTool]) -> None:
    """Tool docstrings have LangChain's Setup / Instantiation / Invocation sections."""
    doc = cls.__doc__ or ""
    sections = ["Setup:", "Instantiation:", "Invocation with args:", "Invocation with ToolCall:"]
    assert [doc.find(section) >= 0 for section in sections] == [True] * 4
    assert doc.index("Setup:") < doc.index("Instantiation:") < doc.index("Invocation with args:")
    assert "pip install -U langchain-clawrouter" in doc

"""Both adapters live in one environment: installing [langchain,llama-index] must just work."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

# Each order in a fresh interpreter, warnings as errors: whichever adapter is imported
# first must not shadow the other's namespace (llama_index is a PEP 420 package).
IMPORT_BOTH = {
    "langchain first": """
import langchain_clawrouter
from llama_index.tools.clawrouter import ClawRouterImageToolSpec
""",
    "llama-index first": """
from llama_index.tools.clawrouter import ClawRouterImageToolSpec
import langchain_clawrouter
""",
}
CHECK = """
import llama_index.core.tools
from langchain_core.tools import BaseTool, BaseToolkit
from llama_index.core.tools.tool_spec.base import BaseToolSpec
assert issubclass(langchain_clawrouter.ClawRouterGenerateImage, BaseTool)
assert issubclass(langchain_clawrouter.ClawRouterEditImage, BaseTool)
assert issubclass(langchain_clawrouter.ClawRouterImageToolkit, BaseToolkit)
assert issubclass(ClawRouterImageToolSpec, BaseToolSpec)
"""


def langchain_adapter_installed() -> bool:
    # A bare directory would be a namespace package: importable, but not the adapter.
    spec = importlib.util.find_spec("langchain_clawrouter")
    return spec is not None and spec.origin is not None


@pytest.mark.skipif(
    not langchain_adapter_installed(), reason="needs langchain-clawrouter installed beside it"
)
@pytest.mark.parametrize("order", IMPORT_BOTH)
def test_both_adapters_import_together(order: str) -> None:
    """The LangChain and LlamaIndex adapters import in one interpreter, in either order."""
    # No PYTHONPATH: the interpreter finds whichever copies are installed (editable or wheels).
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", IMPORT_BOTH[order] + CHECK],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr

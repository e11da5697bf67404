"""LangChain tools that generate and edit images through ClawRouter.

>>> from langchain_clawrouter import ClawRouterImageToolkit
>>> tools = ClawRouterImageToolkit(save_dir="images/").get_tools()  # doctest: +SKIP
"""

try:
    # Fail here, with the fix, rather than deep inside a submodule.
    import langchain_core.tools  # noqa: F401
except ImportError as err:
    raise ImportError(
        "langchain_clawrouter needs langchain-core; install it with:\n"
        "    pip install langchain-clawrouter"
    ) from err

from .toolkit import ClawRouterImageToolkit
from .tools import ClawRouterEditImage, ClawRouterGenerateImage

__all__ = ["ClawRouterEditImage", "ClawRouterGenerateImage", "ClawRouterImageToolkit"]

"""The old name of ``clawrouter_images.agent_tools``, kept for code that imports it.

Renamed because "toolkit" means something else in LangChain (``BaseToolkit``).
"""

import warnings

from .agent_tools import *  # noqa: F403
from .agent_tools import __all__ as __all__

warnings.warn(
    "clawrouter_images.toolkit is now clawrouter_images.agent_tools; import from there",
    DeprecationWarning,
    stacklevel=2,
)

"""LlamaIndex tools for ClawRouter image generation and editing.

>>> from llama_index.tools.clawrouter import ClawRouterImageToolSpec
>>> tools = ClawRouterImageToolSpec(save_dir="images/").to_tool_list()  # doctest: +SKIP
"""

from llama_index.tools.clawrouter.base import ClawRouterImageToolSpec, ImageProgressEvent

__all__ = ["ClawRouterImageToolSpec", "ImageProgressEvent"]

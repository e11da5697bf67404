"""Generate and edit images through ClawRouter, BlockRun's local x402-paying router.

>>> from clawrouter_images import ImageClient
>>> with ImageClient() as client:  # doctest: +SKIP
...     response = client.generate("a golden retriever surfing", model="nano-banana")
...     paths = client.save(response, "out/")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._httpx_cli import defer_httpx_cli
from ._version import package_version

defer_httpx_cli()

if TYPE_CHECKING:
    from ._catalog import MODELS, ImageModel, estimate_cost, resolve_model
    from ._client import AsyncImageClient, ImageClient
    from ._exceptions import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        BadRequestError,
        BudgetExceededError,
        ClawRouterError,
        GenerationTimeoutError,
        InputImageError,
        InternalServerError,
        InvalidRequestError,
        NotFoundError,
        PaymentRequiredError,
        RateLimitError,
        ResponseValidationError,
        SaveError,
        ServiceUnavailableError,
        UpstreamError,
    )
    from ._models import Health, ImageData, ImageResponse

    __version__: str  # from the installed distribution, on first use

# Names load with their module on first use (PEP 562), so importing the package, or its
# pytest plugin that every test run in the environment loads, costs almost nothing.
_WHERE = {
    "MODELS": "._catalog",
    "ImageModel": "._catalog",
    "estimate_cost": "._catalog",
    "resolve_model": "._catalog",
    "AsyncImageClient": "._client",
    "ImageClient": "._client",
    "APIConnectionError": "._exceptions",
    "APIStatusError": "._exceptions",
    "APITimeoutError": "._exceptions",
    "BadRequestError": "._exceptions",
    "BudgetExceededError": "._exceptions",
    "ClawRouterError": "._exceptions",
    "GenerationTimeoutError": "._exceptions",
    "InputImageError": "._exceptions",
    "InternalServerError": "._exceptions",
    "InvalidRequestError": "._exceptions",
    "NotFoundError": "._exceptions",
    "PaymentRequiredError": "._exceptions",
    "RateLimitError": "._exceptions",
    "ResponseValidationError": "._exceptions",
    "SaveError": "._exceptions",
    "ServiceUnavailableError": "._exceptions",
    "UpstreamError": "._exceptions",
    "Health": "._models",
    "ImageData": "._models",
    "ImageResponse": "._models",
}

__all__ = [
    "MODELS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncImageClient",
    "BadRequestError",
    "BudgetExceededError",
    "ClawRouterError",
    "GenerationTimeoutError",
    "Health",
    "ImageClient",
    "ImageData",
    "ImageModel",
    "ImageResponse",
    "InputImageError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "PaymentRequiredError",
    "RateLimitError",
    "ResponseValidationError",
    "SaveError",
    "ServiceUnavailableError",
    "UpstreamError",
    "__version__",
    "estimate_cost",
    "resolve_model",
]


# Hidden from type checkers, which see the imports above: a module __getattr__ would make
# them accept any misspelt name.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            return package_version()
        where = _WHERE.get(name)
        if where is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})

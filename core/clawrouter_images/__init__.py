"""Generate and edit images through ClawRouter, BlockRun's local x402-paying router.

>>> from clawrouter_images import ImageClient
>>> with ImageClient() as client:  # doctest: +SKIP
...     response = client.generate("a golden retriever surfing", model="nano-banana")
...     paths = client.save(response, "out/")
"""

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
from ._version import package_version

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


def __getattr__(name: str) -> str:
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

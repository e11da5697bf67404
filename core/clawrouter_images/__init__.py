"""Generate and edit images through ClawRouter, BlockRun's local x402-paying router.

>>> from clawrouter_images import ImageClient
>>> with ImageClient() as client:  # doctest: +SKIP
...     response = client.generate("a golden retriever surfing", model="nano-banana")
...     paths = client.save(response, "out/")
"""

import typing as _typing

from ._lazy import lazy_exports as _lazy_exports
from ._version import package_version as _package_version

# The public names, each with the module it loads from on first use (PEP 562), so that
# importing the package, or its pytest plugin that every test run in the environment
# loads, costs almost nothing.  __all__, dir() and the public-API test read this table.
_PUBLIC: dict[str, str] = {
    "MODELS": "._catalog",
    "ImageModel": "._catalog",
    "estimate_cost": "._catalog",
    "resolve_model": "._catalog",
    "AsyncImageClient": "._client",
    "ImageClient": "._client",
    "TimeoutTypes": "._call",
    "ImageInputs": "._inputs",
    "DefaultAsyncHttpxClient": "._transport",
    "DefaultHttpxClient": "._transport",
    "Health": "._models",
    "ImageData": "._models",
    "ImageResponse": "._models",
    "RequestInfo": "._exceptions",
    "ClawRouterError": "._exceptions",
    "APIConnectionError": "._exceptions",
    "APITimeoutError": "._exceptions",
    "ClientClosedError": "._exceptions",
    "APIStatusError": "._exceptions",
    "BadRequestError": "._exceptions",
    "PaymentRequiredError": "._exceptions",
    "NotFoundError": "._exceptions",
    "RateLimitError": "._exceptions",
    "InternalServerError": "._exceptions",
    "UpstreamError": "._exceptions",
    "ServiceUnavailableError": "._exceptions",
    "GenerationTimeoutError": "._exceptions",
    "InvalidRequestError": "._exceptions",
    "InputImageError": "._exceptions",
    "BudgetExceededError": "._exceptions",
    "ResponseValidationError": "._exceptions",
    "DownloadError": "._exceptions",
    "SaveError": "._exceptions",
}

__all__ = sorted([*_PUBLIC, "__version__"])

# What type checkers see: they cannot read the table, so the same names are imported here
# (``X as X``: re-exported whatever ``__all__`` holds); a test checks both agree.
if _typing.TYPE_CHECKING:
    from ._call import TimeoutTypes as TimeoutTypes
    from ._catalog import MODELS as MODELS
    from ._catalog import ImageModel as ImageModel
    from ._catalog import estimate_cost as estimate_cost
    from ._catalog import resolve_model as resolve_model
    from ._client import AsyncImageClient as AsyncImageClient
    from ._client import ImageClient as ImageClient
    from ._exceptions import APIConnectionError as APIConnectionError
    from ._exceptions import APIStatusError as APIStatusError
    from ._exceptions import APITimeoutError as APITimeoutError
    from ._exceptions import BadRequestError as BadRequestError
    from ._exceptions import BudgetExceededError as BudgetExceededError
    from ._exceptions import ClawRouterError as ClawRouterError
    from ._exceptions import ClientClosedError as ClientClosedError
    from ._exceptions import DownloadError as DownloadError
    from ._exceptions import GenerationTimeoutError as GenerationTimeoutError
    from ._exceptions import InputImageError as InputImageError
    from ._exceptions import InternalServerError as InternalServerError
    from ._exceptions import InvalidRequestError as InvalidRequestError
    from ._exceptions import NotFoundError as NotFoundError
    from ._exceptions import PaymentRequiredError as PaymentRequiredError
    from ._exceptions import RateLimitError as RateLimitError
    from ._exceptions import RequestInfo as RequestInfo
    from ._exceptions import ResponseValidationError as ResponseValidationError
    from ._exceptions import SaveError as SaveError
    from ._exceptions import ServiceUnavailableError as ServiceUnavailableError
    from ._exceptions import UpstreamError as UpstreamError
    from ._inputs import ImageInputs as ImageInputs
    from ._models import Health as Health
    from ._models import ImageData as ImageData
    from ._models import ImageResponse as ImageResponse
    from ._transport import DefaultAsyncHttpxClient as DefaultAsyncHttpxClient
    from ._transport import DefaultHttpxClient as DefaultHttpxClient

    __version__: str  # from the installed distribution, on first use

# Hidden from type checkers, which see the imports above: a module __getattr__ would make
# them accept any misspelt name.
else:
    _load, __dir__ = _lazy_exports(__name__, _PUBLIC, globals())

    def __getattr__(name: str) -> object:
        return _package_version() if name == "__version__" else _load(name)

"""The public surface of ``clawrouter_images``: code outside this repository relies on it."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping

import pytest

import clawrouter_images
from clawrouter_images import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncImageClient,
    BadRequestError,
    BudgetExceededError,
    ClawRouterError,
    GenerationTimeoutError,
    ImageClient,
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

PUBLIC_NAMES = [
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


def test_all_is_pinned() -> None:
    """`__all__` lists exactly the documented public names, sorted."""
    assert clawrouter_images.__all__ == PUBLIC_NAMES


def test_every_public_name_is_importable() -> None:
    """Each name in `__all__` is an attribute of the package."""
    missing = [name for name in clawrouter_images.__all__ if not hasattr(clawrouter_images, name)]
    assert missing == []


def test_version_is_a_string() -> None:
    """`__version__` is a non-empty version string."""
    assert isinstance(clawrouter_images.__version__, str)
    assert clawrouter_images.__version__[0].isdigit()


def test_error_tree() -> None:
    """The exception classes form the documented tree under ClawRouterError."""
    expected_parents: dict[type[Exception], type[Exception]] = {
        APIConnectionError: ClawRouterError,
        APITimeoutError: APIConnectionError,
        APIStatusError: ClawRouterError,
        BadRequestError: APIStatusError,
        PaymentRequiredError: APIStatusError,
        NotFoundError: APIStatusError,
        RateLimitError: APIStatusError,
        InternalServerError: APIStatusError,
        UpstreamError: APIStatusError,
        ServiceUnavailableError: APIStatusError,
        GenerationTimeoutError: APIStatusError,
        InvalidRequestError: ClawRouterError,
        InputImageError: InvalidRequestError,
        BudgetExceededError: ClawRouterError,
        ResponseValidationError: ClawRouterError,
        SaveError: ClawRouterError,
    }
    wrong = {
        cls.__name__: [base.__name__ for base in cls.__mro__[1:]]
        for cls, parent in expected_parents.items()
        if cls.__mro__[1] is not parent
    }
    assert wrong == {}
    assert issubclass(ClawRouterError, Exception)


def test_invalid_request_error_is_a_value_error() -> None:
    """Errors caught before sending are also ValueErrors, as callers may expect."""
    assert issubclass(InvalidRequestError, ValueError)
    assert issubclass(InputImageError, ValueError)


def test_twins_have_the_same_public_methods() -> None:
    """ImageClient and AsyncImageClient offer the same public methods with the same signatures."""
    names = ["generate", "edit", "health", "save", "download"]
    for name in names:
        sync = inspect.signature(getattr(ImageClient, name))
        aio = inspect.signature(getattr(AsyncImageClient, name))
        assert sync.parameters == aio.parameters, name
        assert inspect.iscoroutinefunction(getattr(AsyncImageClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(ImageClient, name)), name


def test_generate_and_edit_are_keyword_only_after_the_first_arguments() -> None:
    """generate(prompt, *, ...) and edit(prompt, image, *, ...) take options by keyword only."""
    for cls in (ImageClient, AsyncImageClient):
        generate = inspect.signature(cls.generate).parameters
        edit = inspect.signature(cls.edit).parameters
        assert _positional(generate) == ["self", "prompt"]
        assert _positional(edit) == ["self", "prompt", "image"]
        for option in ("model", "size", "n", "max_cost_usd", "timeout", "extra_body"):
            assert generate[option].kind is inspect.Parameter.KEYWORD_ONLY
            assert edit[option].kind is inspect.Parameter.KEYWORD_ONLY
        assert edit["mask"].kind is inspect.Parameter.KEYWORD_ONLY


def _positional(parameters: Mapping[str, inspect.Parameter]) -> list[str]:
    return [
        p.name for p in parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]


def test_client_constructors_take_the_same_options() -> None:
    """Both clients are configured with the same keyword options."""
    sync = inspect.signature(ImageClient.__init__).parameters
    aio = inspect.signature(AsyncImageClient.__init__).parameters
    assert list(sync) == list(aio)
    for option in ("timeout", "max_retries", "max_cost_usd", "budget_usd", "http_client"):
        assert sync[option].kind is inspect.Parameter.KEYWORD_ONLY


# The submodules code outside this repo imports: the agent-tool contract, the emulator, the
# pytest plugin and the demo's scripted models.  Their __all__ is a contract too.
SUBMODULE_NAMES = {
    "clawrouter_images.agent_tools": [
        "EDIT_TOOL_NAME",
        "GENERATE_TOOL_NAME",
        "TOOLS",
        "Budget",
        "ImageProgress",
        "ImageTool",
        "ImageToolConfig",
        "ImageToolResult",
        "ImageToolSettings",
        "ImageTools",
        "ToolAnswer",
        "invalid_arguments",
    ],
    "clawrouter_images.emulator": [
        "DEFAULT_UPSTREAM_HOST",
        "DEFAULT_WALLET",
        "FAULT_KINDS",
        "Emulator",
        "Fault",
        "FaultKind",
        "LedgerEntry",
        "PaymentChain",
        "run",
        "serve",
    ],
    "clawrouter_images_demo": ["FRAMEWORKS", "run_demo", "scripted_chat_model", "scripted_llm"],
    "clawrouter_images.testing": [
        "clawrouter_async_client",
        "clawrouter_client",
        "clawrouter_emulator",
        "clawrouter_server",
    ],
}


@pytest.mark.parametrize("module_name", list(SUBMODULE_NAMES))
def test_submodule_surfaces_are_pinned(module_name: str) -> None:
    """agent_tools, emulator, testing and the demo export exactly their documented names, all importable."""
    module = importlib.import_module(module_name)
    assert list(module.__all__) == SUBMODULE_NAMES[module_name]
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_old_toolkit_module_name_still_imports_with_a_deprecation_warning() -> None:
    """clawrouter_images.toolkit (renamed: it shared LangChain's name) warns and re-exports."""
    import sys

    from clawrouter_images import agent_tools

    sys.modules.pop("clawrouter_images.toolkit", None)
    with pytest.warns(DeprecationWarning, match="clawrouter_images.agent_tools"):
        old = importlib.import_module("clawrouter_images.toolkit")
    assert old.__all__ == agent_tools.__all__
    assert all(getattr(old, name) is getattr(agent_tools, name) for name in old.__all__)

"""The public surface of ``clawrouter_images``: code outside this repository relies on it."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Mapping
from pathlib import Path

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
    ClientClosedError,
    DownloadError,
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


def _exception_classes() -> set[type[ClawRouterError]]:
    """Every error class among the public names."""
    values = [getattr(clawrouter_images, name) for name in clawrouter_images._PUBLIC]
    return {v for v in values if isinstance(v, type) and issubclass(v, ClawRouterError)}


def test_all_is_the_table_sorted() -> None:
    """`__all__` is the names of the one table in `__init__`, with `__version__`, sorted."""
    assert clawrouter_images.__all__ == sorted([*clawrouter_images._PUBLIC, "__version__"])


def test_type_checkers_see_the_same_names_as_the_table() -> None:
    """The imports type checkers read in `__init__` re-export exactly the table's names, each
    from the module the table names."""
    tree = ast.parse(Path(clawrouter_images.__file__).read_text(encoding="utf-8"))
    seen = {
        alias.asname: f".{node.module}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        for alias in node.names
        if alias.asname == alias.name
    }
    assert seen == clawrouter_images._PUBLIC


def test_dir_shows_only_public_names_and_dunders() -> None:
    """dir() of the package lists the public names, dunders and public submodules, no helpers."""
    shown = dir(clawrouter_images)
    private = [name for name in shown if name.startswith("_") and not name.endswith("__")]
    assert private == []
    assert set(clawrouter_images.__all__) <= set(shown)
    assert {"Any", "TYPE_CHECKING", "importlib"}.isdisjoint(shown)
    helpers = [n for n in shown if not n.startswith("_") and n not in clawrouter_images.__all__]
    assert all(importlib.import_module(f"clawrouter_images.{n}") for n in helpers)


def test_public_signatures_use_only_exported_names() -> None:
    """Every annotation of the clients' public methods names only exported or outside types."""
    exported = set(clawrouter_images.__all__)
    for cls in (ImageClient, AsyncImageClient):
        for name in ("__init__", "generate", "edit", "health", "save", "download"):
            hints = inspect.get_annotations(getattr(cls, name))
            words = set(re.findall(r"[A-Za-z_][\w.]*", " ".join(map(str, hints.values()))))
            ours = {w for w in words if w[:1].isupper() and "." not in w}
            outside = {"Mapping", "Path", "None"}
            assert ours - outside <= exported, (cls.__name__, name, ours - outside - exported)


def test_every_public_name_is_importable() -> None:
    """Each name in `__all__` is an attribute of the package."""
    missing = [name for name in clawrouter_images.__all__ if not hasattr(clawrouter_images, name)]
    assert missing == []


def test_version_is_a_string() -> None:
    """`__version__` is a non-empty version string."""
    assert isinstance(clawrouter_images.__version__, str)
    assert clawrouter_images.__version__[0].isdigit()


def test_error_tree() -> None:
    """Every public exception class sits where the documented tree puts it."""
    expected_parents: dict[type[Exception], type[Exception]] = {
        APIConnectionError: ClawRouterError,
        APITimeoutError: APIConnectionError,
        ClientClosedError: APIConnectionError,
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
        DownloadError: ResponseValidationError,
        SaveError: ClawRouterError,
    }
    assert set(expected_parents) | {ClawRouterError} == _exception_classes()
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


def test_old_toolkit_module_is_gone() -> None:
    """clawrouter_images.toolkit, the pre-release name of agent_tools, no longer exists."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("clawrouter_images.toolkit")

"""``clawrouter_images.testing``: the pytest fixtures users test their own agents with.

The fixtures are used here directly (this module requires the plugin, as a user's
conftest would), and once through pytester, as a user's own test suite.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import clawrouter_images
import langchain_clawrouter
from clawrouter_images import (
    AsyncImageClient,
    ImageClient,
    PaymentRequiredError,
    RateLimitError,
)

if TYPE_CHECKING:
    from clawrouter_images.emulator import Emulator

pytest_plugins = ["clawrouter_images.testing", "pytester"]


def _posts(emulator: Emulator) -> list[str | None]:
    return [entry.model for entry in emulator.ledger if entry.method == "POST"]


def test_emulator_keeps_its_images_in_the_tests_tmp_path(
    clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """The emulator's image folder is inside the test's tmp_path."""
    assert clawrouter_emulator.image_dir.is_relative_to(tmp_path)


def test_client_is_answered_in_process_by_the_emulator(
    clawrouter_client: ImageClient, clawrouter_emulator: Emulator, tmp_path: Path
) -> None:
    """clawrouter_client's calls land in the emulator's ledger and its images can be saved."""
    response = clawrouter_client.generate("a red fox in the snow", model="nano-banana")
    [saved] = clawrouter_client.save(response, tmp_path / "out")
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert _posts(clawrouter_emulator) == ["google/nano-banana"]
    assert clawrouter_emulator.spent_usd == response.estimated_cost_usd


async def test_async_client_is_answered_in_process_by_the_emulator(
    clawrouter_async_client: AsyncImageClient, clawrouter_emulator: Emulator
) -> None:
    """clawrouter_async_client's calls land in the same emulator's ledger."""
    await clawrouter_async_client.generate("a red fox", model="banana-pro", size="2048x2048")
    [entry] = [entry for entry in clawrouter_emulator.ledger if entry.method == "POST"]
    assert (entry.model, entry.size) == ("google/nano-banana-pro", "2048x2048")


def test_a_fault_reaches_the_client_as_the_real_error(
    clawrouter_client: ImageClient, clawrouter_emulator: Emulator
) -> None:
    """A scripted 402 comes out of clawrouter_client as PaymentRequiredError."""
    clawrouter_emulator.add_fault("payment_rejected")
    with pytest.raises(PaymentRequiredError):
        clawrouter_client.generate("a cat")


def test_client_does_not_retry_so_a_fault_is_seen_once(
    clawrouter_client: ImageClient, clawrouter_emulator: Emulator
) -> None:
    """A 429 is raised after one request: the fixture's client has retries off."""
    clawrouter_emulator.add_fault("rate_limited", times=None)
    with pytest.raises(RateLimitError):
        clawrouter_client.generate("a cat")
    assert len(_posts(clawrouter_emulator)) == 1


def test_server_sets_clawrouter_base_url_for_code_that_builds_its_own_client(
    clawrouter_server: str, clawrouter_emulator: Emulator
) -> None:
    """With clawrouter_server, ImageClient() reaches the emulator on its loopback port."""
    assert os.environ["CLAWROUTER_BASE_URL"] == clawrouter_server
    assert clawrouter_server == f"http://127.0.0.1:{clawrouter_emulator.port}"
    with ImageClient() as client:
        assert client.health().ok
        client.generate("a lighthouse", model="gpt-image")
    assert _posts(clawrouter_emulator) == ["openai/gpt-image-1"]


def test_a_users_suite_can_use_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's conftest enables the plugin; their agent, built from the environment, is tested offline."""
    pytester.makeconftest('pytest_plugins = ["clawrouter_images.testing"]')
    pytester.makepyfile(
        test_my_agent="""
        import pytest
        from langchain_clawrouter import ClawRouterImageToolkit

        @pytest.fixture
        def toolkit(clawrouter_server, tmp_path):  # built from CLAWROUTER_BASE_URL, as in production
            toolkit = ClawRouterImageToolkit(save_dir=tmp_path, max_cost_usd=0.20)
            yield toolkit
            toolkit.client.close()

        def test_draws_with_nano_banana(toolkit, clawrouter_emulator, tmp_path):
            [generate, _] = toolkit.get_tools()
            generate.invoke({"prompt": "a cyberpunk city at night", "model": "nano-banana"})
            [entry] = [e for e in clawrouter_emulator.ledger if e.method == "POST"]
            assert entry.model == "google/nano-banana"
            assert [p.name for p in tmp_path.glob("*.png")] == ["a-cyberpunk-city-at-night.png"]

        def test_payment_failure_is_an_error_the_agent_reads(toolkit, clawrouter_emulator):
            clawrouter_emulator.add_fault("payment_rejected")
            [generate, _] = toolkit.get_tools()
            call = {"name": "generate_image", "args": {"prompt": "a cat"}, "id": "1", "type": "tool_call"}
            assert generate.invoke(call).status == "error"
        """
    )
    # In a subprocess: an in-process run would drop the modules it imported first (pytester
    # restores sys.modules), leaving later tests with two copies of httpx's exceptions.
    sources = {
        str(Path(str(module.__file__)).parents[1])
        for module in (clawrouter_images, langchain_clawrouter)
    }
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sorted(sources)))
    monkeypatch.delenv("CLAWROUTER_BASE_URL", raising=False)
    # The user's suite is sync; pytest-asyncio, where installed, would only warn about its config.
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"
    )
    result.assert_outcomes(passed=2)


def test_an_async_test_with_anyio_uses_the_async_client(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With anyio's marker (as the README says), no pytest-asyncio: the async client works."""
    pytester.makeconftest('pytest_plugins = ["clawrouter_images.testing"]')
    pytester.makepyfile(
        test_my_async_code="""
        import pytest

        @pytest.mark.anyio
        @pytest.mark.parametrize("anyio_backend", ["asyncio"])
        async def test_draws(clawrouter_async_client, clawrouter_emulator, anyio_backend):
            await clawrouter_async_client.generate("a red fox", model="nano-banana")
            assert clawrouter_emulator.spent_usd > 0
        """
    )
    sources = {str(Path(str(clawrouter_images.__file__)).parents[1])}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sorted(sources)))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"
    )
    result.assert_outcomes(passed=1)


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    """The plugin every pytest run loads imports no httpx, pydantic or client until a fixture runs."""
    import subprocess
    import sys

    heavy = ("httpx", "pydantic", "clawrouter_images._client", "clawrouter_images.emulator")
    code = (
        "import sys, clawrouter_images.testing, clawrouter_images; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


# What lists every module of httpx in sys.modules that the import system did not load (a
# module put there by hand has no __spec__).
_HTTPX_STAND_INS = (
    "[name for name, module in list(sys.modules.items()) "
    "if name.partition('.')[0] == 'httpx' and getattr(module, '__spec__', None) is None]"
)


def test_importing_the_package_and_its_plugin_patches_no_httpx_module(
    pytester: pytest.Pytester,
) -> None:
    """A library patches no module it does not own: importing the package and loading its
    plugin (as pytest does in every run) put nothing in sys.modules under httpx's names,
    and httpx, imported afterwards, is httpx's own (its command-line module included)."""
    import subprocess
    import sys

    code = (
        "import sys, clawrouter_images, clawrouter_images.testing\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'httpx'))\n"
        "import httpx\n"
        f"print({_HTTPX_STAND_INS})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split("\n")[:2] == ["[]", "[]"]

    pytester.makepyfile(
        test_modules=f"""
        import sys

        def test_nothing_stands_in_for_httpx(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("clawrouter_images.testing")
            import httpx
            assert {_HTTPX_STAND_INS} == []
        """
    )
    # The installed plugin, auto-loaded as in any project's run (pytest-asyncio, where
    # installed, would only warn about its configuration).
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"
    )
    result.assert_outcomes(passed=1)


def test_package_names_load_on_first_use() -> None:
    """Every public name resolves through the lazy package, and dir() lists them all."""
    for name in clawrouter_images.__all__:
        assert getattr(clawrouter_images, name) is not None
    assert set(clawrouter_images.__all__) <= set(dir(clawrouter_images))
    with pytest.raises(AttributeError):
        getattr(clawrouter_images, "NoSuchName")  # noqa: B009

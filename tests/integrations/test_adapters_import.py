"""Importing an adapter loads the contract's declarations, not what runs a call: the runner,
the clients and httpx load when a tool is built.  About half the adapters' import time was
httpx and the runner (benchmarks/bench_peers.py has the figures)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What runs a call; none of it may load before a tool is built.
DEFERRED = [
    "httpx",
    "PIL",
    "clawrouter_images._client",
    "clawrouter_images._transport",
    "clawrouter_images.agent_tools._runner",
    "clawrouter_images.agent_tools._file_policy",
]

# (what the framework's own agents import first, the adapter)
ADAPTERS = {
    "contract": ("", "from clawrouter_images.agent_tools import ImageToolSettings, TOOLS"),
    "langchain": ("import langchain_core.tools", "import langchain_clawrouter"),
    "llama_index": (
        "import llama_index.core.tools",
        "from llama_index.tools.clawrouter import ClawRouterImageToolSpec",
    ),
}


def _loaded(setup: str, statement: str, then: str = "") -> dict[str, list[str]]:
    code = (
        f"import json, sys\n{setup}\nbefore = set(sys.modules)\n{statement}\n"
        "after = set(sys.modules)\n"
        f"{then}\n"
        "built = set(sys.modules)\n"
        "print(json.dumps({'import': sorted(after - before), 'build': sorted(built - after)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: dict[str, list[str]] = json.loads(out.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_importing_an_adapter_loads_nothing_that_runs_a_call(adapter: str) -> None:
    setup, statement = ADAPTERS[adapter]
    loaded = _loaded(setup, statement)
    assert [name for name in DEFERRED if name in loaded["import"]] == []


def test_building_the_tools_loads_what_runs_them() -> None:
    """The deferral is real: the same modules load once a configuration is built."""
    setup, statement = ADAPTERS["contract"]
    loaded = _loaded(setup, statement, "ImageToolSettings().close()")
    assert {"clawrouter_images._client", "clawrouter_images.agent_tools._runner"} <= set(
        loaded["build"]
    )

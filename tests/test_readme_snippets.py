"""Every Python snippet in the README runs as written, offline, or says what it needs.

A snippet that needs what a test cannot have (a real LLM, a proxy, a Dask cluster) opens
with a ``# Needs ...`` comment; every other one is run here against the emulator on a
loopback port (``CLAWROUTER_BASE_URL``), in a folder of its own.
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from clawrouter_images.emulator import Emulator, serve

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = [
    (ROOT / "README.md").read_text()[: match.start()].count("\n") + 1
    for match in re.finditer(r"```python\n", (ROOT / "README.md").read_text())
]


def _snippet(line: int) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```python\n", sum(len(row) + 1 for row in text.split("\n")[: line - 1]))
    start += len("```python\n")
    return text[start : text.index("```", start)]


def _needs(code: str) -> str | None:
    first = code.splitlines()[0]
    return first if first.startswith("# Needs ") else None


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator on a loopback port, named by CLAWROUTER_BASE_URL; the snippet's folder
    is the working directory."""
    emulator = Emulator(image_dir=tmp_path / "emulator", models=[])
    with emulator, serve(emulator, port=0) as base_url:
        monkeypatch.setenv("CLAWROUTER_BASE_URL", base_url)
        monkeypatch.chdir(tmp_path)
        yield emulator


def test_every_snippet_is_run_or_says_what_it_needs() -> None:
    """The marked ones name what they need; at least the client's and the tests' run here."""
    marked = [_needs(_snippet(line)) for line in SNIPPETS]
    assert all(mark is None or len(mark) > len("# Needs ") + 5 for mark in marked)
    assert sum(mark is None for mark in marked) >= 4


RUNNABLE = [line for line in SNIPPETS if _needs(_snippet(line)) is None]


@pytest.mark.parametrize("line", RUNNABLE, ids=[f"README.md:{line}" for line in RUNNABLE])
def test_snippet_runs_offline(
    line: int,
    served: Emulator,
    tmp_path: Path,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The snippet runs as written; the emulator shows it was asked for images."""
    code = _snippet(line)
    if "def test_" in code:  # a test module for the user's own suite: run it as one
        _run_as_tests(code, pytester, monkeypatch)
        return
    (Path.cwd() / "prompts.jsonl").write_text(
        '{"id": "fox", "prompt": "a red fox"}\n{"id": "owl", "prompt": "an owl"}\n'
    )
    tree = compile(code, f"README.md:{line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    result = eval(tree, namespace)  # noqa: S307 - the README's own code, as a reader runs it
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    asked = [entry for entry in served.ledger if entry.method == "POST"]
    constructs_only = "generate(" not in code and "batch" not in code
    assert constructs_only or asked, "the snippet asked for no image"


def _run_as_tests(code: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeconftest('pytest_plugins = ["clawrouter_images.testing"]')
    pytester.makepyfile(test_readme_snippet=code)
    sources = {str(Path(module).parents[1]) for module in _sources()}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sorted(sources)))
    monkeypatch.delenv("CLAWROUTER_BASE_URL")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"
    )
    assert result.ret == 0, result.stdout.str()[-2000:]


def _sources() -> list[str]:
    import clawrouter_images
    import clawrouter_images_demo
    import langchain_clawrouter

    return [
        str(module.__file__)
        for module in (clawrouter_images, clawrouter_images_demo, langchain_clawrouter)
    ]

"""What pyproject.toml promises about the package, checked offline."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself needs tomli before 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _load(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    return loaded


PYPROJECT: dict[str, Any] = _load(ROOT)
PROJECT: dict[str, Any] = PYPROJECT["project"]
# The adapter distributions: each project folder under integrations/ and its import package.
ADAPTERS = {
    "langchain-clawrouter": "langchain_clawrouter",
    "llama-index-tools-clawrouter": "llama_index/tools/clawrouter",
}
ADAPTER_PROJECTS: dict[str, dict[str, Any]] = {
    name: _load(ROOT / "integrations" / name)["project"] for name in ADAPTERS
}
# The newest CPython this release was checked on (the machines run 3.11; 3.13 was tried).
NEWEST_SUPPORTED = (3, 13)


def _requirements() -> list[str]:
    """Every requirement string: dependencies (the adapters' too), extras and dependency groups."""
    found = list(PROJECT["dependencies"])
    for adapter in ADAPTER_PROJECTS.values():
        found += adapter["dependencies"]
    for extra in PROJECT["optional-dependencies"].values():
        found += extra
    for group in PYPROJECT["dependency-groups"].values():
        found += [item for item in group if isinstance(item, str)]
    return found


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return match.group(0).lower()


def test_license_file_ships_in_wheel_and_sdist() -> None:
    """The MIT text is in the repo and named by the metadata and by both build targets."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 clawrouter-images contributors" in text
    assert PROJECT["license"] == "MIT"
    # The wheel takes license-files into .dist-info/licenses/ (PEP 639, hatchling >= 1.27).
    assert PROJECT["license-files"] == ["LICENSE"]
    assert PYPROJECT["build-system"]["requires"] == ["hatchling>=1.27"]
    assert "/LICENSE" in PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_classifiers_name_every_supported_python() -> None:
    """One classifier per minor version from requires-python's floor to the newest supported."""
    floor = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert floor, PROJECT["requires-python"]
    expected = {
        f"Programming Language :: Python :: 3.{minor}"
        for minor in range(int(floor.group(1)), NEWEST_SUPPORTED[1] + 1)
    }
    declared = {c for c in PROJECT["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c)}
    assert declared == expected
    assert "Programming Language :: Python :: 3" in PROJECT["classifiers"]


def test_project_urls() -> None:
    urls = PROJECT["urls"]
    assert set(urls) == {"Homepage", "Repository", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())


def test_every_requirement_has_a_floor() -> None:
    """No requirement is open below: each names the lowest version CI installs and tests."""
    for requirement in _requirements():
        assert re.search(r"(>=|==)\d", requirement) or "[" in requirement, requirement


def test_frameworks_bound_to_their_current_major() -> None:
    """Frameworks that break between majors (or 0.x minors) carry an upper bound."""
    bounded = {"httpx": "<1", "pydantic": "<3", "langchain-core": "<2", "langchain": "<2"}
    bounded["llama-index-core"] = "<0.15"
    by_name = {_name(r): r for r in _requirements() if "[" not in r}
    for name, bound in bounded.items():
        assert by_name[name].endswith("," + bound), by_name[name]


def test_test_tools_are_a_dependency_group_not_an_extra() -> None:
    """Nothing a user can `pip install` as an extra brings pytest, mypy or ruff."""
    extras = PROJECT["optional-dependencies"]
    assert "dev" not in extras
    published = {_name(r) for reqs in extras.values() for r in reqs}
    tools = {"pytest", "pytest-asyncio", "hypothesis", "mypy", "ruff", "langchain-tests"}
    assert not published & tools
    groups = PYPROJECT["dependency-groups"]
    in_groups = {_name(r) for reqs in groups.values() for r in reqs if isinstance(r, str)}
    assert tools <= in_groups
    assert {"include-group": "test"} in groups["test-langchain"]
    assert {"include-group": "test-langchain"} in groups["dev"]
    # langchain-tests adds tests on release: pinned exactly.
    assert "langchain-tests==1.1.9" in groups["test-langchain"]


def test_the_three_distributions_are_versioned_together() -> None:
    """Each adapter has the core's version and requires exactly that core; the core's extras
    name each adapter at that same version."""
    version = PROJECT["version"]
    for name, adapter in ADAPTER_PROJECTS.items():
        assert adapter["version"] == version, name
        assert f"clawrouter-images=={version}" in adapter["dependencies"], name
    extras = PROJECT["optional-dependencies"]
    assert extras["langchain"] == [f"langchain-clawrouter=={version}"]
    assert extras["llama-index"] == [f"llama-index-tools-clawrouter=={version}"]


def test_adapters_require_their_framework() -> None:
    """Each adapter brings its framework; the core brings none of them."""
    assert "langchain-core>=1.4.4,<2" in ADAPTER_PROJECTS["langchain-clawrouter"]["dependencies"]
    llama = ADAPTER_PROJECTS["llama-index-tools-clawrouter"]["dependencies"]
    assert "llama-index-core>=0.14.23,<0.15" in llama
    core = {_name(r) for r in PROJECT["dependencies"]}
    assert not core & {"langchain-core", "llama-index-core"}


@pytest.mark.parametrize("name", ADAPTERS)
def test_each_adapter_is_a_project_of_its_own(name: str) -> None:
    """Each adapter folder has its pyproject, README, py.typed and the repository's license,
    and shares the core's Python floor and classifiers."""
    folder = ROOT / "integrations" / name
    adapter = ADAPTER_PROJECTS[name]
    assert adapter["name"] == name
    assert (folder / "README.md").is_file()
    assert (folder / ADAPTERS[name] / "py.typed").is_file()
    assert adapter["license"] == PROJECT["license"]
    assert adapter["license-files"] == ["LICENSE"]
    # A copy (a license file outside the project folder cannot ship in its wheel): kept equal.
    assert (folder / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
    assert adapter["requires-python"] == PROJECT["requires-python"]
    python = [c for c in PROJECT["classifiers"] if "Python" in c]
    assert [c for c in adapter["classifiers"] if "Python" in c] == python


def test_llamahub_metadata_names_the_tool_spec() -> None:
    """LlamaHub finds the tool spec from [tool.llamahub], as in LlamaIndex's own integrations."""
    hub = _load(ROOT / "integrations" / "llama-index-tools-clawrouter")["tool"]["llamahub"]
    assert hub["import_path"] == "llama_index.tools.clawrouter"
    assert hub["classes"] == ["ClawRouterImageToolSpec"]
    # PEP 420: llama-index-core owns `llama_index`; an __init__.py above ours would shadow it.
    package = ROOT / "integrations" / "llama-index-tools-clawrouter" / "llama_index"
    assert not (package / "__init__.py").exists()
    assert not (package / "tools" / "__init__.py").exists()

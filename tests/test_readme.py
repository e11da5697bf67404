"""The README's commands and generated tables stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from clawrouter_images import MODELS
from clawrouter_images._catalog import models_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run's first command after its setup is the README's 'run the tests', character for
    character; what follows it (the lowest-versions run) comes only after it has passed."""
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    section = README.split("Run the tests", 1)[1]
    readme_command = _bash_blocks(section)[0]
    assert "\n" not in readme_command
    assert ci_lines.count(readme_command) == 1
    after = ci_lines[ci_lines.index(readme_command) + 1 :]
    # `set -e` spares a failure inside an && list: the script must check the status itself.
    assert after[:3] == [
        "# `set -e` does not stop at a failure inside an && list (only at its last command): stop here.",
        "readme_status=$?",
        'if [ "$readme_status" -ne 0 ]; then exit "$readme_status"; fi',
    ]


# Every adapter distribution: a project folder under integrations/.
ADAPTER_FOLDERS = sorted(
    f"./{path.parent.relative_to(ROOT)}" for path in ROOT.glob("integrations/*/pyproject.toml")
)


def _editables(command: str) -> list[str]:
    return re.findall(r"-e (\S+)", command)


def test_both_commands_install_the_core_and_every_adapter_from_the_clone() -> None:
    """'Run it' and 'Run the tests' install the same editable projects: the root with its
    [demo] extra and each adapter's folder, which meets that extra's requirements on them."""
    setup = README.split("## Set up", 1)[1].split("## ", 1)[0]
    run_it, run_the_tests = _bash_blocks(setup)[:2]
    assert ADAPTER_FOLDERS == [
        "./integrations/langchain-clawrouter",
        "./integrations/llama-index-tools-clawrouter",
    ]
    expected = ['".[demo]"', *ADAPTER_FOLDERS]
    assert _editables(run_it) == _editables(run_the_tests) == expected


def test_ci_tests_each_adapter_alone_from_its_wheel() -> None:
    """CI builds the three wheels and installs each adapter alone from them (by name, as a
    user would), then runs that adapter's tests without the source folders on the path."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'wheel -q --no-deps -w "$dist" . ' + " ".join(ADAPTER_FOLDERS) in ci
    for name, tests in [
        ("langchain-clawrouter", "tests/integrations/langchain"),
        ("llama-index-tools-clawrouter", "tests/integrations/llama_index"),
    ]:
        assert f'"{name} ' in ci
        assert f" {tests} " in ci
    assert 'pip" install -q --find-links "$dist" "$name"\n' in ci
    assert '-m pytest -q -p no:cacheprovider -o pythonpath= --rootdir . "$tests"' in ci


def test_ci_runs_the_tests_again_at_the_lowest_declared_versions() -> None:
    """The floors in pyproject.toml are checked: the core alone and every extra, installed by
    uv at their lowest versions, the suite and the demo run there, pytest last."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line for line in ci.splitlines() if line and not line.startswith("#")]
    assert '--resolution lowest-direct -e ".[emulator]" --group test' in ci
    assert '--resolution lowest-direct -e ".[demo]" "${adapters[@]}" --group dev' in ci
    assert "adapters=(" + " ".join(f"-e {folder}" for folder in ADAPTER_FOLDERS) + ")" in ci
    assert 'bin/pip" install -q uv' in ci  # a CI machine starts bare: uv comes from pip
    assert any(" demo --emulator -o " in line for line in lines)
    assert lines[-1].endswith("-m pytest -q")


def test_readme_models_table_matches_the_catalogue() -> None:
    """The README's model table is what `clawrouter-images models --markdown` prints today."""
    table = (
        README.split("<!-- models:start", 1)[1].split("-->", 1)[1].split("<!-- models:end -->")[0]
    )
    assert table.strip() == models_markdown(MODELS.values())


def _layout() -> list[tuple[str, list[str]]]:
    """The README's layout tree: each top-level folder with the names listed under it."""
    block = re.findall(r"```\n(.*?)```", README.split("### Layout", 1)[1], flags=re.S)[0]
    tree: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        names = line.split("  ")[1] if line.startswith("  ") else line.split()[0]
        if not line.startswith(" "):
            tree.append((names, []))
        elif line.startswith("  ") and not line.startswith("   "):
            tree[-1][1].extend(name.strip() for name in names.split(","))
    return tree


def test_readme_layout_names_only_what_exists() -> None:
    """Every folder and module the README's layout names is in the tree."""
    missing = [
        f"{top}{name}"
        for top, names in _layout()
        for name in ["", *names]
        if not (ROOT / top / name).exists()
    ]
    assert missing == []


def test_readme_layout_lists_every_core_module() -> None:
    """No module of the core package (or its folders) is left out of the README's layout."""
    listed = dict(_layout())["core/clawrouter_images/"]
    present = sorted(
        path.name + ("/" if path.is_dir() else "")
        for path in (ROOT / "core" / "clawrouter_images").iterdir()
        if path.suffix == ".py" or (path.is_dir() and path.name != "__pycache__")
    )
    assert [name for name in present if name not in listed] == []


def test_readme_mcp_configs_work_without_the_users_path() -> None:
    """Every desktop MCP config names its command so that a desktop app's PATH finds it:
    an absolute path to the venv's script, or uvx; and its folders are absolute."""
    import json

    configs = [
        json.loads(block)
        for block in re.findall(r"```json\n(.*?)```", README, flags=re.S)
        if "mcpServers" in block
    ]
    assert len(configs) >= 2
    servers = [server for config in configs for server in config["mcpServers"].values()]
    assert {server["command"] for server in servers if not server["command"].startswith("/")} == {
        "uvx"
    }
    for server in servers:
        args = server["args"]
        folders = [
            args[i + 1] for i, arg in enumerate(args) if arg in ("--save-dir", "--allowed-dir")
        ]
        assert folders
        assert all(folder.startswith("/") for folder in folders)


def test_the_tool_settings_table_lists_every_setting() -> None:
    """Each field of the tool configuration has its row in the README's table."""
    from clawrouter_images.agent_tools import ImageToolConfig

    section = README.split("## Tool configuration", 1)[1]
    table = section[section.index("| argument |") :].split("\n\n", 1)[0]
    for name in ImageToolConfig.model_fields:
        assert f"`{name}`" in table, name

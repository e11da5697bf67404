"""The README's commands and generated tables stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from clawrouter_images import MODELS
from clawrouter_images._cli import models_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """The last line of .ci/run is the README's 'run the tests' command, character for character."""
    ci_line = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    section = README.split("Run the tests", 1)[1]
    assert _bash_blocks(section)[0] == ci_line


def test_readme_models_table_matches_the_catalogue() -> None:
    """The README's model table is what `clawrouter-images models --markdown` prints today."""
    table = (
        README.split("<!-- models:start", 1)[1].split("-->", 1)[1].split("<!-- models:end -->")[0]
    )
    assert table.strip() == models_markdown(MODELS.values())

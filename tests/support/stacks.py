"""What every agent stack's test (tests/stacks) shares: the README block it runs, and the
calls its scripted model makes.

Each stack is installed in a virtualenv of its own (``.ci/run``); its test skips where the
stack does not import.  A README block runs as a reader runs it, with two changes a reader
does not need: the server is this environment's script (a test's PATH may not hold it),
and it is told where the emulator is (``--base-url``).  ``__main__`` code in the block,
which needs a real LLM, does not run.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clawrouter_images.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
SERVER = "clawrouter-images"

Arguments = Callable[[], dict[str, Any]]


def readme_block(stack: str) -> str:
    """The README's Python block whose first line names ``tests/stacks/test_stack_<stack>.py``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    test = f"tests/stacks/test_stack_{stack}.py"
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    (block,) = [b for b in blocks if test in b.split("\n", 1)[0]]
    return str(block)


def run_readme_block(stack: str, base_url: str) -> dict[str, Any]:
    """The names the stack's README block defines, run against the emulator at ``base_url``."""
    block = readme_block(stack)
    script = str(Path(sys.executable).with_name(SERVER))
    code = block.replace(f'"{SERVER}"', repr(script), 1)
    code = code.replace('"mcp", ', f'"mcp", "--base-url", {base_url!r}, ', 1)
    assert script in code, f"the block names no {SERVER} command"
    assert base_url in code, 'the block starts no "mcp" server'
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    return namespace


def scenario(saved: Path, outside: Path) -> list[tuple[str, Arguments]]:
    """The tool calls every stack's scripted model makes, in order: generate with the optional
    arguments left out, then as nulls; edit the first saved file, then the two together; and
    one the server refuses (a mask outside the allowed folders), unpaid.  Arguments are made
    when the call is, from the files saved by then (``saved`` is the --save-dir)."""

    def files() -> list[str]:
        return [str(p) for p in sorted(saved.iterdir(), key=lambda p: p.stat().st_mtime_ns)]

    return [
        ("generate_image", lambda: {"prompt": "a red fox"}),
        (
            "generate_image",
            lambda: {"prompt": "an owl", "model": None, "size": None, "n": None},
        ),
        ("edit_image", lambda: {"prompt": "make it blue", "image": files()[0]}),
        ("edit_image", lambda: {"prompt": "both in one", "image": files()[:2]}),
        (
            "edit_image",
            lambda: {"prompt": "only the sky", "image": files()[0], "mask": str(outside)},
        ),
    ]


REFUSAL = "mask path {outside} is outside the folders this tool may read"


def check_outcome(emulator: Emulator, saved: Path, outputs: list[str], outside: Path) -> None:
    """The five calls' outputs as the model read them, and what ClawRouter was asked."""
    assert len(outputs) == 5, outputs
    for output in outputs[:4]:
        assert "Saved: " in output, output
    assert REFUSAL.format(outside=outside) in outputs[4]
    posts = [(e.path, e.paid) for e in emulator.ledger if e.method == "POST"]
    assert posts == [
        ("/v1/images/generations", True),
        ("/v1/images/generations", True),
        ("/v1/images/image2image", True),
        ("/v1/images/image2image", True),
    ]
    assert len(list(saved.iterdir())) == 4

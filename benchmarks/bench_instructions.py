"""Client overhead in CPU instructions, counted by valgrind (callgrind): figures that do not
move with the machine's load, for the per-call targets that wall time on a shared 2-core
VM cannot resolve (a few microseconds in five hundred).

Each contender runs in its own process under callgrind against the stub server (a
separate process, not counted): once with ``--calls`` calls and once with ``--calls`` plus
``--extra``; the difference divided by ``--extra`` is what one more call costs, start-up
and first-use costs cancelled out.  Prints instructions per call and the ratio to raw
httpx:

- sequential: raw ``httpx.Client.post`` against ``ImageClient.generate``;
- the LangChain tool layer, sequential: ``ImageClient.generate``, a bare ``BaseTool`` over
  it (bench_tools.py's), and ``ClawRouterGenerateImage`` (``tool.invoke`` with a tool call);
- fan-out, 64 concurrent: raw ``httpx.AsyncClient.post`` (httpx's default pool, and the
  pool this package builds) against ``AsyncImageClient.generate``, and ``AsyncOpenAI`` when
  the ``openai`` package is importable (``bench_peers.py`` installs it in its environment).

Targets (the same as the wall-time ones): sequential <= 1.05x raw httpx; the project's tool
within 40 µs (about 220,000 instructions here) of the bare tool; fan-out at or below
``AsyncOpenAI``.

Run: ``python benchmarks/bench_instructions.py [--calls N] [--extra M]`` (needs valgrind).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / "core"),
    str(Path(__file__).resolve().parents[1] / "integrations" / "langchain-clawrouter"),
    str(Path(__file__).parent),
]

from _harness import stub_server  # noqa: E402

PROMPT, MODEL, SIZE = "a dog", "google/nano-banana", "1024x1024"
BODY = {"model": MODEL, "prompt": PROMPT, "size": SIZE, "n": 1}
CONCURRENCY = 64


def _sequential(name: str, base: str) -> Callable[[], object]:
    import httpx

    from clawrouter_images import ImageClient

    url = base + "/v1/images/generations"
    if name == "raw httpx.Client":
        raw = httpx.Client()
        return lambda: raw.post(url, json=BODY).json()
    client = ImageClient(base)
    return lambda: client.generate(PROMPT, model=MODEL, size=SIZE)


def _tool(name: str, base: str) -> Callable[[], object]:
    from bench_tools import CALL, bare_tool
    from clawrouter_images import ImageClient
    from langchain_clawrouter import ClawRouterGenerateImage

    client = ImageClient(base)
    if name == "ImageClient.generate":
        return lambda: client.generate("a red fox")
    tool = bare_tool(client) if name == "bare BaseTool" else ClawRouterGenerateImage(client=client)
    return lambda: tool.invoke(CALL)


def _concurrent(name: str, base: str) -> Callable[[], Awaitable[Any]]:
    import httpx

    from clawrouter_images import AsyncImageClient
    from clawrouter_images._transport import DefaultAsyncHttpxClient

    url = base + "/v1/images/generations"
    if name == "raw httpx.AsyncClient (defaults)":
        raw = httpx.AsyncClient()
        return lambda: raw.post(url, json=BODY)
    if name == "raw httpx.AsyncClient (this package's pool)":
        pooled = DefaultAsyncHttpxClient()
        return lambda: pooled.post(url, json=BODY)
    if name == "AsyncOpenAI":
        import openai

        oai = openai.AsyncOpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
        return lambda: oai.images.generate(model=MODEL, prompt=PROMPT, n=1)
    client = AsyncImageClient(base)
    return lambda: client.generate(PROMPT, model=MODEL, size=SIZE)


SEQUENTIAL = ("raw httpx.Client", "ImageClient")
TOOL = ("ImageClient.generate", "bare BaseTool", "ClawRouterGenerateImage")
CONCURRENT = (
    "raw httpx.AsyncClient (defaults)",
    "raw httpx.AsyncClient (this package's pool)",
    "AsyncImageClient",
    "AsyncOpenAI",
)


def worker(kind: str, name: str, base: str, calls: int) -> None:
    """What runs under callgrind: one warm-up call, then ``calls`` calls."""
    if kind in ("sequential", "tool"):
        call = (_sequential if kind == "sequential" else _tool)(name, base)
        call()
        for _ in range(calls):
            call()
        return
    make = _concurrent(name, base)

    async def run() -> None:
        await make()
        for _ in range(calls // CONCURRENCY):
            await asyncio.gather(*(make() for _ in range(CONCURRENCY)))

    asyncio.run(run())


def instructions(kind: str, name: str, base: str, calls: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--worker",
            kind,
            name,
            base,
            str(calls),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found is not None, done.stderr[-2000:]
    return int(found.group(1))


def per_call(kind: str, name: str, base: str, calls: int, extra: int) -> float:
    return (
        instructions(kind, name, base, calls + extra) - instructions(kind, name, base, calls)
    ) / extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--extra", type=int, default=384)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, name, base, calls = args.worker
        worker(kind, name, base, int(calls))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    has_openai = importlib.util.find_spec("openai") is not None
    with stub_server() as base:
        for kind, names in (
            ("sequential", SEQUENTIAL),
            ("tool", TOOL),
            ("concurrent", CONCURRENT),
        ):
            title = {
                "sequential": "per call, sequential",
                "tool": "per call of the LangChain tool layer, sequential",
                "concurrent": f"per request, {CONCURRENCY} concurrent",
            }[kind]
            print(f"\n{title} (instructions, {args.extra} calls after {args.calls})")
            first = None
            for name in names:
                if name == "AsyncOpenAI" and not has_openai:
                    print(f"  {name:44} (openai not installed)")
                    continue
                count = per_call(kind, name, base, args.calls, args.extra)
                first = first or count
                print(f"  {name:44} {count:12,.0f} {count / first:8.3f}x")


if __name__ == "__main__":
    main()

"""What the LangChain tool layer costs per call, measured side by side in one run.

Three ways to make the same call against the same stub server (a separate process,
loopback), interleaved in rounds so drift affects all alike:

1. ``ImageClient.generate`` directly;
2. a bare ``BaseTool`` with the same argument schema whose ``_run`` calls the client
   (what any hand-written LangChain tool costs);
3. the project's ``ClawRouterGenerateImage`` (``tool.invoke`` with a tool call).

Target (issue 12): the project's tool adds at most 40 µs over the bare ``BaseTool``.
The three take turns call by call, so drift on a shared machine falls on all alike.

Run: ``python benchmarks/bench_tools.py [--calls N] [--rounds R]``.
"""

# No ``from __future__ import annotations``: the bare tool's ``_run`` must have real
# annotations, as a hand-written tool usually does (LangChain reads them on every call).

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / "core"),
    str(Path(__file__).resolve().parents[1] / "integrations" / "langchain-clawrouter"),
    str(Path(__file__).parent),
]

from langchain_core.tools import BaseTool  # noqa: E402

from _harness import interleaved_seconds, median_us, per_call_seconds, stub_server  # noqa: E402
from clawrouter_images import ImageClient  # noqa: E402
from clawrouter_images.agent_tools._schemas import generate_schema  # noqa: E402
from langchain_clawrouter import ClawRouterGenerateImage  # noqa: E402

CALL = {"name": "generate_image", "args": {"prompt": "a red fox"}, "id": "c1", "type": "tool_call"}


def bare_tool(client: ImageClient) -> BaseTool:
    """The least a LangChain tool over the client can be: same schema, plain ``_run``."""

    class Bare(BaseTool):
        name: str = "generate_image"
        description: str = "Generate images."

        def _run(
            self, prompt: str, model: str | None = None, size: str | None = None, n: int = 1
        ) -> str:
            response = client.generate(prompt, model=model, size=size, n=n)
            return str(response.urls)

    return Bare(args_schema=generate_schema())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with stub_server() as base_url, ImageClient(base_url) as client:
        ours = ClawRouterGenerateImage(client=client, base_url=base_url)
        bare = bare_tool(client)
        calls: dict[str, Any] = {
            "client": lambda: client.generate("a red fox"),
            "bare BaseTool": lambda: bare.invoke(CALL),
            "ClawRouterGenerateImage": lambda: ours.invoke(CALL),
        }
        for call in calls.values():  # warm up: schemas, pools, caches
            per_call_seconds(call, 20)
        samples = interleaved_seconds(calls, args.rounds, args.calls)
    medians = {name: median_us(values) for name, values in samples.items()}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for name, value in medians.items():
        print(f"  {name:26} {value:8.1f} us")
    print(
        f"bare BaseTool adds            {medians['bare BaseTool'] - medians['client']:8.1f} us over the client"
    )
    print(
        f"ClawRouterGenerateImage adds  {medians['ClawRouterGenerateImage'] - medians['client']:8.1f} us over the client"
    )
    gap = medians["ClawRouterGenerateImage"] - medians["bare BaseTool"]
    print(f"ours vs bare BaseTool         {gap:+8.1f} us (target <= +40 us)")


if __name__ == "__main__":
    main()

"""Measurements for bench_peers.py, run inside the throwaway environment that has the peers.

Prints one JSON object.  Every contender talks to the same stub server; per-call samples
are taken in interleaved rounds so drift (CPU frequency, other load) hits all alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

PROMPT = "a golden retriever surfing on a wave"
MODEL = "google/nano-banana"
SIZE = "1024x1024"
BODY = {"model": MODEL, "prompt": PROMPT, "size": SIZE, "n": 1}


def _sync_contenders(base: str) -> dict[str, Callable[[], object]]:
    import httpx
    import openai
    from blockrun_llm import ImageClient as BlockrunImageClient
    from clawrouter_hermes import tools as hermes_tools

    from clawrouter_images import ImageClient

    raw = httpx.Client()
    ours = ImageClient(base)
    oai = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    blockrun = BlockrunImageClient(private_key="0x" + secrets.token_hex(32), api_url=base)
    # Hermes reads its proxy URL from the environment on every call.
    os.environ["CLAWROUTER_PROXY_URL"] = base + "/v1"
    url = base + "/v1/images/generations"
    return {
        "raw httpx.Client": lambda: raw.post(url, json=BODY).json(),
        "ImageClient": lambda: ours.generate(PROMPT, model=MODEL, size=SIZE),
        "OpenAI images.generate": lambda: oai.images.generate(
            model=MODEL,
            prompt=PROMPT,
            size=SIZE,  # type: ignore[arg-type,unused-ignore]
            n=1,
        ),
        "blockrun-llm ImageClient": lambda: blockrun.generate(PROMPT, model=MODEL, size=SIZE),
        "hermes image_generate": lambda: hermes_tools.image_generate(
            {"prompt": PROMPT, "model": MODEL, "size": SIZE}
        ),
    }


async def _async_sequential(base: str, calls: int) -> list[float]:
    from clawrouter_images import AsyncImageClient

    samples = []
    async with AsyncImageClient(base) as client:
        await client.generate(PROMPT, model=MODEL, size=SIZE)
        for _ in range(calls):
            start = time.perf_counter()
            await client.generate(PROMPT, model=MODEL, size=SIZE)
            samples.append(time.perf_counter() - start)
    return samples


def per_call(base: str, calls: int, rounds: int) -> dict[str, dict[str, float]]:
    contenders = _sync_contenders(base)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    samples["AsyncImageClient (sequential)"] = []
    for call in contenders.values():
        call()  # warm up connections and lazy imports
    for _ in range(rounds):
        for name, call in contenders.items():
            for _ in range(calls):
                start = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - start)
        samples["AsyncImageClient (sequential)"] += asyncio.run(_async_sequential(base, calls))
    return {
        name: {
            "median_us": statistics.median(values) * 1e6,
            "p90_us": statistics.quantiles(values, n=10)[-1] * 1e6,
        }
        for name, values in samples.items()
    }


async def _fan_out(call: Callable[[], Awaitable[object]], concurrency: int, rounds: int) -> float:
    for _ in range(2):
        await asyncio.gather(*(call() for _ in range(concurrency)))
    start = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(call() for _ in range(concurrency)))
    return concurrency * rounds / (time.perf_counter() - start)


async def fan_out(base: str, concurrency: int, rounds: int, repeats: int) -> dict[str, float]:
    import httpx
    import openai

    from clawrouter_images import AsyncImageClient

    url = base + "/v1/images/generations"
    results: dict[str, list[float]] = {}
    for _ in range(repeats):
        async with httpx.AsyncClient() as raw:
            results.setdefault("raw httpx.AsyncClient", []).append(
                await _fan_out(lambda: raw.post(url, json=BODY), concurrency, rounds)
            )
        async with AsyncImageClient(base) as ours:
            results.setdefault("AsyncImageClient", []).append(
                await _fan_out(
                    lambda: ours.generate(PROMPT, model=MODEL, size=SIZE), concurrency, rounds
                )
            )
        async with openai.AsyncOpenAI(
            base_url=base + "/v1", api_key="unused", max_retries=0
        ) as oai:
            results.setdefault("AsyncOpenAI", []).append(
                await _fan_out(
                    lambda: oai.images.generate(model=MODEL, prompt=PROMPT, n=1),
                    concurrency,
                    rounds,
                )
            )
    return {name: statistics.median(values) for name, values in results.items()}


# (what the process has already imported, what is timed): each in a fresh interpreter.
# The adapters are timed in a process that already runs its framework's agents, as an
# agent process does; for LlamaIndex also beside an LLM client (any LlamaIndex LLM
# integration loads httpx, which llama-index-core itself does not).
_IMPORTS: dict[str, tuple[str, str]] = {
    "httpx + pydantic": ("", "import httpx; from pydantic import BaseModel"),
    # What a user's first line does: the package loads its names on first use.
    "clawrouter_images": ("", "from clawrouter_images import ImageClient"),
    "clawrouter_images after httpx + pydantic": (
        "import httpx; from pydantic import BaseModel",
        "from clawrouter_images import ImageClient",
    ),
    "LangChain agents": ("", "from langchain.agents import create_agent"),
    "langchain_clawrouter after LangChain agents": (
        "from langchain.agents import create_agent",
        "import langchain_clawrouter",
    ),
    "LlamaIndex agents": ("", "from llama_index.core.agent.workflow import FunctionAgent"),
    "llama_index.tools.clawrouter after LlamaIndex agents": (
        "from llama_index.core.agent.workflow import FunctionAgent",
        "import llama_index.tools.clawrouter",
    ),
    "llama_index.tools.clawrouter after LlamaIndex agents + openai": (
        "from llama_index.core.agent.workflow import FunctionAgent; import openai",
        "import llama_index.tools.clawrouter",
    ),
}


def import_times(repeats: int) -> dict[str, float]:
    """Median wall time of each timed import in a fresh interpreter (ms)."""
    results = {}
    for name, (setup, statement) in _IMPORTS.items():
        code = (
            f"{setup}\nimport time; t = time.perf_counter()\n{statement}\n"
            "print(time.perf_counter() - t)"
        )
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeats)
        ]
        results[name] = statistics.median(runs) * 1000
    return results


def construction(base: str, repeats: int) -> dict[str, dict[str, Any]]:
    """Time to build each client, and whether building it loads a certificate bundle."""
    import httpx
    import openai

    from clawrouter_images import AsyncImageClient, ImageClient

    makers: dict[str, Callable[[], object]] = {
        "ImageClient(http://...)": lambda: ImageClient(base),
        "AsyncImageClient(http://...)": lambda: AsyncImageClient(base),
        "httpx.Client()": httpx.Client,
        "openai.OpenAI(...)": lambda: openai.OpenAI(base_url=base + "/v1", api_key="unused"),
    }
    loads = 0
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        nonlocal loads
        loads += 1
        original(self, *args, **kwargs)

    ssl.SSLContext.load_verify_locations = counting  # type: ignore[method-assign]
    results = {}
    try:
        for name, make in makers.items():
            make()  # the first build pays one-off imports
            loads = 0
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                make()
                times.append(time.perf_counter() - start)
            results[name] = {
                "median_ms": statistics.median(times) * 1000,
                "loads_certificates": loads > 0,
            }
    finally:
        ssl.SSLContext.load_verify_locations = original  # type: ignore[method-assign]
    return results


def main() -> None:
    base, calls, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    report = {
        "per_call": per_call(base, calls, rounds),
        "fan_out": asyncio.run(fan_out(base, 64, 30, 3)),
        "imports_ms": import_times(5),
        "construction": construction(base, 20),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

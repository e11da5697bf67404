"""A LlamaIndex agent that generates and edits images through ClawRouter.

    pip install "clawrouter-images[llama-index,emulator]" llama-index-llms-openai
    python examples/llamaindex_agent.py --emulator     # offline: emulator + scripted LLM
    OPENAI_API_KEY=... python examples/llamaindex_agent.py "Draw me a cyberpunk city at night"

Without --emulator it uses ClawRouter (npx @blockrun/clawrouter; CLAWROUTER_BASE_URL, else
http://127.0.0.1:8402), which pays for each image, and OpenAI's gpt-4.1-mini.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import sys
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent

from clawrouter_images import AsyncImageClient
from llama_index.tools.clawrouter import ClawRouterImageToolSpec


async def ask(request: str, *, llm: Any, base_url: str | None, output: str) -> str:
    # What a tutorial shows: the image tools, an agent that has them, a request.
    async with AsyncImageClient(base_url) as client:
        spec = ClawRouterImageToolSpec(async_client=client, save_dir=output, max_cost_usd=0.20)
        agent = FunctionAgent(tools=spec.to_tool_list(), llm=llm)
        response = await agent.run(user_msg=request)
    return str(response)


OUTPUT = "clawrouter-examples"


def _online_problem() -> str | None:
    """What a real run lacks (the LLM's package or key), said before anything runs."""
    if importlib.util.find_spec("llama_index.llms.openai") is None:
        return "this example's LLM needs: pip install llama-index-llms-openai"
    if not os.environ.get("OPENAI_API_KEY"):
        return "this example's LLM needs OPENAI_API_KEY"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A LlamaIndex agent with ClawRouter image tools.")
    parser.add_argument("request", nargs="?", default="Draw me a cyberpunk city at night")
    parser.add_argument("--emulator", action="store_true", help="offline: no ClawRouter, no key")
    parser.add_argument("-o", "--output", default=OUTPUT, help=f"where to save (default {OUTPUT}/)")
    args = parser.parse_args(argv)
    if not args.emulator:
        missing = _online_problem()
        if missing:
            print(f"{missing}; or run offline with --emulator", file=sys.stderr)
            return 2

    with contextlib.ExitStack() as stack:
        if args.emulator:
            from clawrouter_images.emulator import Emulator, serve
            from clawrouter_images_demo import scripted_llm

            base_url = stack.enter_context(serve(stack.enter_context(Emulator()), port=0))
            llm: Any = scripted_llm()  # makes the tool calls a real model would
        else:
            from llama_index.llms.openai import OpenAI  # pip install llama-index-llms-openai

            base_url, llm = None, OpenAI(model="gpt-4.1-mini")  # None: CLAWROUTER_BASE_URL
        print(asyncio.run(ask(args.request, llm=llm, base_url=base_url, output=args.output)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A LangChain agent that generates and edits images through ClawRouter.

    pip install "clawrouter-images[langchain,emulator]" langchain langchain-openai
    python examples/langchain_agent.py --emulator     # offline: emulator + scripted model
    OPENAI_API_KEY=... python examples/langchain_agent.py "Draw me a cyberpunk city at night"

Without --emulator it uses ClawRouter (npx @blockrun/clawrouter; CLAWROUTER_BASE_URL, else
http://127.0.0.1:8402), which pays for each image, and OpenAI's gpt-4.1-mini.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
from typing import Any

from langchain.agents import create_agent

from clawrouter_images import ImageClient
from langchain_clawrouter import ClawRouterImageToolkit

OUTPUT = "clawrouter-examples"


def _online_problem() -> str | None:
    """What a real run lacks (the chat model's package or key), said before anything runs."""
    if importlib.util.find_spec("langchain_openai") is None:
        return "this example's chat model needs: pip install langchain-openai"
    if not os.environ.get("OPENAI_API_KEY"):
        return "this example's chat model needs OPENAI_API_KEY"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A LangChain agent with ClawRouter image tools.")
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
        model: Any = "openai:gpt-4.1-mini"  # any LangChain chat model, or "provider:model"
        base_url = None  # CLAWROUTER_BASE_URL, else http://127.0.0.1:8402
        if args.emulator:
            from clawrouter_images.emulator import Emulator, serve
            from clawrouter_images_demo import scripted_chat_model

            base_url = stack.enter_context(serve(stack.enter_context(Emulator()), port=0))
            model = scripted_chat_model()  # makes the tool calls a real model would

        # What a tutorial shows: the image tools, an agent that has them, a request.
        client = stack.enter_context(ImageClient(base_url))
        toolkit = ClawRouterImageToolkit(client=client, save_dir=args.output, max_cost_usd=0.20)
        agent = create_agent(model, toolkit.get_tools())
        result = agent.invoke({"messages": [{"role": "user", "content": args.request}]})
        print(result["messages"][-1].content)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

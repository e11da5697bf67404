"""The ``clawrouter-images`` command.

stdout carries only results (saved paths, or JSON with ``--json``) so it can be piped;
errors go to stderr as one line with exit code 1 (2 for usage errors); while a slow
model works, an interactive terminal shows the elapsed time on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from ._catalog import MODELS, ImageModel
from ._client import ImageClient
from ._constants import DEFAULT_HOST, DEFAULT_PORT
from ._exceptions import ClawRouterError
from ._models import ImageResponse
from ._version import package_version

_T = TypeVar("_T")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clawrouter-images",
        description="Generate and edit images through ClawRouter (or its offline emulator).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def paid(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("prompt", help="what to draw, or the change to make")
        sub.add_argument("--model", help="model alias or id (see `clawrouter-images models`)")
        sub.add_argument("--size", help="WIDTHxHEIGHT, e.g. 1024x1024 (default: the model's)")
        sub.add_argument("-n", type=int, default=1, help="number of images (default 1)")
        sub.add_argument(
            "-o", "--output", default=".", metavar="DIR", help="directory to save into (default .)"
        )
        sub.add_argument("--json", action="store_true", help="print the response as JSON")
        sub.add_argument(
            "--max-cost", type=float, metavar="USD", help="refuse calls estimated above this"
        )
        where = sub.add_mutually_exclusive_group()
        where.add_argument(
            "--base-url", help="ClawRouter URL (default: CLAWROUTER_BASE_URL or 127.0.0.1:8402)"
        )
        where.add_argument(
            "--emulator",
            action="store_true",
            help="use an in-process emulator: no ClawRouter, no wallet",
        )
        return sub

    paid("generate", "Generate images from a prompt.")
    edit = paid("edit", "Edit an image (or combine up to 4) following a prompt.")
    edit.add_argument(
        "--image",
        action="append",
        required=True,
        metavar="IMAGE",
        help="path, http(s) URL or data URI; repeat for several images",
    )
    edit.add_argument("--mask", help="mask image (transparent = edit); single image only")

    models = commands.add_parser("models", help="List the image models, prices and sizes.")
    shape = models.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    shape.add_argument("--markdown", action="store_true", help="print a Markdown table")

    health = commands.add_parser("health", help="Check that ClawRouter is running.")
    health.add_argument("--full", action="store_true", help="include the wallet balance")
    health.add_argument("--base-url", help="ClawRouter URL")

    demo = commands.add_parser(
        "demo",
        help="Run a LangChain and a LlamaIndex agent through example requests; save a gallery.",
        description="Run a LangChain and a LlamaIndex agent through four example requests "
        "(draw a picture, a high-res portrait, edit an image from its URL, edit a local file) and "
        "one that fails; save the images, print a table and write index.html, a gallery. "
        "Offline by default: an in-process emulator and a scripted chat model.",
    )
    demo.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("clawrouter-demo"),
        metavar="DIR",
        help="where to save the images and index.html (default ./clawrouter-demo)",
    )
    demo_where = demo.add_mutually_exclusive_group()
    demo_where.add_argument(
        "--base-url",
        help="a running ClawRouter (paid); default: CLAWROUTER_BASE_URL, else the emulator",
    )
    demo_where.add_argument(
        "--emulator",
        action="store_true",
        help="use the emulator even if CLAWROUTER_BASE_URL is set",
    )
    demo.add_argument(
        "--llm",
        metavar="PROVIDER[:MODEL]",
        help="a real chat model instead of the scripted one: openai, anthropic, google, "
        "mistralai, groq or ollama (its packages and API key are yours to provide)",
    )
    demo.add_argument(
        "--framework",
        action="append",
        choices=("langchain", "llamaindex"),
        help="run only this framework's agent (repeatable; default both)",
    )

    emulate = commands.add_parser("emulate", help="Serve the ClawRouter emulator on a port.")
    emulate.add_argument("--host", default=DEFAULT_HOST)
    emulate.add_argument("--port", type=int, default=DEFAULT_PORT)
    emulate.add_argument(
        "--image-dir", type=Path, help="where to keep images (default: a temporary dir)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        handler = _HANDLERS[args.command]
        return handler(args)
    except ClawRouterError as err:
        print(f"clawrouter-images: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("clawrouter-images: interrupted", file=sys.stderr)
        return 130


# -- commands ---------------------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> int:
    with _client(args) as client:
        response = _waiting(
            f"generating with {args.model or 'the default model'}",
            lambda: client.generate(
                args.prompt, model=args.model, size=args.size, n=args.n, max_cost_usd=args.max_cost
            ),
        )
        return _report(client, response, args)


def _edit(args: argparse.Namespace) -> int:
    images: str | list[str] = args.image[0] if len(args.image) == 1 else args.image
    with _client(args) as client:
        response = _waiting(
            f"editing with {args.model or 'the default model'}",
            lambda: client.edit(
                args.prompt,
                images,
                mask=args.mask,
                model=args.model,
                size=args.size,
                n=args.n,
                max_cost_usd=args.max_cost,
            ),
        )
        return _report(client, response, args)


def _report(client: ImageClient, response: ImageResponse, args: argparse.Namespace) -> int:
    paths = client.save(response, args.output)
    if args.json:
        print(response.model_dump_json(indent=2))
    else:
        for path in paths:
            print(path)
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([dataclasses.asdict(m) for m in MODELS.values()], indent=2))
    elif args.markdown:
        print(models_markdown(MODELS.values()))
    else:
        print(models_table(MODELS.values()))
    return EXIT_OK


_COLUMNS = ("alias", "id", "price / image", "sizes", "edit", "status", "best for")


def _model_rows(models: Iterable[ImageModel]) -> list[tuple[str, ...]]:
    return [
        (
            model.alias,
            model.id,
            model.price_text(),
            model.sizes_text(),
            ("yes, mask" if model.can_mask else "yes") if model.can_edit else "no",
            model.status if model.available else model.status_note,
            model.best_for,
        )
        for model in models
    ]


def models_markdown(models: Iterable[ImageModel]) -> str:
    """The catalogue as the Markdown table the README carries."""
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in _model_rows(models)]
    return "\n".join(lines)


def models_table(models: Iterable[ImageModel]) -> str:
    """The catalogue as an aligned text table (alias, id, price, sizes, edit, status, best for)."""
    header = _COLUMNS
    rows = [header, *_model_rows(models)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    )


def _health(args: argparse.Namespace) -> int:
    with ImageClient(args.base_url) as client:
        health = client.health(full=args.full)
        print(health.model_dump_json(indent=2, by_alias=True, exclude_none=True))
    return EXIT_OK if health.ok else EXIT_ERROR


def _emulate(args: argparse.Namespace) -> int:
    from .emulator import Emulator, serve  # the [emulator] extra; imported only when asked for

    stop = threading.Event()
    # A service manager stops us with SIGTERM: leave as cleanly as on Ctrl+C.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    with (
        Emulator(image_dir=args.image_dir) as emulator,
        serve(emulator, host=args.host, port=args.port) as url,
    ):
        # Printed once the port is listening (and known, with --port 0).
        print(
            f"ClawRouter emulator on {url} (images in {emulator.image_dir}); "
            f"use it with CLAWROUTER_BASE_URL={url}; Ctrl+C stops it",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .demo import FRAMEWORKS, run_demo  # imports LangChain and LlamaIndex when it runs

    return run_demo(
        output=args.output,
        base_url=args.base_url,
        emulator=args.emulator,
        llm=args.llm,
        frameworks=args.framework or FRAMEWORKS,
    )


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "generate": _generate,
    "edit": _edit,
    "models": _models,
    "health": _health,
    "emulate": _emulate,
    "demo": _demo,
}


# -- helpers ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[ImageClient]:
    max_cost = args.max_cost
    if not args.emulator:
        with ImageClient(args.base_url, max_cost_usd=max_cost) as client:
            yield client
        return
    from .emulator import Emulator  # the [emulator] extra; imported only when asked for

    with (
        Emulator() as emulator,
        emulator.sync_client() as http_client,
        ImageClient(emulator.base_url, http_client=http_client, max_cost_usd=max_cost) as client,
    ):
        yield client


def _waiting(
    what: str, call: Callable[[], _T], stream: TextIO | None = None, interval: float = 1.0
) -> _T:
    """Run ``call``; on an interactive terminal, show the elapsed seconds while it runs."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return call()
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(interval):
            stream.write(f"\r{what}… {time.monotonic() - started:.0f}s ")
            stream.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        return call()
    finally:
        done.set()
        ticker.join()
        stream.write("\r\x1b[K")
        stream.flush()

"""The ``clawrouter-images`` command.

stdout carries only results (saved paths, or JSON with ``--json``) so it can be piped;
errors go to stderr as one line with exit code 1 (2 for usage errors, 130 for Ctrl+C);
while a slow model works, an interactive terminal shows the elapsed time on stderr.
Everything that can be checked for free (the output folder, the emulator's packages) is
checked before a paid request is sent; a paid answer that could not be saved still has
its URLs printed on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import json
import logging
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ._catalog import MODELS, FreeSizes, ImageModel, models_markdown, models_table
from ._cli_batch import add_batch_parsers, batch_command, merge_command
from ._cli_common import (
    BASE_URL_HELP,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_where,
    fail,
    needs_extra,
)
from ._client import ImageClient
from ._constants import DEFAULT_HOST, DEFAULT_PORT, PROGRESS_INTERVAL_SECONDS
from ._exceptions import ClawRouterError, InvalidRequestError
from ._files import prepare_save_dir
from ._models import ImageResponse
from ._version import package_version

if TYPE_CHECKING:
    from .emulator import Emulator

_T = TypeVar("_T")


# Windows reports a port in use as WSAEADDRINUSE, not EADDRINUSE.
_ADDRESS_IN_USE = frozenset({errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)})


class _PaidCallInterrupted(KeyboardInterrupt):
    """Ctrl+C once a paid request was sent: the plain "interrupted" would hide that it may
    have cost money.  ``result`` is the answer, when it had arrived and was being saved."""

    def __init__(self, result: ImageResponse | None) -> None:
        super().__init__()
        self.result = result

    @property
    def message(self) -> str:
        if self.result is None:
            return (
                "interrupted while the request was in flight; it may have been paid, "
                "so check before sending it again"
            )
        return (
            "interrupted while saving; the images were made (and may have been paid): "
            "do not generate them again, save them from the answer printed on stdout"
        )


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
            "--max-cost-usd", type=float, metavar="USD", help="refuse calls estimated above this"
        )
        # The name this option had before every command spelt it --max-cost-usd.
        sub.add_argument("--max-cost", type=float, dest="max_cost_usd", help=argparse.SUPPRESS)
        add_where(sub, "use an in-process emulator: no ClawRouter, no wallet")
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
    edit.add_argument(
        "--mask",
        help="mask image: white = edit, black = keep (transparent = edit works too); "
        "single image only",
    )

    models = commands.add_parser(
        "models",
        help="List the image models, prices and sizes.",
        description="List the image models: alias, id, price per image, sizes, whether they "
        "can edit (and take a mask), and whether they are still offered.",
    )
    shape = models.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    shape.add_argument("--markdown", action="store_true", help="print a Markdown table")

    health = commands.add_parser(
        "health",
        help="Check that ClawRouter is running.",
        description="Check that ClawRouter is running and print its status and wallet as JSON; "
        "exit code 1 when it is not ok.",
    )
    health.add_argument("--full", action="store_true", help="include the wallet balance")
    health.add_argument("--base-url", help=BASE_URL_HELP)

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
    demo.add_argument(
        "--slow",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="offline only: how long the emulator takes over the high-res request, so the "
        "tools' progress reports show (default 2; 0 for none)",
    )

    emulate = commands.add_parser(
        "emulate",
        help="Serve the ClawRouter emulator on a port.",
        description="Serve the offline ClawRouter emulator on a port, for any program that "
        "talks to ClawRouter: same routes and answers, no wallet, nothing paid. Ctrl+C stops it.",
    )
    add_serve_options(emulate)
    _add_mcp_parser(commands)
    add_batch_parsers(commands)
    return parser


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def _add_mcp_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mcp = commands.add_parser(
        "mcp",
        help="Serve generate_image and edit_image to MCP clients over stdio.",
        description="Serve generate_image and edit_image as a stdio MCP server (Claude Desktop, "
        "Cursor, langchain-mcp-adapters, llama-index-tools-mcp): the same descriptions, schemas, "
        "file policy, caps and messages as the LangChain and LlamaIndex tools. stdout carries "
        'only the protocol. Needs the [mcp] extra: pip install "clawrouter-images[mcp]".',
    )
    mcp.add_argument(
        "--save-dir", type=Path, metavar="DIR", help="save result images here (default: not saved)"
    )
    mcp.add_argument(
        "--allowed-dir",
        action="append",
        type=Path,
        metavar="DIR",
        help="a folder local input images may come from (repeatable). Besides these, only "
        "--save-dir and ClawRouter's image directory are read: never the working directory "
        "(a desktop app starts servers in /). A root of the file system works but warns",
    )
    mcp.add_argument(
        "--model",
        action="append",
        metavar="MODEL",
        help="a model the LLM may choose (repeatable; default: every available model)",
    )
    mcp.add_argument(
        "--max-cost-usd", type=float, metavar="USD", help="refuse any call estimated above this"
    )
    mcp.add_argument(
        "--budget-usd",
        type=float,
        metavar="USD",
        help="the most all calls of this server may spend together",
    )
    mcp.add_argument(
        "--progress-every",
        type=_positive,
        default=PROGRESS_INTERVAL_SECONDS,
        metavar="SECONDS",
        help="how often a call in flight reports progress to clients that ask for it "
        f"(default {PROGRESS_INTERVAL_SECONDS:g})",
    )
    mcp.add_argument(
        "--no-images",
        action="store_true",
        help="answer with the text alone, no image parts (for models that take no images in "
        "tool results, such as OpenAI's Chat Completions)",
    )
    add_where(
        mcp, "serve against an in-process emulator on a loopback port: no ClawRouter, no wallet"
    )


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """``--host``, ``--port``, ``--image-dir`` and what the emulator does (``--model``,
    ``--slow``, ``--fault``): shared with ``python -m clawrouter_images.emulator``, so both
    commands read the same."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}, ClawRouter's; 0 picks a free port)",
    )
    parser.add_argument(
        "--image-dir",
        type=Path,
        help="where to keep the images (default: a temporary folder, removed on exit)",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        type=_extra_model,
        metavar="ID=PRICE",
        help="also serve a model the catalogue does not list, at PRICE USD an image "
        "(repeatable), e.g. acme/pixel-9=0.03: try a newer model offline",
    )
    parser.add_argument(
        "--slow",
        type=_positive,
        metavar="SECONDS",
        help="answer every image request after SECONDS (watch progress reports offline)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND",
        help="make the next image request misbehave as ClawRouter does (repeatable, in "
        "order): payment_rejected, rate_limited, server_error, timeout, drop, job_stub, ... "
        "(clawrouter_images.emulator.FAULT_KINDS lists them all)",
    )


def _extra_model(text: str) -> ImageModel:
    """``ID=PRICE`` as a model the emulator serves: any size up to 4096 a side, edits too."""
    name, sep, price = text.partition("=")
    try:
        usd = float(price)
    except ValueError:
        usd = math.nan
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected ID=PRICE, like acme/pixel-9=0.03, not {text!r}")
    try:
        return ImageModel(
            id=name.strip(),
            price_usd=usd,
            sizes=("1024x1024",),
            free_sizes=FreeSizes(min_side=256, max_side=4096, max_pixels=4096 * 4096),
            can_edit=True,
            can_mask=True,
            max_input_images=4,
            best_for="added with --model",
        )
    except InvalidRequestError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def emulator_from(args: argparse.Namespace, **options: Any) -> Emulator:
    """The emulator the serve options describe (``options`` go to ``Emulator``).

    Raises ``ValueError`` naming the kinds for an unknown ``--fault``."""
    from .emulator import Emulator, Fault

    faults = [Fault(kind) for kind in args.fault]
    emulator = Emulator(image_dir=args.image_dir, models=args.model, **options)
    for fault in faults:
        emulator.add_fault(fault)
    if args.slow:
        # After the scripted faults: those come first, then every request is slow.
        emulator.add_fault(Fault("slow", delay=args.slow), times=None)
    return emulator


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help and --version exit 0, usage errors 2
        return EXIT_USAGE if exit_.code else EXIT_OK
    try:
        handler = _HANDLERS[args.command]
        return handler(args)
    except ClawRouterError as err:
        fail(f"error: {err}", err.result, args)
        return EXIT_ERROR
    except _PaidCallInterrupted as interrupt:
        fail(interrupt.message, interrupt.result, args)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        fail("interrupted", None, args)
        return EXIT_INTERRUPTED


# -- commands ---------------------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> int:
    return _paid_call(
        args,
        "generating",
        lambda client: client.generate(
            args.prompt, model=args.model, size=args.size, n=args.n, max_cost_usd=args.max_cost_usd
        ),
    )


def _edit(args: argparse.Namespace) -> int:
    images: str | list[str] = args.image[0] if len(args.image) == 1 else args.image
    return _paid_call(
        args,
        "editing",
        lambda client: client.edit(
            args.prompt,
            images,
            mask=args.mask,
            model=args.model,
            size=args.size,
            n=args.n,
            max_cost_usd=args.max_cost_usd,
        ),
    )


def _paid_call(
    args: argparse.Namespace, doing: str, call: Callable[[ImageClient], ImageResponse]
) -> int:
    """Make one paid request and save its images into ``args.output``."""
    # Checked first: a folder that cannot take the images must fail for free, not after paying.
    prepare_save_dir(args.output)
    with _client(args) as client:
        try:
            response = _waiting(
                f"{doing} with {args.model or 'the default model'}", lambda: call(client)
            )
        except KeyboardInterrupt:
            raise _PaidCallInterrupted(None) from None
        try:
            return _report(client, response, args)
        except KeyboardInterrupt:
            raise _PaidCallInterrupted(response) from None


def _report(client: ImageClient, response: ImageResponse, args: argparse.Namespace) -> int:
    paths = client.save(response, args.output)
    if args.json:
        # The answer as ClawRouter gave it, plus what this command did with it.
        shown = {**response.model_dump(mode="json"), "saved_paths": [str(p) for p in paths]}
        if args.emulator:
            # The in-process emulator has no socket: its URLs answer nothing once this ends.
            shown["note"] = (
                "made by the in-process emulator (--emulator): its URLs are not served; "
                "the images are in saved_paths"
            )
        print(json.dumps(shown, indent=2))
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


def _health(args: argparse.Namespace) -> int:
    with ImageClient(args.base_url) as client:
        health = client.health(full=args.full)
        print(health.model_dump_json(indent=2, by_alias=True, exclude_none=True))
    return EXIT_OK if health.ok else EXIT_ERROR


def _emulate(args: argparse.Namespace) -> int:
    with needs_extra("emulator", "the emulator"):
        from .emulator._server import exposure_warning

        try:
            emulator = emulator_from(args)
        except ValueError as err:
            print(f"clawrouter-images emulate: error: --fault: {err}", file=sys.stderr)
            return EXIT_USAGE
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        stack.enter_context(emulator)
        url = _listen(stack, emulator, args.host, args.port)
        # A service manager stops us with SIGTERM: leave as cleanly as on Ctrl+C.
        stack.enter_context(_on_sigterm(stop.set))
        # Only now: serve() has logged its own "serving on" line, which the announcement
        # below repeats with more.
        stack.enter_context(_emulator_log_on_stderr())
        # Printed once the port is listening (and known, with --port 0).
        print(
            f"ClawRouter emulator on {url} (images in {emulator.image_dir}); "
            f"use it with CLAWROUTER_BASE_URL={url}; Ctrl+C stops it",
            file=sys.stderr,
            flush=True,
        )
        warning = exposure_warning(args.host)
        if warning is not None:
            print(warning, file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return EXIT_OK


def _listen(stack: contextlib.ExitStack, emulator: Emulator, host: str, port: int) -> str:
    """Serve ``emulator`` until ``stack`` closes; returns its URL."""
    from .emulator import serve

    try:
        return stack.enter_context(serve(emulator, host=host, port=port))
    except OSError as err:  # serve() binds before it starts uvicorn: this is bind()'s error
        if err.errno not in _ADDRESS_IN_USE:
            raise
        raise CommandError(
            f"port {port} on {host} is already in use; pick another with --port "
            "(or --port 0 for a free one)"
        ) from None


@contextlib.contextmanager
def _emulator_log_on_stderr() -> Iterator[None]:
    """The emulator's log (a line per request) on stderr, timed, while the command serves."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    emulator_logger = logging.getLogger("clawrouter_images.emulator")
    level = emulator_logger.level
    emulator_logger.addHandler(handler)
    emulator_logger.setLevel(logging.INFO)
    # Restored on the way out: main() also runs inside other programs (and tests).
    try:
        yield
    finally:
        emulator_logger.removeHandler(handler)
        emulator_logger.setLevel(level)


@contextlib.contextmanager
def _on_sigterm(action: Callable[[], None]) -> Iterator[None]:
    # Restored on the way out: main() also runs inside other programs (and tests).
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: action())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _demo(args: argparse.Namespace) -> int:
    # The demo lives beside the adapters (it imports both), in its own package; it imports
    # LangChain and LlamaIndex only when it runs.
    with needs_extra("demo", "the demo"):
        from clawrouter_images_demo import FRAMEWORKS, run_demo

    return run_demo(
        output=args.output,
        base_url=args.base_url,
        emulator=args.emulator,
        llm=args.llm,
        frameworks=args.framework or FRAMEWORKS,
        slow_step=args.slow,
    )


def _mcp(args: argparse.Namespace) -> int:
    with needs_extra("mcp", "the MCP server"):
        import PIL  # noqa: F401  (the image parts are sized for vision models)

        from ._mcp import serve_stdio
    from .agent_tools import ImageToolConfig

    config = ImageToolConfig(
        models=args.model,
        save_dir=args.save_dir,
        allowed_dirs=args.allowed_dir,
        max_cost_usd=args.max_cost_usd,
        budget_usd=args.budget_usd,
        return_image_block=not args.no_images,
        progress_every_s=args.progress_every,
    )
    with contextlib.ExitStack() as stack:
        base_url = args.base_url
        if args.emulator:
            with needs_extra("emulator", "the emulator"):
                from .emulator import Emulator

            base_url = _listen(stack, stack.enter_context(Emulator()), DEFAULT_HOST, 0)
        serve_stdio(config, base_url=base_url)
    return EXIT_OK


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "generate": _generate,
    "edit": _edit,
    "models": _models,
    "health": _health,
    "emulate": _emulate,
    "demo": _demo,
    "mcp": _mcp,
    "batch": batch_command,
    "merge": merge_command,
}


# -- helpers ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[ImageClient]:
    max_cost = args.max_cost_usd
    if not args.emulator:
        with ImageClient(args.base_url, max_cost_usd=max_cost) as client:
            yield client
        return
    with needs_extra("emulator", "the emulator"):
        from .emulator import Emulator

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
    from ._progress import watching

    # The progress thread may tick once more after the call ends: the lock and the flag
    # keep that tick from writing after the line was cleared.
    lock = threading.Lock()
    done = False

    def tick(elapsed: float) -> None:
        with lock:
            if not done:
                stream.write(f"\r{what}… {elapsed:.0f}s ")
                stream.flush()

    try:
        with watching(tick, interval):
            return call()
    finally:
        with lock:
            done = True
            stream.write("\r\x1b[K")
            stream.flush()

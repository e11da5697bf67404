"""``python -m clawrouter_images.emulator``: serve the emulator until Ctrl+C."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .._cli import add_serve_options, emulator_from
from ._server import exposure_warning, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clawrouter_images.emulator",
        description="Serve an offline emulator of ClawRouter's image API.",
    )
    add_serve_options(parser)
    parser.add_argument(
        "--cwd",
        type=Path,
        help="where image2image reads relative paths (default: the current directory)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="drop requests silent this long, without an answer, as ClawRouter does (default 300)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=("debug", "info", "warning", "error", "critical"),
        help="info shows one line per request (default info)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and serve; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(name)s: %(message)s")
    try:
        emulator = emulator_from(args, port=args.port, idle_timeout=args.idle_timeout, cwd=args.cwd)
    except ValueError as err:
        print(f"error: --fault: {err}", file=sys.stderr)
        return 2
    warning = exposure_warning(args.host)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    run(emulator, host=args.host, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

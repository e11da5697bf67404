"""``python -m clawrouter_images.emulator``: serve the emulator until Ctrl+C."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from .._constants import DEFAULT_HOST, DEFAULT_PORT
from ._app import Emulator
from ._server import run


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and serve; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m clawrouter_images.emulator",
        description="Serve an offline emulator of ClawRouter's image API.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--image-dir", type=Path, help="default: a temporary directory")
    parser.add_argument("--cwd", type=Path, help="where image2image reads relative paths")
    parser.add_argument(
        "--idle-timeout", type=float, default=300.0, help="drop requests silent this long"
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(name)s: %(message)s")
    emulator = Emulator(
        image_dir=args.image_dir, port=args.port, idle_timeout=args.idle_timeout, cwd=args.cwd
    )
    run(emulator, host=args.host, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the command's parts share: exit codes, how an error is shown, where paid requests go,
and the guard around an optional part's import."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._constants import DEFAULT_HOST, DEFAULT_PORT
from ._exceptions import ClawRouterError

if TYPE_CHECKING:
    from ._models import ImageResponse

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

BASE_URL_HELP = f"ClawRouter URL (default: CLAWROUTER_BASE_URL or {DEFAULT_HOST}:{DEFAULT_PORT})"


class CommandError(ClawRouterError):
    """A failure of the command itself (not of a request), printed like any other error."""


def add_where(parser: argparse.ArgumentParser, emulator_help: str) -> None:
    """``--base-url`` or ``--emulator``: where a command's paid requests go."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--base-url", help=BASE_URL_HELP)
    where.add_argument("--emulator", action="store_true", help=emulator_help)


@contextlib.contextmanager
def needs_extra(extra: str, what: str) -> Iterator[None]:
    """Wrap the import of an optional part, imported only when asked for: one line naming
    the extra to install instead of a traceback."""
    try:
        yield
    except ImportError as err:
        # The emulator's own guard re-raises the missing package's error as its cause.
        missing = err.__cause__ if isinstance(err.__cause__, ImportError) else err
        raise CommandError(
            f"{what} needs the [{extra}] extra (cannot import {missing.name or 'it'}): "
            f'pip install "clawrouter-images[{extra}]"'
        ) from None


def fail(message: str, result: ImageResponse | None, args: argparse.Namespace) -> None:
    """Say what went wrong on stderr; a paid answer goes to stdout, where a pipe still gets it."""
    print(f"clawrouter-images: {message}", file=sys.stderr)
    if result is None:
        return
    if getattr(args, "json", False):
        print(result.model_dump_json(indent=2))
    else:
        for url in result.urls:
            print(url)

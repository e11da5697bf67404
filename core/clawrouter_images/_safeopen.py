"""Open a file below a trusted folder without following any symbolic link below it.

Checking a path and opening it later is a race: a folder on the way can be swapped for
a symlink in between, and the open then reads whatever the link points at.  So nothing
is checked and then reopened here.  The trusted folder is opened first (its own path may
hold symlinks: the deployer chose it), and every name below it is opened *relative to
the descriptor of the folder before it*, with ``O_NOFOLLOW``: the kernel refuses to
follow a link at each step, so the file finally opened is one that lies below the
folder at the moment it is opened, whatever is renamed or swapped meanwhile.

A symlink below the folder is refused, even one that points back inside: following it
safely would mean resolving it name by name and checking each step again, and a plain
refusal is simpler to trust.

This needs ``dir_fd`` support for ``os.open`` and ``os.stat`` and the ``O_NOFOLLOW`` and
``O_DIRECTORY`` flags (Linux, macOS, the BSDs).  Where they are missing (Windows),
``SUPPORTED`` is false and ``open_beneath`` refuses every path: there is no way to open
a file there without a window in which a link could be swapped in.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["SUPPORTED", "LinkRefused", "Unsupported", "open_beneath"]

SUPPORTED = (
    hasattr(os, "O_NOFOLLOW")
    and hasattr(os, "O_DIRECTORY")
    and os.open in os.supports_dir_fd
    and os.stat in os.supports_dir_fd
    and os.stat in os.supports_follow_symlinks
)

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the check must not block the open; O_NOCTTY: a
# terminal swapped in must not become this process's controlling terminal.
_FILE = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | _CLOEXEC
)


class LinkRefused(Exception):
    """A symbolic link (or a name that is not a plain one) lies on the way below the folder."""


class Unsupported(Exception):
    """This platform cannot open a file without following links (see the module docstring)."""


# The seam between the check of a name and its open: tests replace it to swap a folder
# for a link exactly there, instead of racing for it.
def _between(dir_fd: int, name: str) -> None:
    pass


def open_beneath(
    root: Path,
    parts: Sequence[str],
    check: Callable[[os.stat_result], None],
) -> int:
    """A read-only descriptor of ``root/parts[0]/.../parts[-1]``, no link followed below ``root``.

    ``parts`` are plain names (no ``""``, ``"."``, ``".."`` or separators: the caller
    normalises the path first).  ``check`` sees the last entry's own ``lstat`` before it
    is opened and raises to refuse it, so a device or FIFO is never opened at all; with
    no ``parts`` it sees ``root`` itself.  The caller owns the descriptor and must
    ``fstat`` it again: an entry can still be replaced between that look and the open.

    Raises ``LinkRefused`` for a symlink on the way, ``Unsupported`` where the platform
    cannot do this, ``FileNotFoundError`` / ``NotADirectoryError`` for a missing entry or
    a file used as a folder, and ``OSError`` for anything else the system refuses.
    """
    if not SUPPORTED:
        raise Unsupported
    for name in parts:
        if name in ("", ".", "..") or "/" in name or (os.altsep and os.altsep in name):
            raise LinkRefused(name)
    dir_fd = os.open(root, _DIRECTORY)
    try:
        if not parts:
            check(os.fstat(dir_fd))
            # The folder itself: ``check`` refuses directories, so this is not reached
            # by the tools; a caller that accepts one gets a descriptor of it.
            return os.dup(dir_fd)
        for name in parts[:-1]:
            _between(dir_fd, name)
            try:
                next_fd = os.open(name, _DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as err:
                # Linux says ENOTDIR for a link opened with O_DIRECTORY | O_NOFOLLOW,
                # others ELOOP: only the entry itself tells a link from a file.
                _raise_if_link(err, dir_fd, name)
                raise
            os.close(dir_fd)
            dir_fd = next_fd
        name = parts[-1]
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise LinkRefused(name)
        check(info)
        _between(dir_fd, name)
        try:
            return os.open(name, _FILE, dir_fd=dir_fd)
        except OSError as err:
            _raise_if_link(err, dir_fd, name)
            raise
    finally:
        os.close(dir_fd)


def _raise_if_link(err: OSError, dir_fd: int, name: str) -> None:
    # With O_NOFOLLOW, ELOOP (EMLINK on FreeBSD) means the name was a link when it was
    # opened, whatever it is by now: a swapper may already have put a file back.
    if err.errno in (errno.ELOOP, errno.EMLINK):
        raise LinkRefused(name) from None
    if err.errno != errno.ENOTDIR:
        return
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise LinkRefused(name) from None

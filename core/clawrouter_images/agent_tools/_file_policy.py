"""Which local files the LLM may name: inside a folder the deployer allowed, opened once,
through no symbolic link, so a manipulated LLM cannot send ``~/.ssh/id_rsa`` upstream,
nor learn whether it exists."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from .._exceptions import InputImageError, quote


def check_local_path(
    value: str,
    allowed_roots: Sequence[Path],
    *,
    folders_named: bool = True,
    argument: str = "image",
) -> str | io.BytesIO:
    """Let URLs and data URIs through; read a local path only inside an allowed root.

    A URL or data URI comes back unchanged (the client checks URLs by address when it
    fetches them).  A local path comes back as the image itself: a binary file object
    holding the bytes, named for messages by the path as given, which the client reads
    like any file object.  The file is opened once, and that is what is read.

    The rule, in order:

    - Containment is decided on the path's text, before the file system is touched:
      ``~`` expanded, ``..`` taken as written; a relative path is outside, since no
      working directory is implied.  So a refused path gets the same answer whether or
      not it exists, is a folder or a link: the LLM learns nothing about files outside.
    - The file is opened below the deepest root holding it, name by name, through no
      symbolic link (``_safeopen``): a link below the root, even one pointing back
      inside, is refused with that same answer, and a folder swapped for a link while
      this runs cannot lead outside.
    - The opened file must be a regular image file within the size cap; inside the
      roots, "not found" and "not an image" are said as such.

    ``folders_named`` (see ``ImageToolConfig.folders_named``) picks the refusal's advice:
    with no folder of the deployer's own, it says how one is allowed.  ``argument`` names
    the value in every refusal (``mask``, ``image[1]``), so the LLM knows which to fix.
    """
    from .._inputs import check_regular, os_errors, read_image_fd, reference_kind
    from .._safeopen import LinkRefused, Unsupported, open_beneath

    text = value.strip()
    if reference_kind(text) != "path":
        return text
    path = quote(text, 200)
    source = f"{argument} path {path}"
    outside = InputImageError(_outside(source, allowed_roots, folders_named=folders_named))
    try:
        # expanduser reads the user database; abspath only the text (resolve() would
        # touch the file system, and follow links).
        written = Path(text).expanduser()
        candidate = Path(os.path.abspath(written))  # noqa: PTH100
    except (ValueError, RuntimeError):  # "~nosuchuser", NUL bytes, unencodable names
        raise outside from None
    root = _inside(candidate, allowed_roots) if written.is_absolute() else None
    if root is None:
        raise outside
    try:
        with os_errors(source):
            fd = open_beneath(
                root, candidate.relative_to(root).parts, lambda info: check_regular(info, source)
            )
    except LinkRefused:
        raise outside from None
    except Unsupported:
        raise InputImageError(
            f"{source} cannot be read: this system cannot open a file without "
            "following symbolic links, so these tools read no local file; ask the user to "
            "give a URL of the image"
        ) from None
    return _LocalImage(read_image_fd(fd, source).data, path)


def _outside(source: str, roots: Sequence[Path], *, folders_named: bool) -> str:
    """The one refusal of a path outside the roots: it names the argument and the path,
    never the file."""
    listed = ", ".join(str(r) for r in roots) or "(none)"
    if not folders_named:
        return (
            f"{source} is outside the folders this tool may read ({listed}): "
            "the deployer has allowed no folder for local images. Ask the user to give a "
            "URL of the image instead, or to allow its folder (allowed_dirs for the Python "
            "tools, --allowed-dir for the MCP server)"
        )
    return (
        f"{source} is outside the folders this tool may read ({listed}); "
        "ask the user to copy the image into one of them or to give a URL. A path must "
        "be absolute (or start with ~) and reach the image through no symbolic link"
    )


def _inside(path: Path, roots: Sequence[Path]) -> Path | None:
    """The deepest root holding ``path`` (by its text), or None.

    The deepest, because a root may lie inside another through a link of its own
    (``allowed_dirs=["/data", "/data/link"]``): below the outer one, the walk would meet
    that link and refuse.
    """
    holding = [root for root in roots if path.is_relative_to(root)]
    return max(holding, key=lambda root: len(root.parts), default=None)


class _LocalImage(io.BytesIO):
    """A local input read by the file policy, named by the path the LLM gave."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        # The client names a file object's image by ``name`` in its messages.
        self.name = name
        self._size = len(data)

    def __repr__(self) -> str:
        # Reprs land in agent traces and logs: never the image itself.
        return f"<local image {self.name!r}, {self._size:,} bytes>"

"""Where the tools may read local files, and how: the class of issue 20 §3.

- No implicit working directory: with no folder named, a path in the working directory
  (``/``, as a desktop app starts an MCP server, or any other) is refused, absolute or
  relative; only ``allowed_dirs``, ``save_dir`` and ClawRouter's image folder are read.
- A refused path outside says nothing about the file: one text for existing and missing
  files, folders, non-images, links that escape, ``..``, ``~``, trailing slashes, NUL
  bytes, long names and ``/proc``.
- Check-then-open races: the file is opened once, name by name below the root, through
  no link.  A folder or file swapped for a link exactly between the look and the open
  (a hook in ``_safeopen``) is refused, and a thread swapping them as fast as it can
  gets no outside byte read in 2000 attempts.
- A FIFO or device inside an allowed folder is refused without hanging.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError
from tests.support.png import png_bytes

from clawrouter_images import InputImageError, _safeopen
from clawrouter_images._constants import CLAWROUTER_IMAGE_DIR
from clawrouter_images._exceptions import quote
from clawrouter_images.agent_tools import ImageToolConfig, ImageTools
from clawrouter_images.agent_tools._file_policy import check_local_path
from clawrouter_images.agent_tools._schemas import EditArgs

if TYPE_CHECKING:
    from tests.reliability.conftest import Clients
    from tests.support.server import FakeClawRouter

pytestmark = pytest.mark.skipif(
    not _safeopen.SUPPORTED, reason="no dir_fd / O_NOFOLLOW here: every local path is refused"
)

OUTSIDE_TEXT = "is outside the folders this tool may read"
NONE_NAMED = "the deployer has allowed no folder for local images"
INSIDE_PNG = png_bytes(colour=(0, 128, 0))
OUTSIDE_PNG = png_bytes(colour=(255, 0, 0))
RACE_ATTEMPTS = 2000
HANG_LIMIT_SECONDS = 10.0


@dataclass
class Tree:
    """``root`` (allowed) holding ``sub/photo.png``; ``outside`` holding another image."""

    root: Path
    outside: Path

    @property
    def roots(self) -> list[Path]:
        return ImageToolConfig(allowed_dirs=[self.root]).allowed_roots()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tree:
    base = tmp_path.resolve()
    root = base / "allowed"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "photo.png").write_bytes(INSIDE_PNG)
    (root / "photo.png").write_bytes(INSIDE_PNG)
    outside = base / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "photo.png").write_bytes(OUTSIDE_PNG)
    (outside / "sub" / "photo.png").write_bytes(OUTSIDE_PNG)
    (outside / "notes.txt").write_text("a secret\n")
    # ~ is the outside folder, and ClawRouter's image folder lives in it (and is missing).
    monkeypatch.setenv("HOME", str(outside))
    return Tree(root, outside)


def _refusal(path: str, roots: list[Path], *, named: bool = True) -> str:
    with pytest.raises(InputImageError) as caught:
        check_local_path(path, roots, folders_named=named)
    return caught.value.message


def _read(path: str, roots: list[Path]) -> bytes:
    image = check_local_path(path, roots)
    assert not isinstance(image, str)
    return image.read()


# -- no implicit working directory ---------------------------------------------------------


def test_default_roots_are_clawrouters_folder_alone(tmp_path: Path) -> None:
    """With nothing named, the only folder read is ClawRouter's image folder, never the cwd."""
    config = ImageToolConfig()
    folder = Path(os.path.abspath(CLAWROUTER_IMAGE_DIR.expanduser()))
    assert config.allowed_roots() == list(dict.fromkeys([folder, folder.resolve()]))
    assert not config.folders_named()


def test_save_dir_is_a_root_and_names_a_folder(tmp_path: Path) -> None:
    """The tools' own save folder is readable (earlier results), with no allowed_dirs."""
    config = ImageToolConfig(save_dir=tmp_path / "saved")
    assert tmp_path / "saved" in config.allowed_roots()
    assert config.folders_named()


@pytest.mark.parametrize("cwd", ["/", "tmp"])
@pytest.mark.parametrize("spelling", ["absolute", "relative"])
def test_a_file_in_the_working_directory_is_refused(
    cwd: str,
    spelling: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    recorded_clients: Clients,
    fake: FakeClawRouter,
) -> None:
    """No folder named: an image in the working directory is refused, and nothing is sent."""
    if cwd == "/":
        folder = Path("/")
        name = next(
            (n for n in ("etc/hostname", "etc/passwd", "bin/sh") if (folder / n).exists()), None
        )
        if name is None:
            pytest.skip("no well-known file under /")
    else:
        folder = tmp_path.resolve()
        name = "photo.png"
        (folder / name).write_bytes(INSIDE_PNG)
    monkeypatch.chdir(folder)
    path = str(folder / name) if spelling == "absolute" else name
    tools = ImageTools(
        ImageToolConfig(), client=recorded_clients.sync, async_client=recorded_clients.aio
    )
    with pytest.raises(InputImageError) as caught:
        tools.run(EditArgs(prompt="x", image=path))
    message = caught.value.message
    missing = str(folder / "surely-missing.png")
    reference = _refusal(missing, ImageToolConfig().allowed_roots(), named=False)
    assert NONE_NAMED in message
    assert message.replace(f"path {path} ", "path <path> ", 1) == reference.replace(
        f"path {missing} ", "path <path> ", 1
    )
    assert fake.requests == []


def test_the_refusal_with_nothing_named_says_how_to_allow_a_folder(tree: Tree) -> None:
    """The LLM is told to ask the user, and the deployer's two spellings are named."""
    message = _refusal(str(tree.root / "photo.png"), ImageToolConfig().allowed_roots(), named=False)
    assert "Ask the user" in message
    assert "allowed_dirs" in message
    assert "--allowed-dir" in message


def test_a_filesystem_root_works_but_warns(tree: Tree) -> None:
    """allowed_dirs=["/"] is the deployer's explicit choice: it warns, then reads."""
    with pytest.warns(UserWarning, match="a root of the file system"):
        config = ImageToolConfig(allowed_dirs=["/"])
    path = tree.root / "sub" / "photo.png"
    real = [p for p in path.parents if p.is_symlink()]
    if real:
        pytest.skip(f"{real[0]} is a symlink: not readable below /")
    assert _read(str(path), config.allowed_roots()) == INSIDE_PNG


def test_an_ordinary_folder_does_not_warn(tree: Tree) -> None:
    """Only a root of the file system warns (pytest turns any warning into an error)."""
    ImageToolConfig(allowed_dirs=[tree.root, "~"])


def test_an_allowed_folder_that_cannot_be_expanded_fails_at_construction() -> None:
    """``~nosuchuser`` is the deployer's mistake: said when the tools are built, not later."""
    with pytest.raises(ValidationError, match="cannot be used"):
        ImageToolConfig(allowed_dirs=["~nosuchuser-xyz/pictures"])


# -- one refusal outside --------------------------------------------------------------------


def _outside_paths(t: Tree) -> dict[str, str]:
    (t.root / "to-outside.png").symlink_to(t.outside / "photo.png")
    (t.root / "to-missing.png").symlink_to(t.outside / "missing.png")
    (t.root / "to-outside-dir").symlink_to(t.outside, target_is_directory=True)
    (t.root / "to-inside.png").symlink_to(t.root / "photo.png")
    (t.root / "sub" / "up").symlink_to("..", target_is_directory=True)
    return {
        "existing file": str(t.outside / "photo.png"),
        "missing file": str(t.outside / "missing.png"),
        "directory": str(t.outside),
        "non-image": str(t.outside / "notes.txt"),
        "etc-passwd": "/etc/passwd",
        "symlink inside to outside file": str(t.root / "to-outside.png"),
        "symlink inside to missing file": str(t.root / "to-missing.png"),
        "symlinked folder inside to outside": str(t.root / "to-outside-dir" / "photo.png"),
        "symlinked folder, missing file": str(t.root / "to-outside-dir" / "missing.png"),
        # Links are refused below a root even when they stay inside (module docstring).
        "symlink inside to inside": str(t.root / "to-inside.png"),
        "symlinked folder inside to inside": str(t.root / "sub" / "up" / "photo.png"),
        "dotdot existing": f"{t.root}/../outside/photo.png",
        "dotdot missing": f"{t.root}/sub/../../outside/missing.png",
        "tilde existing": "~/photo.png",
        "tilde missing": "~/missing.png",
        "tilde other user": "~nosuchuser-xyz/photo.png",
        "relative": "photo.png",
        "relative dotdot": "../outside/photo.png",
        "trailing slash on a file": f"{t.outside / 'photo.png'}/",
        "trailing slash on a folder": f"{t.outside}/",
        "NUL byte": f"{t.outside / 'photo.png'}\x00.png",
        "very long name": f"{t.outside}/{'a' * 5000}.png",
        "proc self environ": "/proc/self/environ",
        "proc self cwd": "/proc/self/cwd/photo.png",
        "proc self root": f"/proc/self/root{t.outside / 'photo.png'}",
        "root itself": "/",
    }


def test_every_outside_path_gets_the_one_refusal(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Existing or not, file or folder, link or ``..``: the same text apart from the quoted path."""
    monkeypatch.chdir(tree.root)  # relative names would exist here: it must not matter
    paths = _outside_paths(tree)
    texts = {}
    for name, path in paths.items():
        message = _refusal(path, tree.roots)
        assert OUTSIDE_TEXT in message, (name, message)
        texts[name] = message.replace(f"path {quote(path.strip(), 200)} ", "path <path> ", 1)
    reference = texts["existing file"]
    assert {name: text for name, text in texts.items() if text != reference} == {}


def test_the_refusal_names_no_file_and_no_content(tree: Tree) -> None:
    """Nothing of what exists outside reaches the text: not its type, size or content."""
    message = _refusal(str(tree.outside / "notes.txt"), tree.roots)
    for telling in ("not found", "PNG", "directory", "regular", "secret", "MB"):
        assert telling not in message


def test_inside_a_root_missing_and_non_images_are_said_as_such(tree: Tree) -> None:
    """Inside an allowed folder the LLM may learn what is wrong, naming the path it gave."""
    (tree.root / "notes.png").write_text("not an image")
    (tree.root / "folder.png").mkdir()
    given = f"{tree.root}/sub/../notes.png"
    assert "is not a PNG, JPEG, WebP or GIF image" in _refusal(given, tree.roots)
    assert given in _refusal(given, tree.roots)
    assert "image file not found" in _refusal(str(tree.root / "missing.png"), tree.roots)
    assert "image file not found" in _refusal(str(tree.root / "no" / "x.png"), tree.roots)
    assert "is a directory" in _refusal(str(tree.root / "folder.png"), tree.roots)
    assert "cannot read image" in _refusal(str(tree.root / "photo.png" / "x.png"), tree.roots)


def test_an_inside_image_is_read_and_named_as_given(tree: Tree) -> None:
    """check_local_path hands back the bytes it read, named by the path as the LLM wrote it."""
    given = f"  {tree.root}/sub/./photo.png "
    image = check_local_path(given, tree.roots)
    assert not isinstance(image, str)
    assert image.name == given.strip()
    assert image.read() == INSIDE_PNG
    assert "bytes" in repr(image)
    assert "PNG" not in repr(image)


def test_a_root_that_is_itself_a_symlink_is_read_through(tree: Tree, tmp_path: Path) -> None:
    """Only links below a root are refused: the root's own path may hold them (/tmp on macOS)."""
    link = tmp_path / "link-to-allowed"
    link.symlink_to(tree.root, target_is_directory=True)
    roots = ImageToolConfig(allowed_dirs=[link]).allowed_roots()
    assert _read(str(link / "sub" / "photo.png"), roots) == INSIDE_PNG
    assert _read(str(tree.root / "sub" / "photo.png"), roots) == INSIDE_PNG


def test_the_deepest_root_decides(tree: Tree) -> None:
    """A root inside another through a link of its own is walked from itself, not refused."""
    (tree.root / "shared").symlink_to(tree.outside, target_is_directory=True)
    roots = ImageToolConfig(allowed_dirs=[tree.root, tree.root / "shared"]).allowed_roots()
    assert _read(str(tree.root / "shared" / "photo.png"), roots) == OUTSIDE_PNG


def test_without_dir_fd_support_nothing_local_is_read(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a file cannot be opened without following links, inside paths are refused too."""
    monkeypatch.setattr(_safeopen, "SUPPORTED", False)
    message = _refusal(str(tree.root / "photo.png"), tree.roots)
    assert "cannot be read" in message
    assert "URL" in message
    assert OUTSIDE_TEXT in _refusal(str(tree.outside / "photo.png"), tree.roots)


# -- check-then-open races ------------------------------------------------------------------


Swap = Callable[[Tree], None]


def _folder_to_link(t: Tree) -> None:
    (t.root / "sub").rename(t.root / "sub-moved")
    (t.root / "sub").symlink_to(t.outside / "sub", target_is_directory=True)


def _file_to_link(t: Tree) -> None:
    link = t.root / "sub" / "swap.tmp"
    link.symlink_to(t.outside / "sub" / "photo.png")
    link.replace(t.root / "sub" / "photo.png")


def _file_to_fifo(t: Tree) -> None:
    fifo = t.root / "sub" / "swap.tmp"
    os.mkfifo(fifo)
    fifo.replace(t.root / "sub" / "photo.png")


SWAPS: dict[str, tuple[str, Swap, str]] = {
    # name: (the name whose check the swap follows, the swap, what the caller then reads)
    "folder swapped for a link to outside": ("sub", _folder_to_link, OUTSIDE_TEXT),
    "file swapped for a link to outside": ("photo.png", _file_to_link, OUTSIDE_TEXT),
    "file swapped for a FIFO": ("photo.png", _file_to_fifo, "is not a regular file"),
}


@pytest.mark.parametrize("name", SWAPS)
def test_a_swap_between_check_and_open_reads_nothing_outside(
    name: str, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The swap happens exactly between the look at a name and its open: it is refused."""
    if name.endswith("FIFO") and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    after, swap, expected = SWAPS[name]
    swapped: list[str] = []

    def between(dir_fd: int, entry: str) -> None:
        if entry == after and not swapped:
            swap(tree)
            swapped.append(entry)

    monkeypatch.setattr(_safeopen, "_between", between)
    path = str(tree.root / "sub" / "photo.png")
    message = _bounded(lambda: _refusal(path, tree.roots))
    assert swapped == [after]
    assert expected in message


def _bounded(attempt: Callable[[], str]) -> str:
    """``attempt()`` in a thread with a time limit, so that a hang fails instead of blocking."""
    result: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(attempt())
        except BaseException as err:  # handed to the test's thread
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_SECONDS)
    assert not thread.is_alive(), "the attempt hung"
    if errors:
        raise errors[0]
    return result[0]


@dataclass
class RaceTally:
    attempts: int = 0
    inside: int = 0
    refused: int = 0
    missing: int = 0
    outside: int = 0
    swaps: int = 0


def _flip_folder(t: Tree) -> Iterator[None]:
    """``sub`` alternates between the real folder and a link to the outside one."""
    real, link = t.root / "sub-real", t.root / "sub-link"
    link.symlink_to(t.outside / "sub", target_is_directory=True)
    while True:
        (t.root / "sub").rename(real)
        link.rename(t.root / "sub")
        yield
        (t.root / "sub").rename(link)
        real.rename(t.root / "sub")
        yield


def _flip_file(t: Tree) -> Iterator[None]:
    """``sub/photo.png`` is atomically replaced by a link to outside, then by the real file."""
    sub = t.root / "sub"
    keep = t.root / "kept.png"
    os.link(sub / "photo.png", keep)
    while True:
        (sub / "l.tmp").symlink_to(t.outside / "sub" / "photo.png")
        (sub / "l.tmp").replace(sub / "photo.png")
        yield
        os.link(keep, sub / "f.tmp")
        (sub / "f.tmp").replace(sub / "photo.png")
        yield


@pytest.mark.parametrize("flip", [_flip_folder, _flip_file], ids=["folder", "file"])
def test_a_racing_swapper_never_gets_an_outside_byte_read(
    flip: Callable[[Tree], Iterator[None]], tree: Tree
) -> None:
    """A thread swapping links in as fast as it can: 2000 reads, none of them outside."""
    stop = threading.Event()
    tally = RaceTally()

    def swapper() -> None:
        for _ in flip(tree):
            tally.swaps += 1
            if stop.is_set() or tally.swaps > 50 * RACE_ATTEMPTS:
                return

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    path = str(tree.root / "sub" / "photo.png")
    try:
        for _ in range(RACE_ATTEMPTS):
            tally.attempts += 1
            try:
                data = _read(path, tree.roots)
            except InputImageError as err:
                # Refused as a link, or met while a rename was half done (missing, or a
                # folder that was a link a moment ago): all refusals, none a read.
                if OUTSIDE_TEXT in err.message:
                    tally.refused += 1
                elif "not found" in err.message or "Not a directory" in err.message:
                    tally.missing += 1
                else:
                    raise
                continue
            if data == INSIDE_PNG:
                tally.inside += 1
            else:
                tally.outside += 1
    finally:
        stop.set()
        thread.join(HANG_LIMIT_SECONDS)
    assert not thread.is_alive()
    print(f"race {flip.__name__}: {tally}")  # the figures, seen with -s
    assert tally.outside == 0
    assert tally.attempts == RACE_ATTEMPTS
    # Both states were met: the race was run, not lost to scheduling.
    assert tally.swaps > 0
    assert tally.inside > 0


# -- FIFOs and devices inside ---------------------------------------------------------------


def test_a_fifo_inside_is_refused_without_opening_it(tree: Tree) -> None:
    """The entry's own stat refuses it before any open, so no writer is ever met."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tree.root / "pipe.png"
    os.mkfifo(fifo)
    message = _bounded(lambda: _refusal(str(fifo), tree.roots))
    assert "is not a regular file (a device, FIFO or socket)" in message
    # No reader ever had it open: a non-blocking writer finds none.
    with pytest.raises(OSError, match="No such device"):
        os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)


def test_a_device_inside_is_refused(tree: Tree) -> None:
    """A character device (like /dev/zero) inside the folder is refused, not read."""
    device = tree.root / "zero.png"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except (OSError, AttributeError) as err:
        pytest.skip(f"cannot make a device node here: {err}")
    message = _bounded(lambda: _refusal(str(device), tree.roots))
    assert "is not a regular file (a device, FIFO or socket)" in message


@pytest.mark.parametrize("name", ["..", ".", "", "a/b"])
def test_open_beneath_takes_plain_names_only(tree: Tree, name: str) -> None:
    """A name that could climb or skip a level is refused before anything is opened."""
    with pytest.raises(_safeopen.LinkRefused):
        _safeopen.open_beneath(tree.root, ["sub", name, "photo.png"], lambda info: None)

"""Saving result images: streamed to a hidden temporary file, renamed into place when complete.

The final name comes from the prompt, never from a path the server chose, gets its
extension from the bytes actually received, and never replaces an existing file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import threading
import unicodedata
from collections.abc import Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar

from ._exceptions import DownloadError, InvalidRequestError, paid_result_error, quote
from ._inputs import extension_for, sniff_image_type

if TYPE_CHECKING:
    from ._models import ImageResponse

_T = TypeVar("_T")

# An image's bytes are kept in memory up to this size before its temporary file is opened
# (see AtomicImageFile): a few download chunks, so memory stays small per save.
SPILL_BYTES = 1024 * 1024

# A stem holds at most this many characters (a short, readable name) and this many bytes
# once UTF-8 encoded in NFD, the form macOS stores: with "-4", "-10000" and ".webp" added
# the name stays far below 255 bytes (ext4, APFS, NTFS's 255 UTF-16 units) and below
# eCryptfs's 143.
_MAX_STEM_CHARS = 48
_MAX_STEM_BYTES = 120
_MAX_COLLISIONS = 10_000
_FALLBACK_STEM = "image"
# Marks kept on one letter: real scripts stack two or three; "Zalgo" text stacks dozens.
_MAX_MARKS = 3
# Letters by Unicode category that draw nothing: a name made of them would look empty.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# Names Windows reserves for devices, whatever the extension: "con.png" cannot be created.
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"{device}{digit}" for device in ("com", "lpt") for digit in "0123456789"}
)


def safe_stem(prompt: str | None, index: int, count: int) -> str:
    """A file name stem from the prompt; ``-2`` etc. when there are several images.

    ``"A red fox, at dawn!"`` -> ``a-red-fox-at-dawn``; ``"Кот в шляпе"`` -> ``кот-в-шляпе``.
    Letters and digits of any script are kept (NFKC-normalised, lower case) with their
    combining marks; everything else (punctuation, dots, slashes, spaces, symbols, emoji,
    control and format characters such as bidi marks) separates words with ``-``.
    """
    stem = _slug(prompt or "") or _FALLBACK_STEM
    if stem in _WINDOWS_RESERVED:
        stem = f"{stem}-{_FALLBACK_STEM}"
    return f"{stem}-{index + 1}" if count > 1 else stem


def _slug(text: str) -> str:
    # Only as much as can survive the caps: a megabyte prompt costs no more than a short one.
    text = unicodedata.normalize("NFKC", text[: _MAX_STEM_CHARS * 8]).lower()
    clusters: list[str] = []  # a letter or digit with its marks, or "-"
    for char in text:
        kind = unicodedata.category(char)
        if (kind[0] == "L" or kind == "Nd") and char not in _INVISIBLE_LETTERS:
            clusters.append(char)
        elif kind[0] == "M" and clusters and clusters[-1] != "-":
            if len(clusters[-1]) <= _MAX_MARKS:
                clusters[-1] += char
        elif kind == "Cf":
            # Invisible (bidi marks, zero-width joiners): dropped, so they split no word.
            continue
        elif clusters and clusters[-1] != "-":
            clusters.append("-")
    kept: list[str] = []
    size = 0
    for cluster in clusters:
        # Cut between clusters only: a letter never loses its accent or vowel sign.
        grown = size + len(unicodedata.normalize("NFD", cluster).encode())
        if len(kept) == _MAX_STEM_CHARS or grown > _MAX_STEM_BYTES:
            # And between words where there are any: "a-red-fox", not "a-red-fox-at-da".
            if cluster != "-" and "-" in kept:
                del kept[len(kept) - kept[::-1].index("-") :]
            break
        kept.append(cluster)
        size = grown
    return unicodedata.normalize("NFC", "".join(kept)).strip("-")


def prepare_save_dir(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` if needed and prove a file can be written there.

    Called before a paid request is sent: a folder that is a file, cannot be created or
    is read-only must cost nothing, not fail after the images were paid for.
    """
    target = Path(directory).expanduser()
    try:
        is_file = target.exists() and not target.is_dir()
        if not is_file:
            target.mkdir(parents=True, exist_ok=True)
            probe = target / f".write-test-{secrets.token_hex(6)}"
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
    # OSError: read-only, no permission, a parent that is a file; ValueError: a NUL byte;
    # RuntimeError: ``~user`` for no such user.
    except (OSError, ValueError, RuntimeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise InvalidRequestError(
            f"cannot save into {quote(str(target), 200)}: {quote(reason, 200)}; "
            "choose a folder that exists or can be created, and is writable"
        ) from None
    if is_file:
        raise InvalidRequestError(
            f"cannot save into {quote(str(target), 200)}: it exists and is not a folder; "
            "choose another folder"
        )
    return target


class AtomicImageFile:
    """Collect one image's bytes in ``directory`` and publish it only when it is whole.

    Use as a context manager: leaving it with an exception, or without ``commit()``,
    removes the temporary file, so an interrupted download leaves nothing behind.

    The temporary file is opened only when the bytes outgrow ``SPILL_BYTES`` or at
    ``commit()``: most images are smaller, and each is then opened, written, synced and
    linked in one step (for the async client, one trip to a worker thread).
    """

    def __init__(self, directory: Path, stem: str, *, source: str) -> None:
        self._directory = directory
        self._stem = stem
        self._source = source
        self._handle: BinaryIO | None = None
        self._temp: Path | None = None
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._head = b""

    def _open(self) -> BinaryIO:
        if self._handle is not None:
            return self._handle
        # Not tempfile.mkstemp: its 0600 mode would stick to the published image; 0666
        # lets the umask decide, as for any file the user saves.
        for _ in range(100):
            temp = self._directory / f".{self._stem[:16]}-{secrets.token_hex(6)}.part"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                break
            except FileExistsError:
                continue
            except FileNotFoundError:
                # The folder went away since it was proven: made again, as a save makes it.
                self._directory.mkdir(parents=True, exist_ok=True)
        else:  # pragma: no cover - 100 collisions of 48 random bits
            raise FileExistsError(errno.EEXIST, "no free temporary name", str(self._directory))
        self._temp = temp
        self._handle = handle = os.fdopen(fd, "wb")
        for chunk in self._pending:
            handle.write(chunk)
        self._pending = []
        return handle

    def spills(self, size: int) -> bool:
        """Whether writing ``size`` more bytes opens the temporary file (disk work)."""
        return self._handle is None and self._pending_size + size > SPILL_BYTES

    def keep(self, data: bytes) -> None:
        """Bytes already in memory (an inline image): held until ``commit()``, whatever
        their size, so that taking them does no disk work."""
        if len(self._head) < 16:
            self._head += data[: 16 - len(self._head)]
        self._pending.append(data)
        self._pending_size += len(data)

    def write(self, chunk: bytes) -> None:
        # No cap here: a download keeps the download cap as it streams (``_fetch``), and
        # inline images came within the answer's cap.
        if len(self._head) < 16:
            self._head += chunk[: 16 - len(self._head)]
        if self.spills(len(chunk)):
            self._open()
        if self._handle is None:
            self._pending.append(bytes(chunk))
            self._pending_size += len(chunk)
        else:
            self._handle.write(chunk)

    def commit(self) -> Path:
        """Flush to disk and give the file its final, unused name."""
        mime = sniff_image_type(self._head)
        if mime is None:
            raise DownloadError(
                f"result {self._source} is not an image (first bytes {self._head[:8].hex()}); "
                "not saved"
            )
        handle = self._open()
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        temp = self._temp
        assert temp is not None
        extension = extension_for(mime)
        for attempt in range(_MAX_COLLISIONS):
            suffix = "" if attempt == 0 else f"-{attempt + 1}"
            final = self._directory / f"{self._stem}{suffix}.{extension}"
            try:
                # link() fails if the name exists: no check-then-write race, no overwrite.
                os.link(temp, final)
            except FileExistsError:
                continue
            except OSError:
                # Filesystems without hard links: claim the name exclusively, then replace it.
                try:
                    with final.open("xb"):
                        pass
                except FileExistsError:
                    continue
                try:
                    temp.replace(final)
                except BaseException:
                    final.unlink(missing_ok=True)  # the claimed, empty name
                    raise
                self._temp = None
                return final
            temp.unlink()
            self._temp = None  # published: nothing left for __exit__ to remove
            return final
        raise FileExistsError(
            errno.EEXIST, f"no free file name for {self._stem}", str(self._directory)
        )

    def __enter__(self) -> AtomicImageFile:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._pending = []
        if self._handle is None or self._temp is None:
            return  # nothing was written to disk
        try:
            # Closing flushes, and on a full disk that raises: the temporary file must
            # go all the same, and the first error is the one to report.
            self._handle.close()
        except OSError:
            if exc is None:
                raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                self._temp.unlink()


# -- the save plan, shared by both clients' save() ------------------------------------------


def save_plan(
    response: ImageResponse,
    directory: str | os.PathLike[str],
    paths: list[Path],
    *,
    proven: bool = False,
) -> Generator[tuple[AtomicImageFile, str | None], None, None]:
    """Each image's file: inline bytes are held in it already; otherwise the URL whose
    bytes the caller writes.  Each file lands when the caller moves on, and its path is
    added to ``paths`` then, so a later failure does not hide earlier files.

    ``proven``: ``prepare_save_dir`` already accepted ``directory`` (a batch proves its
    folder once, before its first request); each file is still created exclusively
    there, so a folder gone bad since fails that file, not silently."""
    from ._answers import inline_bytes, result_url

    target = Path(directory).expanduser() if proven else prepare_save_dir(directory)
    count = len(response.data)
    for index, item in enumerate(response.data):
        stem = safe_stem(response.prompt, index, count)
        with AtomicImageFile(target, stem, source=quote(item.url or "b64_json", 120)) as out:
            inline = inline_bytes(item)
            if inline is not None:
                out.keep(inline)
            yield out, None if inline is not None else result_url(item)
            paths.append(out.commit())


class Offload(Protocol):
    """What runs a save's blocking disk steps off the event loop (``off_loop`` below, or a
    batch's ``DiskWorker``)."""

    def __call__(self, work: Callable[[], _T], /) -> Awaitable[_T]: ...


async def off_loop(work: Callable[[], _T]) -> _T:
    """``work()`` (a step of a save plan, a write that opens a file) in a worker thread, so
    that the event loop serves other sockets while it blocks on the disk.

    If the await is cancelled, the work is waited for before the caller moves on
    (asyncio's own cancellation does not wait for a worker thread): a plan is then closed,
    its temporary file removed, only once the work left it, and a file it linked is
    counted.
    """
    from anyio.to_thread import run_sync

    finished = threading.Event()

    def run() -> _T:
        try:
            return work()
        finally:
            finished.set()

    try:
        return await run_sync(run)
    except BaseException:
        finished.wait()  # at most the rest of one step; at once unless cancelled mid-step
        raise


@contextlib.contextmanager
def saving(response: ImageResponse, paths: list[Path]) -> Iterator[None]:
    """The images were paid for: whatever goes wrong (a full disk, a folder removed
    meanwhile, a hostile URL), the caller gets a typed error that still holds them."""
    try:
        yield
    except Exception as err:
        raise paid_result_error(err, response, [str(p) for p in paths]) from err
    finally:
        response._local.saved = list(paths)  # for the notebook preview

"""The emulator's own inputs cannot make it the weak point of a test machine.

image2image reads only regular files, opened once, never more than the client's input
cap, and quotes nothing of a file's content; downloads stop at the same cap; a request
body stops at ``max_body_bytes`` as it streams; ``--host`` off loopback warns.  Every
refusal of ClawRouter's own (and of the emulator's caps) is recorded unpaid.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import math
import os
import socket
import stat
import threading
import tracemalloc
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.png import png_bytes

import clawrouter_images.emulator as emulator_package
from clawrouter_images._cli import main
from clawrouter_images._constants import MAX_INPUT_IMAGE_BYTES
from clawrouter_images.emulator import Emulator, serve
from clawrouter_images.emulator import __main__ as emulator_main
from clawrouter_images.emulator._resolve import ResolveError, read_local_image, resolve_value
from clawrouter_images.emulator._server import exposure_warning, is_loopback
from clawrouter_images.emulator._wire import MAX_BODY_BYTES

if TYPE_CHECKING:
    from tests.emulator.conftest import Call, CallSocket

IMAGE2IMAGE = "/v1/images/image2image"
GENERATIONS = "/v1/images/generations"
MEGABYTE = 1024 * 1024
# Text no answer or log line may ever carry: it stands for a secret file's content.
SECRET = b"root:x:0:0:SECRET-7f3a9c:/root:/bin/bash\n"

# Named, never bound: the tests that use it replace serve() and run().
ALL_INTERFACES = "0.0.0.0"  # noqa: S104

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX special files")


async def _edit(call: Call, emu: Emulator, image: str) -> tuple[int | None, Any]:
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body={"prompt": "x", "image": image})
    return raw.status, raw.json()


# -- files ------------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("name", ["/dev/zero", "/dev/urandom", "symlink-to-dev-zero"])
async def test_endless_devices_are_refused_without_reading(
    call: Call, emu: Emulator, home: Path, name: str
) -> None:
    """A device (or a link to one) is a 400 in ClawRouter's wrapper, unpaid, read not at all."""
    if name.startswith("symlink"):
        (home / "pics" / "zero.png").symlink_to("/dev/zero")
        image, shown = "~/pics/zero.png", f"{home}/pics/zero.png"
    else:
        image = shown = name
    tracemalloc.start()
    try:
        status, body = await _edit(call, emu, image)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (status, body) == (
        400,
        {"error": "Invalid request", "details": f"Image file is not a regular file: {shown}"},
    )
    assert peak < MEGABYTE
    assert emu.ledger[-1].paid is False


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_fifo_is_refused_without_waiting_for_a_writer(
    call: Call, emu: Emulator, home: Path
) -> None:
    """Opening a FIFO does not wait for a writer; the FIFO is refused as not regular."""
    fifo = home / "pics" / "pipe.png"
    os.mkfifo(fifo)
    rescued = threading.Event()

    def rescue() -> None:
        # Only if the emulator hangs in open(): a writer lets it return (and the test fail).
        rescued.set()
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    safety_net = threading.Timer(30, rescue)
    safety_net.start()
    try:
        status, body = await _edit(call, emu, str(fifo))
    finally:
        safety_net.cancel()
    assert not rescued.is_set()
    assert (status, body["details"]) == (400, f"Image file is not a regular file: {fifo}")


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")
async def test_a_unix_socket_is_refused(call: Call, emu: Emulator, tmp_path: Path) -> None:
    """A socket file cannot be opened, let alone read: a 400 naming the path, unpaid."""
    path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        status, body = await _edit(call, emu, str(path))
    assert status == 400
    assert body["details"].endswith(f"'{path}'") or body["details"].endswith(str(path))
    assert emu.ledger[-1].paid is False


async def test_a_directory_still_answers_eisdir(call: Call, emu: Emulator) -> None:
    """A directory keeps ClawRouter's recorded ``EISDIR`` text."""
    status, body = await _edit(call, emu, "~/pics/adir")
    assert (status, body["details"]) == (400, "EISDIR: illegal operation on a directory, read")


async def test_a_file_just_over_the_input_cap_is_refused_unread(
    call: Call, emu: Emulator, home: Path
) -> None:
    """One byte over ``MAX_INPUT_IMAGE_BYTES`` is a 400 (a sparse file: nothing is read)."""
    big = home / "pics" / "big.png"
    with big.open("wb") as file:
        file.truncate(MAX_INPUT_IMAGE_BYTES + 1)
    tracemalloc.start()
    try:
        status, body = await _edit(call, emu, "~/pics/big.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (status, body["details"]) == (
        400,
        f"Image file is larger than {MAX_INPUT_IMAGE_BYTES} bytes: {big}",
    )
    assert peak < MEGABYTE
    assert emu.ledger[-1].paid is False


def test_the_cap_is_inclusive(tmp_path: Path) -> None:
    """A file of exactly ``max_bytes`` is read whole; one byte more is refused."""
    (tmp_path / "a.png").write_bytes(b"x" * 100)
    (tmp_path / "b.png").write_bytes(b"x" * 101)
    uri = read_local_image("a.png", home=tmp_path, cwd=tmp_path, max_bytes=100)
    assert base64.b64decode(uri.split(",", 1)[1]) == b"x" * 100
    with pytest.raises(ResolveError, match="larger than 100 bytes"):
        read_local_image("b.png", home=tmp_path, cwd=tmp_path, max_bytes=100)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs procfs")
def test_files_that_lie_about_their_size_are_still_capped(tmp_path: Path) -> None:
    """A regular file whose size says 0 (procfs) is read only up to the cap, then refused."""
    assert os.stat("/proc/self/status").st_size == 0
    assert stat.S_ISREG(os.stat("/proc/self/status").st_mode)
    with pytest.raises(ResolveError, match="larger than 16 bytes"):
        read_local_image("/proc/self/status", home=tmp_path, cwd=tmp_path, max_bytes=16)


# -- nothing of a file's content in answers or logs -------------------------------------


@pytest.mark.parametrize("extension", ["png", "txt"])
async def test_a_non_image_file_is_never_quoted(
    call: Call, emu: Emulator, home: Path, caplog: pytest.LogCaptureFixture, extension: str
) -> None:
    """A readable non-image (think /etc/passwd) is refused without a byte of it, in any form."""
    caplog.set_level(logging.DEBUG)
    (home / f"passwd.{extension}").write_bytes(SECRET)
    raw = await call(
        emu, "POST", IMAGE2IMAGE, json_body={"prompt": "x", "image": f"~/passwd.{extension}"}
    )
    assert raw.status == 400
    assert "is not a readable image" in raw.json()["details"]
    said = raw.text + "\n".join(record.getMessage() for record in caplog.records)
    said += repr(emu.ledger)
    for form in ("SECRET-7f3a9c", SECRET[:8].hex(), base64.b64encode(SECRET[:12]).decode()):
        assert form not in said


async def test_a_corrupt_image_is_described_not_quoted(call: Call, emu: Emulator) -> None:
    """Pillow's messages do not pass through: the answer picks from the emulator's own words."""
    data = png_bytes(8, 8)
    start = data.index(b"IDAT") + 8
    corrupt = data[:start] + SECRET + data[start + len(SECRET) :]
    image = "data:image/png;base64," + base64.b64encode(corrupt).decode()
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body={"prompt": "x", "image": image})
    details = raw.json()["details"]
    assert raw.status == 400
    assert details.startswith("image is not a readable image: ")
    assert details.endswith(f"({len(corrupt)} bytes)")
    assert "SECRET" not in details


# -- downloads --------------------------------------------------------------------------


async def test_downloads_stop_at_the_cap(call: Call, emu: Emulator, home: Path) -> None:
    """A URL whose body passes the cap is a 400 naming the cap, not a data URI."""
    first = await call(emu, "POST", GENERATIONS, json_body={"prompt": "source"})
    url = first.json()["data"][0]["url"]
    size = len((await call(emu, "GET", url.split("8402", 1)[1])).body)

    async def resolve(max_bytes: int) -> str:
        return await resolve_value(
            "image", url, home=home, cwd=home, fetch=emu._fetch, max_bytes=max_bytes
        )

    assert (await resolve(size)).startswith("data:image/png;base64,")
    with pytest.raises(ResolveError) as caught:
        await resolve(size - 1)
    assert str(caught.value) == f"Failed to download image from {url}: larger than {size - 1} bytes"


# -- request bodies ---------------------------------------------------------------------


class Sender:
    """An ASGI ``receive`` that offers ``total`` bytes in chunks of one reused buffer."""

    def __init__(self, total: int, chunk: int = MEGABYTE) -> None:
        self.buffer = b"{" * chunk
        self.left = total
        self.calls = 0

    async def receive(self) -> dict[str, Any]:
        self.calls += 1
        if self.left <= 0:
            return {"type": "http.disconnect"}
        piece = self.buffer[: min(self.left, len(self.buffer))]
        self.left -= len(piece)
        return {"type": "http.request", "body": piece, "more_body": self.left > 0}


async def _post(
    emu: Emulator, sender: Sender, headers: list[tuple[bytes, bytes]] | None = None
) -> list[MutableMapping[str, Any]]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": IMAGE2IMAGE,
        "raw_path": IMAGE2IMAGE.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8402"), *(headers or [])],
    }
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await emu(scope, sender.receive, send)
    return sent


def test_the_default_body_cap_fits_a_four_image_edit_at_the_input_cap() -> None:
    """The cap is derived from the client's caps: four base64 images fit, 300 MB does not."""
    assert 4 * 4 * math.ceil(MAX_INPUT_IMAGE_BYTES / 3) <= MAX_BODY_BYTES
    assert MAX_BODY_BYTES < 300 * 1000 * 1000
    with Emulator() as emu:
        assert emu.max_body_bytes == MAX_BODY_BYTES


async def test_a_streamed_body_over_the_cap_is_cut_off_without_growing(emu: Emulator) -> None:
    """300 MB in 1 MB chunks, no Content-Length: reading stops one chunk past the cap and
    the emulator's memory does not grow with the body; the answer is 413, unpaid."""
    sender = Sender(300 * MEGABYTE)
    tracemalloc.start()
    try:
        sent = await _post(emu, sender)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sender.calls == MAX_BODY_BYTES // MEGABYTE + 1
    assert sender.left > 0
    assert peak < 8 * MEGABYTE
    assert sent[0]["status"] == 413
    entry = emu.ledger[-1]
    assert (entry.status, entry.paid, entry.body) == (413, False, None)


async def test_a_declared_length_over_the_cap_is_refused_before_reading(emu: Emulator) -> None:
    """A ``Content-Length`` over the cap is answered 413 with no body byte read."""
    sender = Sender(300 * MEGABYTE)
    length = str(300 * MEGABYTE).encode()
    sent = await _post(emu, sender, [(b"content-length", length)])
    assert sender.calls == 0
    assert sent[0]["status"] == 413


@pytest.mark.parametrize(("size", "status"), [(1000, 400), (1001, 413)])
async def test_the_body_cap_is_inclusive(size: int, status: int, tmp_path: Path) -> None:
    """A body of exactly ``max_body_bytes`` is read (and parsed); one byte more is not."""
    with Emulator(image_dir=tmp_path / "images", max_body_bytes=1000) as emu:
        sent = await _post(emu, Sender(size, chunk=100))
    assert sent[0]["status"] == status


def test_the_413_reaches_a_client_on_a_socket(tmp_path: Path, call_socket: CallSocket) -> None:
    """Over a real connection the client gets the 413 in ClawRouter's error shape, and the
    server goes on serving."""
    with (
        Emulator(image_dir=tmp_path / "images", max_body_bytes=64 * 1024) as emu,
        serve(emu, port=0) as base_url,
    ):
        raw = call_socket(base_url, "POST", GENERATIONS, content=b"x" * (256 * 1024))
        after = call_socket(base_url, "POST", GENERATIONS, json_body={"prompt": "x"})
    assert raw.status == 413
    assert raw.json()["error"] == "Request body too large"
    assert "nothing was forwarded" in raw.json()["details"]
    assert after.status == 200


# -- ClawRouter's own refusals are unpaid -----------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (b'{"prompt":"x","image":"~/pics/none.png"}', "Image file not found: "),
        (b'{"prompt":"x","image":"~/pics/adir"}', "EISDIR: "),
        (b'{"prompt":"x","image":"http://localhost:8402/images/none.png"}', "Failed to download"),
        (b'{"prompt":"x","image":"http://127.0.0.1:{port}/x.png"}', "fetch failed"),
        (b'{"prompt":"x"', "Unexpected end of JSON input"),
        (b"null", "Cannot read properties of null"),
    ],
)
async def test_clawrouters_own_refusals_are_unpaid(
    call: Call, emu: Emulator, body: bytes, details: str
) -> None:
    """Refused before any upstream call: 400 in the wrapper, and the ledger spends nothing."""
    content = body.replace(b"{port}", str(_closed_port()).encode())
    raw = await call(emu, "POST", IMAGE2IMAGE, content=content)
    assert raw.status == 400
    assert raw.json()["details"].startswith(details)
    assert emu.ledger[-1].paid is False
    assert emu.spent_usd == 0.0


# -- --host ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "localhost", "::1", "::ffff:127.0.0.1"])
def test_loopback_hosts_get_no_warning(host: str) -> None:
    """Loopback addresses, by name or number, in either family, are quiet."""
    assert is_loopback(host)
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", [ALL_INTERFACES, "::", "192.0.2.7", "::ffff:192.0.2.7"])
def test_other_hosts_are_warned_about(host: str) -> None:
    """Any other address (all interfaces included) gets the warning, naming what it risks."""
    warning = exposure_warning(host)
    assert warning is not None
    assert warning.startswith(f"warning: {host} is not a loopback address")
    assert "anyone who can reach this machine" in warning
    assert "reads any file" in warning


@contextlib.contextmanager
def _fake_serve(emulator: Emulator, *, host: str, port: int) -> Iterator[str]:
    # Nothing listens: the test must not open a port on a real network interface.
    yield f"http://{host}:{port}"


@contextlib.contextmanager
def _stop_at_once(action: Any) -> Iterator[None]:
    action()  # as if SIGTERM arrived as soon as the emulator was serving
    yield


@pytest.mark.parametrize(("host", "warned"), [(ALL_INTERFACES, True), ("127.0.0.1", False)])
def test_emulate_warns_on_stderr_off_loopback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], host: str, warned: bool
) -> None:
    """`clawrouter-images emulate --host 0.0.0.0` says on stderr that others can use it."""
    import clawrouter_images._cli as cli

    monkeypatch.setattr(emulator_package, "serve", _fake_serve)
    monkeypatch.setattr(cli, "_on_sigterm", _stop_at_once)
    assert main(["emulate", "--host", host, "--port", "0"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"ClawRouter emulator on http://{host}:0")
    if warned:
        assert lines[1] == exposure_warning(host)
    else:
        assert len(lines) == 1


def test_python_m_emulator_warns_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`python -m clawrouter_images.emulator --host 0.0.0.0` warns before serving."""
    served: list[str] = []
    monkeypatch.setattr(emulator_main, "run", lambda _emu, *, host, log_level: served.append(host))
    argv = ["--host", ALL_INTERFACES, "--port", "0", "--image-dir", str(tmp_path)]
    assert emulator_main.main(argv) == 0
    assert served == [ALL_INTERFACES]
    assert capsys.readouterr().err == f"{exposure_warning(ALL_INTERFACES)}\n"

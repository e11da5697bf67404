"""ClawRouter's own work on image2image: parsing, ``image``/``mask`` resolution, the default model."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.png import png_bytes

from clawrouter_images.emulator import Emulator, serve
from clawrouter_images.emulator._resolve import ResolveError, read_local_image

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

IMAGE2IMAGE = "/v1/images/image2image"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _edit(call: Call, emu: Emulator, **body: Any) -> Any:
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body={"prompt": "x", **body})
    return raw.status, raw.json()


async def test_tilde_paths_are_read_from_home(call: Call, emu: Emulator) -> None:
    """``~/pics/cat.png`` is read from the emulator's home and edited."""
    status, _ = await _edit(call, emu, image="~/pics/cat.png")
    assert status == 200


async def test_relative_paths_are_read_from_cwd(call: Call, emu: Emulator, cwd: Path) -> None:
    """A relative path resolves against the emulator's working directory, not home."""
    (cwd / "pics").mkdir()
    (cwd / "pics" / "dog.png").write_bytes(png_bytes())
    status, _ = await _edit(call, emu, image="pics/dog.png")
    assert status == 200


async def test_missing_files_name_the_expanded_path(call: Call, emu: Emulator, home: Path) -> None:
    """A missing ``~/`` file answers 400 with the path after expansion and normalisation."""
    status, body = await _edit(call, emu, image="~/pics/../pics/nope.png")
    assert status == 400
    assert body == {
        "error": "Invalid request",
        "details": f"Image file not found: {home}/pics/nope.png",
    }


async def test_missing_relative_files_name_the_path_as_given(call: Call, emu: Emulator) -> None:
    """A missing relative path is quoted as sent."""
    _, body = await _edit(call, emu, image="pics/cat.png")
    assert body["details"] == "Image file not found: pics/cat.png"


async def test_only_tilde_slash_is_expanded(call: Call, emu: Emulator) -> None:
    """``~user/...`` is not expanded: it is a relative path."""
    _, body = await _edit(call, emu, image="~root/cat.png")
    assert body["details"] == "Image file not found: ~root/cat.png"


async def test_directories_answer_eisdir(call: Call, emu: Emulator) -> None:
    """A directory answers Node's ``EISDIR`` message."""
    _, body = await _edit(call, emu, image="~/pics/adir")
    assert body["details"] == "EISDIR: illegal operation on a directory, read"


_READ_WITHOUT_CAPABILITIES = """
import sys
from pathlib import Path
from clawrouter_images.emulator._resolve import ResolveError, read_local_image
try:
    read_local_image(sys.argv[1], home=Path("/"), cwd=Path("/"))
except ResolveError as err:
    print(err)
"""


@pytest.mark.skipif(os.name != "posix", reason="needs file permissions")
async def test_unreadable_files_answer_eacces(call: Call, emu: Emulator, home: Path) -> None:
    """A file that cannot be read answers Node's ``EACCES`` message.  As root (CI), the
    emulator's reader runs in a new user namespace, where root keeps its uid but loses the
    capability to read any file."""
    secret = home / "pics" / "secret.png"
    secret.write_bytes(png_bytes())
    secret.chmod(0)
    expected = f"EACCES: permission denied, open '{secret}'"
    if os.geteuid() != 0:
        _, body = await _edit(call, emu, image=str(secret))
        assert body["details"] == expected
    else:
        assert _read_without_capabilities(secret) == expected


def _read_without_capabilities(path: Path) -> str:
    """What the emulator's reader says of ``path`` in a new user namespace (skips where
    none can be made)."""
    import shutil
    import subprocess
    import sys

    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("root, and no unshare(1) to drop the capability")
    done = subprocess.run(
        [unshare, "--user", sys.executable, "-c", _READ_WITHOUT_CAPABILITIES, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"root, and no user namespace here: {done.stderr.strip()[-200:]}")
    return done.stdout.strip()


async def test_mask_paths_are_resolved_too(call: Call, emu: Emulator) -> None:
    """``mask`` is resolved like ``image``; a missing mask names its path."""
    assert (await _edit(call, emu, image="~/pics/cat.png", mask="~/pics/mask.png"))[0] == 200
    _, body = await _edit(call, emu, image="~/pics/cat.png", mask="~/pics/nomask.png")
    assert body["details"].endswith("/pics/nomask.png")


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.webp", "image/webp"),
        ("a.gif", "image/png"),
        ("noext", "image/png"),
    ],
)
def test_local_files_are_typed_by_extension(tmp_path: Path, name: str, mime: str) -> None:
    """The data URI's type comes from the extension only; anything unknown is image/png."""
    (tmp_path / name).write_bytes(b"not sniffed")
    uri = read_local_image(name, home=tmp_path, cwd=tmp_path)
    assert uri == f"data:{mime};base64," + base64.b64encode(b"not sniffed").decode()


def test_reading_a_missing_file_raises_resolve_error(tmp_path: Path) -> None:
    """The resolver's failures carry ClawRouter's message."""
    with pytest.raises(ResolveError, match=r"Image file not found: nope\.png"):
        read_local_image("nope.png", home=tmp_path, cwd=tmp_path)


async def test_own_urls_are_downloaded(call: Call, emu: Emulator) -> None:
    """A URL of an earlier result is fetched (from the emulator itself) and edited."""
    first = await call(emu, "POST", "/v1/images/generations", json_body={"prompt": "source"})
    url = first.json()["data"][0]["url"]
    status, _ = await _edit(call, emu, image=url)
    assert status == 200
    assert [entry.path for entry in emu.ledger][-2] == url.split("8402", 1)[1]


async def test_urls_are_downloaded_over_the_network(
    call: Call, emu: Emulator, tmp_path: Path
) -> None:
    """An http URL on another server is fetched over a real loopback connection."""
    with Emulator(image_dir=tmp_path / "other") as other:
        other.image_dir.mkdir()
        (other.image_dir / "in.png").write_bytes(png_bytes())
        with serve(other, port=0) as base_url:
            status, _ = await _edit(call, emu, image=f"{base_url}/images/in.png")
        assert status == 200
        assert [entry.path for entry in other.ledger] == ["/images/in.png"]


async def test_url_errors_name_the_field_and_status(call: Call, emu: Emulator) -> None:
    """A URL answering 404 fails with ``Failed to download <field> from <url>: HTTP 404``."""
    missing = "http://localhost:8402/images/nothing.png"
    _, body = await _edit(call, emu, image="~/pics/cat.png", mask=missing)
    assert body == {
        "error": "Invalid request",
        "details": f"Failed to download mask from {missing}: HTTP 404",
    }


async def test_unreachable_urls_answer_fetch_failed(call: Call, emu: Emulator) -> None:
    """A refused connection fails with Node's ``fetch failed``."""
    _, body = await _edit(call, emu, image=f"http://127.0.0.1:{_closed_port()}/in.png")
    assert body == {"error": "Invalid request", "details": "fetch failed"}


async def test_malformed_urls_answer_like_fetch(call: Call, emu: Emulator) -> None:
    """A URL that cannot be parsed fails the way Node's fetch does."""
    _, body = await _edit(call, emu, image="http://exa mple.com:99999/x.png")
    assert body["details"] == "Failed to parse URL from http://exa mple.com:99999/x.png"


async def test_data_uris_pass_through(call: Call, emu: Emulator) -> None:
    """A data URI is used as is."""
    image = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    assert (await _edit(call, emu, image=image))[0] == 200


@pytest.mark.parametrize("model", [None, "", 0, False])
async def test_falsy_models_become_gpt_image_1(call: Call, emu: Emulator, model: object) -> None:
    """A missing or falsy model is replaced by ``openai/gpt-image-1``."""
    body: dict[str, object] = {"image": "~/pics/cat.png"}
    if model is not None:
        body["model"] = model
    status, answer = await _edit(call, emu, **body)
    assert status == 200
    assert "revised_prompt" in answer["data"][0]
    assert emu.ledger[-1].model == "openai/gpt-image-1"


async def test_an_empty_list_model_is_kept(call: Call, emu: Emulator) -> None:
    """``[]`` is truthy in JavaScript, so it is forwarded and refused as a model."""
    _, body = await _edit(call, emu, image="~/pics/cat.png", model=[])
    assert body["details"] == "Unknown model: []"


async def test_failed_resolution_sends_nothing_upstream(call: Call, emu: Emulator) -> None:
    """A resolution failure is ClawRouter's own 400: nothing paid, no fault used up."""
    emu.add_fault("server_error")
    await _edit(call, emu, image="~/nope.png")
    assert emu.ledger[-1].paid is False
    assert len(emu.pending_faults) == 1


@pytest.mark.parametrize(
    ("content", "details"),
    [
        (b'{"image": ', "Unexpected end of JSON input"),
        (b"", "Unexpected end of JSON input"),
        (b"{bad json", "Expected property name or '}' in JSON at position 1"),
        (b"null", "Cannot read properties of null (reading 'image')"),
        (b"5", "Cannot create property 'model' on number '5'"),
        (b'"s"', "Cannot create property 'model' on string 's'"),
        (b"true", "Cannot create property 'model' on boolean 'true'"),
    ],
)
async def test_unparseable_bodies_answer_the_parser_message(
    call: Call, emu: Emulator, content: bytes, details: str
) -> None:
    """ClawRouter answers 400 Invalid request with the JavaScript error message."""
    raw = await call(emu, "POST", IMAGE2IMAGE, content=content)
    assert (raw.status, raw.json()) == (400, {"error": "Invalid request", "details": details})


async def test_a_list_body_goes_to_the_upstream(call: Call, emu: Emulator) -> None:
    """A JSON array is forwarded (nothing to resolve) and refused upstream."""
    raw = await call(emu, "POST", IMAGE2IMAGE, content=b"[]")
    assert raw.json()["details"] == "Request body must be a JSON object"

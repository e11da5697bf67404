"""save() and download(): every kind of result, safe names, no overwrite, no partial files."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from clawrouter_images import (
    ClawRouterError,
    ImageData,
    ImageResponse,
    InvalidRequestError,
    ResponseValidationError,
    SaveError,
)

if TYPE_CHECKING:
    from tests.conftest import LoadTranscript
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

GENERATIONS = "/v1/images/generations"
LOCAL = "http://localhost:8402/images/1795503044964-xm1yzv09.png"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake jpeg body"


def files_in(directory: Path) -> list[str]:
    """Every entry of ``directory``, hidden temporary files included."""
    return sorted(os.listdir(directory))


async def _generated(
    api: Twin, server: Server, prompt: str, *data: dict[str, str]
) -> ImageResponse:
    server.on("POST", GENERATIONS, server.json({"created": 1, "data": list(data)}))
    return await api.generate(prompt, n=len(data))


# -- save() from each kind of result -------------------------------------------------------------


async def test_save_localised_url(
    make_twin: MakeTwin, server: Server, tmp_path: Path, png: bytes
) -> None:
    """A localised http://localhost:<port>/images/ URL is fetched through the base URL and saved."""
    server.on("GET", "/images/1795503044964-xm1yzv09.png", server.content(png))
    api = make_twin(server, base_url="http://127.0.0.1:18402")
    response = await _generated(api, server, "a red fox", {"url": LOCAL})
    paths = await api.save(response, tmp_path)
    assert (
        str(server.sent("GET")[0].url) == "http://127.0.0.1:18402/images/1795503044964-xm1yzv09.png"
    )
    assert paths == [tmp_path / "a-red-fox.png"]
    assert paths[0].read_bytes() == png


async def test_save_remote_url(twin: Twin, server: Server, tmp_path: Path, png: bytes) -> None:
    """A remote URL ClawRouter could not localise is downloaded from where it is."""
    url = "https://cdn.example.test/files/gen1.png"
    server.on("GET", url, server.content(png))
    response = await _generated(twin, server, "a red fox", {"url": url})
    paths = await twin.save(response, tmp_path)
    assert [str(r.url) for r in server.sent("GET")] == [url]
    assert paths[0].read_bytes() == png


async def test_save_data_uri(twin: Twin, server: Server, tmp_path: Path, png: bytes) -> None:
    """A data URI result is decoded and saved without any download."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    response = await _generated(twin, server, "a red fox", {"url": uri})
    paths = await twin.save(response, tmp_path)
    assert paths[0].read_bytes() == png
    assert server.sent("GET") == []


async def test_save_b64_json(
    twin: Twin, server: Server, tmp_path: Path, transcript: LoadTranscript
) -> None:
    """The recorded b64_json answer is decoded and saved as the PNG it holds."""
    record = transcript("gen-b64-json-passthrough")
    server.on("POST", GENERATIONS, server.replay(record))
    response = await twin.generate("b64 please", model="gpt-image-1")
    paths = await twin.save(response, tmp_path)
    expected = base64.b64decode(record["response"]["json"]["data"][0]["b64_json"])
    assert paths == [tmp_path / "b64-please.png"]
    assert paths[0].read_bytes() == expected
    assert server.sent("GET") == []


async def test_save_several_images(twin: Twin, server: Server, tmp_path: Path, png: bytes) -> None:
    """Several results are saved under numbered names, returned and kept for the preview."""
    server.on("GET", "/images/a.png", server.content(png))
    server.on("GET", "/images/b.jpg", server.content(JPEG))
    response = await _generated(
        twin,
        server,
        "Two Foxes!",
        {"url": "http://localhost:8402/images/a.png"},
        {"url": "http://localhost:8402/images/b.jpg"},
    )
    paths = await twin.save(response, tmp_path)
    assert paths == [tmp_path / "two-foxes-1.png", tmp_path / "two-foxes-2.jpg"]
    assert response._local.saved == paths
    assert "saved_paths" not in response.model_dump()  # what ClawRouter answered, only
    assert files_in(tmp_path) == ["two-foxes-1.png", "two-foxes-2.jpg"]  # no temporary left
    assert paths[1].read_bytes() == JPEG


async def test_extension_comes_from_the_bytes(twin: Twin, server: Server, tmp_path: Path) -> None:
    """A JPEG served under a .png name is saved as .jpg."""
    server.on("GET", "/images/x.png", server.content(JPEG, headers={"content-type": "image/png"}))
    response = await _generated(
        twin, server, "a red fox", {"url": "http://localhost:8402/images/x.png"}
    )
    paths = await twin.save(response, tmp_path)
    assert paths[0].suffix == ".jpg"


async def test_save_creates_the_directory(
    twin: Twin, server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """save() creates a missing directory, ~ included."""
    monkeypatch.setenv("HOME", str(tmp_path))
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    response = await _generated(twin, server, "a red fox", {"url": uri})
    paths = await twin.save(response, "~/out/images")
    assert paths == [tmp_path / "out" / "images" / "a-red-fox.png"]


async def test_save_into_a_file_is_refused(
    twin: Twin, server: Server, tmp_path: Path, png: bytes
) -> None:
    """save() refuses a directory path that is an existing file."""
    target = tmp_path / "taken"
    target.write_text("x")
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    response = await _generated(twin, server, "a red fox", {"url": uri})
    with pytest.raises(SaveError, match="not a folder") as info:
        await twin.save(response, target)
    assert isinstance(info.value.__cause__, InvalidRequestError)
    assert info.value.result is response


# -- safety --------------------------------------------------------------------------------------


async def test_second_save_never_overwrites(
    twin: Twin, server: Server, tmp_path: Path, png: bytes
) -> None:
    """Saving the same response twice gives new names and leaves the first files intact."""
    server.on("GET", "/images/a.png", server.content(png), server.content(JPEG))
    response = await _generated(
        twin, server, "a red fox", {"url": "http://localhost:8402/images/a.png"}
    )
    first = await twin.save(response, tmp_path)
    second = await twin.save(response, tmp_path)
    assert first != second
    assert files_in(tmp_path) == sorted(path.name for path in first + second)
    assert first[0].read_bytes() == png
    assert second[0].read_bytes() == JPEG


async def test_existing_file_is_not_replaced(
    twin: Twin, server: Server, tmp_path: Path, png: bytes
) -> None:
    """A file already holding the natural name is left alone; the image gets a free name."""
    (tmp_path / "a-red-fox.png").write_bytes(b"precious")
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    response = await _generated(twin, server, "a red fox", {"url": uri})
    paths = await twin.save(response, tmp_path)
    assert (tmp_path / "a-red-fox.png").read_bytes() == b"precious"
    assert paths[0].parent == tmp_path
    assert paths[0].name != "a-red-fox.png"
    assert paths[0].read_bytes() == png


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.test/a/../../x.png",
        "https://cdn.example.test/a/..%2F..%2Fx.png",
    ],
)
async def test_server_chosen_name_stays_inside(
    twin: Twin, server: Server, tmp_path: Path, png: bytes, url: str
) -> None:
    """A URL or prompt holding ../../x.png never puts a file outside the target directory."""
    target = tmp_path / "deep" / "out"
    server.on("GET", str(httpx.URL(url)), server.content(png))
    server.on("GET", httpx.URL(url).raw_path.decode(), server.content(png))
    response = await _generated(twin, server, "../../x.png", {"url": url})
    paths = await twin.save(response, target)
    assert len(paths) == 1
    assert paths[0].parent == target
    assert paths[0].resolve().is_relative_to(target.resolve())
    assert not (tmp_path / "x.png").exists()
    assert not (tmp_path / "deep" / "x.png").exists()
    assert files_in(tmp_path) == ["deep"]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8402/images/..%2F..%2Fx.png",
        "http://localhost:8402/images/../../x.png",
        "http://localhost:8402/images/a%2Fb.png",
        "http://localhost:8402/images/",
        "http://localhost:8402/images/..",
        "http://user@localhost:8402/images/a.png",
    ],
)
async def test_result_names_clawrouter_never_writes_are_not_fetched(
    twin: Twin, server: Server, tmp_path: Path, png: bytes, url: str
) -> None:
    """A loopback result URL that is not /images/<name> as ClawRouter writes it is refused, unsent."""
    server.on("GET", str(httpx.URL(url)), server.content(png))
    response = await _generated(twin, server, "x", {"url": url})
    with pytest.raises(SaveError, match="this machine or a private network"):
        await twin.save(response, tmp_path)
    assert server.sent("GET") == []
    assert files_in(tmp_path) == []


async def test_interrupted_download_leaves_no_file(
    twin: Twin, server: Server, tmp_path: Path, png: bytes
) -> None:
    """A download cut off midway raises a ClawRouterError and leaves no file, partial or not."""
    server.on("GET", "/images/a.png", server.broken(png[:20]))
    response = await _generated(
        twin, server, "a red fox", {"url": "http://localhost:8402/images/a.png"}
    )
    with pytest.raises(SaveError) as info:
        await twin.save(response, tmp_path)
    assert isinstance(info.value.__cause__, ClawRouterError)
    assert isinstance(info.value.__cause__.__cause__, httpx.ReadError)
    assert "http://localhost:8402/images/a.png" in str(info.value)
    assert files_in(tmp_path) == []
    assert response._local.saved == []


async def test_non_image_result_is_not_saved(twin: Twin, server: Server, tmp_path: Path) -> None:
    """A result URL answering a web page is refused and leaves no file."""
    server.on("GET", "/images/a.png", server.text("<html>login</html>"))
    response = await _generated(
        twin, server, "a red fox", {"url": "http://localhost:8402/images/a.png"}
    )
    with pytest.raises(SaveError, match="not an image") as info:
        await twin.save(response, tmp_path)
    assert isinstance(info.value.__cause__, ResponseValidationError)
    assert files_in(tmp_path) == []


async def test_expired_result_is_not_saved(twin: Twin, server: Server, tmp_path: Path) -> None:
    """A result URL answering 404 (the recorded miss) is refused and leaves no file."""
    server.on("GET", "/images/a.png", server.json({"error": "Image not found"}, 404))
    response = await _generated(
        twin, server, "a red fox", {"url": "http://localhost:8402/images/a.png"}
    )
    with pytest.raises(SaveError, match="answered 404") as info:
        await twin.save(response, tmp_path)
    assert isinstance(info.value.__cause__, ResponseValidationError)
    assert files_in(tmp_path) == []


async def test_invalid_b64_json_is_not_saved(twin: Twin, server: Server, tmp_path: Path) -> None:
    """A b64_json that is not valid base64 is refused and leaves no file."""
    response = await _generated(twin, server, "a red fox", {"b64_json": "@@@not base64@@@"})
    with pytest.raises(SaveError, match="invalid base64") as info:
        await twin.save(response, tmp_path)
    assert isinstance(info.value.__cause__, ResponseValidationError)
    assert files_in(tmp_path) == []


async def test_oversized_download_is_not_saved(
    twin: Twin, server: Server, tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result larger than the download cap is refused mid-stream and leaves no file."""
    import clawrouter_images._constants as constants

    monkeypatch.setattr(constants, "MAX_DOWNLOAD_BYTES", 1000)
    server.on("GET", "/images/a.png", server.content(png + bytes(2000)))
    response = await _generated(
        twin, server, "a red fox", {"url": "http://localhost:8402/images/a.png"}
    )
    with pytest.raises(SaveError, match="larger than") as info:
        await twin.save(response, tmp_path)
    assert isinstance(info.value.__cause__, ResponseValidationError)
    assert files_in(tmp_path) == []


async def test_dead_url_kept_by_clawrouter(
    twin: Twin, server: Server, tmp_path: Path, transcript: LoadTranscript, png: bytes
) -> None:
    """The recorded dead upstream URLs fail to save with a clear error and leave nothing."""
    record = transcript("gen-dead-url-kept")
    server.on("POST", GENERATIONS, server.replay(record))
    dead, refused = (item["url"] for item in record["response"]["json"]["data"])
    server.on("GET", dead, server.json({"error": "gone"}, 404))
    server.on("GET", refused, httpx.ConnectError("[Errno 111] Connection refused"))
    response = await twin.generate("dead", n=2)
    # The upstream's own URLs (a loopback fake when recorded) are not ClawRouter's results.
    with pytest.raises(SaveError, match="private network") as info:
        await twin.save(response, tmp_path)
    assert isinstance(info.value.__cause__, ResponseValidationError)
    with pytest.raises(ClawRouterError) as refused:
        await twin.download(response.data[1])
    assert "127.0.0.1:9" in str(refused.value)
    assert "ClawRouter is not running" not in str(refused.value)
    assert files_in(tmp_path) == []


# -- download() ----------------------------------------------------------------------------------


async def test_download_localised_url(make_twin: MakeTwin, server: Server, png: bytes) -> None:
    """download() fetches a localised URL through the base URL."""
    server.on("GET", "/images/1795503044964-xm1yzv09.png", server.content(png))
    api = make_twin(server, base_url="http://127.0.0.1:18402")
    assert await api.download(ImageData(url=LOCAL)) == png
    assert server.sent("GET")[0].url.port == 18402


async def test_download_url_string(twin: Twin, server: Server, png: bytes) -> None:
    """download() takes a plain URL string too."""
    url = "https://cdn.example.test/files/gen1.png"
    server.on("GET", url, server.content(png))
    assert await twin.download(url) == png


async def test_download_b64_json(twin: Twin, server: Server, png: bytes) -> None:
    """download() decodes b64_json without any request."""
    data = ImageData(b64_json=base64.b64encode(png).decode())
    assert await twin.download(data) == png
    assert server.requests == []


@pytest.mark.parametrize("wrap", [str, lambda uri: ImageData(url=uri)])
async def test_download_data_uri(twin: Twin, server: Server, png: bytes, wrap: object) -> None:
    """download() decodes a data URI (as a string or an ImageData) without any request."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    assert callable(wrap)
    assert await twin.download(wrap(uri)) == png
    assert server.requests == []


async def test_download_missing_image(
    twin: Twin, server: Server, transcript: LoadTranscript
) -> None:
    """download() of an image ClawRouter no longer has (the recorded 404) says so."""
    server.on(
        "GET",
        "/images/0000000000000-nothere0.png",
        server.replay(transcript("images-get-miss-404")),
    )
    with pytest.raises(ResponseValidationError, match="answered 404"):
        await twin.download("http://localhost:8402/images/0000000000000-nothere0.png")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "ftp://x.test/a.png"])
async def test_download_refuses_other_schemes(twin: Twin, server: Server, url: str) -> None:
    """download() refuses anything but http(s) URLs, data URIs and b64_json."""
    with pytest.raises(InvalidRequestError, match="not an http"):
        await twin.download(url)
    assert server.requests == []


async def test_download_of_empty_result(twin: Twin) -> None:
    """download() of a result with neither URL nor b64_json says there is nothing to fetch."""
    with pytest.raises(ResponseValidationError, match="neither a URL nor b64_json"):
        await twin.download(ImageData(revised_prompt="only text"))


async def test_download_interrupted(twin: Twin, server: Server, png: bytes) -> None:
    """A download cut off midway raises a ClawRouterError, not an httpx error."""
    server.on("GET", "/images/a.png", server.broken(png[:20]))
    with pytest.raises(ClawRouterError):
        await twin.download("http://localhost:8402/images/a.png")


async def test_download_with_clawrouter_down(twin: Twin, server: Server) -> None:
    """download() of a localised URL with ClawRouter down says it is not running."""
    server.on("GET", "/images/a.png", httpx.ConnectError("refused"))
    with pytest.raises(
        ClawRouterError, match=re.escape("ClawRouter is not running at http://127.0.0.1:8402")
    ):
        await twin.download("http://localhost:8402/images/a.png")


async def test_download_over_cap(
    twin: Twin, server: Server, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """download() stops at the download cap instead of filling memory."""
    import clawrouter_images._constants as constants

    monkeypatch.setattr(constants, "MAX_DOWNLOAD_BYTES", 1000)
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_BYTES", 100)
    server.on("GET", "/images/a.png", server.content(png + bytes(5000)))
    with pytest.raises(ResponseValidationError, match="larger than the download cap"):
        await twin.download("http://localhost:8402/images/a.png")

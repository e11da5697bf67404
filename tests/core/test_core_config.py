"""Client configuration: base URL resolution, request shape, timeouts, constructor checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from clawrouter_images import AsyncImageClient, ImageClient, InvalidRequestError

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

GENERATIONS = "/v1/images/generations"
RESULT = "http://localhost:8402/images/1795503044964-xm1yzv09.png"


async def _generate_url(make_twin: MakeTwin, server: Server, **options: object) -> str:
    server.on("POST", GENERATIONS, server.images(RESULT))
    api = make_twin(server, **options)
    await api.generate("a red fox")
    return str(server.sent()[-1].url)


async def test_default_base_url(make_twin: MakeTwin, server: Server) -> None:
    """With no argument and no environment, requests go to http://127.0.0.1:8402."""
    url = await _generate_url(make_twin, server, base_url=None)
    assert url == "http://127.0.0.1:8402/v1/images/generations"


async def test_clawrouter_base_url_env(
    make_twin: MakeTwin, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLAWROUTER_BASE_URL sets the base URL."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", "http://10.1.2.3:9000")
    url = await _generate_url(make_twin, server, base_url=None)
    assert url == "http://10.1.2.3:9000/v1/images/generations"


async def test_blockrun_proxy_port_env(
    make_twin: MakeTwin, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BLOCKRUN_PROXY_PORT moves the default to that port on 127.0.0.1."""
    monkeypatch.setenv("BLOCKRUN_PROXY_PORT", "8500")
    url = await _generate_url(make_twin, server, base_url=None)
    assert url == "http://127.0.0.1:8500/v1/images/generations"


async def test_base_url_env_wins_over_port_env(
    make_twin: MakeTwin, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLAWROUTER_BASE_URL takes precedence over BLOCKRUN_PROXY_PORT."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", "http://10.1.2.3:9000")
    monkeypatch.setenv("BLOCKRUN_PROXY_PORT", "8500")
    url = await _generate_url(make_twin, server, base_url=None)
    assert url.startswith("http://10.1.2.3:9000/")


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", "84.02", ""])
async def test_invalid_proxy_port_is_ignored(
    make_twin: MakeTwin, server: Server, monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    """A BLOCKRUN_PROXY_PORT that is not an integer in 1..65535 is ignored, as ClawRouter does."""
    monkeypatch.setenv("BLOCKRUN_PROXY_PORT", port)
    url = await _generate_url(make_twin, server, base_url=None)
    assert url.startswith("http://127.0.0.1:8402/")


async def test_argument_wins_over_environment(
    make_twin: MakeTwin, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An explicit base_url argument beats both environment variables."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", "http://10.1.2.3:9000")
    monkeypatch.setenv("BLOCKRUN_PROXY_PORT", "8500")
    url = await _generate_url(make_twin, server, base_url="http://127.0.0.1:7777")
    assert url.startswith("http://127.0.0.1:7777/")


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8402/v1", "http://127.0.0.1:8402/v1/", "http://127.0.0.1:8402/"],
)
async def test_v1_suffix_and_trailing_slash_are_stripped(
    make_twin: MakeTwin, server: Server, base_url: str
) -> None:
    """An OpenAI-style base URL ending in /v1 (or a slash) does not double the route prefix."""
    url = await _generate_url(make_twin, server, base_url=base_url)
    assert url == "http://127.0.0.1:8402/v1/images/generations"


async def test_v1_suffix_stripped_from_env(
    make_twin: MakeTwin, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CLAWROUTER_BASE_URL ending in /v1 is stripped too."""
    monkeypatch.setenv("CLAWROUTER_BASE_URL", "http://127.0.0.1:8403/v1")
    url = await _generate_url(make_twin, server, base_url=None)
    assert url == "http://127.0.0.1:8403/v1/images/generations"


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1:8402", "127.0.0.1:8402", "http://"])
@pytest.mark.parametrize("cls", [ImageClient, AsyncImageClient])
def test_base_url_must_be_http(base_url: str, cls: type[ImageClient | AsyncImageClient]) -> None:
    """A base URL that is not an http(s) URL with a host is refused at construction."""
    with pytest.raises(InvalidRequestError, match="http"):
        cls(base_url, http_client=None)


@pytest.mark.parametrize(
    "options",
    [{"max_retries": -1}, {"budget_usd": -0.01}, {"max_cost_usd": -1.0}],
)
@pytest.mark.parametrize("cls", [ImageClient, AsyncImageClient])
def test_negative_limits_are_refused(
    options: dict[str, float], cls: type[ImageClient | AsyncImageClient]
) -> None:
    """Negative max_retries, budget_usd or max_cost_usd are refused at construction."""
    with pytest.raises(InvalidRequestError, match=next(iter(options))):
        cls("http://127.0.0.1:8402", **options)  # type: ignore[arg-type]


async def test_request_shape(twin: Twin, server: Server) -> None:
    """generate() POSTs JSON with model, prompt, size and n to the exact route, with a User-Agent."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    await twin.generate("a red fox", model="nano-banana", size="1024x1024", n=2)
    request = server.sent()[0]
    assert str(request.url) == "http://127.0.0.1:8402/v1/images/generations"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("clawrouter-images/")
    assert server.body() == {
        "model": "google/nano-banana",
        "prompt": "a red fox",
        "size": "1024x1024",
        "n": 2,
    }


async def test_default_timeout_reaches_the_request(twin: Twin, server: Server) -> None:
    """By default a call connects within 5 s and waits 330 s for the answer."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    await twin.generate("a red fox")
    timeout = server.sent()[0].extensions["timeout"]
    assert timeout["connect"] == 5.0
    assert timeout["read"] == 330.0


async def test_per_call_timeout_reaches_the_request(twin: Twin, server: Server) -> None:
    """timeout= on a call sets the request's read timeout, keeping a short connect timeout."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    await twin.generate("a red fox", timeout=42.0)
    timeout = server.sent()[0].extensions["timeout"]
    assert timeout["read"] == 42.0
    assert timeout["connect"] == 5.0


async def test_per_call_httpx_timeout_is_used_as_is(twin: Twin, server: Server) -> None:
    """An httpx.Timeout passed to a call reaches the request unchanged."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    await twin.generate("a red fox", timeout=httpx.Timeout(7.0, connect=1.0))
    assert server.sent()[0].extensions["timeout"] == httpx.Timeout(7.0, connect=1.0).as_dict()


async def test_client_timeout_is_the_default_for_calls(make_twin: MakeTwin, server: Server) -> None:
    """A client built with timeout=60 waits 60 s on each call that does not say otherwise."""
    server.on("POST", GENERATIONS, server.images(RESULT))
    api = make_twin(server, timeout=60.0)
    await api.generate("a red fox")
    assert server.sent()[0].extensions["timeout"]["read"] == 60.0


def test_repr_names_the_base_url() -> None:
    """A client's repr shows where it sends requests."""
    with ImageClient("http://127.0.0.1:8555") as client:
        assert repr(client) == "ImageClient(base_url='http://127.0.0.1:8555')"


def test_injected_http_client_is_left_open() -> None:
    """close() leaves an injected http_client open for its owner."""
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with ImageClient(http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_own_http_client_is_closed() -> None:
    """close() closes the http client the ImageClient created itself."""
    client = ImageClient()
    client.close()
    assert client._http.is_closed


async def test_async_own_http_client_is_closed() -> None:
    """aclose() closes the http client the AsyncImageClient created itself."""
    async with AsyncImageClient() as client:
        http = await client._clawrouter()
    assert http.is_closed

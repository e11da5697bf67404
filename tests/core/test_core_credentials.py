"""Credentials stay where they belong: an injected client's headers and auth reach ClawRouter's
origin only; a base URL's user name and password are never shown."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

import httpx
import pytest

from clawrouter_images import (
    APIConnectionError,
    ClawRouterError,
    ImageClient,
    InputImageError,
    InvalidRequestError,
    PaymentRequiredError,
)
from clawrouter_images.agent_tools import ImageTools

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Mode, Twin

GENERATIONS = "/v1/images/generations"
SECRET_HEADERS = {"Authorization": "Bearer sk-secret", "X-Api-Key": "key-secret"}
FOREIGN_IN = "https://cdn.example/in.png"
FOREIGN_OUT = "https://images.example/out.png"


def _injected(mode: Mode, server: Server) -> httpx.Client | httpx.AsyncClient:
    """An http client carrying credentials of every kind, as a user injects one."""
    cls = httpx.Client if mode == "sync" else httpx.AsyncClient
    return cls(
        transport=server.transport(),
        headers=SECRET_HEADERS,
        auth=("proxy-user", "proxy-pass"),
        cookies={"session": "cookie-secret"},
    )


def _leaks(request: httpx.Request) -> list[str]:
    text = str(request.headers).lower()
    found = [word for word in ("sk-secret", "key-secret", "cookie-secret") if word in text]
    if "authorization" in request.headers:
        found.append(request.headers["authorization"])
    return found


async def test_injected_credentials_reach_clawrouter_only(
    mode: Mode, make_twin: MakeTwin, server: Server, png: bytes
) -> None:
    """Headers and auth of an injected client go to ClawRouter, never to an image's host."""
    server.on("GET", FOREIGN_IN, server.content(png, headers={"content-type": "image/png"}))
    server.on("GET", FOREIGN_OUT, server.content(png, headers={"content-type": "image/png"}))
    server.on("POST", GENERATIONS, server.json({"data": [{"url": FOREIGN_OUT}]}))
    server.on("POST", "/v1/images/image2image", server.json({"data": [{"url": FOREIGN_OUT}]}))
    server.on("GET", "/health", server.json({"status": "ok"}))
    api = make_twin(server.base_url, http_client=_injected(mode, server), max_retries=0)
    await api.generate("a red fox")
    await api.edit("make it blue", FOREIGN_IN)
    await api.download(FOREIGN_OUT)
    await api.health()
    own = [r for r in server.requests if r.url.host == httpx.URL(server.base_url).host]
    foreign = [r for r in server.requests if r not in own]
    assert {r.url.host for r in foreign} == {"cdn.example", "images.example"}
    assert all(_leaks(r) == [] for r in foreign), [dict(r.headers) for r in foreign]
    assert all(r.headers["x-api-key"] == "key-secret" for r in own)
    # The client's auth wins over its Authorization header, as httpx does it.
    basic = "Basic " + base64.b64encode(b"proxy-user:proxy-pass").decode()
    assert all(r.headers["authorization"] == basic for r in own)


BASE = "http://alice:S3CRET@127.0.0.1:8402"


async def test_base_url_password_is_never_shown(
    mode: Mode, make_twin: MakeTwin, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """repr, the not-running and 402 messages and the retry log name the URL without userinfo."""
    caplog.set_level(logging.INFO, logger="clawrouter_images")
    server.on(
        "POST",
        GENERATIONS,
        server.json({"error": "busy"}, 429),
        server.json({"error": "Payment verification failed"}, 402),
        httpx.ConnectError("refused"),
    )
    cls = httpx.Client if mode == "sync" else httpx.AsyncClient
    api = make_twin(BASE, http_client=cls(transport=server.transport()), max_retries=1)
    shown = [repr(api.client), api.base_url]
    for expected in (PaymentRequiredError, APIConnectionError):
        with pytest.raises(expected) as caught:
            await api.generate("a red fox")
        shown.append(caught.value.message)
    shown.append(caplog.text)
    assert api.base_url == "http://127.0.0.1:8402"
    assert api.sleeps != []  # the 429 was retried, and logged
    assert all("S3CRET" not in text and "alice" not in text for text in shown), shown
    assert any("retrying" in text for text in shown)
    # The request itself still carries them, as basic auth for whatever is in front.
    sent = server.posts[0]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"alice:S3CRET").decode()


def test_tools_keep_the_injected_clients_credentials() -> None:
    """The tools' second client (sync for an async one) is built for the URL with credentials."""
    tools = ImageTools(client=ImageClient(BASE))
    assert tools.async_client._target_url == BASE
    assert "S3CRET" not in repr(tools.async_client)
    tools.close()


def test_a_base_url_that_is_no_url_is_refused_without_its_password() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ImageClient("ftp://bob:hunter2@127.0.0.1:8402")
    assert "hunter2" not in caught.value.message


# -- hosts, text -------------------------------------------------------------------------------

HOSTILE_HOSTS = [
    "http://xn--a/a.png",
    "http://xn--127-0.0.0.1/a.png",
    "https://xn--ls8h.example/a.png",
    "https://\udcff.example/a.png",
    "http://[::1/a.png",
    "http://:80/a.png",
]


@pytest.mark.parametrize("url", HOSTILE_HOSTS)
async def test_hostile_hosts_are_typed_errors(
    twin: Twin, server: Server, url: str, png: bytes
) -> None:
    """A host no URL parser can read is an input refused unpaid, or a download refused, typed."""
    with pytest.raises(InputImageError):
        await twin.edit("make it blue", url)
    with pytest.raises(ClawRouterError):
        await twin.download(url)
    assert server.posts == []


@pytest.mark.parametrize(
    "prompt", ["a fox \ud800", "\udfff", "ok " * 10 + "\udc80 end", "\ud83d alone"]
)
async def test_a_lone_surrogate_is_refused_before_sending(
    make_twin: MakeTwin, server: Server, prompt: str
) -> None:
    api = make_twin(server)
    with pytest.raises(InvalidRequestError, match="lone surrogate"):
        await api.generate(prompt)
    with pytest.raises(InvalidRequestError, match="valid text"):
        await api.generate("a fox", extra_body={"style": "\ud800"})
    assert server.posts == []

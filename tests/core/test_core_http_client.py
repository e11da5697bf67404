"""DefaultHttpxClient / DefaultAsyncHttpxClient: an injected http client with options of its own
(a proxy) that keeps the package's pool, headers, redirect rule and address guard."""

from __future__ import annotations

import httpx
import pytest

from clawrouter_images import (
    AsyncImageClient,
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    ImageClient,
)
from clawrouter_images._constants import MAX_CONNECTIONS, MAX_KEEPALIVE_CONNECTIONS
from clawrouter_images._guard import BlockedAddressError

# Resolves to loopback without any network; port 1 has no listener, so only the guard
# can explain a refusal that names the address rule.
LOOPBACK_URL = "http://localhost:1/x.png"
# A proxy nobody listens on: a request that reached it would fail to connect, unguarded.
DEAD_PROXY = "http://127.0.0.1:1"


def test_defaults_are_the_packages() -> None:
    """The builder keeps the tuned pool, identity bodies, no redirects, no environment proxies."""
    with DefaultHttpxClient() as client:
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == MAX_CONNECTIONS
        assert pool._max_keepalive_connections == MAX_KEEPALIVE_CONNECTIONS
        assert client.headers["accept-encoding"] == "identity"
        assert client.follow_redirects is False
        assert client.trust_env is False


def test_options_of_its_own_are_kept() -> None:
    """Headers and timeouts given to the builder are used; identity encoding cannot be undone."""
    headers = {"X-Team": "art", "Accept-Encoding": "gzip"}
    with DefaultHttpxClient(headers=headers, timeout=7.0) as client:
        assert client.headers["x-team"] == "art"
        assert client.headers["accept-encoding"] == "identity"
        assert client.timeout == httpx.Timeout(7.0)


@pytest.mark.parametrize(
    ("option", "error"),
    [
        ({"transport": httpx.MockTransport(lambda r: httpx.Response(200))}, TypeError),
        ({"mounts": {}}, TypeError),
        ({"follow_redirects": True}, ValueError),
    ],
)
def test_options_that_would_bypass_the_guard_are_refused(
    option: dict[str, object], error: type[Exception]
) -> None:
    """A transport, mounts or followed redirects would bypass the rules: refused at once."""
    with pytest.raises(error):
        DefaultHttpxClient(**option)
    with pytest.raises(error):
        DefaultAsyncHttpxClient(**option)


def test_image_client_fetches_foreign_urls_through_a_guarded_twin() -> None:
    """An ImageClient given a DefaultHttpxClient fetches foreign URLs with the address guard."""
    with DefaultHttpxClient() as http:
        with ImageClient(http_client=http) as client:
            foreign = client._foreign()
            assert foreign is not http
            with pytest.raises(httpx.ConnectError) as caught:
                foreign.get(LOOPBACK_URL)
        assert isinstance(caught.value.__cause__, BlockedAddressError)
        assert foreign.is_closed  # the twin is the image client's, closed with it
        assert not http.is_closed  # the injected client stays the caller's


def test_a_plain_injected_client_carries_foreign_urls_itself() -> None:
    """Any other injected httpx.Client is used as is for foreign URLs (documented)."""
    with httpx.Client() as http, ImageClient(http_client=http) as client:
        assert client._foreign() is http


def test_through_a_proxy_the_target_is_checked_before_the_proxy_is_asked() -> None:
    """With proxy=, the foreign twin resolves and checks the host itself, since the proxy connects."""
    with (
        DefaultHttpxClient(proxy=DEAD_PROXY) as http,
        ImageClient(http_client=http) as client,
        pytest.raises(httpx.ConnectError) as caught,
    ):
        client._foreign().get(LOOPBACK_URL)
    assert isinstance(caught.value.__cause__, BlockedAddressError)


async def test_async_twin_is_guarded_too() -> None:
    """AsyncImageClient given a DefaultAsyncHttpxClient guards foreign URLs, proxy or not."""
    for options in ({}, {"proxy": DEAD_PROXY}):
        async with (
            DefaultAsyncHttpxClient(**options) as http,
            AsyncImageClient(http_client=http) as client,
        ):
            foreign = await client._foreign()
            assert foreign is not http
            with pytest.raises(httpx.ConnectError) as caught:
                await foreign.get(LOOPBACK_URL)
        assert isinstance(caught.value.__cause__, BlockedAddressError), options
        assert foreign.is_closed


def test_clawrouter_itself_is_reached_through_the_builder(loopback: str) -> None:
    """The builder's client reaches ClawRouter on loopback: the guard is for foreign URLs only."""
    with DefaultHttpxClient() as http, ImageClient(loopback, http_client=http) as client:
        assert client.generate("a red fox", model="cogview", size="512x512").urls

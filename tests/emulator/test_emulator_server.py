"""The emulator on a real loopback port, and the in-process clients it hands out."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from clawrouter_images.emulator import Emulator, Fault, run, serve
from clawrouter_images.emulator.__main__ import main

GENERATIONS = "/v1/images/generations"
REQUEST = {"model": "google/nano-banana", "prompt": "a lighthouse", "size": "1024x1024"}


@pytest.fixture
def quick(tmp_path: Path) -> Emulator:
    """An emulator with a tiny idle limit, for the tests that wait on it."""
    return Emulator(image_dir=tmp_path / "images", idle_timeout=0.2)


def test_port_zero_localises_with_the_real_port(quick: Emulator) -> None:
    """``serve(port=0)`` picks a free port and result URLs carry it."""
    with serve(quick, port=0) as base_url, httpx.Client(base_url=base_url) as client:
        port = quick.port
        assert base_url == f"http://127.0.0.1:{port}"
        url = client.post(GENERATIONS, json=REQUEST).json()["data"][0]["url"]
        assert re.fullmatch(rf"http://localhost:{port}/images/\d{{13}}-[0-9a-z]{{8}}\.png", url)
        picture = client.get(url.replace("localhost", "127.0.0.1"))
    assert picture.status_code == 200
    assert picture.headers["content-length"] == str(len(picture.content))


def test_drops_close_the_socket_without_a_response(quick: Emulator) -> None:
    """A ``drop`` fault closes the connection: httpx reports no response, and serving goes on."""
    quick.add_fault("drop")
    with serve(quick, port=0) as base_url, httpx.Client(base_url=base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.post(GENERATIONS, json=REQUEST)
        assert client.post(GENERATIONS, json=REQUEST).status_code == 200
    assert [entry.status for entry in quick.ledger] == [None, 200]


def test_mid_body_drops_cut_the_answer(quick: Emulator) -> None:
    """A ``drop_mid_body`` fault ends the body early: httpx reports an incomplete message."""
    quick.add_fault("drop_mid_body")
    with (
        serve(quick, port=0) as base_url,
        httpx.Client(base_url=base_url) as client,
        pytest.raises(httpx.RemoteProtocolError, match="complete message body"),
    ):
        client.post(GENERATIONS, json=REQUEST)


def test_the_idle_limit_closes_silent_requests(quick: Emulator) -> None:
    """A request silent past ``idle_timeout`` is closed with no response, long before its delay."""
    quick.add_fault(Fault("slow", delay=30))
    with serve(quick, port=0) as base_url, httpx.Client(base_url=base_url) as client:
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(GENERATIONS, json=REQUEST)
        waited = time.monotonic() - started
    assert quick.idle_timeout <= waited < 10
    assert quick.ledger[-1].paid is True


async def test_async_clients_see_drops_over_a_socket(quick: Emulator) -> None:
    """An async httpx client sees the same error on a real socket."""
    quick.add_fault("drop")
    with serve(quick, port=0) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(GENERATIONS, json=REQUEST)


def test_serving_a_taken_port_fails(quick: Emulator) -> None:
    """``serve()`` raises when the port is in use."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"), serve(quick, port=taken.getsockname()[1]):
            pass


def test_serve_uses_the_emulators_port_by_default(quick: Emulator) -> None:
    """Without ``port``, ``serve()`` listens on the emulator's own port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    quick.port = free
    with serve(quick) as base_url:
        assert base_url == f"http://127.0.0.1:{free}"
        assert httpx.get(f"{base_url}/health").json()["status"] == "ok"


def test_sync_client_is_an_httpx_client(quick: Emulator) -> None:
    """``sync_client()`` is a plain ``httpx.Client`` that takes per-request timeouts quietly."""
    with quick.sync_client() as client:
        assert type(client) is httpx.Client
        response = client.post(GENERATIONS, json=REQUEST, timeout=5.0)
        picture = client.get(response.json()["data"][0]["url"])
    assert response.status_code == 200
    assert picture.headers["content-type"] == "image/png"


def test_sync_client_sees_drops(quick: Emulator) -> None:
    """In-process sync clients get ``RemoteProtocolError`` for a drop and for the idle limit."""
    quick.add_fault("drop")
    quick.add_fault(Fault("slow", delay=30))
    with quick.sync_client() as client:
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):
                client.post(GENERATIONS, json=REQUEST)


async def test_async_client_uses_the_base_url(quick: Emulator) -> None:
    """``async_client()`` reaches the emulator at its base URL, in-process."""
    async with quick.async_client() as client:
        assert str(client.base_url) == "http://127.0.0.1:8402"
        assert (await client.get("/health")).status_code == 200


def test_run_fails_fast_on_a_taken_port(quick: Emulator) -> None:
    """``run()`` binds before serving, so a taken port raises instead of hanging."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            run(quick, port=taken.getsockname()[1])


def test_module_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m clawrouter_images.emulator --help`` describes its options."""
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "--idle-timeout" in capsys.readouterr().out

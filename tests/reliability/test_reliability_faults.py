"""Every fault the emulator can script, on a real socket, through both clients and both adapters.

All ``Fault`` kinds but ``b64_json`` (an answer that works); ``remote_url`` points at a
loopback port that refuses connections.  Each fault is crossed with sync/async and
generate/edit.  The client must raise the exact exception class, with a message that
says what to do next; the emulator's ledger must show at most one paid request; the save
directory must hold no file, partial or not; and the connection pool must then serve the
next call.  The LangChain tools (an error ``ToolMessage``) and the LlamaIndex tools
(``call_tool`` / ``acall_tool`` with ``is_error``) turn the same fault into an error the
agent reads, with the same advice.  Retried faults (429, 503) are retried without
sleeping and are never paid twice.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import ToolMessage
from llama_index.core.tools.calling import acall_tool, call_tool

from clawrouter_images import (
    APIConnectionError,
    BadRequestError,
    ClawRouterError,
    DownloadError,
    GenerationTimeoutError,
    InternalServerError,
    PaymentRequiredError,
    RateLimitError,
    ResponseValidationError,
    SaveError,
    ServiceUnavailableError,
    UpstreamError,
    estimate_cost,
)
from clawrouter_images.emulator import Fault
from langchain_clawrouter import ClawRouterEditImage, ClawRouterGenerateImage
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.reliability.conftest import Clients, Served
    from tests.support.twin import Mode, Route, Twin

# Where the emulator's result points for the "result host private" case (see refusing_port).
UNREACHABLE_PORT = "{refusing_port}"
MAY_HAVE_BEEN_PAID = r"may have been paid, so it was not retried; check before sending it again"
DROPPED = r"closed the connection without an answer .* check before sending it again"
MODELS = {"generate": "zai/cogview-4", "edit": "openai/gpt-image-1"}
COSTS = {"generate": estimate_cost("cogview", "512x512"), "edit": estimate_cost("gpt-image")}


@dataclass(frozen=True)
class Case:
    """One fault and everything that must follow from it."""

    fault: Fault
    error: type[ClawRouterError]
    advice: str
    """A regular expression the message must match: what the user should do next."""
    paid: int
    """Paid POSTs in the emulator's ledger."""
    charged: bool
    """Whether the client counts the call in ``spent_usd`` (it may have been paid)."""
    posts: int = 1
    persistent: bool = False
    """Every request gets the fault (the retried kinds, so that the retries run out)."""
    idle_limit: float | None = None
    at_save: bool = False
    """The call succeeds and ``save()`` fails."""


CASES: dict[str, Case] = {
    "402-payment-rejected": Case(
        Fault("payment_rejected"),
        PaymentRequiredError,
        r"payment rejected: fund the ClawRouter wallet \(address and balance at "
        r"http://127\.0\.0\.1:\d+/health\?full=true\), then try again",
        paid=0,
        charged=False,
    ),
    "400-delisted": Case(
        Fault("delisted"),
        BadRequestError,
        # The model to try instead is never the one that was just refused.
        r"(?<!\S)(\S+) was delisted upstream; try (?!\1(?!\S))\S+/\S+",
        paid=0,
        charged=False,
    ),
    "400-invalid-request": Case(
        Fault("invalid_request", details="size must be one of 1024x1024"),
        BadRequestError,
        # The upstream's 400 after the paid retry, in ClawRouter's own wrapper: not one of
        # ClawRouter's recorded refusals, so it may have been paid.
        r"size must be one of 1024x1024\) — the request may have been paid, so it was not "
        r"retried; check before sending it again \(the request itself was refused: change "
        r"the model, size, n, prompt or image\)",
        paid=1,
        charged=True,
    ),
    # ClawRouter drops the upstream's Retry-After header; the number stays in the body only.
    "429-without-retry-after": Case(
        Fault("rate_limited", retry_after=3),
        RateLimitError,
        r"the upstream is rate limiting; wait a little and try again",
        paid=0,
        charged=False,
        posts=3,
        persistent=True,
    ),
    "429-with-retry-after": Case(
        Fault("rate_limited", retry_after=3, send_retry_after=True),
        RateLimitError,
        r"the upstream is rate limiting; wait a little and try again",
        paid=0,
        charged=False,
        posts=3,
        persistent=True,
    ),
    "500-server-error": Case(
        Fault("server_error"), InternalServerError, MAY_HAVE_BEEN_PAID, paid=1, charged=True
    ),
    "502-generation-failed": Case(
        Fault("generation_failed"), UpstreamError, MAY_HAVE_BEEN_PAID, paid=1, charged=True
    ),
    "502-upstream-unreachable": Case(
        Fault("upstream_unreachable"),
        UpstreamError,
        r"ClawRouter could not reach the image gateway; check its network or upstream proxy",
        paid=0,
        charged=True,  # the client cannot tell this 502 from one after payment
    ),
    "502-bad-payment-challenge": Case(
        Fault("bad_payment_challenge"),
        UpstreamError,
        r"the gateway sent a payment challenge ClawRouter cannot read; update ClawRouter",
        paid=0,
        # ClawRouter gave up before signing anything (clawrouter-api.md section 8).
        charged=False,
    ),
    "503-service-unavailable": Case(
        Fault("service_unavailable"),
        ServiceUnavailableError,
        r"ClawRouter is unavailable; wait a little and try again",
        paid=0,
        charged=False,
        posts=3,
        persistent=True,
    ),
    "504-timeout": Case(
        Fault("timeout"), GenerationTimeoutError, MAY_HAVE_BEEN_PAID, paid=1, charged=True
    ),
    # ClawRouter destroys a socket silent for 300 s; here the limit is 0.2 s.
    "silent-until-dropped": Case(
        Fault("slow", delay=1.0),
        GenerationTimeoutError,
        DROPPED,
        paid=1,
        charged=True,
        idle_limit=0.2,
    ),
    "dropped-without-response": Case(
        Fault("drop"), GenerationTimeoutError, DROPPED, paid=1, charged=True
    ),
    "dropped-mid-body": Case(
        Fault("drop_mid_body"),
        APIConnectionError,
        r"broke while the request was in flight; it may have been paid, so it was not "
        r"retried — check before sending it again",
        paid=1,
        charged=True,
    ),
    "malformed-json": Case(
        Fault("malformed_json"),
        ResponseValidationError,
        r"its body is not JSON .*check ClawRouter's log before sending it again",
        paid=1,
        charged=True,
    ),
    "empty-data": Case(
        Fault("empty_data"),
        ResponseValidationError,
        r"with no usable image URL or b64_json in `data`; the request may have been paid — "
        r"check ClawRouter's log",
        paid=1,
        charged=True,
    ),
    "job-stub": Case(
        Fault("job_stub"),
        ResponseValidationError,
        r"with an unfinished job .* check ClawRouter's log before sending it again",
        paid=1,
        charged=True,
    ),
    "result-url-404": Case(
        Fault("dead_url"),
        DownloadError,
        r"answered 404; it may have expired or never been stored — generate it again",
        paid=1,
        charged=True,
        at_save=True,
    ),
    # The upstream's URL names a loopback port (nothing listens there): refused by address,
    # before any connection, and the paid answer's URL is still in the message.
    "result-host-private": Case(
        Fault("remote_url", url=f"http://127.0.0.1:{UNREACHABLE_PORT}/files/lost.png"),
        DownloadError,
        r"could not download result image http://127\.0\.0\.1:\d+/files/lost\.png: it points "
        r"into this machine or a private network .* the answer's image URLs: "
        r"http://127\.0\.0\.1:\d+/files/lost\.png",
        paid=1,
        charged=True,
        at_save=True,
    ),
}
# Retried faults that happen once: the retry succeeds.
RETRIED_ONCE = ("429-without-retry-after", "429-with-retry-after", "503-service-unavailable")


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening, so nobody takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


def _script(served: Served, case: Case, refusing_port: int) -> None:
    fault = case.fault
    if fault.url is not None:
        url = fault.url.replace(UNREACHABLE_PORT, str(refusing_port))
        fault = Fault(fault.kind, url=url)
    served.emulator.add_fault(fault, times=None if case.persistent else 1)
    if case.idle_limit is not None:
        served.emulator.idle_timeout = case.idle_limit


def _heal(served: Served) -> None:
    """Stop misbehaving, so that the next call shows whether the client still works."""
    served.emulator.clear_faults()
    served.emulator.idle_timeout = 30.0


def _check_sleeps(fault: Fault, retries: int, sleeps: list[float]) -> None:
    """Retries were scheduled, never slept: Retry-After when sent, else jittered back-off."""
    if fault.send_retry_after:
        assert sleeps == [fault.retry_after] * retries
    else:
        assert len(sleeps) == retries
        for attempt, delay in enumerate(sleeps):
            assert 0.5 * 2**attempt * 0.75 <= delay <= 0.5 * 2**attempt * 1.25


def _check_ledger(served: Served, case: Case) -> None:
    posts = served.posts()
    assert len(posts) == case.posts
    assert all(entry.fault == case.fault.kind for entry in posts)
    assert served.paid() == case.paid <= 1


def _no_files(directory: Path) -> None:
    """Nothing at all in the save directory: no image, no hidden ``.part`` file."""
    assert not directory.exists() or sorted(p.name for p in directory.iterdir()) == []


def _tool_args(route: Route, uploads: Path) -> dict[str, Any]:
    if route == "generate":
        return {"prompt": "a lighthouse at dusk", "model": "cogview", "size": "512x512"}
    return {"prompt": "add a red boat", "image": str(uploads / "photo.png"), "model": "gpt-image"}


# -- the client ------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["generate", "edit"])
@pytest.mark.parametrize("name", list(CASES))
async def test_fault_through_the_client(
    name: str, route: Route, twin: Twin, served: Served, tmp_path: Path, refusing_port: int
) -> None:
    """A fault raises its exact class with advice, pays at most once, leaves no file, spares the pool."""
    case = CASES[name]
    _script(served, case, refusing_port)
    saved = tmp_path / "saved"
    if case.at_save:
        response = await twin.call(route)
        with pytest.raises(ClawRouterError) as caught:
            await twin.save(response, saved)
    else:
        with pytest.raises(ClawRouterError) as caught:
            await twin.call(route)
    error = caught.value
    if case.at_save:
        # Saving failed after the answer arrived: the error keeps the answer.
        assert type(error) is SaveError
        assert type(error.__cause__) is case.error
        assert error.result is response
    else:
        assert type(error) is case.error
    assert re.search(case.advice, error.message), error.message
    assert error.may_have_been_paid is case.charged
    _check_ledger(served, case)
    _check_sleeps(case.fault, case.posts - 1, twin.sleeps)
    assert twin.client.spent_usd == pytest.approx(COSTS[route] if case.charged else 0.0)
    _no_files(saved)

    _heal(served)
    (path,) = await twin.save(await twin.call(route), saved)
    assert path.parent == saved
    assert sorted(p.name for p in saved.iterdir()) == [path.name]
    assert served.paid() == case.paid + 1


@pytest.mark.parametrize("route", ["generate", "edit"])
@pytest.mark.parametrize("name", RETRIED_ONCE)
async def test_a_single_retried_fault_is_paid_once(
    name: str, route: Route, twin: Twin, served: Served
) -> None:
    """A single 429 or 503 is retried without sleeping; only the successful retry is paid."""
    case = CASES[name]
    served.emulator.add_fault(case.fault, times=1)
    response = await twin.call(route)
    assert response.model == MODELS[route]
    status = 429 if case.error is RateLimitError else 503
    assert [(entry.status, entry.paid) for entry in served.posts()] == [
        (status, False),
        (200, True),
    ]
    _check_sleeps(case.fault, 1, twin.sleeps)
    assert twin.client.spent_usd == pytest.approx(COSTS[route])


# -- the adapters ----------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["generate", "edit"])
@pytest.mark.parametrize("name", list(CASES))
async def test_fault_through_langchain(
    name: str,
    route: Route,
    mode: Mode,
    served: Served,
    clients: Clients,
    uploads: Path,
    tmp_path: Path,
    refusing_port: int,
) -> None:
    """The LangChain tool turns a fault into an error ToolMessage with the client's advice."""
    case = CASES[name]
    _script(served, case, refusing_port)
    saved = tmp_path / "saved"
    tool_class = ClawRouterGenerateImage if route == "generate" else ClawRouterEditImage
    tool = tool_class(
        client=clients.sync, async_client=clients.aio, save_dir=saved, allowed_dirs=[uploads]
    )
    call = {"name": tool.name, "args": _tool_args(route, uploads), "id": "c1", "type": "tool_call"}
    message = tool.invoke(call) if mode == "sync" else await tool.ainvoke(call)
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert isinstance(message.content, str)
    assert re.search(case.advice, message.content), message.content
    _check_ledger(served, case)
    _check_sleeps(case.fault, case.posts - 1, clients.sleeps)
    _no_files(saved)

    _heal(served)
    again = tool.invoke(call) if mode == "sync" else await tool.ainvoke(call)
    assert isinstance(again, ToolMessage)
    assert again.status == "success"
    assert len(list(saved.iterdir())) == 1


@pytest.mark.parametrize("route", ["generate", "edit"])
@pytest.mark.parametrize("name", list(CASES))
async def test_fault_through_llama_index(
    name: str,
    route: Route,
    mode: Mode,
    served: Served,
    clients: Clients,
    uploads: Path,
    tmp_path: Path,
    refusing_port: int,
) -> None:
    """The LlamaIndex tool turns a fault into an is_error output with the client's advice."""
    case = CASES[name]
    _script(served, case, refusing_port)
    saved = tmp_path / "saved"
    spec = ClawRouterImageToolSpec(
        client=clients.sync, async_client=clients.aio, save_dir=saved, allowed_dirs=[uploads]
    )
    tool = {t.metadata.name: t for t in spec.to_tool_list()}[f"{route}_image"]
    args = _tool_args(route, uploads)
    output = call_tool(tool, args) if mode == "sync" else await acall_tool(tool, args)
    assert output.is_error
    if case.at_save:
        assert type(output.exception) is SaveError
        assert type(output.exception.__cause__) is case.error
    else:
        assert type(output.exception) is case.error
    assert re.search(case.advice, output.content), output.content
    _check_ledger(served, case)
    _check_sleeps(case.fault, case.posts - 1, clients.sleeps)
    _no_files(saved)

    _heal(served)
    again = call_tool(tool, args) if mode == "sync" else await acall_tool(tool, args)
    assert not again.is_error
    assert len(list(saved.iterdir())) == 1

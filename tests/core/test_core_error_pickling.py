"""Errors that travel: each class, raised by the client as it really raises it, survives
pickling (to a worker's parent process, a Ray driver, a Celery result) with its fields."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import clawrouter_images
from clawrouter_images import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    BudgetExceededError,
    ClawRouterError,
    ClientClosedError,
    DownloadError,
    GenerationTimeoutError,
    InputImageError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    RequestInfo,
    ResponseValidationError,
    SaveError,
    ServiceUnavailableError,
    UpstreamError,
)

if TYPE_CHECKING:
    from tests.support.server import FakeClawRouter as Server
    from tests.support.twin import MakeTwin, Twin

GENERATIONS = "/v1/images/generations"
POST = RequestInfo("POST", f"http://127.0.0.1:8402{GENERATIONS}")

Scenario = Callable[["Twin", "Server", Path], Awaitable[object]]


async def _status(twin: Twin, server: Server, status: int) -> object:
    body = {"error": "went wrong", "details": f"detail {status}"}
    server.on("POST", GENERATIONS, server.json(body, status))
    return await twin.generate("a red fox")


async def _connection(twin: Twin, server: Server, _: Path) -> object:
    server.on("POST", GENERATIONS, httpx.ConnectError("[Errno 111] Connection refused"))
    return await twin.generate("a red fox")


async def _timeout(twin: Twin, server: Server, _: Path) -> object:
    server.on("POST", GENERATIONS, httpx.ReadTimeout("timed out"))
    return await twin.generate("a red fox")


async def _closed(twin: Twin, server: Server, _: Path) -> object:
    await twin.close()
    return await twin.generate("a red fox")


async def _dropped(twin: Twin, server: Server, _: Path) -> object:
    error = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    server.on("POST", GENERATIONS, error)
    return await twin.generate("a red fox")


async def _redirect(twin: Twin, server: Server, _: Path) -> object:
    server.on("POST", GENERATIONS, server.text("", 302, {"location": "http://elsewhere/"}))
    return await twin.generate("a red fox")


async def _invalid(twin: Twin, server: Server, _: Path) -> object:
    return await twin.generate("a red fox", model="no-such-model")


async def _input_image(twin: Twin, server: Server, tmp_path: Path) -> object:
    return await twin.edit("add a hat", tmp_path / "missing.png", model="gpt-image")


async def _budget(twin: Twin, server: Server, _: Path) -> object:
    return await twin.generate("a red fox", max_cost_usd=0.000001)


async def _not_json(twin: Twin, server: Server, _: Path) -> object:
    server.on("POST", GENERATIONS, server.text("<html>oops</html>"))
    return await twin.generate("a red fox")


async def _download(twin: Twin, server: Server, _: Path) -> object:
    server.on("GET", "/images/gone.png", server.json({"error": "Not found"}, 404))
    return await twin.download("http://localhost:8402/images/gone.png")


async def _save(twin: Twin, server: Server, tmp_path: Path) -> object:
    server.on("POST", GENERATIONS, server.images("http://localhost:8402/images/gone.png"))
    server.on("GET", "/images/gone.png", server.json({"error": "Not found"}, 404))
    response = await twin.generate("a red fox")
    return await twin.save(response, tmp_path)


def _status_case(status: int) -> Scenario:
    async def scenario(twin: Twin, server: Server, _: Path) -> object:
        return await _status(twin, server, status)

    return scenario


SCENARIOS: dict[type[ClawRouterError], Scenario] = {
    APIConnectionError: _connection,
    APITimeoutError: _timeout,
    ClientClosedError: _closed,
    APIStatusError: _redirect,
    BadRequestError: _status_case(400),
    PaymentRequiredError: _status_case(402),
    NotFoundError: _status_case(404),
    RateLimitError: _status_case(429),
    InternalServerError: _status_case(500),
    UpstreamError: _status_case(502),
    ServiceUnavailableError: _status_case(503),
    GenerationTimeoutError: _dropped,
    InvalidRequestError: _invalid,
    InputImageError: _input_image,
    BudgetExceededError: _budget,
    ResponseValidationError: _not_json,
    DownloadError: _download,
    SaveError: _save,
}


def _roundtrip(err: BaseException) -> Any:
    """``err`` pickled and unpickled, as a worker process would hand it back."""
    return pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes


def _fields(err: BaseException) -> dict[str, Any]:
    """What an error carries: its type, args and every field, class defaults included."""
    names = {"message", "may_have_been_paid", "result", "request", *vars(err)} - {"response"}
    return {"type": type(err), "args": err.args} | {n: getattr(err, n, None) for n in names}


def test_every_public_error_class_has_a_scenario() -> None:
    """Each exported error class the client raises is driven below (the base is abstract)."""
    public = {
        value
        for name in clawrouter_images._PUBLIC
        if isinstance(value := getattr(clawrouter_images, name), type)
        and issubclass(value, ClawRouterError)
    }
    assert public - {ClawRouterError} == set(SCENARIOS)


@pytest.mark.parametrize("cls", list(SCENARIOS), ids=lambda cls: cls.__name__)
async def test_error_pickles_with_its_fields(
    make_twin: MakeTwin, server: Server, tmp_path: Path, cls: type[ClawRouterError]
) -> None:
    """An error as the client raises it comes back from pickle as the same class, same fields."""
    twin = make_twin(server, max_retries=0)
    with pytest.raises(ClawRouterError) as info:
        await SCENARIOS[cls](twin, server, tmp_path)
    err = info.value
    assert type(err) is cls
    restored = _roundtrip(err)
    assert _fields(restored) == _fields(err)
    assert str(restored) == str(err)


@pytest.mark.parametrize("cls", [NotFoundError, APIStatusError], ids=lambda cls: cls.__name__)
async def test_status_error_keeps_status_body_details_and_request(
    twin: Twin, server: Server, tmp_path: Path, cls: type[APIStatusError]
) -> None:
    """A status error's status_code, body, details and request survive pickling; the
    httpx response stays behind (None once unpickled)."""
    with pytest.raises(cls) as info:
        await SCENARIOS[cls](twin, server, tmp_path)
    err = info.value
    assert err.response is not None
    restored = _roundtrip(err)
    assert isinstance(restored, cls)
    assert (restored.status_code, restored.body, restored.details) == (
        err.status_code,
        err.body,
        err.details,
    )
    assert restored.request == err.request == POST
    assert restored.response is None


async def test_save_error_keeps_the_paid_answer_and_saved_paths(
    twin: Twin, server: Server, tmp_path: Path, png: bytes
) -> None:
    """A SaveError unpickled still holds the paid answer (its URLs) and what was saved."""
    kept = "http://localhost:8402/images/kept.png"
    server.on("GET", "/images/kept.png", server.content(png))
    server.on("POST", GENERATIONS, server.images(kept, "http://localhost:8402/images/gone.png"))
    server.on("GET", "/images/gone.png", server.json({"error": "Not found"}, 404))
    response = await twin.generate("a red fox", model="gpt-image", n=2)
    with pytest.raises(SaveError) as info:
        await twin.save(response, tmp_path)
    restored = _roundtrip(info.value)
    assert restored.result == response
    assert restored.result is not None
    assert restored.result.urls == response.urls
    assert restored.saved_paths == info.value.saved_paths
    assert len(restored.saved_paths) == 1
    assert restored.may_have_been_paid is True
    assert restored.request == RequestInfo("GET", "http://127.0.0.1:8402/images/gone.png")


async def test_paid_answer_in_an_error_leaves_its_local_state_behind(
    twin: Twin, server: Server, tmp_path: Path
) -> None:
    """The answer inside a pickled error carries no preview client (it may hold a password)."""
    with pytest.raises(SaveError) as info:
        await _save(twin, server, tmp_path)
    assert info.value.result is not None
    assert info.value.result._local.preview is not None
    restored = _roundtrip(info.value)
    assert restored.result is not None
    assert restored.result._local.preview is None


async def test_request_shows_no_credentials(make_twin: MakeTwin, server: Server) -> None:
    """The request an error names is method and URL, without the base URL's user and password."""
    server.on("POST", GENERATIONS, server.json({"error": "nope"}, 500))
    twin = make_twin(server, base_url="http://user:secret@127.0.0.1:8402", max_retries=0)
    with pytest.raises(InternalServerError) as info:
        await twin.generate("a red fox")
    assert info.value.request == POST
    assert "secret" not in repr(pickle.dumps(info.value))


async def test_errors_before_sending_name_no_request(twin: Twin) -> None:
    """What is refused before anything is sent has no request."""
    with pytest.raises(InvalidRequestError) as info:
        await twin.generate("")
    assert info.value.request is None


def test_copy_keeps_the_fields() -> None:
    """copy.copy of an error with keyword-only fields works and keeps them."""
    err = RateLimitError("slow down", status_code=429, body={"error": "x"}, details="d")
    copied = copy.copy(err)
    assert _fields(copied) == _fields(err)

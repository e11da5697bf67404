"""Fuzzing the public API (hypothesis): whatever comes in, only a result or a ClawRouterError.

Prompts in any Unicode and up to past the length limit, sizes as arbitrary strings, any
``n``, model strings and their look-alikes, image inputs of random bytes, data URIs of any
type, paths that do not exist, foreign URL schemes, and values of the wrong type: each
call either succeeds or raises a ``ClawRouterError`` subclass with a bounded message, and
when it is refused nothing is POSTed (the server is a fake that would answer any
request with an image).  Both twins run every example; the tools of both frameworks
turn every refusal into an error the agent reads.  A budget or cost cap that is not a
number (NaN above all, which compares false with everything) is refused, never taken
for no cap at all.
"""

from __future__ import annotations

import base64
import io
import json
import math
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import ToolMessage
from llama_index.core.tools.calling import acall_tool

from clawrouter_images import (
    MODELS,
    BudgetExceededError,
    ClawRouterError,
    ImageClient,
    InvalidRequestError,
)
from langchain_clawrouter import ClawRouterEditImage, ClawRouterGenerateImage
from llama_index.tools.clawrouter import ClawRouterImageToolSpec

if TYPE_CHECKING:
    from tests.reliability.conftest import Clients
    from tests.support.server import FakeClawRouter

# Enough to show the first words of what was wrong, never a whole input or body.
MAX_MESSAGE_CHARS = 1000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

fuzz = settings(
    # The fixtures hold a fake and two clients; every example compares counts taken
    # before and after it, so sharing them across examples is safe.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    max_examples=120,
    deadline=None,
)

NAMES = sorted({name for model in MODELS.values() for name in (model.id, *model.aliases)})
SIZES = sorted({size for model in MODELS.values() for size in model.sizes})

wrong_types = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.binary(max_size=16),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.just(object()),
)
# One character repeated: long texts without hypothesis building them a character at a time.
long_text = st.builds(lambda char, count: char * count, st.characters(), st.integers(1, 40_000))
prompts = st.one_of(
    st.text(), long_text, st.sampled_from(["a cat", " ", ""]), st.none(), wrong_types
)
models = st.one_of(
    st.none(),
    st.sampled_from(NAMES),
    st.sampled_from(NAMES).map(lambda name: f"  {name.upper()}\t"),
    st.text(max_size=40),
    long_text,
    wrong_types,
)
sizes = st.one_of(
    st.none(),
    st.sampled_from(SIZES),
    st.from_regex(r"\A\s*\d{1,6}\s*[x×X*]\s*\d{1,6}\s*\Z"),
    st.text(max_size=20),
    long_text,
    wrong_types,
)
counts = st.one_of(st.integers(-3, 12), st.booleans(), st.floats(), st.text(max_size=3), st.none())
caps = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-1, 3),
    st.text(max_size=3),
)
timeouts = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-1, 600),
    st.text(max_size=3),
)
extras = st.one_of(
    st.none(),
    st.dictionaries(
        st.one_of(st.text(max_size=8), st.sampled_from(["model", "prompt", "quality"])),
        st.one_of(st.integers(), st.text(max_size=8), st.floats(allow_nan=True), st.none()),
        max_size=3,
    ),
    wrong_types,
)

raw_bytes = st.binary(max_size=64)
png_like = raw_bytes.map(lambda tail: PNG_MAGIC + tail)
data_uris = st.builds(
    lambda kind, payload: f"data:{kind};base64,{base64.b64encode(payload).decode()}",
    st.sampled_from(
        [
            "image/png",
            "image/jpeg",
            "",
            "text/plain",
            "text/html",
            "image/svg+xml",
            "application/pdf",
        ]
    ),
    st.one_of(raw_bytes, png_like),
)
# Characters that break path handling: NUL, a lone surrogate, separators, home and newline.
path_chars = st.one_of(st.sampled_from("\x00\ud800/.~\\\n"), st.characters())
paths = st.one_of(
    st.text(alphabet=path_chars, max_size=30).map(lambda text: f"/nonexistent-fuzz/{text}"),
    st.text(alphabet=path_chars, min_size=1, max_size=12).map(lambda text: f"~{text}"),
    st.integers(200, 5000).map(lambda count: "x" * count),
)
one_image = st.one_of(
    raw_bytes,
    png_like,
    png_like.map(bytearray),
    png_like.map(lambda data: memoryview(data)),
    st.one_of(raw_bytes, png_like).map(io.BytesIO),
    st.text(max_size=8).map(io.StringIO),
    data_uris,
    st.text(max_size=30).map(lambda text: "data:" + text),
    paths,
    st.sampled_from(
        [
            "http://localhost:8402/images/17955-0.png",
            "http://127.0.0.1:8402/v1/models",
            "https://",
            "file:///etc/passwd",
            "FILE:///etc/hostname",
            "ftp://127.0.0.1/a.png",
            "gopher://127.0.0.1/1",
            "javascript:alert(1)",
            "",
            "   ",
        ]
    ),
    st.none(),
    wrong_types,
)
images = st.one_of(one_image, st.lists(one_image, max_size=6), st.tuples(one_image, one_image))
masks = st.one_of(st.none(), one_image)


def _check_outcome(error: ClawRouterError | None, fake: FakeClawRouter, posts_before: int) -> None:
    """A refusal sent nothing; a success sent exactly one well-formed POST."""
    posts = [r for r in fake.requests if r.method == "POST"][posts_before:]
    if error is None:
        (post,) = posts
        body = json.loads(post.content)
        assert body["model"] in MODELS
        return
    assert len(error.message) <= MAX_MESSAGE_CHARS, error.message[:200]
    assert error.message.strip()
    error.message.encode("utf-8")  # can be logged, printed and sent to an LLM
    # The fake answers every POST with an image, so any error is a refusal.
    assert isinstance(error, (InvalidRequestError, BudgetExceededError)), repr(error)
    assert posts == []


def _posts(fake: FakeClawRouter) -> int:
    return sum(1 for request in fake.requests if request.method == "POST")


@fuzz
@given(
    prompt=prompts,
    model=models,
    size=sizes,
    n=counts,
    max_cost_usd=caps,
    timeout=timeouts,
    extra_body=extras,
)
async def test_generate_takes_anything(
    recorded_clients: Clients,
    fake: FakeClawRouter,
    prompt: Any,
    model: Any,
    size: Any,
    n: Any,
    max_cost_usd: Any,
    timeout: Any,
    extra_body: Any,
) -> None:
    """generate() on any arguments returns a result or raises a ClawRouterError, sending nothing if refused."""
    kwargs = {
        "model": model,
        "size": size,
        "n": n,
        "max_cost_usd": max_cost_usd,
        "timeout": timeout,
        "extra_body": extra_body,
    }
    for kind in ("sync", "async"):
        before = _posts(fake)
        error: ClawRouterError | None = None
        try:
            if kind == "sync":
                recorded_clients.sync.generate(prompt, **kwargs)
            else:
                await recorded_clients.aio.generate(prompt, **kwargs)
        except ClawRouterError as err:
            error = err
        _check_outcome(error, fake, before)


@fuzz
@given(prompt=prompts, image=images, mask=masks, model=models, size=sizes, n=counts)
async def test_edit_takes_anything(
    recorded_clients: Clients,
    fake: FakeClawRouter,
    prompt: Any,
    image: Any,
    mask: Any,
    model: Any,
    size: Any,
    n: Any,
) -> None:
    """edit() on any images and arguments returns a result or raises a ClawRouterError, sending nothing if refused."""
    kwargs = {"mask": mask, "model": model, "size": size, "n": n}
    for kind in ("sync", "async"):
        for item in (image, mask):  # file objects are read by the first call
            if isinstance(item, io.IOBase):
                item.seek(0)
        before = _posts(fake)
        error: ClawRouterError | None = None
        try:
            if kind == "sync":
                recorded_clients.sync.edit(prompt, image, **kwargs)
            else:
                await recorded_clients.aio.edit(prompt, image, **kwargs)
        except ClawRouterError as err:
            error = err
        _check_outcome(error, fake, before)


EDITORS = sorted(model.alias for model in MODELS.values() if model.edits and model.available)


@fuzz
@given(image=images, mask=masks, model=st.sampled_from(EDITORS))
async def test_edit_takes_any_image(
    recorded_clients: Clients, fake: FakeClawRouter, image: Any, mask: Any, model: str
) -> None:
    """edit() with valid arguments and any image or mask returns a result or raises a ClawRouterError."""
    for kind in ("sync", "async"):
        for item in (image, mask):
            if isinstance(item, io.IOBase):
                item.seek(0)
        before = _posts(fake)
        error: ClawRouterError | None = None
        try:
            if kind == "sync":
                recorded_clients.sync.edit("add a hat", image, mask=mask, model=model)
            else:
                await recorded_clients.aio.edit("add a hat", image, mask=mask, model=model)
        except ClawRouterError as err:
            error = err
        _check_outcome(error, fake, before)


tool_strings = st.one_of(st.text(max_size=40), long_text, st.sampled_from(NAMES), st.none())
tool_images = st.one_of(
    tool_strings,
    paths.filter(lambda path: isinstance(path, str)),
    data_uris,
    st.sampled_from(["file:///etc/passwd", "/etc/passwd", "../../etc/passwd", "~/.ssh/id_rsa"]),
    st.lists(st.one_of(st.text(max_size=20), data_uris), max_size=6),
    st.integers(),
)
tool_args = st.fixed_dictionaries(
    {},
    optional={
        "prompt": st.one_of(st.text(), long_text, st.integers()),
        "model": tool_strings,
        "size": st.one_of(tool_strings, st.integers()),
        "n": st.one_of(st.integers(-2, 10), st.text(max_size=3), st.floats()),
        "image": tool_images,
        "mask": tool_images,
        "unexpected": st.text(max_size=5),
    },
)


@fuzz
@given(args=tool_args, editing=st.booleans())
async def test_tools_answer_anything_with_a_readable_error(
    recorded_clients: Clients, fake: FakeClawRouter, args: dict[str, Any], editing: bool
) -> None:
    """Both frameworks' tools turn any arguments into a result or an error the agent reads, sending nothing if refused."""
    sync, aio = recorded_clients.sync, recorded_clients.aio
    tool = (ClawRouterEditImage if editing else ClawRouterGenerateImage)(
        client=sync, async_client=aio
    )
    call = {"name": tool.name, "args": args, "id": "fuzz", "type": "tool_call"}
    for run in ("invoke", "ainvoke"):
        before = _posts(fake)
        message = tool.invoke(call) if run == "invoke" else await tool.ainvoke(call)
        assert isinstance(message, ToolMessage)
        assert isinstance(message.content, str)
        if message.status == "error":
            assert message.content.strip()
            message.content.encode("utf-8")
            assert len(message.content) <= MAX_MESSAGE_CHARS, message.content[:200]
            assert _posts(fake) == before
        else:
            assert _posts(fake) == before + 1

    spec = ClawRouterImageToolSpec(client=sync, async_client=aio)
    (function_tool,) = spec.to_tool_list(["edit_image" if editing else "generate_image"])
    before = _posts(fake)
    output = await acall_tool(function_tool, args)
    expected = {"prompt", "image"} if editing else {"prompt"}
    accepted = {"prompt", "model", "size", "n"} | ({"image", "mask"} if editing else set())
    # Python itself refuses a call with missing or unknown arguments (TypeError), before
    # the tool runs; everything the tool raises must be one of ours.
    python_refuses = not expected <= args.keys() or not args.keys() <= accepted
    if output.is_error:
        assert isinstance(output.exception, ClawRouterError) or (
            python_refuses and isinstance(output.exception, TypeError)
        ), repr(output.exception)
        assert len(str(output.exception)) <= MAX_MESSAGE_CHARS
        assert _posts(fake) == before
    else:
        assert _posts(fake) == before + 1


NOT_A_CAP = [math.nan, -math.inf, "0.10", b"1", [1], True]


@pytest.mark.parametrize("value", NOT_A_CAP)
@pytest.mark.parametrize("name", ["budget_usd", "max_cost_usd"])
def test_a_client_cap_that_is_not_a_number_is_refused(name: str, value: object) -> None:
    """A NaN or non-number budget or cost cap is refused at construction, never taken for no cap."""
    with pytest.raises(InvalidRequestError, match=name):
        ImageClient("http://127.0.0.1:8402", **{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", NOT_A_CAP)
def test_a_call_cap_that_is_not_a_number_is_refused(value: object, fake: FakeClawRouter) -> None:
    """A NaN or non-number max_cost_usd on a call is refused before sending, never taken for no cap."""
    with httpx.Client(transport=fake.transport()) as http:
        client = ImageClient(fake.base_url, http_client=http)
        with pytest.raises(InvalidRequestError, match="max_cost_usd"):
            client.generate("a fox", max_cost_usd=value)  # type: ignore[arg-type]
    assert fake.requests == []

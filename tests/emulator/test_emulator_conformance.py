"""The emulator answers each recorded request like the real ClawRouter did, in-process and on a socket.

Each transcript in ``shared/clawrouter-transcripts`` is replayed against the emulator,
with the fault its fake upstream played scripted where one is needed.  Statuses, content
types and bodies must match; volatile values (file names, ``created``, job ids) match by
pattern, and text the fake upstream made up (``fake upstream: ...``) compares without that
prefix.  On a socket the framing must match too: chunked JSON, ``Content-Length`` on
image files.  Three transcripts record what the recorder's fake upstream accepted where
the emulator answers differently on purpose; ``test_emulator_deviations`` covers them.

The ledger must say "paid" exactly where the recording shows money moving: ClawRouter
sent the paid retry (a ``PAYMENT-SIGNATURE`` or ``X-PAYMENT`` header reached the fake
upstream) and the upstream did not reject the payment (a 402 back).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from clawrouter_images.emulator import Emulator, Fault, FaultKind

if TYPE_CHECKING:
    from tests.emulator.conftest import LoadTranscript, Raw, Wire

# The recorded exchanges vendored under tests/ (the same folder tests/conftest.py loads).
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "transcripts"

DEVIATIONS = frozenset({"gen-alias-nano-banana", "i2i-image-list-not-converted", "models-list"})
# The fake upstream served this one free (no 402 challenge); the emulator's upstream always
# charges.
FREE_IN_THE_RECORDING = frozenset({"gen-free-200-no-402"})
IMAGE_ROUTES = frozenset({"/v1/images/generations", "/v1/images/image2image"})
NAMES = sorted(p.stem for p in TRANSCRIPTS.glob("*.json") if p.stem not in DEVIATIONS)

LOCAL_URL = re.compile(r"^http://localhost:(\d+)/images/\d{13}-[0-9a-z]{8}\.(png|jpg|webp)$")
SEEDED_INPUT = "0000000000000-inputpng.png"
MISSING_INPUT = "0000000000000-missing0.png"
MAGIC = {"png": b"\x89PNG", "jpg": b"\xff\xd8\xff", "webp": b"RIFF"}


@dataclass(frozen=True)
class Setup:
    """What a transcript needs beyond its request: the fault the fake played, files, config."""

    fault: Fault | None = None
    details_from_transcript: FaultKind | None = None
    body_from_transcript: FaultKind | None = None
    seed_requested_file: bool = False
    balance_usd: float | None = 5.0
    rewrite: Mapping[str, str] = field(default_factory=dict)
    extra_keys: frozenset[str] = frozenset()


SETUPS: dict[str, Setup] = {
    "gen-402-missing-header": Setup(details_from_transcript="bad_payment_challenge"),
    "gen-402-solana-only": Setup(details_from_transcript="bad_payment_challenge"),
    "gen-dead-url-kept": Setup(fault=Fault("remote_url")),
    # The fake's free path left out the "model" key nano-banana answers carry.
    "gen-free-200-no-402": Setup(extra_keys=frozenset({"model"})),
    "gen-gpt-image-2-poll-500": Setup(body_from_transcript="server_error"),
    "gen-gpt-image-2-poll-failed": Setup(fault=Fault("generation_failed")),
    "gen-gpt-image-2-poll-never-completes": Setup(fault=Fault("slow", delay=60)),
    "gen-gpt-image-2-poll-nonjson": Setup(details_from_transcript="generation_failed"),
    "gen-malformed-402": Setup(fault=Fault("bad_payment_challenge")),
    "gen-non-json-200": Setup(fault=Fault("malformed_json")),
    "gen-payment-rejected-402": Setup(fault=Fault("payment_rejected")),
    "gen-upstream-400-after-payment": Setup(details_from_transcript="invalid_request"),
    "gen-upstream-429-retry-after": Setup(fault=Fault("rate_limited", retry_after=7)),
    "gen-upstream-500": Setup(fault=Fault("server_error")),
    "gen-upstream-unreachable": Setup(fault=Fault("upstream_unreachable")),
    "health-full": Setup(balance_usd=None),
    "i2i-http-url": Setup(
        rewrite={"http://127.0.0.1:18080/files/input.png": f"{{local}}/images/{SEEDED_INPUT}"}
    ),
    "i2i-malformed-402": Setup(fault=Fault("bad_payment_challenge")),
    "i2i-payment-rejected-402": Setup(fault=Fault("payment_rejected")),
    "i2i-upstream-500": Setup(fault=Fault("server_error")),
    "i2i-upstream-unreachable": Setup(fault=Fault("upstream_unreachable")),
    "i2i-url-404-400": Setup(
        rewrite={"http://127.0.0.1:18080/files/missing.png": f"{{local}}/images/{MISSING_INPUT}"}
    ),
    "images-get-hit-downloaded-png": Setup(seed_requested_file=True),
    "images-get-hit-jpg": Setup(seed_requested_file=True),
    "images-get-hit-png": Setup(seed_requested_file=True),
    "images-get-hit-via-localhost": Setup(seed_requested_file=True),
    "images-get-hit-webp": Setup(seed_requested_file=True),
    "images-head-404": Setup(seed_requested_file=True),
    "images-post-404": Setup(seed_requested_file=True),
}


def _substitute(value: Any, replacements: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, replacements) for key, item in value.items()}
    return value


def _seed(emulator: Emulator, name: str) -> None:
    """Put a small real image named ``name`` (typed by its extension) in the image directory."""
    image_format = {"jpg": "JPEG", "webp": "WEBP"}.get(name.rsplit(".", 1)[-1], "PNG")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 90)).save(buffer, image_format)
    emulator.image_dir.mkdir(parents=True, exist_ok=True)
    (emulator.image_dir / name).write_bytes(buffer.getvalue())


def _prepare(wire: Wire, recorded: dict[str, Any], setup: Setup) -> tuple[bytes, dict[str, str]]:
    """Script the emulator for this transcript; returns the request body and headers to send."""
    emulator = wire.emulator
    emulator.balance_usd = setup.balance_usd
    expected = recorded["response"].get("json")
    if setup.fault is not None:
        emulator.add_fault(setup.fault)
    if setup.details_from_transcript is not None:
        emulator.add_fault(
            Fault(setup.details_from_transcript, details=_unfake(expected["details"]))
        )
    if setup.body_from_transcript is not None:
        emulator.add_fault(Fault(setup.body_from_transcript, body=expected))
    request = recorded["request"]
    if setup.seed_requested_file:
        _seed(emulator, request["path"].rsplit("/", 1)[-1])
    _seed(emulator, SEEDED_INPUT)
    replacements = _replacements(wire, setup)
    if "json" in request:
        body = json.dumps(_substitute(request["json"], replacements)).encode()
        if not any(old in json.dumps(request["json"]) for old in replacements):
            assert hashlib.sha256(body).hexdigest() == request["body_sha256"]
    else:
        body = request.get("body", "").encode()
    headers = {k: v for k, v in request["headers"].items() if k != "content-length"}
    if request.get("connect_host") == "localhost":
        headers["host"] = f"localhost:{emulator.port}"
    return body, headers


def _replacements(wire: Wire, setup: Setup) -> dict[str, str]:
    local = f"http://localhost:{wire.emulator.port}"
    replacements = {"/home/user": str(wire.home)}
    replacements.update({old: new.format(local=local) for old, new in setup.rewrite.items()})
    return replacements


def _unfake(text: str) -> str:
    """Text the recorder's fake upstream wrote, without its ``fake upstream: `` label."""
    return text.replace("fake upstream: ", "")


def _assert_like(actual: Any, expected: Any, key: str, port: int, setup: Setup) -> None:
    """``actual`` equals ``expected`` except for volatile values, which match by pattern."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), (key, actual)
        assert set(actual) - setup.extra_keys == set(expected), (key, actual, expected)
        for name, value in expected.items():
            _assert_like(actual[name], value, name, port, setup)
        return
    if isinstance(expected, list):
        assert isinstance(actual, list), (key, actual)
        assert len(actual) == len(expected), (key, actual, expected)
        for got, want in zip(actual, expected, strict=True):
            _assert_like(got, want, key, port, setup)
        return
    if key == "url" and isinstance(expected, str):
        recorded_local = LOCAL_URL.match(expected)
        got_local = LOCAL_URL.match(actual)
        if recorded_local is None:
            assert got_local is None, actual
            assert actual.startswith(("http://", "https://")), actual
        else:
            assert got_local is not None, actual
            assert got_local.group(1) == str(port)
            assert got_local.group(2) == recorded_local.group(2)
        return
    if key == "created":
        assert isinstance(actual, int)
    elif key == "id":
        assert re.fullmatch(r"imgjob_\w+", actual), actual
    elif key == "poll_url":
        assert re.fullmatch(r"/api/v1/images/jobs/imgjob_\w+", actual), actual
    elif key == "revised_prompt":
        assert isinstance(actual, str)
        assert actual
    elif key == "b64_json":
        assert base64.b64decode(actual).startswith(MAGIC["png"])
    elif isinstance(expected, str):
        assert actual == _unfake(expected), (key, actual, expected)
    else:
        assert actual == expected, (key, actual, expected)


def _paid_in_the_recording(recorded: dict[str, Any]) -> bool:
    signed = any(
        entry.get("payment_signature_v2") or entry.get("x_payment_v1")
        for entry in recorded["forwarded_upstream"]
    )
    return signed and recorded["response"]["status"] != 402


def _assert_paid_like_the_recording(name: str, recorded: dict[str, Any], wire: Wire) -> None:
    request = recorded["request"]
    if request["method"] != "POST" or request["path"] not in IMAGE_ROUTES:
        return
    entry = wire.emulator.ledger[-1]
    assert entry.path == request["path"]
    expected = _paid_in_the_recording(recorded) or name in FREE_IN_THE_RECORDING
    assert entry.paid is expected, (name, entry)


def _assert_framing(raw: Raw, recorded: dict[str, Any], method: str) -> None:
    headers = recorded["headers"]
    if "content-length" in headers:
        assert raw.headers.get("content-length") == str(len(raw.body))
        assert "transfer-encoding" not in raw.headers
    elif method != "HEAD":  # h11 labels a bodiless HEAD answer chunked; Node does not
        assert raw.headers.get("transfer-encoding") == headers.get("transfer-encoding")
    for name, value in headers.items():
        if name.startswith("x-"):
            assert raw.headers.get(name) == value
    assert "retry-after" not in raw.headers
    assert "server" not in raw.headers


@pytest.mark.parametrize("name", NAMES)
def test_emulator_answers_like_the_recording(
    name: str, wire: Wire, transcript: LoadTranscript
) -> None:
    """The emulator gives the recorded status, content type and body (framing too on a socket)."""
    recorded = transcript(name)
    setup = SETUPS.get(name, Setup())
    body, headers = _prepare(wire, recorded, setup)
    method = recorded["request"]["method"]
    raw = wire.send(method, recorded["request"]["path"], body, headers)
    expected = _substitute(recorded["response"], _replacements(wire, setup))

    assert raw.status == expected["status"], (raw, expected)
    _assert_paid_like_the_recording(name, recorded, wire)
    if expected["status"] is None:
        return
    assert raw.headers.get("content-type") == expected["headers"].get("content-type")
    if "json" in expected:
        _assert_like(raw.json(), expected["json"], "", wire.emulator.port, setup)
    elif "text" in expected:
        assert raw.text == _unfake(expected["text"])
    elif "bytes" in expected:
        extension = recorded["request"]["path"].rsplit(".", 1)[-1]
        assert raw.body.startswith(MAGIC[extension])
        assert raw.body == (wire.emulator.image_dir / recorded["request"]["path"][8:]).read_bytes()
    elif "body_length" in expected:
        assert len(raw.body) == expected["body_length"]
    if wire.base_url is not None:
        _assert_framing(raw, expected, method)


def test_the_recordings_show_both_kinds_of_400(transcript: LoadTranscript) -> None:
    """The paid check above has teeth: an upstream 400 is recorded after payment and before."""
    after = transcript("gen-upstream-400-after-payment")
    before = transcript("i2i-no-image-field")
    assert (after["response"]["status"], _paid_in_the_recording(after)) == (400, True)
    assert (before["response"]["status"], _paid_in_the_recording(before)) == (400, False)
    stub = transcript("i2i-gpt-image-2-202-stub")
    assert (stub["response"]["status"], _paid_in_the_recording(stub)) == (200, True)


def test_every_transcript_is_here() -> None:
    """The vendored transcripts are all present: a missing folder must fail, not skip."""
    assert len(NAMES) + len(DEVIATIONS) == 72

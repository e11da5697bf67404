"""``emulate``'s options for trying things offline: extra models, slow answers, faults."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from clawrouter_images import ImageClient, ImageModel, PaymentRequiredError, RateLimitError
from clawrouter_images._cli import _parser, emulator_from, main
from clawrouter_images.emulator import Emulator

PIXEL = "acme/pixel-9"


def _options(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(["emulate", *argv])


@pytest.fixture
def made() -> Iterator[list[Emulator]]:
    emulators: list[Emulator] = []
    yield emulators
    for emulator in emulators:
        emulator.close()


def _client(emulator: Emulator) -> ImageClient:
    return ImageClient(emulator.base_url, http_client=emulator.sync_client(), max_retries=0)


def test_an_extra_model_is_served_and_priced_as_given(made: list[Emulator]) -> None:
    """`--model acme/pixel-9=0.03`: a deployer's ImageModel of that id is answered, not 400."""
    emulator = emulator_from(_options("--model", f"{PIXEL}=0.03"))
    made.append(emulator)
    pixel = ImageModel(id=PIXEL, price_usd=0.03, sizes=("1024x1024",), best_for="tests")
    with _client(emulator) as client:
        response = client.generate("a lighthouse", model=pixel)
    assert response.model == PIXEL
    [entry] = [e for e in emulator.ledger if e.method == "POST"]
    assert (entry.model, entry.paid) == (PIXEL, True)
    assert emulator.spent_usd == pytest.approx(0.03 * 1.05)


def test_without_the_option_the_model_is_unknown(made: list[Emulator]) -> None:
    emulator = emulator_from(_options())
    made.append(emulator)
    pixel = ImageModel(id=PIXEL, price_usd=0.03, sizes=("1024x1024",), best_for="tests")
    with _client(emulator) as client, pytest.raises(Exception, match="Unknown model"):
        client.generate("a lighthouse", model=pixel)


@pytest.mark.parametrize(
    "bad", ["acme/pixel-9", "=0.03", "acme/pixel-9=cheap", "acme/x=-1", "a=nan"]
)
def test_a_bad_extra_model_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Not ID=PRICE, or a price that is not a finite number >= 0: exit 2, nothing served."""
    assert main(["emulate", "--port", "0", "--model", bad]) == 2
    assert "--model" in capsys.readouterr().err


def test_faults_come_in_order_then_every_request_is_slow(made: list[Emulator]) -> None:
    """`--fault` kinds are scripted first, one request each, then `--slow` holds every one."""
    emulator = emulator_from(
        _options("--fault", "payment_rejected", "--fault", "rate_limited", "--slow", "0.01")
    )
    made.append(emulator)
    pending = [(fault.kind, fault.delay) for fault in emulator.pending_faults]
    assert pending == [("payment_rejected", 0.0), ("rate_limited", 0.0), ("slow", 0.01)]
    with _client(emulator) as client:
        with pytest.raises(PaymentRequiredError):
            client.generate("a lighthouse")
        with pytest.raises(RateLimitError):
            client.generate("a lighthouse")
        client.generate("a lighthouse")
        client.generate("a lighthouse")
    assert [e.fault for e in emulator.ledger if e.method == "POST"] == [
        "payment_rejected",
        "rate_limited",
        "slow",
        "slow",
    ]


def test_an_unknown_fault_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """One line naming the kinds, exit 2, before anything listens."""
    assert main(["emulate", "--port", "0", "--fault", "meteor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "meteor" in err
    assert "payment_rejected" in err

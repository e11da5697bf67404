"""The emulated upstream: which requests it accepts, and the shape of its answers."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.png import png_bytes

from clawrouter_images import MODELS
from clawrouter_images.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Call

GENERATIONS = "/v1/images/generations"
IMAGE2IMAGE = "/v1/images/image2image"
LOCAL_URL = re.compile(r"^http://localhost:8402/images/\d{13}-[0-9a-z]{8}\.png$")
PNG_URI = (
    "data:image/png;base64,"
    + base64.b64encode(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgZGIGAAAOAAfXb+R4AAAAAElFTkSuQmCC"
        )
    ).decode()
)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"model": "nano-banana", "prompt": "x"}, "Unknown model: nano-banana"),
        ({"model": "banana-pro", "prompt": "x"}, "Unknown model: banana-pro"),
        (
            {"model": "black-forest/flux-1.1-pro", "prompt": "x"},
            "Unknown model: black-forest/flux-1.1-pro",
        ),
        ({"model": "Google/Nano-Banana", "prompt": "x"}, "Unknown model: Google/Nano-Banana"),
        ({"model": 7, "prompt": "x"}, "Unknown model: 7"),
        ({"prompt": ""}, "prompt is required"),
        ({"model": "google/nano-banana"}, "prompt is required"),
        ({"prompt": "x", "n": 5}, "n must be an integer from 1 to 4"),
        ({"prompt": "x", "n": 0}, "n must be an integer from 1 to 4"),
        ({"prompt": "x", "n": "2"}, "n must be an integer from 1 to 4"),
        ({"prompt": "x", "n": True}, "n must be an integer from 1 to 4"),
        ({"prompt": "x", "size": "512x512"}, "size 512x512 is not supported by google/nano-banana"),
        ({"prompt": "x", "size": "1024 x 1024"}, "is not supported"),
        ({"prompt": "x", "size": 1024}, "size 1024 is not supported"),
        (
            {"model": "google/nano-banana-pro", "prompt": "x", "size": "8192x8192"},
            "is not supported",
        ),
        ({"prompt": "x", "output_format": "gif"}, "output_format must be one of png, jpeg, webp"),
        ({"prompt": "x", "output_format": ["png"]}, "output_format must be one of"),
        ({"prompt": "x", "response_format": "base64"}, "response_format must be url or b64_json"),
    ],
)
async def test_generation_refusals(call: Call, emu: Emulator, body: Any, details: str) -> None:
    """The upstream refuses what it cannot do with ``400 Invalid request``, before payment."""
    raw = await call(emu, "POST", GENERATIONS, json_body=body)
    assert raw.status == 400
    assert raw.json()["error"] == "Invalid request"
    assert details in raw.json()["details"]
    assert emu.ledger[-1].paid is False


async def test_aliases_are_named_in_the_refusal(call: Call, emu: Emulator) -> None:
    """An alias is not resolved: the 400 names the model exactly as sent."""
    raw = await call(emu, "POST", GENERATIONS, json_body={"model": "gpt-image", "prompt": "x"})
    assert raw.json() == {"error": "Invalid request", "details": "Unknown model: gpt-image"}


async def test_dall_e_3_answers_the_delisting(call: Call, emu: Emulator) -> None:
    """``openai/dall-e-3`` answers the gateway's recorded delisting 400."""
    raw = await call(
        emu, "POST", GENERATIONS, json_body={"model": "openai/dall-e-3", "prompt": "x"}
    )
    assert (raw.status, raw.json()) == (
        400,
        {"error": "Delisted 2026-05-25: OpenAI removed dall-e-3 from the API"},
    )


async def test_a_body_that_is_not_an_object_is_refused(call: Call, emu: Emulator) -> None:
    """A JSON array is forwarded and refused by the upstream."""
    raw = await call(emu, "POST", GENERATIONS, content=b"[1, 2]")
    assert raw.json() == {
        "error": "Invalid request",
        "details": "Request body must be a JSON object",
    }


@pytest.mark.parametrize("model", [m.id for m in MODELS.values() if m.available])
async def test_every_available_model_generates(call: Call, emu: Emulator, model: str) -> None:
    """Each available catalogue model answers 200 at its default size."""
    raw = await call(emu, "POST", GENERATIONS, json_body={"model": model, "prompt": "x"})
    assert raw.status == 200
    assert len(raw.json()["data"]) == 1


async def test_google_models_echo_the_model(call: Call, emu: Emulator) -> None:
    """Google-style answers are ``{"created","model","data":[{"url"}]}`` with local URLs."""
    body = {"model": "google/nano-banana-2", "prompt": "x"}
    answer = (await call(emu, "POST", GENERATIONS, json_body=body)).json()
    assert list(answer) == ["created", "model", "data"]
    assert answer["model"] == "google/nano-banana-2"
    assert LOCAL_URL.match(answer["data"][0]["url"])
    assert list(answer["data"][0]) == ["url"]


async def test_no_model_answers_model_null(call: Call, emu: Emulator) -> None:
    """Without ``model`` the default generates and the echoed ``model`` is null."""
    answer = (await call(emu, "POST", GENERATIONS, json_body={"prompt": "x"})).json()
    assert answer["model"] is None
    assert emu.ledger[-1].estimated_cost_usd == 0.0525


async def test_openai_models_add_a_revised_prompt(call: Call, emu: Emulator) -> None:
    """OpenAI answers carry ``revised_prompt`` and no ``model``."""
    body = {"model": "openai/gpt-image-1", "prompt": "a green square", "n": 2}
    answer = (await call(emu, "POST", GENERATIONS, json_body=body)).json()
    assert list(answer) == ["created", "data"]
    assert [item["revised_prompt"] for item in answer["data"]] == [
        "A revised prompt: a green square"
    ] * 2


async def test_gpt_image_2_answers_the_completed_job(call: Call, emu: Emulator) -> None:
    """gpt-image-2 generations answer the final poll body: ``id``, ``status: completed``."""
    body = {"model": "openai/gpt-image-2", "prompt": "slow"}
    answer = (await call(emu, "POST", GENERATIONS, json_body=body)).json()
    assert list(answer) == ["id", "status", "created", "data"]
    assert answer["status"] == "completed"
    assert re.fullmatch(r"imgjob_\d{4}", answer["id"])


async def test_gpt_image_2_edits_answer_the_queued_job_paid(call: Call, emu: Emulator) -> None:
    """gpt-image-2 on image2image answers 200 with the unpolled job stub, and was paid."""
    body = {"model": "openai/gpt-image-2", "prompt": "x", "image": PNG_URI}
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body=body)
    answer = raw.json()
    assert raw.status == 200
    assert list(answer) == ["id", "status", "poll_url", "created"]
    assert answer["status"] == "queued"
    assert answer["poll_url"] == f"/api/v1/images/jobs/{answer['id']}"
    entry = emu.ledger[-1]
    assert (entry.paid, entry.fault, entry.model) == (True, None, "openai/gpt-image-2")
    assert emu.spent_usd == entry.estimated_cost_usd > 0
    assert not emu.image_dir.exists() or not any(emu.image_dir.iterdir())


@pytest.mark.parametrize("kind", ["slow", "b64_json", "remote_url", "dead_url"])
async def test_result_faults_on_gpt_image_2_edits_still_answer_the_job(
    call: Call, emu: Emulator, kind: Any
) -> None:
    """A fault that reshapes results has no result to reshape: the job stub comes back."""
    emu.add_fault(kind)
    body = {"model": "openai/gpt-image-2", "prompt": "x", "image": PNG_URI}
    answer = (await call(emu, "POST", IMAGE2IMAGE, json_body=body)).json()
    assert answer["status"] == "queued"
    assert emu.ledger[-1].paid is True


async def test_gpt_image_2_edits_that_the_upstream_refuses_are_unpaid(
    call: Call, emu: Emulator
) -> None:
    """The stub is for requests the upstream takes: a bad size or an alias is refused first."""
    bad_size = {"model": "openai/gpt-image-2", "prompt": "x", "image": PNG_URI, "size": "7x7"}
    alias = {"model": "gpt-image-2", "prompt": "x", "image": PNG_URI}
    for body in (bad_size, alias):
        raw = await call(emu, "POST", IMAGE2IMAGE, json_body=body)
        assert raw.status == 400
    assert "Unknown model: gpt-image-2" in raw.json()["details"]
    assert [entry.paid for entry in emu.ledger] == [False, False]


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            {"model": "zai/cogview-4", "prompt": "x", "image": PNG_URI},
            "does not support image editing",
        ),
        ({"prompt": "x"}, "image is required"),
        ({"prompt": "x", "image": ""}, "image is required"),
        ({"prompt": "x", "image": 5}, "image must be a data URI or a list of data URIs"),
        ({"prompt": "x", "image": []}, "image must be a data URI or a list of data URIs"),
        ({"prompt": "x", "image": [PNG_URI] * 5}, "takes at most 4 input images"),
        ({"prompt": "x", "image": [PNG_URI, "~/pics/cat.png"]}, "image[1] must be a data URI"),
        ({"prompt": "x", "image": "data:image/png,raw"}, "image is not a readable image"),
        ({"prompt": "x", "image": [PNG_URI, PNG_URI], "mask": PNG_URI}, "mask cannot be combined"),
        (
            {"model": "google/nano-banana", "prompt": "x", "image": PNG_URI, "mask": PNG_URI},
            "does not support mask",
        ),
        ({"prompt": "x", "image": PNG_URI, "mask": 3}, "mask must be a data URI"),
    ],
)
async def test_edit_refusals(call: Call, emu: Emulator, body: Any, details: str) -> None:
    """Edits the upstream cannot do answer ``400 Invalid request`` before payment."""
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body=body)
    assert raw.status == 400
    assert details in raw.json()["details"]
    assert emu.ledger[-1].paid is False


async def test_edit_with_several_data_uris_is_accepted(call: Call, emu: Emulator) -> None:
    """A list of data URIs passes through ClawRouter and the upstream accepts it."""
    image = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    body = {"model": "google/nano-banana-pro", "prompt": "x", "image": [image, image]}
    raw = await call(emu, "POST", IMAGE2IMAGE, json_body=body)
    assert raw.status == 200
    assert raw.json()["model"] == "google/nano-banana-pro"

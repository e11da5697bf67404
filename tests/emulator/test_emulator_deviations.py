"""Where the emulator answers differently from the recording on purpose, and what it answers.

The recordings were made against a fake upstream that accepted anything.  Three of its
answers are not what the emulator's upstream gives: it does not resolve aliases, it does
not accept a path inside an ``image`` list, and its ``/v1/models`` list is short.  What
ClawRouter itself does in these cases (forward the alias, leave the list unconverted) is
the same.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from clawrouter_images.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Call, LoadTranscript


def _posts(recorded: dict[str, Any]) -> list[Any]:
    """The bodies ClawRouter POSTed upstream in a recording."""
    return [e["body"]["json"] for e in recorded["forwarded_upstream"] if e["method"] == "POST"]


async def test_alias_is_forwarded_and_refused(
    call: Call, emu: Emulator, transcript: LoadTranscript
) -> None:
    """``nano-banana`` reaches the upstream as sent (as recorded) and the emulator refuses it."""
    recorded = transcript("gen-alias-nano-banana")
    forwarded = _posts(recorded)[-1]
    assert forwarded["model"] == "nano-banana"
    raw = await call(
        emu, "POST", recorded["request"]["path"], json_body=recorded["request"]["json"]
    )
    assert (raw.status, raw.json()) == (
        400,
        {"error": "Invalid request", "details": "Unknown model: nano-banana"},
    )
    assert emu.ledger[-1].model == "nano-banana"


async def test_paths_inside_image_lists_are_not_converted(
    call: Call, emu: Emulator, transcript: LoadTranscript
) -> None:
    """A list keeps its path unconverted (as recorded); the emulator's upstream refuses it."""
    recorded = transcript("i2i-image-list-not-converted")
    forwarded_image = _posts(recorded)[-1]["image"]
    assert forwarded_image[0] == "~/pics/cat.png"
    raw = await call(
        emu, "POST", recorded["request"]["path"], json_body=recorded["request"]["json"]
    )
    assert raw.status == 400
    assert raw.json()["details"].startswith("image[0] must be a data URI")
    body = emu.ledger[-1].body
    assert isinstance(body, dict)
    assert body["image"][0] == "~/pics/cat.png"
    assert emu.ledger[-1].paid is False


async def test_models_list_is_short_but_shaped_alike(
    call: Call, emu: Emulator, transcript: LoadTranscript
) -> None:
    """``/v1/models`` starts like the recorded list and, like it, holds no image model."""
    recorded = transcript("models-list")["response"]["json"]
    body = (await call(emu, "GET", "/v1/models")).json()
    assert body["object"] == recorded["object"]
    assert [m["id"] for m in body["data"]] == [m["id"] for m in recorded["first_entries"]]
    assert {m["owned_by"] for m in body["data"]} == {"blockrun"}
    assert not {m["id"] for m in body["data"]} & {"google/nano-banana", "openai/gpt-image-1"}
    assert json.dumps(body)

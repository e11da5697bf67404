"""The demo's requests and the scripted model's side of the conversation, framework-free.

The four requests are the product brief's examples; the fifth asks for a model that is
configured into the tools but no longer available, so the agent reads a real error.
The scripted model reads the user's message the way a real one would (the URL or the
attached file is taken from the text), which is what lets the same script drive a
LangChain agent, a LlamaIndex agent and the examples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from clawrouter_images import MODELS, InvalidRequestError, resolve_model
from clawrouter_images._catalog import format_usd
from clawrouter_images.agent_tools import EDIT_TOOL_NAME, GENERATE_TOOL_NAME, ImageToolResult

IMAGE_SLOT = "{image}"

UNAVAILABLE_MODEL = "dall-e-3"
"""Configured into the demo's tools on purpose: the client refuses it before anything is paid."""

DEMO_MODELS: tuple[str, ...] = (
    *(model.alias for model in MODELS.values() if model.available),
    UNAVAILABLE_MODEL,
)
"""What the demo's tools offer the LLM: every available model, plus the unavailable one."""


@dataclass(frozen=True)
class Source:
    """Where an edit step's image comes from: an earlier step's result URL or saved file."""

    step: str
    kind: Literal["url", "file"]


@dataclass(frozen=True)
class Step:
    """One user request, the tool call the brief prescribes for it, and what must come back.

    ``request`` and the ``arguments`` values may hold ``{image}``: the source image (a
    URL or a path), filled in from an earlier step when the demo runs.
    """

    key: str
    request: str
    tool: str
    arguments: Mapping[str, Any]
    model: str
    size: str | None = None
    source: Source | None = None
    fails: bool = False

    def render(self, image: str | None = None) -> str:
        """The user's message, with the source image in it."""
        if IMAGE_SLOT in self.request:
            if image is None:
                raise ValueError(f"step {self.key!r} needs an image from step {self.source}")
            return self.request.replace(IMAGE_SLOT, image)
        return self.request

    def matches(self, message: str) -> dict[str, Any] | None:
        """The tool arguments for ``message`` if it is this step's request, else None."""
        head, slot, tail = self.request.partition(IMAGE_SLOT)
        pattern = re.escape(head) + ("(?P<image>.+?)" if slot else "") + re.escape(tail)
        found = re.fullmatch(pattern, message.strip(), flags=re.DOTALL)
        if found is None:
            return None
        image = found.groupdict().get("image")
        return {
            key: image if value == IMAGE_SLOT else value for key, value in self.arguments.items()
        }


STEPS: tuple[Step, ...] = (
    Step(
        key="draw",
        request="Draw me a cyberpunk city at night",
        tool=GENERATE_TOOL_NAME,
        arguments={"prompt": "a cyberpunk city at night", "model": "nano-banana"},
        model="google/nano-banana",
        size="1024x1024",
    ),
    Step(
        key="portrait",
        request="Generate a high-res portrait of a samurai",
        tool=GENERATE_TOOL_NAME,
        arguments={
            "prompt": "a high-res portrait of a samurai",
            "model": "banana-pro",
            "size": "1024x1792",
        },
        model="google/nano-banana-pro",
        size="1024x1792",
    ),
    Step(
        key="edit-url",
        request=f"Edit this photo to add a sunset background: {IMAGE_SLOT}",
        tool=EDIT_TOOL_NAME,
        arguments={
            "prompt": "add a warm sunset background",
            "image": IMAGE_SLOT,
            "model": "gpt-image",
        },
        model="openai/gpt-image-1",
        size="1024x1024",
        source=Source("draw", "url"),
    ),
    Step(
        key="edit-file",
        request=f"Change the background in my image to a beach (attached: {IMAGE_SLOT})",
        tool=EDIT_TOOL_NAME,
        arguments={"prompt": "replace the background with a sunny beach", "image": IMAGE_SLOT},
        model="openai/gpt-image-1",
        size="1024x1024",
        source=Source("portrait", "file"),
    ),
    Step(
        key="unavailable",
        request=f"Paint a photorealistic lighthouse in a storm with {UNAVAILABLE_MODEL}",
        tool=GENERATE_TOOL_NAME,
        arguments={"prompt": "a photorealistic lighthouse in a storm", "model": UNAVAILABLE_MODEL},
        model="openai/dall-e-3",
        fails=True,
    ),
)
"""The brief's four example requests, in its order, then one that fails."""


# -- the scripted model -------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedCall:
    """A tool call the scripted model makes."""

    tool: str
    arguments: dict[str, Any]


def plan_call(message: str, steps: Sequence[Step] = STEPS) -> PlannedCall:
    """The tool call for a user's message: the brief's choice for its requests, else a plain draw."""
    for step in steps:
        arguments = step.matches(message)
        if arguments is not None:
            return PlannedCall(step.tool, arguments)
    return PlannedCall(GENERATE_TOOL_NAME, {"prompt": message.strip()})


_RESULT_HEAD = re.compile(r"\d+ images? from ")


def looks_like_images(text: str) -> bool:
    """Whether a tool's text is a result (``1 image from ...``) rather than an error message."""
    return _RESULT_HEAD.match(text) is not None


def final_answer(results: Sequence[tuple[str, bool]]) -> str:
    """What the scripted model says after reading its tool results ``(text, is_error)``."""
    parts = []
    for text, is_error in results:
        if is_error:
            parts.append(f"Sorry, the image tool refused: {text}")
        else:
            parts.append(f"Here is your image.\n{text}")
    return "\n\n".join(parts) or "Done."


# -- what happened ------------------------------------------------------------------------


@dataclass
class ToolCallRecord:
    """One tool call an agent made, and what came back."""

    tool: str
    arguments: dict[str, Any]
    error: str | None = None
    model: str | None = None
    size: str | None = None
    prompt: str | None = None
    cost_usd: float | None = None
    files: list[Path] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class StepOutcome:
    """One step run by one framework's agent: its tool calls and whether they were as expected."""

    framework: str
    step: Step
    request: str
    calls: list[ToolCallRecord] = field(default_factory=list)
    answer: str = ""
    problem: str | None = None
    source_file: Path | None = None

    @property
    def expected(self) -> bool:
        return self.problem is None

    def first_image(self) -> ToolCallRecord | None:
        return next((call for call in self.calls if call.ok and call.files), None)


def check(outcome: StepOutcome, *, strict: bool) -> str | None:
    """Why ``outcome`` is not what its step expects, or None.

    ``strict`` (the scripted model): exactly the brief's call, with the brief's model and
    size.  Otherwise (a real model chooses for itself): an image for each request and no
    image from the unavailable model.
    """
    step, calls = outcome.step, outcome.calls
    if step.fails:
        if any(call.ok and call.model == step.model for call in calls):
            return f"{step.model} produced an image, but it should be refused"
        if strict and not (len(calls) == 1 and not calls[0].ok):
            return f"expected one refused call, got {_describe(calls)}"
        return None
    if not any(call.ok and call.files for call in calls):
        return f"no image was saved ({_describe(calls)})"
    if strict:
        if len(calls) != 1:
            return f"expected one tool call, got {_describe(calls)}"
        [call] = calls
        if call.tool != step.tool:
            return f"expected {step.tool}, got {call.tool}"
        if (call.model, call.size) != (step.model, step.size):
            return f"expected {step.model} at {step.size}, got {call.model} at {call.size}"
    return None


def _describe(calls: Sequence[ToolCallRecord]) -> str:
    if not calls:
        return "no tool call"
    return ", ".join(
        f"{call.tool} {'ok' if call.ok else 'error'}" + (f" ({call.model})" if call.model else "")
        for call in calls
    )


def cost_text(value: float | None) -> str:
    return "-" if value is None else format_usd(value)


def tool_call_record(
    tool: str,
    arguments: Mapping[str, Any],
    result: object,
    error: str | None,
) -> ToolCallRecord:
    """A record from what a tool returned: an ``ImageToolResult`` artifact, or the error text."""
    record = ToolCallRecord(tool=tool, arguments=dict(arguments), error=error)
    if isinstance(result, dict) and "saved_paths" in result and error is None:
        artifact = cast("ImageToolResult", result)
        record.model, record.size = artifact["model"], artifact["size"]
        record.prompt = artifact["prompt"]
        record.cost_usd = artifact["estimated_cost_usd"]
        record.files = [Path(path) for path in artifact["saved_paths"]]
        record.urls = artifact["urls"]
        return record
    record.prompt = str(arguments.get("prompt") or "") or None
    record.size = arguments.get("size") or None
    try:
        record.model = resolve_model(str(arguments.get("model") or "")).id
    except InvalidRequestError:
        record.model = arguments.get("model") or None
    if record.error is None:
        record.error = f"the tool returned {type(result).__name__}, not an image result"
    return record

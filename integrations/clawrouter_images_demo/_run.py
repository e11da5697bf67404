"""``clawrouter-images demo``: two agents, the brief's requests, a table and a gallery.

Where the images come from: ``--base-url`` or ``CLAWROUTER_BASE_URL`` (checked with
``health()`` first, and paid for), else an in-process emulator.  Who chooses the tool
calls: a scripted model, else ``--llm``.  Each request is a fresh conversation; the two
edit requests use an earlier request's result (its URL, its saved file).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from clawrouter_images import AsyncImageClient, ImageClient, estimate_cost
from clawrouter_images._catalog import format_usd
from clawrouter_images._constants import ENV_BASE_URL

from ._gallery import FRAMEWORK_LABELS, RunInfo, _shown_path, format_table, write_gallery
from ._llm import LLMSetupError, choose_llm
from ._script import (
    DEMO_MODELS,
    IMAGE_SLOT,
    STEPS,
    Step,
    StepOutcome,
    ToolCallRecord,
    check,
)

FRAMEWORKS = ("langchain", "llamaindex")
_NEEDS = {
    "langchain": (
        # The demo's extra brings LangChain's agents with the tools.
        ("langchain", "clawrouter-images[demo]"),
        ("langchain_clawrouter", "clawrouter-images[langchain]"),
    ),
    "llamaindex": (
        ("llama_index.core", "clawrouter-images[llama-index]"),
        ("llama_index.tools.clawrouter", "clawrouter-images[llama-index]"),
    ),
}
# A real model may retry or add a call; each agent's tools refuse to spend past this many
# times what the brief's calls are estimated to cost.
_BUDGET_FACTOR = 2.0
# Offline, the emulator takes this long over the high-res request, so that the tools'
# progress reports (four in that time) show; ClawRouter's gpt-image-2 takes minutes.
SLOW_STEP_SECONDS = 2.0
_SLOW_MODEL = "google/nano-banana-pro"

RequestRunner = Callable[[str], tuple[list[ToolCallRecord], str]]
# What one request gave: its tool calls and the agent's answer, or why the agent failed.
_Result = tuple[list[ToolCallRecord], str] | str


class DemoSetupError(Exception):
    """Something the demo needs is missing; the message says what to install or set."""


@dataclass
class _Place:
    """Where the images come from, and clients on it."""

    base_url: str
    description: str
    offline: bool
    sync_client: Callable[[], ImageClient]
    async_client: Callable[[], AsyncImageClient]


def expected_cost(steps: Sequence[Step] = STEPS) -> float:
    """What one agent's run of ``steps`` is estimated to cost, as the brief prescribes them."""
    return sum(estimate_cost(step.model, step.size) for step in steps if not step.fails)


def run_demo(
    *,
    output: Path,
    base_url: str | None = None,
    emulator: bool = False,
    llm: str | None = None,
    frameworks: Sequence[str] = FRAMEWORKS,
    slow_step: float = SLOW_STEP_SECONDS,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the demo; returns the exit code (0: every step behaved as expected)."""
    out = out or sys.stdout
    err = err or sys.stderr
    # Absolute: the tools read a local file only by an absolute path (no working directory is
    # implicit), and the edit step attaches a result saved under this folder.
    output = output.resolve()
    chosen = tuple(dict.fromkeys(frameworks))
    if base_url is None and not emulator:
        base_url = os.environ.get(ENV_BASE_URL, "").strip() or None
    try:
        _check_frameworks(chosen)
        if base_url is None:
            _check_emulator()
        choice = choose_llm(llm, chosen) if llm else None
        # Built before anything runs, so a bad model name fails before any image is paid for.
        models = {framework: choice.build(framework) for framework in chosen} if choice else {}
    except (DemoSetupError, LLMSetupError) as problem:
        print(f"clawrouter-images: error: {problem}", file=err)
        return 1
    budget = expected_cost() * _BUDGET_FACTOR
    with _place(base_url, slow_step) as place:
        if not place.offline:
            print(
                f"Using ClawRouter at {place.base_url}: these requests are paid, estimated "
                f"${expected_cost() * len(chosen):.2f} (each agent stops at ${budget:.2f}).",
                file=err,
            )
        outcomes: list[StepOutcome] = []
        for framework in chosen:
            print(f"{FRAMEWORK_LABELS[framework]} agent:", file=err)
            settings = _tool_settings(framework, output, budget)
            if place.offline and slow_step > 0:
                settings["progress_every_s"] = min(slow_step / 4, 1.0)
            outcomes += _run_framework(framework, place, settings, models.get(framework), err)
    print(format_table(outcomes), file=out)
    info = RunInfo(
        where=place.description,
        llm=choice.label if choice else "scripted (offline)",
        offline=place.offline,
        created=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
    )
    page = write_gallery(outcomes, output, info)
    unexpected = [outcome for outcome in outcomes if not outcome.expected]
    for outcome in unexpected:
        label = FRAMEWORK_LABELS[outcome.framework]
        print(f"unexpected: {label}, {outcome.request!r}: {outcome.problem}", file=out)
    summary = f"{len(outcomes) - len(unexpected)} of {len(outcomes)} steps as expected"
    print(f"\n{summary}. Gallery: {_shown_path(page)}", file=out)
    return 0 if not unexpected else 1


def _check_frameworks(frameworks: Sequence[str]) -> None:
    for framework in frameworks:
        if framework not in _NEEDS:
            raise DemoSetupError(f"unknown framework {framework!r}; choose from {FRAMEWORKS}")
        for module, package in _NEEDS[framework]:
            if not _importable(module):
                raise DemoSetupError(
                    f"the {FRAMEWORK_LABELS[framework]} agent needs {module}: "
                    f'pip install "{package}" (or --framework to run the other agent only)'
                )


def _check_emulator() -> None:
    try:
        from clawrouter_images import emulator  # noqa: F401 - its ImportError names the extra to install
    except ImportError as err:
        raise DemoSetupError(
            f"{err} (or point the demo at a running ClawRouter with --base-url)"
        ) from None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@contextlib.contextmanager
def _place(base_url: str | None, slow_step: float) -> Iterator[_Place]:
    if base_url is not None:
        with ImageClient(base_url, max_retries=0) as probe:
            health = probe.health()  # a ClawRouterError here says how to start ClawRouter
        wallet = f", wallet {health.wallet}" if health.wallet else ""
        yield _Place(
            base_url=probe.base_url,
            description=f"ClawRouter at {probe.base_url}{wallet}",
            offline=False,
            sync_client=lambda: ImageClient(base_url),
            async_client=lambda: AsyncImageClient(base_url),
        )
        return
    from clawrouter_images.emulator import Emulator, Fault  # the [emulator] extra

    with (
        tempfile.TemporaryDirectory(prefix="clawrouter-demo-") as image_dir,
        Emulator(image_dir=image_dir) as emu,
    ):
        if slow_step > 0:
            emu.add_fault(Fault("slow", delay=slow_step), model=_SLOW_MODEL, times=None)
        yield _Place(
            base_url=emu.base_url,
            description="offline emulator (no ClawRouter, no wallet)",
            offline=True,
            sync_client=lambda: ImageClient(emu.base_url, http_client=emu.sync_client()),
            async_client=lambda: AsyncImageClient(emu.base_url, http_client=emu.async_client()),
        )


def _tool_settings(framework: str, output: Path, budget: float) -> dict[str, Any]:
    return {
        "models": list(DEMO_MODELS),
        "save_dir": output / framework,
        # The file request attaches an image an earlier request saved here.
        "allowed_dirs": [output],
        # One cap for everything the agent's tools spend, sync and async.
        "budget_usd": round(budget, 4),
    }


def _run_framework(
    framework: str, place: _Place, settings: dict[str, Any], model: Any | None, err: TextIO
) -> list[StepOutcome]:
    """Run the steps with ``model`` (a real chat model), or the scripted one when None."""
    if framework == "langchain":
        return _run_langchain(place, settings, model, err)
    return asyncio.run(_run_llamaindex(place, settings, model, err))


def _run_langchain(
    place: _Place, settings: dict[str, Any], model: Any | None, err: TextIO
) -> list[StepOutcome]:
    from langchain_clawrouter import ClawRouterImageToolkit

    from . import _langchain

    with place.sync_client() as client:
        toolkit = ClawRouterImageToolkit(
            **settings,
            client=client,
            # Never used (the agent runs sync); given so none is built for the environment.
            async_client=place.async_client(),
        )
        strict = model is None
        agent = _langchain.make_agent(
            model if model is not None else _langchain.ScriptedChatModel(), toolkit.get_tools()
        )
        show = _langchain.progress_printer(lambda line: print(f"    {line}", file=err))
        outcomes = _run_steps(
            "langchain", lambda message: _langchain.run_request(agent, message, show), strict, err
        )
        _spent(toolkit.spent_usd, settings["budget_usd"], err)
        return outcomes


async def _run_llamaindex(
    place: _Place, settings: dict[str, Any], model: Any | None, err: TextIO
) -> list[StepOutcome]:
    from llama_index.tools.clawrouter import ClawRouterImageToolSpec

    from . import _llamaindex

    # Made inside the event loop that uses it, and closed in it.
    async with place.async_client() as async_client:
        with (
            place.sync_client() as client,
            _llamaindex.progress_printed(lambda line: print(f"    {line}", file=err)),
        ):
            spec = ClawRouterImageToolSpec(**settings, client=client, async_client=async_client)
            strict = model is None
            agent = _llamaindex.make_agent(
                model if model is not None else _llamaindex.scripted_llm(), spec.to_tool_list()
            )
            outcomes: list[StepOutcome] = []
            for step in STEPS:
                message, source = _message_for(step, outcomes)
                if message is None:
                    outcomes.append(_skipped("llamaindex", step))
                    continue
                result: _Result
                _announce(message, err)
                try:
                    result = await _llamaindex.run_request(agent, message)
                except Exception as problem:  # a real model's API error must not end the demo
                    result = _agent_failed(problem)
                outcomes.append(_outcome("llamaindex", step, message, source, result, strict))
                _progress(outcomes[-1], err)
            _spent(spec.spent_usd, settings["budget_usd"], err)
            return outcomes


def _spent(spent: float, budget: float, err: TextIO) -> None:
    print(f"  spent {format_usd(spent)} of the agent's {format_usd(budget)} budget", file=err)


def _run_steps(framework: str, run: RequestRunner, strict: bool, err: TextIO) -> list[StepOutcome]:
    outcomes: list[StepOutcome] = []
    for step in STEPS:
        message, source = _message_for(step, outcomes)
        if message is None:
            outcomes.append(_skipped(framework, step))
            continue
        result: _Result
        _announce(message, err)
        try:
            result = run(message)
        except Exception as problem:  # a real model's API error must not end the demo
            result = _agent_failed(problem)
        outcomes.append(_outcome(framework, step, message, source, result, strict))
        _progress(outcomes[-1], err)
    return outcomes


def _agent_failed(problem: Exception) -> str:
    return f"the agent failed: {type(problem).__name__}: {problem}"


def _message_for(step: Step, earlier: Sequence[StepOutcome]) -> tuple[str | None, Path | None]:
    """The user's message for ``step`` and the file it edits, from an earlier step's result."""
    if step.source is None:
        return step.render(), None
    found = next((o for o in earlier if o.step.key == step.source.step), None)
    record = found.first_image() if found else None
    if record is None:
        return None, None
    image = record.urls[0] if step.source.kind == "url" and record.urls else str(record.files[0])
    return step.render(image), record.files[0]


def _skipped(framework: str, step: Step) -> StepOutcome:
    source = step.source.step if step.source else "?"
    return StepOutcome(
        framework,
        step,
        step.request.replace(IMAGE_SLOT, "(no image)"),
        problem=f"skipped: it edits the result of {source!r}, which made no image",
    )


def _outcome(
    framework: str,
    step: Step,
    message: str,
    source: Path | None,
    result: _Result,
    strict: bool,
) -> StepOutcome:
    """The step's outcome from its tool calls and answer, or from why the agent failed."""
    if isinstance(result, str):
        return StepOutcome(framework, step, message, problem=result, source_file=source)
    records, answer = result
    outcome = StepOutcome(framework, step, message, records, answer, source_file=source)
    outcome.problem = check(outcome, strict=strict)
    return outcome


def _announce(request: str, err: TextIO) -> None:
    # Before the call: its progress reports then come under the request they are about.
    print(f"  {request[:60]}", file=err)


def _progress(outcome: StepOutcome, err: TextIO) -> None:
    mark = "ok" if outcome.expected else f"UNEXPECTED ({outcome.problem})"
    what = "refused as expected" if outcome.step.fails and outcome.expected else mark
    print(f"    ... {what}", file=err)

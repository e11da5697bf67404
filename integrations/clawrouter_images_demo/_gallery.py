"""What the demo shows: a text table for the terminal and ``index.html`` for a browser.

The page is the core's (``clawrouter_images._gallery``, which a batch's contact sheet
uses too): one self-contained file.  Everything that came from a model or a server is
escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clawrouter_images import InvalidRequestError, resolve_model
from clawrouter_images._gallery import href as _href
from clawrouter_images._gallery import page, png_size

from ._script import StepOutcome, ToolCallRecord, cost_text

FRAMEWORK_LABELS = {"langchain": "LangChain", "llamaindex": "LlamaIndex"}
_TABLE_COLUMNS = ("framework", "request", "model", "size", "est. cost", "file")
_MAX_REQUEST_CHARS = 48
_MAX_ERROR_CHARS = 90


@dataclass(frozen=True)
class RunInfo:
    """What the page says about the run as a whole."""

    where: str
    llm: str
    offline: bool
    created: str


def model_alias(model: str | None) -> str:
    if not model:
        return "-"
    try:
        return resolve_model(model).alias
    except InvalidRequestError:
        return model


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- terminal ------------------------------------------------------------------------------


def table_rows(outcomes: Sequence[StepOutcome]) -> list[tuple[str, ...]]:
    """One row per tool call (a row saying so where the agent made none)."""
    rows: list[tuple[str, ...]] = []
    for outcome in outcomes:
        framework = FRAMEWORK_LABELS.get(outcome.framework, outcome.framework)
        request = _short(outcome.request, _MAX_REQUEST_CHARS)
        if not outcome.calls:
            rows.append((framework, request, "-", "-", "-", outcome.problem or "(no tool call)"))
        for call in outcome.calls:
            if call.ok:
                shown = ", ".join(_shown_path(path) for path in call.files) or "(not saved)"
            else:
                label = "refused (expected)" if outcome.step.fails else "error"
                shown = f"{label}: {_short(call.error or '', _MAX_ERROR_CHARS)}"
            rows.append(
                (
                    framework,
                    request,
                    model_alias(call.model),
                    call.size or "-",
                    cost_text(call.cost_usd) if call.ok else "-",
                    shown,
                )
            )
    return rows


def format_table(outcomes: Sequence[StepOutcome]) -> str:
    """The outcomes as an aligned text table: framework, request, model, size, cost, file."""
    rows = [_TABLE_COLUMNS, *table_rows(outcomes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_COLUMNS) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths) + "  " + "-" * len(rows[0][-1]))
    return "\n".join(lines)


# -- the page ------------------------------------------------------------------------------


def _badge(framework: str) -> str:
    label = FRAMEWORK_LABELS.get(framework, framework)
    return f'<span class="badge {html.escape(framework)}">{html.escape(label)}</span>'


def _image_card(
    outcome: StepOutcome, number: int, call: ToolCallRecord, path: Path, root: Path
) -> str:
    esc = html.escape
    href = _href(path, root)
    dimensions = png_size(path)
    sized = f' width="{dimensions[0]}" height="{dimensions[1]}"' if dimensions else ""
    parts = [
        f'<a class="frame" href="{href}">'
        f'<img src="{href}" alt="{esc(call.prompt or outcome.request)}"{sized}></a>',
        '<div class="body">',
        _tag(outcome, number),
        _request(outcome),
    ]
    if call.prompt:
        parts.append(f'<p class="prompt">prompt sent: {esc(call.prompt)}</p>')
    if outcome.source_file is not None and outcome.source_file.exists():
        source = _href(outcome.source_file, root)
        parts.append(
            f'<div class="from">edited from <a href="{source}">'
            f'<img src="{source}" alt="the image that was edited"></a></div>'
        )
    parts.append(_meta(call))
    parts.extend(_problem_and_answer(outcome))
    parts.append(f'<div class="file"><a href="{href}">{esc(href)}</a></div></div>')
    return _card(outcome, "".join(parts))


def _refused_card(outcome: StepOutcome, number: int, call: ToolCallRecord | None) -> str:
    esc = html.escape
    if call is None:
        skipped = (outcome.problem or "").startswith("skipped")
        heading = "Skipped" if skipped else "No tool call"
        message = outcome.problem or "the agent answered without calling a tool"
    elif outcome.step.fails:
        heading, message = "Refused, as expected", call.error or ""
    else:
        heading, message = "Failed", call.error or ""
    parts = [
        f'<div class="refused"><strong>✗ {esc(heading)}</strong><pre>{esc(message)}</pre></div>',
        '<div class="body">',
        _tag(outcome, number),
        _request(outcome),
    ]
    if call is not None:
        if call.prompt:
            parts.append(f'<p class="prompt">prompt sent: {esc(call.prompt)}</p>')
        parts.append(_meta(call))
    parts.extend(_problem_and_answer(outcome))
    if call is not None:
        parts.append('<div class="file">the agent read this error and answered the user</div>')
    parts.append("</div>")
    return _card(outcome, "".join(parts), failed=True)


def _tag(outcome: StepOutcome, number: int) -> str:
    return f'<div class="tag">{_badge(outcome.framework)}<span>request {number}</span></div>'


_LONG_REFERENCE = re.compile(r"(?:https?://|/|[A-Za-z]:\\)\S*[/\\]([^/\\\s)]+)")


def _request(outcome: StepOutcome) -> str:
    """The user's request; a long URL or path in it is shown by its last part (all of it on hover)."""
    shown = _LONG_REFERENCE.sub(lambda found: "…/" + found.group(1), outcome.request)
    title = f' title="{html.escape(outcome.request)}"' if shown != outcome.request else ""
    return f'<p class="request"{title}>“{html.escape(shown)}”</p>'


def _meta(call: ToolCallRecord) -> str:
    items = [f"<li>{html.escape(model_alias(call.model))}</li>"]
    if call.size:
        items.append(f"<li>{html.escape(call.size)}</li>")
    if call.ok:
        items.append(f'<li class="cost">est. {html.escape(cost_text(call.cost_usd))}</li>')
    return f'<ul class="meta">{"".join(items)}</ul>'


def _problem_and_answer(outcome: StepOutcome) -> list[str]:
    parts = []
    if outcome.problem:
        parts.append(f'<p class="problem">Unexpected: {html.escape(outcome.problem)}</p>')
    if outcome.answer:
        parts.append(
            "<details><summary>the agent's answer</summary>"
            f"<pre>{html.escape(outcome.answer)}</pre></details>"
        )
    return parts


def _card(outcome: StepOutcome, inner: str, *, failed: bool = False) -> str:
    classes = ["card"]
    if failed:
        classes.append("failed")
    if not outcome.expected:
        classes.append("unexpected")
    return f'<article class="{" ".join(classes)}">{inner}</article>'


def _cards(outcome: StepOutcome, number: int, root: Path) -> list[str]:
    cards: list[str] = []
    for call in outcome.calls:
        if call.ok:
            cards.extend(_image_card(outcome, number, call, path, root) for path in call.files)
        else:
            cards.append(_refused_card(outcome, number, call))
    if not outcome.calls:
        cards.append(_refused_card(outcome, number, None))
    return cards


def gallery_html(outcomes: Sequence[StepOutcome], root: Path, info: RunInfo) -> str:
    """The page for ``outcomes``, with links relative to ``root`` (where it will be saved)."""
    esc = html.escape
    frameworks = list(dict.fromkeys(outcome.framework for outcome in outcomes))
    images = sum(len(call.files) for outcome in outcomes for call in outcome.calls if call.ok)
    cost = sum(call.cost_usd or 0.0 for outcome in outcomes for call in outcome.calls if call.ok)
    expected = sum(outcome.expected for outcome in outcomes)
    facts = [
        ("agents", ", ".join(FRAMEWORK_LABELS.get(f, f) for f in frameworks)),
        ("chat model", info.llm),
        ("images", info.where),
        ("saved", str(images)),
        ("estimated cost", cost_text(cost)),
        ("as expected", f"{expected} of {len(outcomes)} steps"),
    ]
    note = (
        "Offline run: the emulator draws a placeholder for each prompt (its colours come from "
        "the prompt, and the prompt is written on it). Pointed at ClawRouter, the same run "
        "saves the real models' images."
        if info.offline
        else "Images made by the real models through ClawRouter; costs are the catalogue's estimates."
    )
    sections = []
    for framework in frameworks:
        mine = [outcome for outcome in outcomes if outcome.framework == framework]
        cards = [
            card
            for number, outcome in enumerate(mine, start=1)
            for card in _cards(outcome, number, root)
        ]
        sections.append(
            f"<section><h2>{_badge(framework)} agent</h2>"
            f'<div class="grid">{"".join(cards)}</div></section>'
        )
    return page(
        title="clawrouter-images demo",
        heading="clawrouter-images: agents making images",
        paragraphs=(
            "Each card is one request a user typed, the tool call the agent made for it, "
            "and the image it saved (or the error it read).",
            note,
        ),
        facts=facts,
        sections=sections,
        footer_html=f"Written by <code>clawrouter-images demo</code> on {esc(info.created)}.",
    )


def write_gallery(outcomes: Sequence[StepOutcome], directory: Path, info: RunInfo) -> Path:
    """Write ``index.html`` into ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "index.html"
    page.write_text(gallery_html(outcomes, directory, info), encoding="utf-8")
    return page

"""What the demo shows: a text table for the terminal and ``index.html`` for a browser.

The page is one self-contained file: inline CSS, no script, no fonts or anything else
fetched from elsewhere, and images linked relative to the page, so the folder can be
opened (or moved, or zipped) as it is.  Everything that came from a model or a server
is escaped.
"""

from __future__ import annotations

import html
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from clawrouter_images import InvalidRequestError, resolve_model

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

_CSS = """
:root { color-scheme: light; --ink: #1d2230; --muted: #5d6475; --line: #e3e6ee;
  --bg: #f4f5f9; --card: #fff; --ok: #1f8a4c; --bad: #c0392b;
  --lc: #1c6e5a; --li: #6a3fb5; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { padding: 28px 36px 20px; background: #141824; color: #f2f4f8; }
header h1 { margin: 0 0 6px; font-size: 24px; font-weight: 650; letter-spacing: .2px; }
header p { margin: 4px 0; color: #c3c8d4; }
header .facts { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
header .fact { background: #232a3b; border-radius: 999px; padding: 3px 12px; font-size: 13px; }
header .fact b { color: #fff; font-weight: 600; }
main { padding: 8px 36px 40px; }
section h2 { display: flex; align-items: center; gap: 10px; margin: 28px 0 14px;
  font-size: 18px; font-weight: 650; }
.grid { display: grid; gap: 18px; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  overflow: hidden; display: flex; flex-direction: column;
  box-shadow: 0 1px 2px rgba(20, 24, 36, .06); }
.card.failed { border-color: #efc2bc; }
.card.unexpected { border: 2px solid var(--bad); }
.frame { display: block; background: #0f1320; height: 260px; position: relative; }
.frame img { width: 100%; height: 100%; object-fit: contain; display: block; }
.refused { height: 260px; padding: 18px 16px 16px; background: #fbeeec;
  display: flex; flex-direction: column; gap: 10px; }
.refused strong { color: var(--bad); font-size: 15px; }
.refused pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 12.5px;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  background: #fff; border: 1px solid #efc2bc; border-radius: 8px; padding: 10px;
  overflow: auto; }
.body { padding: 12px 14px 14px; display: flex; flex-direction: column; gap: 6px; flex: 1; }
.tag { display: flex; align-items: center; gap: 8px; font-size: 12px; color: var(--muted); }
.request { margin: 0; font-weight: 600; font-size: 15px; overflow-wrap: anywhere; }
.prompt { margin: 0; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.meta { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 0; padding: 0; list-style: none; }
.meta li { background: #eef0f6; border-radius: 6px; padding: 2px 8px; font-size: 12.5px; }
.meta li.cost { background: #e7f5ec; color: var(--ok); font-weight: 600; }
.from { display: flex; align-items: center; gap: 8px; font-size: 12.5px; color: var(--muted); }
.from img { width: 40px; height: 40px; object-fit: cover; border-radius: 6px;
  border: 1px solid var(--line); }
.file { margin-top: auto; padding-top: 6px; font-size: 12.5px; overflow-wrap: anywhere; }
.file a { color: #2f5bd3; text-decoration: none; }
.file a:hover { text-decoration: underline; }
.problem { margin: 0; color: var(--bad); font-size: 13px; font-weight: 600; }
details { font-size: 12.5px; color: var(--muted); }
details pre { white-space: pre-wrap; word-break: break-word; margin: 6px 0 0;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.badge { display: inline-block; border-radius: 999px; padding: 2px 10px; font-size: 12px;
  font-weight: 650; color: #fff; letter-spacing: .3px; }
.badge.langchain { background: var(--lc); }
.badge.llamaindex { background: var(--li); }
footer { padding: 0 36px 32px; color: var(--muted); font-size: 13px; }
"""


def _href(path: Path, root: Path) -> str:
    """A link to ``path`` relative to the page in ``root``."""
    relative = Path(os.path.relpath(path.resolve(), root.resolve()))
    return quote(relative.as_posix())


def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height from a PNG's header, without decoding it (None for other files)."""
    try:
        with path.open("rb") as file:
            head = file.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


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
    fact_html = "".join(
        f'<span class="fact">{esc(name)}: <b>{esc(value)}</b></span>' for name, value in facts
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>clawrouter-images demo</title>"
        f"<style>{_CSS}</style></head><body>"
        "<header><h1>clawrouter-images: agents making images</h1>"
        "<p>Each card is one request a user typed, the tool call the agent made for it, "
        "and the image it saved (or the error it read).</p>"
        f'<p>{esc(note)}</p><div class="facts">{fact_html}</div></header>'
        f"<main>{''.join(sections)}</main>"
        f"<footer>Written by <code>clawrouter-images demo</code> on {esc(info.created)}.</footer>"
        "</body></html>\n"
    )


def write_gallery(outcomes: Sequence[StepOutcome], directory: Path, info: RunInfo) -> Path:
    """Write ``index.html`` into ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "index.html"
    page.write_text(gallery_html(outcomes, directory, info), encoding="utf-8")
    return page

"""``DIR/index.html``: a batch's contact sheet, on the page the demo's gallery uses.

One card per image (the prompt, the model, the size, the estimated cost, the file), and
one per request that did not end ``ok`` (its error); in the input's order, so a file that
asks several models for each prompt shows them side by side.  Built from each id's
deciding record in ``results.jsonl``, written card by card into a temporary file that
replaces the old page once whole.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote

from .. import _constants as c
from .._catalog import format_usd
from .._gallery import href, page_head, page_tail, png_size
from .._network import linkable
from ._journal import OK, UNCERTAIN, Journal, Record

if TYPE_CHECKING:
    from ._engine import BatchSummary

_HEADINGS = {UNCERTAIN: "Uncertain: may have been paid", "failed": "Failed, nothing paid"}


def _alias(model: str | None) -> str:
    from .._catalog import resolve_model
    from .._exceptions import InvalidRequestError

    if not model:
        return "-"
    try:
        return resolve_model(model).alias
    except InvalidRequestError:
        return model


def _meta(record: Record) -> str:
    esc = html.escape
    items = [f"<li>{esc(_alias(record.get('model')))}</li>"]
    if record.get("size"):
        items.append(f"<li>{esc(str(record['size']))}</li>")
    cost = record.get("estimated_cost_usd")
    if isinstance(cost, (int, float)):
        label = "est." if record["status"] == OK else "may have cost"
        if record["status"] == OK or record.get("may_have_been_paid"):
            items.append(f'<li class="cost">{label} {esc(format_usd(cost))}</li>')
    return f'<ul class="meta">{"".join(items)}</ul>'


def _head(record: Record) -> str:
    esc = html.escape
    parts = [f'<div class="tag"><span>id {esc(str(record["id"]))}</span></div>']
    if record.get("prompt"):
        parts.append(f'<p class="request">{esc(str(record["prompt"]))}</p>')
    parts.append(_meta(record))
    return "".join(parts)


def _link(path: str, root: Path) -> str:
    """A record's file as the page in ``root`` links it.  Records name their files relative
    to the folder, so that path is the link as it stands (no resolving two paths per image
    of a large batch); anything else is resolved (``href``)."""
    relative = PurePosixPath(path)
    if "\\" in path or ":" in path or relative.is_absolute() or ".." in relative.parts:
        return href(root / path, root)
    return quote(relative.as_posix())


def cards(record: Record, root: Path) -> list[str]:
    """The cards of one request: an image card per saved file, else one with its error."""
    esc = html.escape
    files = [(root / path, _link(path, root)) for path in record.get("paths") or []]
    if record["status"] == OK and files:
        shown = []
        for path, link in files:
            size = png_size(path)
            sized = f' width="{size[0]}" height="{size[1]}"' if size else ""
            alt = esc(str(record.get("prompt") or ""))
            shown.append(
                f'<article class="card"><a class="frame" href="{link}">'
                f'<img src="{link}" alt="{alt}" loading="lazy"{sized}></a>'
                f'<div class="body">{_head(record)}'
                f'<div class="file"><a href="{link}">{esc(path.name)}</a></div></div></article>'
            )
        return shown
    heading = _HEADINGS.get(str(record["status"]), str(record["status"]))
    links = "".join(
        f'<div class="file"><a href="{esc(url)}">{esc(url)}</a></div>'
        for url in record.get("urls") or []
        if isinstance(url, str) and linkable(url)
    )
    return [
        '<article class="card failed">'
        f'<div class="refused"><strong>✗ {esc(heading)}</strong>'
        f"<pre>{esc(str(record.get('error') or ''))}</pre></div>"
        f'<div class="body">{_head(record)}{links}</div></article>'
    ]


def write_contact_sheet(journal: Journal, summary: BatchSummary) -> Path:
    """Write ``index.html`` beside the results file; returns its path."""
    root = journal.directory
    order = sorted(
        ((record_line, key, offset) for key, offset, record_line in _lines(journal)),
        key=lambda item: (item[0] is None, item[0] or 0, item[1]),
    )
    counts = {"images": 0, "ok": 0, "not ok": 0}
    target = root / c.BATCH_INDEX_NAME
    temporary = root / f".index-{secrets.token_hex(6)}.part"
    try:
        with temporary.open("w", encoding="utf-8") as out:
            # The facts go in the header, which comes first: counted in a first pass.
            body = root / f".cards-{secrets.token_hex(6)}.part"
            try:
                with body.open("w+", encoding="utf-8") as cards_file:
                    cards_file.write('<section><div class="grid">')
                    for _, _, offset in order:
                        record = journal.read_at(offset)
                        made = cards(record, root)
                        if record["status"] == OK:
                            counts["ok"] += 1
                            counts["images"] += len(record.get("paths") or [])
                        else:
                            counts["not ok"] += 1
                        cards_file.write("".join(made))
                    cards_file.write("</div></section>")
                    out.write(_page_head(summary, counts))
                    cards_file.seek(0)
                    while chunk := cards_file.read(1 << 20):
                        out.write(chunk)
            finally:
                body.unlink(missing_ok=True)
            out.write(page_tail("Written by <code>clawrouter-images batch</code>."))
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _lines(journal: Journal) -> list[tuple[str, int, int | None]]:
    found = []
    for key, offset in journal.deciding():
        line = journal.read_at(offset).get("line")
        found.append((key, offset, line if isinstance(line, int) else None))
    return found


def _page_head(summary: BatchSummary, counts: dict[str, int]) -> str:
    spent = summary.spent_before_usd + summary.spent_usd
    return page_head(
        title="clawrouter-images batch",
        heading="clawrouter-images batch: contact sheet",
        paragraphs=(
            "One card per image: its prompt, model, size and estimated cost; and one per "
            "request that did not succeed, with its reason. Costs are the catalogue's "
            "estimates.",
        ),
        facts=(
            ("requests ok", str(counts["ok"])),
            ("not ok", str(counts["not ok"])),
            ("images", str(counts["images"])),
            ("estimated spend, all runs", format_usd(round(spent, 6))),
        ),
    )

"""The page both galleries share: the demo's and a batch's contact sheet.

One self-contained file: inline CSS, no script, no fonts or anything else fetched from
elsewhere, and images linked relative to the page, so the folder can be opened (or moved,
or zipped) as it is.  Callers escape everything that came from a model, a server or a
user's file; ``page`` escapes the text it is given.
"""

from __future__ import annotations

import html
import os
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

CSS = """
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


def href(path: Path, root: Path) -> str:
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


def page_head(
    *, title: str, heading: str, paragraphs: Sequence[str], facts: Sequence[tuple[str, str]]
) -> str:
    """The page up to and including ``<main>``: its title, a header of ``paragraphs`` (text)
    and ``facts`` (name, value), all escaped here."""
    esc = html.escape
    fact_html = "".join(
        f'<span class="fact">{esc(name)}: <b>{esc(value)}</b></span>' for name, value in facts
    )
    intro = "".join(f"<p>{esc(text)}</p>" for text in paragraphs)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{esc(heading)}</h1>"
        f'{intro}<div class="facts">{fact_html}</div></header>'
        "<main>"
    )


def page_tail(footer_html: str) -> str:
    """The page after its ``<main>`` content; ``footer_html`` is markup, escaped by the caller."""
    return f"</main><footer>{footer_html}</footer></body></html>\n"


def page(
    *,
    title: str,
    heading: str,
    paragraphs: Sequence[str],
    facts: Sequence[tuple[str, str]],
    sections: Iterable[str],
    footer_html: str,
) -> str:
    """A whole page: ``page_head``, the ``sections`` (markup), ``page_tail``."""
    head = page_head(title=title, heading=heading, paragraphs=paragraphs, facts=facts)
    return head + "".join(sections) + page_tail(footer_html)

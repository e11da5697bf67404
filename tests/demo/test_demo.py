"""``clawrouter-images demo`` offline: two agents, the brief's requests, a table and a gallery."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from tests.support.png import png_size

from clawrouter_images import estimate_cost

if TYPE_CHECKING:
    from tests.demo.conftest import DemoRun, GalleryParser

IMAGES = {
    "a-cyberpunk-city-at-night.png": (1024, 1024),
    "a-high-res-portrait-of-a-samurai.png": (1024, 1792),
    "add-a-warm-sunset-background.png": (1024, 1024),
    "replace-the-background-with-a-sunny-beach.png": (1024, 1024),
}
# framework, request (as the table shortens it), model, size, estimated cost
ROWS = [
    ("Draw me a cyberpunk city at night", "nano-banana", "1024x1024", "$0.0525"),
    ("Generate a high-res portrait of a samurai", "banana-pro", "1024x1792", "$0.105"),
    ("Edit this photo to add a sunset background: h...", "gpt-image", "1024x1024", "$0.021"),
    ("Change the background in my image to a beach ...", "gpt-image", "1024x1024", "$0.021"),
    ("Paint a photorealistic lighthouse in a storm ...", "dall-e-3", "-", "-"),
]
REFUSAL = "openai/dall-e-3 is not available (delisted upstream 2026-05-25); try openai/gpt-image-1"


def table(out: str) -> list[list[str]]:
    """The printed table's rows (after the header and its rule), split on column gaps."""
    lines = out.split("\n\n")[0].splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "framework",
        "request",
        "model",
        "size",
        "est. cost",
        "file",
    ]
    return [re.split(r"\s{2,}", line, maxsplit=5) for line in lines[2:]]


def test_demo_exits_zero(demo: DemoRun) -> None:
    """An offline run with no arguments but -o succeeds: every step behaved as expected."""
    assert demo.code == 0, demo.out + demo.err
    assert "10 of 10 steps as expected" in demo.out


def test_demo_saves_each_agents_four_images_at_the_sizes_asked(demo: DemoRun) -> None:
    """Each agent saves its four images under DIR/<framework>/, at the brief's sizes."""
    for framework in ("langchain", "llamaindex"):
        folder = demo.output / framework
        assert sorted(path.name for path in folder.iterdir()) == sorted(IMAGES)
        for name, size in IMAGES.items():
            assert png_size(folder / name) == size


def test_demo_prints_a_row_per_request(demo: DemoRun) -> None:
    """The table has, per agent, the request, model, size, cost and saved file of each step."""
    rows = table(demo.out)
    expected = [
        [label, request, model, size, cost]
        for label in ("LangChain", "LlamaIndex")
        for request, model, size, cost in ROWS
    ]
    assert [row[:5] for row in rows] == expected
    names = list(IMAGES)
    for framework, block in (("langchain", rows[:5]), ("llamaindex", rows[5:])):
        for row, name in zip(block[:4], names, strict=True):
            assert Path(row[5]).resolve() == (demo.output / framework / name).resolve()
        assert block[4][5] == f"refused (expected): {REFUSAL}"


def test_costs_in_the_table_are_the_catalogue_estimates(demo: DemoRun) -> None:
    """The banana-pro portrait row shows the catalogue's estimate for 1024x1792."""
    assert estimate_cost("banana-pro", "1024x1792") == 0.105
    assert table(demo.out)[1][4] == "$0.105"


def test_progress_goes_to_stderr(demo: DemoRun) -> None:
    """stderr tells which agent runs and how each request went; stdout has only the results."""
    assert "LangChain agent:" in demo.err
    assert "LlamaIndex agent:" in demo.err
    assert demo.err.count("... ok") == 8
    assert demo.err.count("refused as expected") == 2
    assert "agent:" not in demo.out


def test_progress_reports_come_under_their_own_request(demo: DemoRun) -> None:
    """A request's line comes first, then its progress reports, then how it went: never
    under the request before it."""
    lines = demo.err.splitlines()
    reports = [index for index, line in enumerate(lines) if "so far" in line]
    assert reports
    for index in reports:
        # Back to the request's own line: no result of an earlier request in between.
        start = max(i for i in range(index) if not lines[i].startswith("    "))
        assert all("... " not in row for row in lines[start + 1 : index]), lines[start : index + 1]
        after = next(row for row in lines[index:] if "... " in row and "so far" not in row)
        assert after.strip() in ("... ok", "... refused as expected")
    slow = [lines[max(i for i in range(n) if not lines[i].startswith("    "))] for n in reports]
    assert any("portrait of a samurai" in request for request in slow)


def test_each_agent_shows_the_slow_calls_progress(demo: DemoRun) -> None:
    """While the high-res request is slow, both agents' tools report it, in each framework's
    own way (LangChain custom events, LlamaIndex instrumentation events)."""
    for framework, rest in (("LangChain", "LlamaIndex agent:"), ("LlamaIndex", "\nframework")):
        part = demo.err.split(f"{framework} agent:", 1)[1].split(rest, 1)[0]
        assert "generating with google/nano-banana-pro: " in part, part


def test_each_agent_spends_from_one_budget(demo: DemoRun) -> None:
    """Each agent's tools share one budget, twice what the brief's calls cost, and say so."""
    assert demo.err.count("spent $0.1995 of the agent's $0.399 budget") == 2


def test_index_html_references_only_files_that_exist(demo: DemoRun, gallery: GalleryParser) -> None:
    """Every src/href of the gallery is a relative link to a file inside the output folder."""
    assert gallery.references
    root = demo.output.resolve()
    for tag, attribute, value in gallery.references:
        parts = urlsplit(value)
        assert not parts.scheme, f"<{tag} {attribute}> is absolute: {value}"
        assert not parts.netloc, f"<{tag} {attribute}> names a host: {value}"
        assert not value.startswith("/"), f"<{tag} {attribute}> is absolute: {value}"
        target = (demo.output / unquote(parts.path)).resolve()
        assert target.is_relative_to(root), f"{value} leaves the output folder"
        assert target.is_file(), f"{value} does not exist"


def test_index_html_shows_every_saved_image(demo: DemoRun, gallery: GalleryParser) -> None:
    """Each of the eight saved images is on the page as an <img>."""
    shown = {unquote(src) for tag, attribute, src in gallery.references if tag == "img"}
    saved = {
        path.relative_to(demo.output).as_posix()
        for path in demo.output.rglob("*.png")
        if path.parent != demo.output
    }
    assert len(saved) == 8
    assert saved <= shown


def test_index_html_loads_nothing_from_elsewhere(demo: DemoRun, gallery: GalleryParser) -> None:
    """No script, stylesheet link, font, iframe or CSS url(): the page is self-contained."""
    assert not {"script", "link", "iframe", "object", "embed"} & set(gallery.tags)
    assert "url(" not in gallery.style
    assert "@import" not in gallery.style
    assert "@font-face" not in gallery.style


def test_each_card_puts_the_request_next_to_its_image(gallery: GalleryParser) -> None:
    """A card shows its framework, the user's request, the prompt sent, model, size and cost."""
    cards = [card for card in gallery.cards if card.images]
    assert len(cards) == 8
    samurai = [card for card in cards if "portrait-of-a-samurai" in card.images[0]]
    assert len(samurai) == 2
    for card in samurai:
        assert "“Generate a high-res portrait of a samurai”" in card.text
        assert "prompt sent: a high-res portrait of a samurai" in card.text
        assert "banana-pro" in card.text
        assert "1024x1792" in card.text
        assert "est. $0.105" in card.text
    assert {card.text.split("request")[0].strip() for card in samurai} == {
        "LangChain",
        "LlamaIndex",
    }


def test_edit_cards_show_the_image_they_edited(gallery: GalleryParser) -> None:
    """The URL edit shows the city it started from; the file edit shows the samurai portrait."""
    for framework in ("langchain", "llamaindex"):
        [sunset] = [
            c
            for c in gallery.cards
            if c.images[:1] == [f"{framework}/add-a-warm-sunset-background.png"]
        ]
        assert sunset.images[1] == f"{framework}/a-cyberpunk-city-at-night.png"
        [beach] = [
            c
            for c in gallery.cards
            if c.images[:1] == [f"{framework}/replace-the-background-with-a-sunny-beach.png"]
        ]
        assert beach.images[1] == f"{framework}/a-high-res-portrait-of-a-samurai.png"


def test_the_refused_request_is_a_card_with_the_error(gallery: GalleryParser) -> None:
    """The unavailable-model request is, per agent, a failed card with the error the agent read."""
    failed = [card for card in gallery.cards if "failed" in card.classes]
    assert len(failed) == 2
    for card in failed:
        assert not card.images
        assert "Refused, as expected" in card.text
        assert REFUSAL in card.text
        assert "“Paint a photorealistic lighthouse in a storm with dall-e-3”" in card.text
        assert f"Sorry, the image tool refused: {REFUSAL}" in card.text  # the agent's answer
    assert not [card for card in gallery.cards if "unexpected" in card.classes]

"""Fixtures for the demo's tests.

- ``demo``: one offline ``clawrouter-images demo`` run (module-scoped: its output is only
  read), with its exit code, stdout, stderr and output folder.
- ``gallery``: ``index.html`` parsed: every ``src``/``href`` and the text of each card.
- ``browser``: loads a page in headless Chromium and reports, for each ``<img>``, whether
  it decoded, plus every error the page raised or logged.  Skips where Chromium is not
  installed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from clawrouter_images._cli import main


@dataclass(frozen=True)
class DemoRun:
    code: int
    out: str
    err: str
    output: Path


def run_demo_cli(args: list[str]) -> tuple[int, str, str]:
    """``main(["demo", *args])`` in-process, with its stdout and stderr; without a slow step
    unless ``args`` ask for one (the demo's own default waits 2 s to show progress)."""
    out, err = io.StringIO(), io.StringIO()
    slow = [] if "--slow" in args else ["--slow", "0"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["demo", *slow, *args])
    return code, out.getvalue(), err.getvalue()


RunDemo = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _no_clawrouter_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo runs offline unless a test points it somewhere (autouse: set up first)."""
    monkeypatch.delenv("CLAWROUTER_BASE_URL", raising=False)


@pytest.fixture
def run_demo() -> RunDemo:
    """``run_demo(args)``: ``main(["demo", *args])`` in-process -> (exit code, stdout, stderr)."""
    return run_demo_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    output = tmp_path_factory.mktemp("demo") / "clawrouter-demo"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CLAWROUTER_BASE_URL", raising=False)
        # A short slow step: the tools report progress four times while it lasts.
        code, out, err = run_demo_cli(["--slow", "0.2", "-o", str(output)])
    return DemoRun(code, out, err, output)


# -- the page, parsed ----------------------------------------------------------------------


@dataclass
class Card:
    classes: list[str]
    text: str = ""
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


class GalleryParser(HTMLParser):
    """Collects every URL-bearing attribute, the tags used, and each ``<article>`` card."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.cards: list[Card] = []
        self._card: Card | None = None
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {name: value or "" for name, value in attrs}
        if tag == "article":
            self._card = Card(classes=values.get("class", "").split())
            self.cards.append(self._card)
        if tag == "style":
            self._in_style = True
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            if name in values:
                self.references.append((tag, name, values[name]))
                if self._card is not None and name == "src":
                    self._card.images.append(values[name])
                if self._card is not None and name == "href":
                    self._card.links.append(values[name])

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._card = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        if self._card is not None:
            self._card.text += data


@pytest.fixture(scope="module")
def gallery(demo: DemoRun) -> GalleryParser:
    parser = GalleryParser()
    parser.feed((demo.output / "index.html").read_text(encoding="utf-8"))
    parser.close()
    return parser


# -- the page, in a browser ----------------------------------------------------------------

# Inserted at the top of a copy of the page: records failed loads (resource errors do not
# bubble, so they are caught in the capture phase), script errors and console.error/warn,
# then, once everything has loaded, writes what each <img> decoded to into the DOM.
_PROBE = """<script>
window.__problems = [];
window.addEventListener('error', function (event) {
  var target = event.target;
  if (target && target !== window && target.tagName) {
    __problems.push('failed to load ' + target.tagName + ' ' + (target.currentSrc || target.src || target.href));
  } else {
    __problems.push('script error: ' + event.message);
  }
}, true);
['error', 'warn'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    __problems.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
});
window.addEventListener('load', function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    return {src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth, height: img.naturalHeight};
  });
  var out = document.createElement('pre');
  out.id = '__probe';
  out.textContent = JSON.stringify({images: images, problems: __problems});
  document.body.appendChild(out);
});
</script>"""


@dataclass(frozen=True)
class PageCheck:
    images: list[dict[str, Any]]
    """Each ``<img>``: ``src``, ``complete``, ``width`` and ``height`` (natural, 0 if not decoded)."""
    problems: list[str]
    """Failed loads, script errors and console.error/warn calls seen by the page."""
    console: list[str]
    """Console messages Chromium logged (the gallery has no script, so it should log none)."""

    @property
    def broken(self) -> list[str]:
        return [image["src"] for image in self.images if not image["width"]]


class _ProbeReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = self.inside or (tag == "pre" and ("id", "__probe") in attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


Browser = Callable[[Path], PageCheck]


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    """``browser(page)``: the page loaded in headless Chromium, and what went wrong in it."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): gallery not loaded")

    def load(page: Path) -> PageCheck:
        text = page.read_text(encoding="utf-8")
        probed = page.with_name(".probe-" + page.name)
        head = text.find("<head>")
        at = head + len("<head>") if head >= 0 else 0
        probed.write_text(text[:at] + _PROBE + text[at:], encoding="utf-8")
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            # Nothing may be fetched from elsewhere: every host name fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            probed.resolve().as_uri(),
        ]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        reader = _ProbeReader()
        reader.feed(done.stdout)
        assert reader.text, f"the probe did not run; Chromium said: {done.stderr[-2000:]}"
        found = json.loads(reader.text)
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        return PageCheck(found["images"], found["problems"], console)

    return load

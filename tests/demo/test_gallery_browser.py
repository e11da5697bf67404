"""The demo's gallery in a real browser (headless Chromium): every image decodes, nothing errs.

The probe is checked too: a gallery with a missing image, a corrupt image or a page error
must be caught, or a passing gallery would prove nothing.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from tests.demo.conftest import Browser, DemoRun


def _copy(demo: DemoRun, tmp_path: Path) -> Path:
    copy = tmp_path / "gallery"
    shutil.copytree(demo.output, copy)
    return copy


def test_every_image_of_the_gallery_decodes(demo: DemoRun, browser: Browser) -> None:
    """All 12 images (8 results, 4 "edited from" thumbnails) load with a natural width."""
    check = browser(demo.output / "index.html")
    assert len(check.images) == 12
    assert check.broken == []
    sizes = {(image["width"], image["height"]) for image in check.images}
    assert sizes == {(1024, 1024), (1024, 1792)}


def test_the_gallery_raises_and_logs_no_errors(demo: DemoRun, browser: Browser) -> None:
    """Loading the page gives no failed load, script error or console message."""
    check = browser(demo.output / "index.html")
    assert check.problems == []
    assert check.console == []


def test_a_missing_image_is_detected(demo: DemoRun, browser: Browser, tmp_path: Path) -> None:
    """With one image file deleted, its <img> reports width 0 and a failed load."""
    copy = _copy(demo, tmp_path)
    (copy / "langchain" / "a-cyberpunk-city-at-night.png").unlink()
    check = browser(copy / "index.html")
    # The card's image and the sunset edit's "edited from" thumbnail both point at it.
    assert check.broken == ["langchain/a-cyberpunk-city-at-night.png"] * 2
    assert any("a-cyberpunk-city-at-night.png" in problem for problem in check.problems)


def test_a_corrupt_image_is_detected(demo: DemoRun, browser: Browser, tmp_path: Path) -> None:
    """An image file that is not a picture does not decode, and the probe says so."""
    copy = _copy(demo, tmp_path)
    (copy / "llamaindex" / "add-a-warm-sunset-background.png").write_bytes(b"\x89PNG not really")
    check = browser(copy / "index.html")
    assert check.broken == ["llamaindex/add-a-warm-sunset-background.png"]
    assert check.problems == [
        f"failed to load IMG {(copy / 'llamaindex' / 'add-a-warm-sunset-background.png').as_uri()}"
    ]


def test_a_page_error_is_detected(demo: DemoRun, browser: Browser, tmp_path: Path) -> None:
    """A script error and a console.error on the page are both reported."""
    copy = _copy(demo, tmp_path)
    page = copy / "index.html"
    broken = "<script>console.error('boom'); notDefined();</script></body>"
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", broken), encoding="utf-8")
    check = browser(page)
    assert "console.error: boom" in check.problems
    assert any("notDefined is not defined" in problem for problem in check.problems)
    assert check.console

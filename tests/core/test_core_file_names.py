"""Saved file names come from the prompt in its own script, safely, on any filesystem."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from clawrouter_images._cli import main
from clawrouter_images._files import safe_stem

# eCryptfs's limit, the lowest in common use; ext4, APFS and NTFS allow 255.
MAX_NAME_BYTES = 143
LONGEST_TAIL = "-4-10000.webp"  # image 4 of 4, 10000th name collision, longest extension
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{d}{i}" for d in ("com", "lpt") for i in range(10)
}

PROMPTS = [
    # (id, prompt, what a reader finds in the name)
    ("latin", "A red fox, at dawn!", "a-red-fox-at-dawn"),
    ("accents", "Café crème brûlée", "café-crème-brûlée"),
    ("chinese", "一只戴帽子的猫", "一只戴帽子的猫"),
    ("russian", "Кот в шляпе", "кот-в-шляпе"),
    ("arabic-rtl-marks", "\u200fقطة\u200f ترتدي \u200eقبعة", "قطة-ترتدي-قبعة"),
    ("hindi-marks", "टोपी पहने बिल्ली", "टोपी-पहने-बिल्ली"),
    ("korean", "모자 쓴 고양이", "모자-쓴-고양이"),
    ("mixed", "Cat 猫 кот قطة", "cat-猫-кот-قطة"),
    ("full-width", "ＣＡＴ　ｉｎ　ａ　ＨＡＴ", "cat-in-a-hat"),
    ("emoji-only", "🐱🎩✨👨‍👩‍👧", "image"),
    ("emoji-and-words", "🐱 cat 🎩", "cat"),
    ("long-chinese", "猫" * 1000, "猫猫猫猫猫"),
    ("long-latin", "fox " * 250, "fox-fox-fox"),
    ("path-up", "../../etc/passwd", "etc-passwd"),
    ("path-windows", "C:\\Windows\\System32\\", "c-windows-system32"),
    ("path-absolute", "/root/.ssh/id_rsa", "root-ssh-id-rsa"),
    ("dotfile", ".bashrc", "bashrc"),
    ("dots-only", "...", "image"),
    ("nul-byte", "cat\x00dog", "cat-dog"),
    ("newlines", "line one\r\nline two\n", "line-one-line-two"),
    ("bidi-override", "invoice\u202egnp.exe", "invoicegnp-exe"),
    ("lone-surrogate", "cat\ud800dog", "cat-dog"),
    ("zalgo", "z" + "\u0301" * 50 + "algo", "algo"),
    ("hangul-filler", "\u3164\u3164", "image"),
    ("windows-con", "CON", "con"),
    ("windows-com1-superscript", "COM¹", "com1"),
    ("windows-nul-ext", "nul.txt", "nul-txt"),
    ("empty", "", "image"),
    ("spaces", "   \t ", "image"),
]


def _is_safe_char(char: str) -> bool:
    category = unicodedata.category(char)
    return char == "-" or category[0] in "LM" or category == "Nd"


@pytest.mark.parametrize(
    ("prompt", "readable"), [p[1:] for p in PROMPTS], ids=[p[0] for p in PROMPTS]
)
def test_stem_is_readable_safe_and_short(tmp_path: Path, prompt: str, readable: str) -> None:
    """Non-empty, readable, only letters, marks, digits and dashes, within every name limit."""
    stem = safe_stem(prompt, 0, 1)
    assert readable in stem
    assert stem
    assert all(_is_safe_char(char) for char in stem), ascii(stem)
    assert not stem.startswith(("-", ".")), stem
    assert not stem.endswith("-"), stem
    assert stem.split(".")[0] not in WINDOWS_RESERVED
    assert unicodedata.is_normalized("NFC", stem)
    for form in ("NFC", "NFD"):  # NFD: what macOS stores
        assert len(unicodedata.normalize(form, stem + LONGEST_TAIL).encode()) <= MAX_NAME_BYTES
    (tmp_path / f"{stem}{LONGEST_TAIL}").write_bytes(b"")  # the filesystem takes it too


def test_several_images_are_numbered() -> None:
    """Images of one answer get -1, -2, ... after the same stem, whatever the script."""
    assert [safe_stem("Кот в шляпе", i, 3) for i in range(3)] == [
        "кот-в-шляпе-1",
        "кот-в-шляпе-2",
        "кот-в-шляпе-3",
    ]


def test_long_prompts_are_cut_between_words() -> None:
    """A long prompt is cut after a whole word, where it has words."""
    assert (
        safe_stem("a red fox at dawn " * 10, 0, 1)
        == "a-red-fox-at-dawn-a-red-fox-at-dawn-a-red-fox-at"
    )
    hindi = safe_stem("बिल्ली " * 200, 0, 1)
    assert set(hindi.split("-")) == {"बिल्ली"}


def test_long_words_are_cut_between_letters() -> None:
    """Without spaces, the cut never separates a letter from its vowel sign or accent."""
    assert set(safe_stem("कि" * 200, 0, 1).split("कि")) == {""}
    assert set(safe_stem("é" * 200, 0, 1).split("é")) == {""}


def test_generate_saves_under_the_prompts_own_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`generate "Кот в шляпе"` saves кот-в-шляпе.png, not image.png."""
    assert main(["generate", "Кот в шляпе", "--emulator", "-o", str(tmp_path)]) == 0
    assert Path(capsys.readouterr().out.strip()) == tmp_path / "кот-в-шляпе.png"

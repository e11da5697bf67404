"""A refused input never shows its content: an LLM reads these messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from clawrouter_images import InputImageError
from clawrouter_images._inputs import prepare_input

SECRET = b"OPENAI_API_KEY=sk-live-0123456789abcdef\n"


@pytest.mark.parametrize("as_path", [True, False], ids=["path", "bytes"])
def test_non_image_refusal_quotes_no_content(tmp_path: Path, as_path: bool) -> None:
    """A secrets file named like an image is refused without any of its bytes in the message."""
    env_file = tmp_path / "notes.png"
    env_file.write_bytes(SECRET)
    with pytest.raises(InputImageError) as caught:
        prepare_input(str(env_file) if as_path else SECRET)
    message = str(caught.value)
    assert "not a PNG, JPEG, WebP or GIF image" in message
    assert "OPENAI" not in message
    assert SECRET[:8].hex() not in message

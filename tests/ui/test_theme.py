"""One level palette: the windows and the reports paint a level in the same colour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.core.palette import LEVEL_COLOURS, LEVEL_TINTS
from app.kernel.model import Level
from app.ui.theme import dot_pixmap, level_colour

ROOT = Path(__file__).resolve().parents[2]
#: A table of level colours written out (``Level.OK: "#2e9d5b"``).
LEVEL_HEX = re.compile(r"Level\.[A-Z_]+\s*:\s*[\"']#[0-9a-fA-F]{6}")


def test_every_level_has_one_colour_and_tint_used_by_the_windows(qtbot: Any) -> None:
    assert set(LEVEL_COLOURS) == set(LEVEL_TINTS) == set(Level)
    for level, colour in LEVEL_COLOURS.items():
        assert level_colour(level).name() == colour
        image = dot_pixmap(level, 12).toImage()
        assert image.pixelColor(6, 6).name() == colour


def test_no_second_palette_in_the_code() -> None:
    found = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path.name != "palette.py" and LEVEL_HEX.search(path.read_text("utf-8"))
    ]
    assert found == [], "level colours belong in app/core/palette.py"

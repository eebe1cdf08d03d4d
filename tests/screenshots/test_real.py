"""The real-seat screenshots (``python -m tests.screenshots --seat real``) keep working.

Runs the command itself for one size and one language against the real
components, then opens every PNG: the right size, not blank, and the panel
shows the seat's paper-out printer in the critical colour — which only a
real cupsd with the fault, read by the real app, can put there — and the
环境监控 card the formaldehyde early warning of the pty ZE08.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.core.palette import LEVEL_COLOURS
from app.kernel.model import Level
from tests.screenshots.real import ROOT
from tests.screenshots.real_app import SHOTS

pytestmark = [pytest.mark.xserver, pytest.mark.slow]

SIZE = (1280, 800)
#: A blank or half-painted grab has a handful of colours; a panel with text and chips has hundreds.
MIN_COLOURS = 32


def colours(path: Path, step: int = 3) -> tuple[tuple[int, int], dict[int, int]]:
    """The image's size and how many sampled pixels have each RGB colour."""
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable PNG"
    counts: dict[int, int] = {}
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            rgb = image.pixel(x, y) & 0xFFFFFF
            counts[rgb] = counts.get(rgb, 0) + 1
    return (image.width(), image.height()), counts


def test_real_seat_mode_shoots_the_panel_alerts_and_chart(tmp_path: Path) -> None:
    command = ["--seat", "real", "--size", "1280x800", "--lang", "en", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "tests.screenshots", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,  # the seat's services, then one app run held for the formaldehyde warning
    )
    assert done.returncode == 0, done.stderr[-3000:]
    folder = tmp_path / "real" / "1280x800"
    critical = int(LEVEL_COLOURS[Level.CRITICAL].lstrip("#"), 16)
    warning = int(LEVEL_COLOURS[Level.WARNING].lstrip("#"), 16)
    for name in SHOTS:
        path = folder / f"{name}_en.png"
        assert path.exists(), f"{path} was not written:\n{done.stderr[-3000:]}"
        size, counts = colours(path)
        if name == "panel_all":  # every card at full height: the screen's width, taller than it
            assert size[0] <= SIZE[0] and size[1] > SIZE[1] / 2, (name, size)
        elif name.startswith("card_"):  # one card, opened: about half the screen's width
            assert SIZE[0] / 3 < size[0] < SIZE[0] and size[1] > 100, (name, size)
        else:
            assert size == SIZE, (name, size)
        assert len(counts) >= MIN_COLOURS, f"{name}: only {len(counts)} colours, looks blank"
        if name == "panel":
            assert counts.get(critical, 0) > 20, "the paper-out printer is not shown critical"
        if name == "card_environment":
            # The ZE08 by the cabinet: formaldehyde over its limit, the early warning on.
            assert counts.get(warning, 0) > 20, "the formaldehyde early warning is not shown"

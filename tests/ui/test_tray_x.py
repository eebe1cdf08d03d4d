"""On a real X server with a tray (Xvfb + trayer).

The icon shows, its colour follows the alerts, and a real click opens the panel.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.kernel.model import Level
from tests.ui.xtray import (
    level_of_pixels,
    screen_pixels,
    tray_app,
    tray_icon_window,
    visible_window,
    wait_for,
)
from tests.xserver import XServer, xvfb

PANEL_TITLE = "Deskwatch — workstation status"

pytestmark = pytest.mark.xserver


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    with xvfb(with_tray=True) as server:
        yield server


def icon_level(display: str, x: int, y: int, w: int, h: int) -> Level | None:
    """Which level colour covers most of the icon's pixels on screen."""
    return level_of_pixels(screen_pixels(display, x, y, w, h), w * h)


def test_tray_icon_colour_follows_alerts_and_click_opens_panel(xserver: XServer, tmp_path: Path) -> None:
    assert shutil.which("xdotool"), "xdotool is missing: run ./.ci/bootstrap test"
    env = xserver.env
    with tray_app(env, tmp_path) as app:
        assert app.process.stdout is not None
        line = app.process.stdout.readline().split()
        assert line and line[0] == "tray", f"no tray icon: {line}"
        found: list[tuple[int, int, int, int]] = []

        def embedded() -> bool:
            rect = tray_icon_window(xserver.display, app.process.pid)
            if rect is not None:
                found.append(rect)
            return rect is not None

        wait_for(embedded, 10, "the icon was embedded in the tray")
        x, y, w, h = found[-1]
        assert w > 0 and h > 0

        def shows(level: Level) -> bool:
            return icon_level(xserver.display, x, y, w, h) is level

        wait_for(lambda: shows(Level.OK), 10, "the icon turned green")
        assert not visible_window(env, PANEL_TITLE)

        app.set_level("critical")
        wait_for(lambda: shows(Level.CRITICAL), 10, "the icon turned red")
        app.set_level("warning")
        wait_for(
            lambda: icon_level(xserver.display, x, y, w, h) is Level.WARNING, 10, "the icon turned amber"
        )

        time.sleep(0.3)  # the tray needs a moment after embedding before it takes clicks
        subprocess.run(
            ["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "sleep", "0.2", "click", "1"],
            env=env,
            check=True,
        )
        wait_for(lambda: visible_window(env, PANEL_TITLE), 10, "a click on the icon opened the panel")

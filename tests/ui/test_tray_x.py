"""On a real X server with a tray (Xvfb + trayer).

The icon shows, its colour follows the alerts, and a real click opens the panel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.palette import LEVEL_COLOURS
from app.kernel.model import Level
from tests.ui.xtray import tray_icon_window
from tests.xserver import XServer, xvfb

ROOT = Path(__file__).resolve().parents[2]
PANEL_TITLE = "Deskwatch — workstation status"

pytestmark = pytest.mark.xserver


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    with xvfb(with_tray=True) as server:
        yield server


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def icon_level(display: str, x: int, y: int, w: int, h: int) -> Level | None:
    """Which level colour covers most of the icon's pixels on screen."""
    from Xlib import X
    from Xlib.display import Display

    conn = Display(display)
    try:
        image = conn.screen().root.get_image(x, y, w, h, X.ZPixmap, 0xFFFFFFFF)
        data = image.data
    finally:
        conn.close()
    counts = dict.fromkeys(Level, 0)
    targets = {level: _rgb(colour) for level, colour in LEVEL_COLOURS.items()}
    for offset in range(0, len(data) - 3, 4):
        b, g, r = data[offset], data[offset + 1], data[offset + 2]
        for level, (tr, tg, tb) in targets.items():
            if abs(r - tr) + abs(g - tg) + abs(b - tb) < 40:
                counts[level] += 1
    best = max(counts, key=lambda lv: counts[lv])
    return best if counts[best] > w * h * 0.15 else None


def _visible_panel(env: dict[str, str]) -> bool:
    result = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", PANEL_TITLE], env=env, capture_output=True, text=True
    )
    return bool(result.stdout.strip())


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_tray_icon_colour_follows_alerts_and_click_opens_panel(xserver: XServer, tmp_path: Path) -> None:
    assert shutil.which("xdotool"), "xdotool is missing: run ./.ci/bootstrap test"
    env = {**xserver.env, "DESKWATCH_CONFIG": str(tmp_path / "deskwatch.toml")}
    (tmp_path / "level").write_text("ok", "utf-8")
    # stderr to a file: a pipe nobody reads could fill up and block the app
    log_file = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.tray_app", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line and line[0] == "tray", f"no tray icon: {line}"
        found: list[tuple[int, int, int, int]] = []

        def embedded() -> bool:
            rect = tray_icon_window(xserver.display, proc.pid)
            if rect is not None:
                found.append(rect)
            return rect is not None

        _wait(embedded, 10, "the icon was embedded in the tray")
        x, y, w, h = found[-1]
        assert w > 0 and h > 0
        _wait(lambda: icon_level(xserver.display, x, y, w, h) is Level.OK, 10, "the icon turned green")
        assert not _visible_panel(env)

        (tmp_path / "level").write_text("critical", "utf-8")
        _wait(lambda: icon_level(xserver.display, x, y, w, h) is Level.CRITICAL, 10, "the icon turned red")
        (tmp_path / "level").write_text("warning", "utf-8")
        _wait(lambda: icon_level(xserver.display, x, y, w, h) is Level.WARNING, 10, "the icon turned amber")

        time.sleep(0.3)  # the tray needs a moment after embedding before it takes clicks
        subprocess.run(
            ["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "sleep", "0.2", "click", "1"],
            env=env,
            check=True,
        )
        _wait(lambda: _visible_panel(env), 10, "a click on the icon opened the panel")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        log_file.close()
    log = (tmp_path / "app.log").read_text("utf-8", errors="replace")
    assert proc.returncode == 0, f"SIGTERM should quit the app cleanly; its log:\n{log[-3000:]}"

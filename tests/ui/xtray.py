"""The tray tests' helpers: the real tray app, its icon in the X tray, level colours in pixels.

Used by the XEmbed test (trayer), the StatusNotifierItem test and the tray benchmark.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.core.palette import LEVEL_COLOURS
from app.kernel.model import Level
from tests.services import stop

ROOT = Path(__file__).resolve().parents[2]


def tray_icon_window(display: str, pid: int) -> tuple[int, int, int, int] | None:
    """Screen rectangle of the app's icon window embedded in the tray, found by its _NET_WM_PID."""
    from Xlib import X
    from Xlib.display import Display

    conn = Display(display)
    try:
        root = conn.screen().root
        pid_atom = conn.intern_atom("_NET_WM_PID")
        stack = [root]
        while stack:
            window = stack.pop()
            try:
                stack.extend(window.query_tree().children)
                attrs = window.get_attributes()
                prop = window.get_full_property(pid_atom, X.AnyPropertyType)
            except Exception:  # windows come and go while we walk the tree
                continue
            if prop is None or int(prop.value[0]) != pid or attrs.map_state != X.IsViewable:
                continue
            geometry = window.get_geometry()
            parent = window.query_tree().parent
            # the tray host (trayer) reparents the icon: that is how we know it is embedded
            if parent is None or parent.id == root.id or geometry.width > 64:
                continue
            origin = window.translate_coords(root, 0, 0)
            return -origin.x, -origin.y, geometry.width, geometry.height
        return None
    finally:
        conn.close()


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def level_of_pixels(pixels: Iterable[tuple[int, int, int]], total: int) -> Level | None:
    """Which level colour covers most of ``pixels`` (RGB), if it covers more than 15 % of ``total``."""
    counts = dict.fromkeys(Level, 0)
    targets = {level: _rgb(colour) for level, colour in LEVEL_COLOURS.items()}
    for r, g, b in pixels:
        for level, (tr, tg, tb) in targets.items():
            if abs(r - tr) + abs(g - tg) + abs(b - tb) < 40:
                counts[level] += 1
    best = max(counts, key=lambda lv: counts[lv])
    return best if counts[best] > total * 0.15 else None


def screen_pixels(display: str, x: int, y: int, w: int, h: int) -> list[tuple[int, int, int]]:
    """The RGB pixels of a rectangle of the X screen, row by row."""
    from Xlib import X
    from Xlib.display import Display

    conn = Display(display)
    try:
        data = conn.screen().root.get_image(x, y, w, h, X.ZPixmap, 0xFFFFFFFF).data
    finally:
        conn.close()
    # ZPixmap on a 24-bit screen: 4 bytes a pixel, B G R x
    return [(data[i + 2], data[i + 1], data[i]) for i in range(0, len(data) - 3, 4)]


@dataclass
class TrayApp:
    """The running ``tests.ui.tray_app``; ``set_level`` drives its one monitor."""

    process: subprocess.Popen[str]
    data_dir: Path

    def set_level(self, word: str) -> None:
        """ok, warning or critical: what the control monitor reports from its next poll on."""
        (self.data_dir / "level").write_text(word, "utf-8")


@contextmanager
def tray_app(env: dict[str, str], data_dir: Path) -> Iterator[TrayApp]:
    """Run the real tray app (``python -m tests.ui.tray_app``) at level ok; SIGTERM it on exit.

    On exit it must have quit cleanly (exit code 0); its log is quoted if not.
    """
    (data_dir / "level").write_text("ok", "utf-8")
    env = {**env, "DESKWATCH_CONFIG": str(data_dir / "deskwatch.toml")}
    log_path = data_dir / "app.log"
    # stderr to a file: a pipe nobody reads could fill up and block the app
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.tray_app", str(data_dir)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
        try:
            yield TrayApp(process, data_dir)
        finally:
            stop(process)
            if process.stdout:
                process.stdout.close()
    log = log_path.read_text("utf-8", errors="replace")
    assert process.returncode == 0, f"SIGTERM should quit the app cleanly; its log:\n{log[-3000:]}"


def visible_window(env: dict[str, str], title: str) -> bool:
    """Whether a window of that title is mapped (``xdotool search --onlyvisible``)."""
    result = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", title], env=env, capture_output=True, text=True
    )
    return bool(result.stdout.strip())


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 0.1 s; fail saying ``what`` did not happen within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")

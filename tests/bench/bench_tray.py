"""The tray app on Xvfb + trayer next to a bare PySide6 app with one tray icon.

Two figures: start-up to tray icon visible (median of three launches each,
taken from the moment the process is started until its icon window is
embedded in the tray), and idle CPU and peak RSS over ``seconds`` with both
running side by side.  Deskwatch runs with its default monitors, as a clerk
would start it, on a fresh data folder.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench import ROOT, Result, measure_side_by_side, python
from tests.services import stop
from tests.ui.xtray import tray_icon_window
from tests.xserver import xvfb

BARE_TRAY = """
import sys
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon
app = QApplication(sys.argv)
app.setQuitOnLastWindowClosed(False)
pixmap = QPixmap(22, 22)
pixmap.fill(QColor("#2e9d5b"))
tray = QSystemTrayIcon(QIcon(pixmap))
menu = QMenu()
menu.addAction("Quit", app.quit)
tray.setContextMenu(menu)
tray.setToolTip("bare")
tray.show()
sys.exit(app.exec())
"""


def _startup_seconds(command: list[str], env: dict[str, str], display: str, timeout: float = 30.0) -> float:
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < timeout:
            if tray_icon_window(display, proc.pid) is not None:
                return time.monotonic() - started
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited with {proc.returncode} before showing a tray icon")
            time.sleep(0.01)
        raise RuntimeError(f"{command}: no tray icon within {timeout} s")
    finally:
        stop(proc)


def run(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp, xvfb(with_tray=True) as server:
        data_dir = Path(tmp) / "data"
        env = {
            **server.env,
            "DESKWATCH_CONFIG": str(Path(tmp) / "deskwatch.toml"),
            "DESKWATCH_DATA_DIR": str(data_dir),
        }
        commands = {
            "deskwatch (tray app, default monitors)": [python(), "-m", "app.cli", "run"],
            "bare PySide6 app with one tray icon": [python(), "-c", BARE_TRAY],
        }
        startup: dict[str, float] = {}
        for name, command in commands.items():
            _startup_seconds(command, env, server.display)  # warm the file cache once
            runs = [_startup_seconds(command, env, server.display) for _ in range(3)]
            startup[name] = statistics.median(runs)
        usage = measure_side_by_side(commands, seconds, env=env)
    subject_name, baseline_name = commands
    subject, baseline = usage[subject_name], usage[baseline_name]
    ratio = startup[subject_name] / max(startup[baseline_name], 1e-9)
    notes = (
        f"start-up to tray icon visible (median of 3): deskwatch {startup[subject_name]:.2f} s, "
        f"bare {startup[baseline_name]:.2f} s, ratio {ratio:.2f}"
    )
    return [Result("tray-app-idle", subject, baseline, notes)]

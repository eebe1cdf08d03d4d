"""Break reminders ticking every second on a real X server, next to a bare X11 idle-time loop.

The subject is the whole break feature as the app runs it (the runtime's break
service: idle read on its own thread, ticks on another, scheduler, panel
readings into the engine, history writes; the Qt controller rendering its
updates); the baseline only asks the X server for the idle time once a second,
which is the least any break reminder must do.
"""

from __future__ import annotations

import tempfile

from tests.bench import Result, measure_side_by_side, python
from tests.xserver import xvfb

BARE_LOOP = """
import os, time
from Xlib import display
d = display.Display(os.environ["DISPLAY"])
root = d.screen().root
while True:
    root.screensaver_query_info().idle
    time.sleep(1)
"""

SUBJECT = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.core.runtime import build_runtime
from app.ui.breaks import BreaksController

app = QApplication(sys.argv[:1])
data = Path(sys.argv[1])
runtime = build_runtime(data_dir=data, monitor_classes={}, config_path=data / "none.toml")
assert runtime.breaks is not None
controller = BreaksController(runtime.breaks)
runtime.start()


def check_source() -> None:
    # The source is chosen on the sampling thread at the first read.
    if runtime.breaks.source_name != "x11":
        print(f"activity source is {runtime.breaks.source_name}, not x11", file=sys.stderr)
        app.exit(1)


QTimer.singleShot(3000, check_source)
app.exec()
"""


def run(seconds: float) -> list[Result]:
    with xvfb(with_tray=False) as server, tempfile.TemporaryDirectory() as tmp:
        env = {"DISPLAY": server.display, "QT_QPA_PLATFORM": "offscreen"}
        usage = measure_side_by_side(
            {
                "Deskwatch break reminders (X11 idle, 1 s ticks)": [python(), "-c", SUBJECT, tmp],
                "bare X11 idle-time loop, every 1 s": [python(), "-c", BARE_LOOP],
            },
            seconds,
            env=env,
        )
    subject, baseline = usage.values()
    return [Result("breaks", subject, baseline)]

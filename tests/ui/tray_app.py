"""A Deskwatch tray app for the X-server tests and the benchmark, driven through a control file.

``python -m tests.ui.tray_app DATA_DIR`` runs the real :class:`DeskwatchApp`
with one monitor whose level is whatever ``DATA_DIR/level`` says (ok,
warning, critical).  It prints ``tray x y w h`` once the icon has a place on
screen, so the test can look at its pixels and click it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from app.kernel.i18n import Text
from app.kernel.model import Device, Indicator, Level, Reading
from app.kernel.monitor import Monitor

FILE_LEVEL = Indicator("control.level", Device.COMPUTER, Text("Control level", "控制级别"), numeric=False)


class ControlFileMonitor(Monitor):
    """Reports the level written in ``<data dir>/level``."""

    id = "control"
    device = Device.COMPUTER
    title = Text("Control file", "控制文件")
    indicators = (FILE_LEVEL,)
    interval = 0.2
    timeout = 2.0
    levels: ClassVar[dict[str, Level]] = {
        "ok": Level.OK,
        "warning": Level.WARNING,
        "critical": Level.CRITICAL,
    }

    def poll(self) -> list[Reading]:
        try:
            word = (self.context.data_dir / "level").read_text("utf-8").strip()
        except FileNotFoundError:
            word = "ok"
        return [Reading(FILE_LEVEL.id, word, self.levels.get(word, Level.UNKNOWN), Text.same(word))]


def main(argv: list[str]) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.runtime import build_runtime
    from app.kernel.monitor import LoopLatencyProbe
    from app.ui.main import DeskwatchApp
    from app.ui.startup import install_signal_handlers
    from app.ui.theme import apply_style

    data_dir = Path(argv[0])
    qapp = QApplication(sys.argv[:1])
    apply_style(qapp, "en")
    probe = LoopLatencyProbe()
    runtime = build_runtime(
        config_path=data_dir / "deskwatch.toml",
        data_dir=data_dir,
        loop_probe=probe,
        monitor_classes={"control": ControlFileMonitor},
    )
    app = DeskwatchApp(runtime, probe)
    install_signal_handlers(qapp)
    qapp.aboutToQuit.connect(app.stop)
    app.start()
    reported = []

    def report_geometry() -> None:
        if app.tray is None:
            sys.stdout.write("no-tray\n")
            sys.stdout.flush()
            return
        rect = app.tray.icon.geometry()
        if rect.width() > 0 and not reported:
            reported.append(True)
            sys.stdout.write(f"tray {rect.x()} {rect.y()} {rect.width()} {rect.height()}\n")
            sys.stdout.flush()
            return
        QTimer.singleShot(50, report_geometry)

    report_geometry()
    return int(qapp.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run in a subprocess on a real X display: show a break and report what each screen shows (JSON)."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.core.breaks import BreakService, BreakSettings
from app.ui.breaks.controller import BreaksController
from app.ui.breaks.windows import BREAK_BG
from sensors.idle import select_source
from tests.conftest import FakeClock


def main() -> None:
    app = QApplication(sys.argv[:1])
    clock = FakeClock()
    source = select_source("auto")
    service = BreakService(BreakSettings(), source=source, clock=clock)
    controller = BreaksController(service)
    service.take_break_now()
    report: dict[str, object] = {"source": source.name, "screens": []}

    def look() -> None:
        for screen, window in zip(QGuiApplication.screens(), controller.windows, strict=False):
            image = screen.grabWindow(0).toImage()
            size = screen.geometry().size()
            corners = [
                (2, 2),
                (size.width() - 3, 2),
                (2, size.height() - 3),
                (size.width() - 3, size.height() - 3),
            ]
            report["screens"].append(  # type: ignore[attr-defined]
                {
                    "size": [size.width(), size.height()],
                    "window": [window.width(), window.height()],
                    "on_screen": window.screen() is screen,
                    "corners_are_break_colour": all(image.pixelColor(x, y) == BREAK_BG for x, y in corners),
                    "countdown": window.countdown.text(),
                }
            )
        controller.close()
        service.close()
        print(json.dumps(report), flush=True)
        app.quit()

    QTimer.singleShot(800, look)
    app.exec()


if __name__ == "__main__":
    main()

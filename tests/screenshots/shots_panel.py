"""Status panel, a device's detail chart, and the tray icon with its menu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint

from app.ui.main import load_features
from tests import devices
from tests.screenshots import qt_app, settle
from tests.screenshots.scene import build_scene


def take(outdir: Path, lang: str) -> None:
    qapp = qt_app(lang)
    app = build_scene(lang, tray=True)
    app.tray.show()
    load_features(app)  # the breaks card's week chart, the self-check menu entry …
    panel = app.panel
    panel.resize(1180, 990)
    app.show_panel()
    settle(1.2)
    panel.grab().save(str(outdir / f"panel_{lang}.png"))

    panel.show_detail(devices.ENVIRONMENT)
    panel.detail.set_range("shift")
    settle(1.0)
    panel.grab().save(str(outdir / f"panel_detail_{lang}.png"))

    # the tray icon with its menu open, as the clerk sees it in the corner of the screen
    panel.hide()
    settle(0.5)
    screen = qapp.primaryScreen()
    menu = app.tray_menu
    size = menu.sizeHint()
    anchor = QPoint(screen.geometry().width() - size.width() - 8, 36)
    menu.popup(anchor)
    settle(0.8)
    shot = screen.grabWindow(0)
    width = max(size.width() + 40, 420)
    crop = shot.copy(shot.width() - width, 0, width, size.height() + 60)
    crop.save(str(outdir / f"tray_menu_{lang}.png"))
    menu.hide()
    app.stop()

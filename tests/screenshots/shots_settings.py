"""The settings dialog: general page, and a device page with thresholds and a refused value."""

from __future__ import annotations

from pathlib import Path

from tests.screenshots import qt_app, settle
from tests.screenshots.scene import build_scene


def take(outdir: Path, lang: str) -> None:
    qt_app(lang)
    app = build_scene(lang)
    dialog = app.open_settings()
    dialog.resize(900, 640)
    settle(0.6)
    dialog.grab().save(str(outdir / f"settings_{lang}.png"))
    titles = [dialog.pages.item(n).text() for n in range(dialog.pages.count())]
    environment = next(n for n, t in enumerate(titles) if "环境" in t or "Environment" in t)
    dialog.pages.setCurrentRow(environment)
    dialog.field(("indicators", "demo_environment.temperature", "warning")).widget.setText("35")
    dialog.apply()  # refused: warning beyond critical, shown exactly like a config-file error
    settle(0.5)
    dialog.grab().save(str(outdir / f"settings_thresholds_{lang}.png"))
    dialog.reject()
    app.stop()

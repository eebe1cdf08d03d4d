"""The alert centre with active, cleared-unacknowledged and acknowledged alerts."""

from __future__ import annotations

from pathlib import Path

from tests.screenshots import qt_app, settle
from tests.screenshots.scene import build_scene


def take(outdir: Path, lang: str) -> None:
    qt_app(lang)
    app = build_scene(lang, tray=True)
    panel = app.panel
    panel.resize(1180, 720)
    app.show_alerts()
    settle(1.0)
    centre = panel.alerts
    critical = next(a for a in app.engine.alerts.visible() if a.indicator_id == "demo_computer.cpu")
    centre.select(critical.id)
    centre.note_edit.setText("已通知信息部 / IT informed" if lang.startswith("zh") else "IT informed")
    settle(0.3)
    panel.grab().save(str(outdir / f"alerts_{lang}.png"))
    app.report_fault(critical)
    settle(1.5)
    box = app.report_box
    box.grab().save(str(outdir / f"alerts_report_{lang}.png"))
    box.close()
    app.stop()

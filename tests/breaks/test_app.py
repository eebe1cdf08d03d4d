"""The breaks feature inside the real DeskwatchApp (offscreen): tray requests, card, language, shutdown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.core.breaks import STATE_KEY, Phase
from app.core.history import History
from app.core.runtime import HISTORY_FILE, build_runtime
from app.kernel.model import Device
from app.ui.breaks import BreaksController
from app.ui.main import DeskwatchApp, load_features


class NoAutostart:
    def is_enabled(self) -> bool:
        return False

    def set_enabled(self, enabled: bool) -> None:
        pass


def test_breaks_in_the_real_app(qtbot: QtBot, tmp_path: Path) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text('[breaks]\nactivity_source = "none"\n', "utf-8")
    runtime = build_runtime(config_path=config, data_dir=tmp_path / "data", monitor_classes={})
    app = DeskwatchApp(runtime, tray=False, autostart=NoAutostart())
    qtbot.addWidget(app.panel)
    try:
        assert "app.ui.breaks" in load_features(app)
        controller = app.surface.feature(BreaksController)
        assert controller is not None and controller.service is runtime.breaks
        assert controller.card in app.panel.extra_widgets()[Device.BREAKS]
        # The tray menu's break entries are live now that someone listens.
        app.tray_menu.aboutToShow.emit()
        assert app.action("break").isEnabled() and app.pause_menu.isEnabled()
        # The runtime's break service ticks on its own thread once the app starts;
        # the first tick puts the breaks.* readings on the panel's breaks card.
        runtime.start()
        qtbot.waitUntil(lambda: app.engine.state("breaks.activity_source") is not None, timeout=10_000)
        state = app.engine.state("breaks.activity_source")
        assert state is not None and state.detail == {"source": "none"}
        app.action("break").trigger()
        assert controller.scheduler.phase is Phase.BREAK
        assert len(controller.windows) == len(QGuiApplication.screens())
        app.action("pause_15").trigger()
        assert controller.scheduler.phase is Phase.PAUSED and controller.windows == []
        # The card is drawn while it can be seen: in the shown panel, again when the
        # panel is rebuilt in the new language (the card reappears on it a moment later).
        app.show_panel()
        app.set_language("zh_CN")
        qtbot.waitUntil(lambda: controller.card.take_button.text() == "立即休息", timeout=5000)
        assert "提醒已暂停" in controller.card.summary.text()
        app.set_language("en")
        qtbot.waitUntil(lambda: controller.card.take_button.text() == "Take a break now", timeout=5000)
    finally:
        app.stop()
    assert controller._closed  # the surface's "stopping" closed it
    # The runtime stops the break service before it closes the history: the state is saved.
    assert runtime.breaks is not None and runtime.breaks._closed
    history = History(tmp_path / "data" / HISTORY_FILE)
    try:
        saved = history.get_state(STATE_KEY)
        assert saved is not None and saved["stats"]["taken"] == 0
    finally:
        history.close()

"""The check and report dialogs, installed into a surface the way the tray app does it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

import monitors
from app.core import selftest
from app.core.runtime import build_runtime
from app.ui import selftest as ui_selftest
from app.ui.main import DeskwatchApp
from app.ui.selftest import ReportDialog, SelfTestDialog, SelfTestFeature
from app.ui.surface import Surface
from tests.fleet.conftest import MISSING_PROGRAM


def _finish(feature: SelfTestFeature | None) -> None:
    """Let running checks and reports end, then close the dialogs."""
    if feature is None:
        return
    dialogs: list[SelfTestDialog | ReportDialog | None] = [feature.dialog, feature.report_dialog]
    for dialog in dialogs:
        if dialog is not None and dialog.job is not None:
            dialog.job.wait(10)
    feature.close()


def _feature(surface: Surface) -> SelfTestFeature:
    feature = surface.feature(SelfTestFeature)
    assert feature is not None, "install() registers the feature on the surface"
    return feature


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path) -> Iterator[Surface]:
    """A bare surface on a runtime: what the tray app hands its features, with a panel window."""
    config = tmp_path / "deskwatch.toml"
    config.write_text(f'[monitors.computer]\nrequired_processes = ["{MISSING_PROGRAM}"]\n', "utf-8")
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=config,
        data_dir=tmp_path / "data",
        mode="app",
        only=["computer"],
    )
    runtime.scheduler.poll_once()  # the running app has states by the time the clerk asks
    surface = Surface(runtime)
    surface.main_window = QWidget()
    qtbot.addWidget(surface.main_window)
    yield surface
    _finish(surface.feature(SelfTestFeature))
    surface.stop()
    runtime.stop()


def test_checklist_runs_off_the_gui_thread_and_shows_the_failure(app: Surface, qtbot: QtBot) -> None:
    ui_selftest.install(app)
    feature = _feature(app)
    app.selftest_requested.emit()
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(dialog.finished_check, timeout=20000) as blocker:
        pass
    result = blocker.args[0]
    assert result.status == selftest.FAIL
    rows = {r.status: r for r in dialog.rows}
    assert list(rows) == ["fail"]  # the computer (the other monitors are not running in this test)
    failed = rows["fail"]
    assert failed.mark.text() == "Fail"
    assert "<b>Computer</b>" in failed.text.text()
    assert MISSING_PROGRAM in failed.text.text() and "→" in failed.text.text()
    assert "failed" in dialog.summary.text()
    # Stored in the app's history.
    found = selftest.latest(app.runtime.history)  # type: ignore[arg-type]
    assert found is not None and found[1].status == selftest.FAIL


def test_report_dialog_writes_the_report(app: Surface, qtbot: QtBot, tmp_path: Path) -> None:
    ui_selftest.install(app)
    feature = _feature(app)
    app.report_requested.emit()
    dialog = feature.report_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.open_after.setChecked(False)  # no browser in tests
    dialog.folder.setText(str(tmp_path / "reports"))
    dialog.per.setCurrentIndex(1)  # per shift
    with qtbot.waitSignal(dialog.written, timeout=20000) as blocker:
        dialog.generate_button.click()
    html_path, csv_path = blocker.args[0]
    assert html_path.exists() and csv_path.exists()
    today = dt.date.today().isoformat()
    assert today in html_path.name and html_path.name.endswith("-shift.html")
    assert html_path.as_uri() in dialog.status.text()  # a link to open it


def test_report_menu_entry_and_first_login_offer(app: Surface, qtbot: QtBot) -> None:
    ui_selftest.install(app)
    feature = _feature(app)
    assert [a.text() for a in app.tray_menu.actions()] == ["&Reports…"]
    # A language change rebuilds closed dialogs (in the new language) when they are next opened.
    first = feature.show_reports()
    first.close()
    feature.retranslate()
    assert feature.report_dialog is None
    assert feature.show_reports() is not first
    feature.report_dialog.close()
    feature.offer_if_first_login()
    qtbot.waitUntil(lambda: feature.offer_box is not None and feature.offer_box.isVisible(), timeout=10000)
    box = feature.offer_box
    box.button(QMessageBox.StandardButton.Yes).click()
    assert feature.dialog is not None and feature.dialog.isVisible()
    qtbot.waitUntil(lambda: feature.dialog.last_result is not None, timeout=20000)
    # Asked once a day only.
    feature.offer_box = None
    feature.offer_if_first_login()
    qtbot.wait(300)
    assert feature.offer_box is None


# -- the real tray application --------------------------------------------------------------------
@pytest.fixture
def real_app(qtbot: QtBot, tmp_path: Path) -> Iterator[DeskwatchApp]:
    """The tray app (``app.ui.main.DeskwatchApp``) with its features loaded, computer monitor only."""
    from app.ui.main import load_features
    from tests.fleet.conftest import only_monitors

    config = tmp_path / "deskwatch.toml"
    config.write_text(
        f'[monitors.computer]\nrequired_processes = ["{MISSING_PROGRAM}"]\n\n' + only_monitors("computer"),
        "utf-8",
    )
    runtime = build_runtime(
        monitor_classes=monitors.discover(), config_path=config, data_dir=tmp_path / "data", mode="app"
    )
    app = DeskwatchApp(runtime, tray=False)
    qtbot.addWidget(app.panel)
    # Only this feature: the breaks feature stops on QApplication.aboutToQuit, which tests never emit.
    assert load_features(app, ["app.ui.selftest"]) == ["app.ui.selftest"]
    feature = _feature(app.surface)
    feature.offer_timer.stop()  # offered explicitly where a test wants it
    runtime.scheduler.poll_once()
    yield app
    _finish(feature)
    app.stop()


def test_real_app_menu_check_and_panel_report(real_app: DeskwatchApp, qtbot: QtBot, tmp_path: Path) -> None:
    app = real_app
    menu = [a.text() for a in app.tray_menu.actions()]
    assert menu[menu.index("Start-of-shift &check…") + 1] == "&Reports…"
    app._update_menu()
    selftest_action = app.action("selftest")
    assert selftest_action.isEnabled()  # somebody handles the request now
    feature = _feature(app.surface)
    selftest_action.trigger()
    qtbot.waitUntil(
        lambda: feature.dialog is not None and feature.dialog.last_result is not None, timeout=20000
    )
    assert feature.dialog.last_result.status == selftest.FAIL
    app.panel.report_button.click()
    dialog = feature.report_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.open_after.setChecked(False)
    dialog.folder.setText(str(tmp_path / "reports"))
    with qtbot.waitSignal(dialog.written, timeout=20000) as blocker:
        dialog.generate_button.click()
    html_text = blocker.args[0][0].read_text("utf-8")
    assert "Start-of-shift checks" in html_text and "Required programs missing" in html_text


def test_real_app_in_chinese(real_app: DeskwatchApp, qtbot: QtBot) -> None:
    app = real_app
    app.set_language("zh_CN")
    try:
        feature = _feature(app.surface)
        reports_text = feature.reports_action.text()
        assert reports_text == QCoreApplication.translate("SelfTestFeature", "&Reports…") != "&Reports…"
        dialog = feature.show_selftest(run=True)
        assert dialog.windowTitle() == "班前检查"
        qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=20000)
        # Monitors switched off are listed as skipped, in device order (the telephone first).
        checked = [row for row in dialog.rows if row.mark.text() != "跳过"]
        assert checked[0].mark.text() == "未通过"
        assert "未通过" in dialog.summary.text()
    finally:
        app.set_language("en")  # the translator is process-wide


def test_the_tray_app_serves_metrics(qtbot: QtBot, tmp_path: Path) -> None:
    """The exporter runs from the GUI's runtime too, not only from ``run --headless``."""
    from tests.fleet.conftest import free_port, http_get, only_monitors, wait_for

    port = free_port()
    config = tmp_path / "deskwatch.toml"
    config.write_text(f"[exporter]\nenabled = true\nport = {port}\n\n" + only_monitors("computer"), "utf-8")
    app = DeskwatchApp(
        build_runtime(monitor_classes=monitors.discover(), config_path=config, data_dir=tmp_path / "data"),
        tray=False,
    )
    qtbot.addWidget(app.panel)
    app.start()
    try:
        text = wait_for(lambda: http_get(f"http://127.0.0.1:{port}/metrics"), "metrics from the tray app")
        assert "deskwatch_build_info" in text
        wait_for(
            lambda: "deskwatch_computer_cpu_ratio" in http_get(f"http://127.0.0.1:{port}/metrics"),
            "a reading in the metrics",
        )
    finally:
        app.stop()
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{port}/metrics", timeout=1)  # closed with the app

"""The check and report dialogs, installed into an app object the way the tray app does it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.core import selftest
from app.core.runtime import Runtime, build_runtime
from app.ui import selftest as ui_selftest
from tests.fleet.conftest import MISSING_PROGRAM


class StandInApp(QObject):
    """What the tray app exposes to features (``runtime``, ``tray_menu``, ``panel``, request signals)."""

    selftest_requested = Signal()
    report_requested = Signal()

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.tray_menu = QMenu()
        self.panel = QWidget()


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path) -> Iterator[StandInApp]:
    config = tmp_path / "deskwatch.toml"
    config.write_text(f'[monitors.computer]\nrequired_processes = ["{MISSING_PROGRAM}"]\n', "utf-8")
    runtime = build_runtime(config_path=config, data_dir=tmp_path / "data", mode="app", only=["computer"])
    runtime.scheduler.poll_once()  # the running app has states by the time the clerk asks
    stand_in = StandInApp(runtime)
    qtbot.addWidget(stand_in.panel)
    yield stand_in
    feature = getattr(stand_in, "selftest_feature", None)
    if feature is not None:
        for dialog in (feature.dialog, feature.report_dialog):
            if dialog is not None and dialog.worker_thread is not None:
                dialog.worker_thread.join(10)
            if dialog is not None:
                dialog.close()
        feature.offer_timer.stop()
    runtime.stop()


def test_checklist_runs_off_the_gui_thread_and_shows_the_failure(app: StandInApp, qtbot: QtBot) -> None:
    ui_selftest.install(app)
    feature = app.selftest_feature  # type: ignore[attr-defined]
    app.selftest_requested.emit()
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(dialog.finished_check, timeout=20000) as blocker:
        pass
    result = blocker.args[0]
    assert result.status == selftest.FAIL
    rows = [dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())]
    assert [r.text(1) for r in rows] == ["Computer"]
    assert rows[0].text(0) == "Fail"
    assert MISSING_PROGRAM in rows[0].text(2) and "→" in rows[0].text(2)
    assert "failed" in dialog.summary.text()
    # Stored in the app's history.
    found = selftest.latest(app.runtime.history)  # type: ignore[arg-type]
    assert found is not None and found[1].status == selftest.FAIL


def test_report_dialog_writes_the_report(app: StandInApp, qtbot: QtBot, tmp_path: Path) -> None:
    ui_selftest.install(app)
    feature = app.selftest_feature  # type: ignore[attr-defined]
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
    assert str(html_path) in dialog.status.text()


def test_report_menu_entry_and_first_login_offer(app: StandInApp, qtbot: QtBot) -> None:
    ui_selftest.install(app)
    feature = app.selftest_feature  # type: ignore[attr-defined]
    assert [a.text() for a in app.tray_menu.actions()] == ["Reports…"]
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

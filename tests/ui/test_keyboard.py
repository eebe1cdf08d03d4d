"""Every action of the app from the keyboard alone, on the real windows (offscreen).

Keys go in with pytest-qt's ``keyClick``/``keyClicks``; the effect is read from
the engine, the history, the break service and the windows, never from the
widget that was pressed.  (The break notice's own keys are in
``tests/breaks/test_ui.py``.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from app.core.alerts import AlertState
from app.core.breaks import Phase
from app.ui.breaks import BreaksController
from app.ui.keys import mnemonic_key
from app.ui.main import ACTION_KEYS, load_features
from app.ui.selftest import SelfTestFeature
from tests.ui.conftest import CPU, TEMPERATURE, reading, wait_idle

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
BREAKS_ON = '[breaks]\nactivity_source = "none"\n'


def _press(qtbot: Any, key: str) -> None:
    """Type one key sequence ("Ctrl+Shift+A") into whatever has the keyboard now."""
    combo = QKeySequence(key)[0]
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "nothing has the keyboard"
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def _shown(qtbot: Any, window: QWidget) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)


def _alert_app(make_app: Any, qtbot: Any, config: str = "") -> Any:
    app = make_app("[monitors.env]\nenabled = true\n" + config)
    app.engine.ingest([reading(CPU, 99.0), reading(TEMPERATURE, 35.0)])
    app.panel.flush_pending()
    _shown(qtbot, app.panel)
    return app


def test_acknowledge_one_alert_with_a_note_from_the_keyboard(make_app: Any, qtbot: Any) -> None:
    app = _alert_app(make_app, qtbot)
    _press(qtbot, ACTION_KEYS["alerts"])  # Ctrl+2: the alert centre, the keyboard in its list
    centre = app.panel.alerts
    assert app.panel.tabs.currentIndex() == app.panel.ALERTS_TAB
    assert QApplication.focusWidget() is centre.tree
    first = centre.selected_ids()
    assert len(first) == 1
    qtbot.keyClick(centre.tree, Qt.Key.Key_N, ALT)  # Alt+N: the note
    assert QApplication.focusWidget() is centre.note_edit
    qtbot.keyClicks(centre.note_edit, "reseated cable")
    qtbot.keyClick(centre.note_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    alert = next(a for a in app.engine.alerts.visible() if a.id == first[0])
    assert alert.state is AlertState.ACKNOWLEDGED and alert.note == "reseated cable"
    stored = {a.id: a for a in app.runtime.history.alerts_between(0, time.time() + 1)}
    assert stored[first[0]].note == "reseated cable" and stored[first[0]].acked_at is not None
    others = [a for a in app.engine.alerts.visible() if a.id != first[0]]
    assert others and all(a.state is AlertState.ACTIVE for a in others)  # only the chosen one

    # Back to the list with nothing chosen: the first alert that is left; Enter acknowledges it.
    centre.tree.clearSelection()
    _press(qtbot, ACTION_KEYS["alerts"])
    assert centre.selected_ids() == [others[0].id]
    qtbot.keyClick(centre.tree, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    assert all(a.state is AlertState.ACKNOWLEDGED for a in app.engine.alerts.visible())


def test_acknowledge_all_from_the_keyboard(make_app: Any, qtbot: Any) -> None:
    app = _alert_app(make_app, qtbot)
    _press(qtbot, ACTION_KEYS["ack_all"])  # Ctrl+Shift+A, anywhere in the panel
    wait_idle(qtbot, app)
    visible = app.engine.alerts.visible()
    assert len(visible) == 2 and all(a.state is AlertState.ACKNOWLEDGED for a in visible)
    stored = app.runtime.history.alerts_between(0, time.time() + 1)
    assert len(stored) == 2 and all(a.acked_at is not None for a in stored)


def test_alt_l_in_the_alert_centre_acknowledges_all(make_app: Any, qtbot: Any) -> None:
    app = _alert_app(make_app, qtbot)
    _press(qtbot, ACTION_KEYS["alerts"])
    qtbot.keyClick(app.panel.alerts.tree, Qt.Key.Key_L, ALT)  # a button's Alt key clicks it shortly after
    qtbot.waitUntil(
        lambda: all(a.state is AlertState.ACKNOWLEDGED for a in app.engine.alerts.visible()), timeout=3000
    )


def test_report_to_it_from_the_keyboard_saves_the_report(make_app: Any, qtbot: Any) -> None:
    app = _alert_app(make_app, qtbot)
    _press(qtbot, ACTION_KEYS["alerts"])
    chosen = next(a for a in app.engine.alerts.visible() if a.id == app.panel.alerts.selected_ids()[0])
    _press(qtbot, "Ctrl+R")
    qtbot.waitUntil(lambda: app.report_box is not None and app.report_box.isVisible(), timeout=5000)
    report = app.last_report
    assert report is not None and Path(report.path).is_file()
    assert report.key == chosen.key  # the alert chosen in the list
    assert QApplication.clipboard().text() == report.body
    # The box has the keyboard; Esc closes it.
    box = app.report_box
    qtbot.waitUntil(lambda: QApplication.activeWindow() is box, timeout=3000)
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=3000)


def test_alt_r_in_the_alert_centre_reports_too(make_app: Any, qtbot: Any) -> None:
    app = _alert_app(make_app, qtbot)
    _press(qtbot, ACTION_KEYS["alerts"])
    qtbot.keyClick(app.panel.alerts.tree, Qt.Key.Key_R, ALT)
    qtbot.waitUntil(lambda: app.last_report is not None, timeout=5000)
    assert Path(app.last_report.path).is_file()


def test_take_a_break_from_the_panel(make_app: Any, qtbot: Any) -> None:
    app = make_app(BREAKS_ON)
    assert "app.ui.breaks" in load_features(app, ["app.ui.breaks"])
    controller = app.surface.feature(BreaksController)
    assert controller is not None
    _shown(qtbot, app.panel)
    _press(qtbot, ACTION_KEYS["break"])  # Ctrl+B
    assert controller.scheduler.phase is Phase.BREAK
    assert controller.windows


def test_settings_open_and_close_from_the_keyboard(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    _shown(qtbot, app.panel)
    _press(qtbot, ACTION_KEYS["settings"])  # Ctrl+,
    dialog = app.settings_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    _press(qtbot, "Escape")
    qtbot.waitUntil(lambda: app.settings_dialog is None or not dialog.isVisible(), timeout=3000)


def test_settings_enter_saves_and_closes(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    _shown(qtbot, app.panel)
    _press(qtbot, ACTION_KEYS["settings"])
    dialog = app.settings_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    edit = dialog.field(("alerts", "reannounce_minutes")).widget
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(edit, "12")
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # the default button: OK
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    wait_idle(qtbot, app)
    assert "reannounce_minutes = 12" in app.runtime.config.user_path.read_text("utf-8")


def test_selftest_and_reports_from_the_keyboard(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    assert load_features(app, ["app.ui.selftest"]) == ["app.ui.selftest"]
    feature = app.surface.feature(SelfTestFeature)
    assert feature is not None
    feature.offer_timer.stop()
    _shown(qtbot, app.panel)
    _press(qtbot, ACTION_KEYS["selftest"])  # Ctrl+T
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=20000)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    first = dialog.last_result
    _press(qtbot, "Alt+R")  # run again
    qtbot.waitUntil(lambda: dialog.last_result is not first, timeout=20000)
    _press(qtbot, "Escape")
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    # The tray menu's "Reports…" by its letter, then Esc.
    menu = app.tray_menu
    menu.popup(app.panel.geometry().center())
    qtbot.waitExposed(menu)
    qtbot.keyClick(menu, Qt.Key.Key_R)
    report = feature.report_dialog
    assert report is not None and report.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is report, timeout=3000)
    _press(qtbot, "Escape")
    qtbot.waitUntil(lambda: not report.isVisible(), timeout=3000)


def test_tray_menu_entries_by_their_letters(make_app: Any, qtbot: Any) -> None:
    app = _alert_app(make_app, qtbot, BREAKS_ON)
    load_features(app, ["app.ui.breaks"])
    controller = app.surface.feature(BreaksController)
    menu = app.tray_menu
    menu.popup(app.panel.geometry().center())
    qtbot.waitExposed(menu)
    qtbot.keyClick(menu, Qt.Key.Key_L)  # "Acknowledge a&ll alerts"
    wait_idle(qtbot, app)
    assert all(a.state is AlertState.ACKNOWLEDGED for a in app.engine.alerts.visible())
    menu.popup(app.panel.geometry().center())
    qtbot.waitExposed(menu)
    qtbot.keyClick(menu, Qt.Key.Key_B)  # "Take a &break now"
    assert controller is not None and controller.scheduler.phase is Phase.BREAK


def _menu_keys(menu: QMenu) -> list[str]:
    return [mnemonic_key(a.text()) or "" for a in menu.actions() if not a.isSeparator()]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_tray_entry_has_its_own_letter_and_shows_its_key(
    make_app: Any, qtbot: Any, language: str
) -> None:
    app = make_app()
    load_features(app, ["app.ui.selftest"])
    app.set_language(language)
    try:
        for menu in (app.tray_menu, app.pause_menu):
            keys = _menu_keys(menu)
            if menu is app.tray_menu:
                assert all(keys), [a.text() for a in menu.actions()]
                assert len(set(keys)) == len(keys), keys  # one entry per letter
        if language == "zh_CN":
            assert app.action("ack_all").text().endswith("(&L)")  # Chinese: "确认全部告警(&L)"
        for name, key in ACTION_KEYS.items():
            # The menu shows the key beside the entry, and it is the key that works in the panel.
            assert app.action(name).shortcut() == QKeySequence(key)
            assert app.action(name) in app.panel.actions()
    finally:
        app.set_language("en")


def test_status_key_leaves_a_detail_view(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    _shown(qtbot, app.panel)
    device = next(iter(app.panel.cards))
    app.panel.show_detail(device)
    assert app.panel.stack.currentIndex() == 1
    _press(qtbot, ACTION_KEYS["alerts"])
    _press(qtbot, "Ctrl+1")
    assert app.panel.tabs.currentIndex() == app.panel.STATUS_TAB
    assert app.panel.stack.currentIndex() == 0

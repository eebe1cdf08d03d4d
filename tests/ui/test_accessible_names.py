"""Every interactive widget of every window has a name a screen reader can say, in both languages.

The walk asks Qt's own accessibility interface (what AT-SPI hands to Orca), so
a button's text counts and an unnamed list or field does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QWidget

from app.core.breaks import Phase
from app.kernel.i18n import Text, current_language
from app.kernel.model import Level
from app.ui.breaks import BreaksController
from app.ui.main import load_features
from app.ui.selftest import CheckRow, SelfTestFeature
from tests.ui.conftest import CPU, PRINTER_STATE, reading, wait_idle


def _name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def unnamed(window: QWidget) -> list[str]:
    """Interactive widgets (a Tab stop) shown in ``window`` that a screen reader could not name."""
    found = []
    for widget in [window, *window.findChildren(QWidget)]:
        focusable = bool(widget.focusPolicy().value & Qt.FocusPolicy.TabFocus.value)
        if isinstance(widget.parent(), QAbstractSpinBox):
            continue  # a spin box's own editor: the spin box is what a screen reader names
        if focusable and widget.isVisible() and widget.isEnabled() and not _name(widget):
            found.append(
                f"{type(widget).__name__}({widget.objectName()}) in {type(widget.parent()).__name__}"
            )
    return found


def _each_page(count: int, select: Any) -> Iterator[int]:
    for index in range(count):
        select(index)
        QApplication.processEvents()
        yield index


@pytest.fixture(params=["en", "zh_CN"])
def app(request: Any, make_app: Any, qtbot: Any) -> Iterator[Any]:
    made = make_app('[breaks]\nactivity_source = "none"\n')
    load_features(made, ["app.ui.breaks", "app.ui.selftest"])
    feature = made.surface.feature(SelfTestFeature)
    assert feature is not None
    feature.offer_timer.stop()
    made.set_language(request.param)
    made.engine.ingest(
        [reading(CPU, 99.0), reading(PRINTER_STATE, "jam", Level.CRITICAL, Text("Paper jam", "卡纸"))]
    )
    made.panel.flush_pending()
    made.show_panel()
    qtbot.waitExposed(made.panel)
    yield made
    made.set_language("en")


def test_panel_and_alert_centre(app: Any) -> None:
    panel = app.panel
    problems = []
    for _ in _each_page(panel.tabs.count(), panel.tabs.setCurrentIndex):
        problems += unnamed(panel)
    assert problems == []


def test_alert_rows_say_device_level_and_what(app: Any) -> None:
    centre = app.panel.alerts
    app.show_alerts()
    group = centre.groups[centre.ACTIVE]
    assert group.childCount() == 2
    alert = next(a for a in app.engine.alerts.visible() if a.indicator_id == CPU.id)
    item = next(group.child(n) for n in range(group.childCount()) if group.child(n).text(2) == CPU.label())
    spoken = item.data(0, Qt.ItemDataRole.AccessibleTextRole)
    assert spoken.startswith(f"{alert.device.label()}, {alert.level.text()}, {CPU.label()}: ")
    assert "99" in spoken
    assert group.data(0, Qt.ItemDataRole.AccessibleTextRole).endswith(": 2")


def test_settings_every_page(app: Any) -> None:
    dialog = app.open_settings()
    problems = []
    for _ in _each_page(dialog.pages.count(), dialog.pages.setCurrentRow):
        problems += unnamed(dialog)
    assert problems == []
    for field in dialog.fields:
        # The setting's own label, and what it accepts, for a screen reader.
        assert field.setting.label() in field.widget.accessibleName(), field.path
        assert field.setting.allowed(current_language()) in field.widget.accessibleDescription(), field.path
    dialog.reject()


def test_selftest_checklist_rows(app: Any, qtbot: Any) -> None:
    feature = app.surface.feature(SelfTestFeature)
    dialog = feature.show_selftest(run=True)
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=20000)
    assert unnamed(dialog) == []
    assert dialog.rows
    for row in dialog.rows:
        assert isinstance(row, CheckRow)
        assert row.mark.text() in row.accessibleName()  # pass / fail / skipped, said with the name
        assert row.focusPolicy() != Qt.FocusPolicy.NoFocus  # Tab reaches every line
    dialog.close()
    wait_idle(qtbot, app)


def test_report_dialog(app: Any) -> None:
    feature = app.surface.feature(SelfTestFeature)
    dialog = feature.show_reports()
    assert unnamed(dialog) == []
    dialog.close()


def test_break_notice_and_window(app: Any, qtbot: Any) -> None:
    controller = app.surface.feature(BreaksController)
    assert controller is not None
    service = controller.service
    service.take_break_now()
    qtbot.waitUntil(lambda: bool(controller.windows), timeout=3000)
    assert service.phase is Phase.BREAK
    window = controller.windows[0]
    assert unnamed(window) == [] and window.accessibleName()
    notice = controller.notice
    assert not notice.isVisible() or unnamed(notice) == []

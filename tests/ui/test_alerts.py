"""The alert centre: three groups, acknowledgement with a note, fault reports to IT."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.alerts import AlertState
from tests.ui.conftest import CPU, TEMPERATURE, reading, wait_idle


def _group_texts(centre: Any, index: int) -> list[list[str]]:
    group = centre.groups[index]
    return [[group.child(n).text(c) for c in range(7)] for n in range(group.childCount())]


def test_alert_moves_through_the_three_groups(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    centre = app.panel.alerts
    app.engine.ingest([reading(CPU, 99.0)])
    app.panel.flush_pending()
    active = _group_texts(centre, centre.ACTIVE)
    assert len(active) == 1
    assert active[0][:4] == ["Critical", "Computer", "CPU usage", "99.0 %"]
    assert app.panel.tabs.tabText(app.panel.ALERTS_TAB) == "Alerts (1)"

    # it clears without anyone seeing it: it stays, as cleared-unacknowledged
    app.engine.ingest([reading(CPU, 10.0)])
    app.panel.flush_pending()
    assert _group_texts(centre, centre.ACTIVE) == []
    cleared = _group_texts(centre, centre.CLEARED)
    assert len(cleared) == 1 and cleared[0][6].startswith("cleared ")

    # acknowledge it from the list, with a note
    centre.select(app.engine.alerts.visible()[0].id)
    assert centre.ack_button.isEnabled()
    centre.note_edit.setText("restarted the CRM")
    qtbot.mouseClick(centre.ack_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, app)
    qtbot.waitUntil(lambda: len(_group_texts(centre, centre.ACKED)) == 1, timeout=3000)
    assert _group_texts(centre, centre.CLEARED) == []
    acked = _group_texts(centre, centre.ACKED)[0]
    assert "restarted the CRM" in acked[6] and "acknowledged" in acked[6]
    assert app.panel.tabs.tabText(app.panel.ALERTS_TAB) == "Alerts"
    # the acknowledgement is in the history database
    stored = app.runtime.history.alerts_between(0, time.time() + 1)
    assert stored[0].note == "restarted the CRM" and stored[0].acked_at is not None


def test_acknowledge_all_keeps_present_alerts_visible(make_app: Any, qtbot: Any) -> None:
    app = make_app("[monitors.env]\nenabled = true\n")
    centre = app.panel.alerts
    app.engine.ingest([reading(CPU, 90.0), reading(TEMPERATURE, 35.0)])
    app.panel.flush_pending()
    assert len(_group_texts(centre, centre.ACTIVE)) == 2
    centre.note_edit.setText("seen")
    qtbot.mouseClick(centre.ack_all_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, app)
    qtbot.waitUntil(lambda: _group_texts(centre, centre.ACTIVE) == [], timeout=3000)
    acked = _group_texts(centre, centre.ACKED)
    assert len(acked) == 2
    assert all(a.state is AlertState.ACKNOWLEDGED for a in app.engine.alerts.visible())
    assert not centre.ack_all_button.isEnabled()


def test_closed_alerts_of_the_last_day_are_loaded_from_history(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.engine.ingest([reading(CPU, 99.0)])
    app.panel.flush_pending()
    app.engine.acknowledge_all("old one")
    app.engine.ingest([reading(CPU, 10.0)])  # closes it
    # a new app on the same data folder finds it in history
    from app.ui.alerts_view import AlertCentre

    fresh = AlertCentre(app.surface)
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: len(_group_texts(fresh, fresh.ACKED)) == 1, timeout=3000)
    assert "old one" in _group_texts(fresh, fresh.ACKED)[0][6]


def test_report_to_it_copies_saves_and_offers_mail(make_app: Any, qtbot: Any) -> None:
    app = make_app('[alerts]\nit_email = "it-desk@example.com"\n')
    app.engine.ingest([reading(CPU, 97.0)])
    app.panel.flush_pending()
    alert = app.engine.alerts.visible()[0]
    centre = app.panel.alerts
    centre.select(alert.id)
    qtbot.mouseClick(centre.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.last_report is not None, timeout=5000)
    report = app.last_report
    assert report.path is not None and report.path.exists()
    assert report.path.parent == app.runtime.context.data_dir / "reports"
    body = report.path.read_text("utf-8")
    for expected in (
        "Device: Computer",
        "Indicator: CPU usage (pc.cpu)",
        "Critical",
        "Host:",
        "User:",
        "97.0 %",
    ):
        assert expected in body
    assert QApplication.clipboard().text() == body
    buttons = [b.text() for b in app.report_box.buttons()]
    assert "Open e-mail to it-desk@example.com" in buttons
    url = report.mailto("it-desk@example.com")
    assert url.startswith("mailto:it-desk@example.com?subject=") and "CPU%20usage" in url
    app.report_box.close()


def test_refreshing_the_list_frees_the_old_rows(make_app: Any) -> None:
    """takeChildren() alone leaks the taken items in PySide6 (the soak grew ~50 MiB/h)."""
    import shiboken6

    app = make_app()
    centre = app.panel.alerts
    app.engine.ingest([reading(CPU, 99.0)])
    app.panel.flush_pending()
    old_row = centre.groups[centre.ACTIVE].child(0)
    assert shiboken6.isValid(old_row)
    centre.refresh()
    assert centre.groups[centre.ACTIVE].childCount() == 1
    assert not shiboken6.isValid(old_row), "the replaced row must be deleted, not left to leak"

"""What the clerk is told needs them: a pending value's countdown, and one count everywhere.

The real app (panel, tray icon, alert centre) on scripted monitors: the tray
badge and tooltip, the banner and the alerts tab must tell the same story.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from app.core.alerts import AlertState
from app.kernel.model import Device, Level
from tests import devices
from tests.ui.conftest import CPU, TEMPERATURE, EnvMonitor, reading, wait_idle

PENDING_CONFIG = '[monitors.env]\nenabled = true\n[indicators."env.temperature"]\nraise_after = 5\n'


def test_a_pending_row_counts_down_without_new_readings_then_becomes_the_alert(
    make_app: Any, qtbot: Any
) -> None:
    app = make_app(PENDING_CONFIG, tray=True)
    app.panel.show()
    EnvMonitor.next_readings = [reading(TEMPERATURE, 29.0)]  # over 28 °C, for 5 s before its alert
    app.runtime.start()
    card = app.panel.cards[devices.ENVIRONMENT]
    qtbot.waitUntil(lambda: "env.temperature" in card.rows, timeout=5000)
    EnvMonitor.next_readings = []  # no more readings: only the panel's clock moves the text
    row = card.rows["env.temperature"]
    seen: list[int] = []

    def left() -> bool:
        match = re.fullmatch(r"Over 28 °C, alert in (\d+) s", row.message.text())
        if match and (not seen or seen[-1] != int(match[1])):
            seen.append(int(match[1]))
        return len(seen) >= 3

    qtbot.waitUntil(left, timeout=6000)
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen), seen
    # Closed, the card's summary counts down too; opened, the row says it.
    assert any("Over 28 °C, alert in" in text() for _level, text in card.summary.problems)
    card.set_expanded(True)
    assert row.message.isVisibleTo(card)
    assert row.chip.text() == "Pending" and row.chip.level is Level.WARNING
    # The card says so too, and the tray tooltip says what and when.
    assert card.chip.text() == "Pending" and "Over 28 °C, alert in" in card.chip.toolTip()
    assert "Temperature 29.0 °C — Over 28 °C, alert in" in app.tray.icon.toolTip()
    assert app.panel.banner.text() == "1 out of range, alert pending"
    assert app.engine.alerts.visible() == []
    # The hold is over; the next reading raises the alert, and the row shows it.
    qtbot.waitUntil(lambda: row.message.text() == "Over 28 °C, alert at the next reading", timeout=6000)
    EnvMonitor.next_readings = [reading(TEMPERATURE, 29.0)]
    qtbot.waitUntil(lambda: row.chip.text() == "Warning", timeout=5000)
    assert "alert" not in row.message.text() and card.chip.text() == "Warning"
    assert [a.key for a in app.engine.alerts.visible()] == ["env.temperature"]
    assert app.panel.banner.text() == "1 alert needs attention"


def _told(app: Any) -> tuple[int, str, str, str, str]:
    """(badge, tab text, tab tooltip, banner, tray tooltip's first line)."""
    app.panel.flush_pending()
    app.tray.refresh()
    tabs = app.panel.tabs
    return (
        app.tray.badge,
        tabs.tabText(app.panel.ALERTS_TAB),
        tabs.tabToolTip(app.panel.ALERTS_TAB),
        app.panel.banner.text(),
        app.tray.icon.toolTip().splitlines()[0],
    )


def test_badge_tooltip_banner_and_tab_tell_one_count_in_both_languages(make_app: Any, qtbot: Any) -> None:
    app = make_app("[monitors.env]\nenabled = true\n", tray=True)
    expected = {
        "en": [
            (2, "Alerts (2)", "2 alerts need attention"),
            (1, "Alerts (1)", "1 alert needs attention · 1 acknowledged, still faulty"),
            (1, "Alerts (1)", "1 alert needs attention (1 already cleared) · 1 acknowledged, still faulty"),
            (0, "Alerts", "1 acknowledged, still faulty"),
        ],
        "zh_CN": [
            (2, "告警 (2)", "2 条告警待处理"),
            (1, "告警 (1)", "1 条告警待处理;1 条已确认,故障仍在"),
            (1, "告警 (1)", "1 条告警待处理(其中 1 条已恢复);1 条已确认,故障仍在"),
            (0, "告警", "1 条已确认,故障仍在"),
        ],
    }

    def check(step: int) -> None:
        for language, steps in expected.items():
            app.set_language(language)
            badge, tab, tab_tip, banner, tooltip = _told(app)
            want_badge, want_tab, want_headline = steps[step]
            assert (badge, tab) == (want_badge, want_tab), (language, step)
            assert banner == tab_tip == want_headline, (language, step)
            assert tooltip == f"Deskwatch — {want_headline}", (language, step)
        app.set_language("en")

    # Two faults, nobody has seen them.
    app.engine.ingest([reading(CPU, 99.0), reading(TEMPERATURE, 35.0)])
    check(0)
    # The clerk acknowledges the computer's: still faulty, no longer counted as new.
    cpu = next(a for a in app.engine.alerts.visible() if a.key == "pc.cpu")
    app.surface.acknowledge([cpu.id])
    wait_idle(qtbot, app)
    assert app.engine.alerts.visible()[0].state is AlertState.ACKNOWLEDGED
    check(1)
    # The room cools down before anyone looked: still to be seen.
    app.engine.ingest([reading(TEMPERATURE, 22.0)])
    check(2)
    # Seen: only the acknowledged fault is left, told apart (the icon keeps its colour).
    room = next(a for a in app.engine.alerts.visible() if a.key == "env.temperature")
    app.surface.acknowledge([room.id])
    wait_idle(qtbot, app)
    check(3)
    app.panel.flush_pending()
    assert app.tray.level is Level.CRITICAL and app.panel.cards[Device.COMPUTER].level is Level.CRITICAL


def test_the_tray_countdown_is_one_shot_to_the_next_change_of_its_text(make_app: Any, qtbot: Any) -> None:
    app = make_app(PENDING_CONFIG.replace("raise_after = 5", "raise_after = 150"), tray=True)
    timer = app.tray.countdown
    assert not timer.isActive()  # nothing pending: nothing ticks
    app.engine.ingest([reading(TEMPERATURE, 29.0)])
    # 150 s left reads "3 min" until 120 s are left: one shot, in 30 s, not a tick a second.
    assert "Over 28 °C, alert in 3 min" in app.tray.icon.toolTip()
    assert timer.isSingleShot() and timer.isActive()
    assert 29_000 <= timer.remainingTime() <= 30_100
    app.engine.ingest([reading(TEMPERATURE, 20.0)])  # back in range: nothing left to count
    assert not timer.isActive() and "alert in" not in app.tray.icon.toolTip()


def test_the_tray_countdown_fires_when_the_text_changes_and_then_stops(make_app: Any, qtbot: Any) -> None:
    app = make_app(PENDING_CONFIG.replace("raise_after = 5", "raise_after = 2"), tray=True)
    app.engine.ingest([reading(TEMPERATURE, 29.0)])
    assert "Over 28 °C, alert in 1 min" in app.tray.icon.toolTip()  # rounded up to the step
    assert app.tray.countdown.remainingTime() <= 2_100
    qtbot.waitUntil(lambda: "alert at the next reading" in app.tray.icon.toolTip(), timeout=5000)
    assert not app.tray.countdown.isActive()  # the hold is over: the next reading decides


def test_the_tray_redraws_only_for_readings_that_can_change_its_icon_or_tooltip(
    make_app: Any, qtbot: Any, monkeypatch: Any
) -> None:
    app = make_app(PENDING_CONFIG.replace("raise_after = 5", "raise_after = 150"), tray=True)
    app.engine.ingest([reading(TEMPERATURE, 22.0)])
    assert "Temperature" not in app.tray.icon.toolTip()
    redraws: list[int] = []
    refresh = app.tray.refresh
    monkeypatch.setattr(app.tray, "refresh", lambda: (redraws.append(1), refresh()))
    app.engine.ingest([reading(TEMPERATURE, 23.0)])  # a new value, still fine: nothing shown changes
    app.engine.ingest([reading(TEMPERATURE, 24.0)])
    assert redraws == []
    app.engine.ingest([reading(TEMPERATURE, 29.0)])  # out of range: pending, in the tooltip
    assert redraws == [1] and "Temperature 29.0 °C — Over 28 °C, alert in" in app.tray.icon.toolTip()
    app.engine.ingest([reading(TEMPERATURE, 29.5)])  # a pending value's number is in the tooltip
    assert "Temperature 29.5 °C" in app.tray.icon.toolTip()
    app.engine.ingest([reading(TEMPERATURE, 22.0)])
    assert "Temperature" not in app.tray.icon.toolTip()


def test_a_monitor_switched_off_leaves_the_tray_and_the_panel_without_another_batch(
    make_app: Any, qtbot: Any
) -> None:
    """The settings' reload forgets a monitor on the worker thread; no reading will ever
    mention its states again, so the tray and the panel must drop them on that news alone."""
    app = make_app(PENDING_CONFIG.replace("raise_after = 5", "raise_after = 150"), tray=True)
    app.panel.show()
    app.engine.ingest([reading(CPU, 10.0), reading(TEMPERATURE, 29.0)])
    app.panel.flush_pending()
    card = app.panel.cards[devices.ENVIRONMENT]
    assert "Temperature 29.0 °C" in app.tray.icon.toolTip() and card.rows
    forgotten = threading.Thread(target=app.engine.forget, args=("env",))  # as the reload does it
    forgotten.start()
    forgotten.join()
    qtbot.waitUntil(lambda: "Temperature" not in app.tray.icon.toolTip(), timeout=2000)
    assert card.rows == {} and app.panel.cards[Device.COMPUTER].rows  # only the env rows went

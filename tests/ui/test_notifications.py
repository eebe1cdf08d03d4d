"""Alerts reach the desktop as freedesktop notifications: a real dunst on a private session bus.

dunst (on the tests' Xvfb) logs every notification it receives; the tests
read that log — summary, body, urgency, expire timeout, id — rather than
trusting what Deskwatch believes it sent.  Nothing pops up during a call;
what was held is shown after it.  Without a notification server (or a bus),
the alert still reaches the clerk the old way, and nothing waits for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.kernel.model import Level
from app.ui.notifications import DesktopNotifier
from app.ui.tray import Announcer
from tests.conftest import FakeClock
from tests.desktop_bus import Dunst, SessionBus, dunst_server, session_bus
from tests.ui.conftest import CPU, TEMPERATURE, reading
from tests.xserver import xvfb

pytestmark = pytest.mark.xserver

#: Config for these tests: the environment monitor on (for a warning), re-announce after 5 min.
CONFIG = "[alerts]\nreannounce_minutes = 5\n[monitors.env]\nenabled = true\n"
#: How long a test watches for a notification that must not come (s).
QUIET_WATCH_S = 2.0


@pytest.fixture(scope="module")
def desktop() -> Iterator[tuple[SessionBus, Dunst]]:
    with (
        xvfb(with_tray=False) as xserver,
        session_bus(xserver.env) as bus,
        dunst_server(xserver, bus) as dunst,
    ):
        yield bus, dunst


@pytest.fixture
def dunst(desktop: tuple[SessionBus, Dunst]) -> Iterator[Dunst]:
    desktop[1].forget()
    yield desktop[1]
    desktop[1].forget()


class Shown:
    """The fallback (tray balloon / panel notice) and the notifier's own word, recorded."""

    def __init__(self) -> None:
        self.fallback: list[tuple[str, str, Level]] = []
        self.delivered: list[tuple[str, int]] = []

    def notify(self, title: str, body: str, level: Level) -> None:
        self.fallback.append((title, body, level))


def _announcer(app: Any, bus_address: str) -> tuple[Announcer, Shown, FakeClock]:
    app.announcer.timer.stop()
    shown = Shown()
    clock = FakeClock(1000.0)
    notifier = DesktopNotifier(bus_address)
    notifier.delivered.connect(lambda key, ident: shown.delivered.append((key, ident)))
    announcer = Announcer(app.surface, shown.notify, clock=clock, desktop=notifier)
    announcer.timer.stop()
    return announcer, shown, clock


def _arrivals(qtbot: Any, dunst: Dunst, count: int, timeout_ms: int = 10_000) -> list[dict[str, str]]:
    qtbot.waitUntil(lambda: len(dunst.arrived()) >= count, timeout=timeout_ms)
    return dunst.arrived()


def test_critical_and_warning_alerts_arrive_with_their_urgency(
    make_app: Any, qtbot: Any, desktop: tuple[SessionBus, Dunst], dunst: Dunst
) -> None:
    app = make_app(CONFIG)
    shown = _announcer(app, desktop[0].address)[1]
    app.engine.ingest([reading(CPU, 99.0)])
    [critical] = _arrivals(qtbot, dunst, 1)
    assert critical["APP_NAME"] == "Deskwatch"
    assert critical["SUMMARY"] == "Computer: Critical"
    assert "CPU usage 99.0 %" in critical["BODY"]
    assert critical["URGENCY"] == "CRITICAL"
    assert critical["TIMEOUT"] == "0"  # critical ones stay until acknowledged (then closed)
    assert critical["ICON_PATH"].endswith("deskwatch-critical.png")
    assert critical["DESKTOP_ENTRY"] == "deskwatch" and critical["CATEGORY"] == "device.error"
    app.engine.ingest([reading(TEMPERATURE, 29.0)])
    warning = _arrivals(qtbot, dunst, 2)[1]
    assert warning["SUMMARY"] == "Environment: Warning" and "Temperature 29.0 °C" in warning["BODY"]
    assert warning["URGENCY"] == "NORMAL" and warning["TIMEOUT"] == "10000"
    assert shown.fallback == []


def test_a_repeated_alert_replaces_its_notification_and_acknowledging_closes_it(
    make_app: Any, qtbot: Any, desktop: tuple[SessionBus, Dunst], dunst: Dunst
) -> None:
    app = make_app(CONFIG)
    announcer, shown, clock = _announcer(app, desktop[0].address)
    app.engine.ingest([reading(CPU, 99.0)])
    [first] = _arrivals(qtbot, dunst, 1)
    qtbot.waitUntil(lambda: dunst.displayed() == 1, timeout=5000)
    clock.advance(5 * 60 + 1)
    announcer.check_reannounce()
    again = _arrivals(qtbot, dunst, 2)[1]
    assert again["SUMMARY"].startswith("Still unacknowledged") and again["URGENCY"] == "CRITICAL"
    assert again["ID"] == first["ID"]  # replaced, not piled up
    assert dunst.displayed() == 1
    app.engine.acknowledge_all()
    qtbot.waitUntil(lambda: dunst.displayed() == 0, timeout=5000)
    assert len(dunst.arrived()) == 2 and shown.fallback == []


def _two_alerts_in_a_call(make_app: Any, bus: SessionBus) -> tuple[Any, Shown, Any]:
    """An app whose clerk is in a call (the softphone holds the microphone) when two alerts come."""
    app = make_app(CONFIG)
    _ann, shown, _clock = _announcer(app, bus.address)
    call = app.runtime.context.call_state
    call.hangover_seconds = 0.0
    call.set_source("softphone", True, hangover=False)
    app.engine.ingest([reading(CPU, 99.0)])
    app.engine.ingest([reading(TEMPERATURE, 29.0)])
    return app, shown, call


def test_nothing_is_sent_during_a_call_and_the_held_alerts_follow_as_one_summary(
    make_app: Any, qtbot: Any, desktop: tuple[SessionBus, Dunst], dunst: Dunst
) -> None:
    app, shown, call = _two_alerts_in_a_call(make_app, desktop[0])
    qtbot.wait(int(QUIET_WATCH_S * 1000))
    assert dunst.arrived() == [] and dunst.displayed() == 0
    assert shown.delivered == [] and shown.fallback == []
    call.set_source("softphone", False, hangover=False)
    [summary] = _arrivals(qtbot, dunst, 1)
    assert summary["SUMMARY"] == "Alerts during your call: 2"
    assert summary["URGENCY"] == "CRITICAL"  # the worst of them
    assert "Computer: Critical — CPU usage 99.0 %" in summary["BODY"]
    assert "Environment: Warning — Temperature 29.0 °C" in summary["BODY"]
    qtbot.wait(int(QUIET_WATCH_S * 1000))
    assert len(dunst.arrived()) == 1  # one summary, not one per alert besides
    app.engine.acknowledge_all()
    qtbot.waitUntil(lambda: dunst.displayed() == 0, timeout=5000)


def test_an_alert_acknowledged_during_the_call_is_not_shown_after_it(
    make_app: Any, qtbot: Any, desktop: tuple[SessionBus, Dunst], dunst: Dunst
) -> None:
    app, shown, call = _two_alerts_in_a_call(make_app, desktop[0])
    [cpu_alert] = [a for a in app.engine.alerts.visible() if a.indicator_id == CPU.id]
    app.engine.acknowledge(cpu_alert.id, "seen on the panel")
    call.set_source("softphone", False, hangover=False)
    [one] = _arrivals(qtbot, dunst, 1)
    assert one["SUMMARY"] == "Environment: Warning" and one["URGENCY"] == "NORMAL"
    qtbot.wait(int(QUIET_WATCH_S * 1000))
    assert len(dunst.arrived()) == 1 and shown.fallback == []


def test_a_click_on_the_notification_opens_the_alert_centre(
    make_app: Any, qtbot: Any, desktop: tuple[SessionBus, Dunst], dunst: Dunst
) -> None:
    app = make_app(CONFIG)
    _announcer(app, desktop[0].address)
    opened: list[bool] = []
    app.surface.alerts_requested.connect(lambda: opened.append(True))
    app.engine.ingest([reading(CPU, 99.0)])
    _arrivals(qtbot, dunst, 1)
    qtbot.waitUntil(lambda: dunst.displayed() == 1, timeout=5000)
    dunst.invoke_default_action()
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    assert app.panel.isVisible() and app.panel.tabs.currentIndex() == app.panel.ALERTS_TAB


@pytest.mark.parametrize("where", ["bus without a server", "no bus at all"])
def test_without_a_notification_server_the_alert_falls_back_at_once(
    make_app: Any, qtbot: Any, where: str
) -> None:
    with session_bus() as empty_bus:  # a bus, but nobody owns org.freedesktop.Notifications
        address = empty_bus.address if where == "bus without a server" else "unix:path=/nonexistent/dw-bus"
        app = make_app(CONFIG)
        _ann, shown, _clock = _announcer(app, address)
        started = time.monotonic()
        app.engine.ingest([reading(CPU, 99.0)])
        assert time.monotonic() - started < 1.0  # the GUI thread never waits for the bus
        qtbot.waitUntil(lambda: bool(shown.fallback), timeout=5000)
        [(title, body, level)] = shown.fallback
        assert title == "Computer: Critical" and "CPU usage 99.0 %" in body and level is Level.CRITICAL
        assert shown.delivered == []


def test_in_chinese_the_notifications_are_chinese(
    make_app: Any, qtbot: Any, desktop: tuple[SessionBus, Dunst], dunst: Dunst
) -> None:
    app, _shown, call = _two_alerts_in_a_call(make_app, desktop[0])
    app.set_language("zh_CN")
    try:
        call.set_source("softphone", False, hangover=False)
        [summary] = _arrivals(qtbot, dunst, 1)
        assert summary["SUMMARY"] == "通话期间的告警:2 条"
        assert "电脑系统: 严重" in summary["BODY"] and "CPU 使用率" in summary["BODY"]
    finally:
        app.set_language("en")  # the translator is process-wide

"""The status panel: cards in procedure order, values and levels, setup notes, detail charts."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QLabel

from app.core.history import Sample
from app.core.status import NO_MONITOR, SWITCHED_OFF
from app.kernel.i18n import Text
from app.kernel.model import Device, Indicator, Level
from app.ui.panel.detail import RANGES, downsample
from tests import devices
from tests.ui.conftest import CPU, PRINTER_STATE, TEMPERATURE, EnvMonitor, reading, wait_idle


def test_cards_follow_the_procedure_order(make_app: Any) -> None:
    # One card per declared device group: the scripted monitors' and the services' own.
    app = make_app()
    assert list(app.panel.cards) == [Device.COMPUTER, devices.PRINTER, devices.ENVIRONMENT, Device.BREAKS]


def test_card_shows_value_level_and_time_in_state(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    now = time.time()
    app.engine.ingest([reading(CPU, 97.5)], now=now - 125)
    app.panel.flush_pending()
    card = app.panel.cards[Device.COMPUTER]
    row = card.rows["pc.cpu"]
    assert row.value.text() == "97.5 %"
    assert row.chip.level is Level.CRITICAL and row.chip.text() == "Critical"
    assert card.level is Level.CRITICAL
    row.refresh_since(now)
    assert row.since.text() == "2 min"
    assert app.panel.banner.text() == "1 alert needs attention"
    app.engine.ingest([reading(CPU, 12.0)])
    app.panel.flush_pending()
    assert row.chip.level is Level.OK and card.level is Level.OK
    # Back to normal, but nobody has seen the alert yet: the banner still says so (like the badge).
    assert app.panel.banner.text() == "1 alert needs attention (1 already cleared)"
    app.engine.acknowledge_all()
    app.panel.flush_pending()
    assert app.panel.banner.text() == "All equipment normal"


def test_state_indicator_reads_as_its_message(make_app: Any) -> None:
    app = make_app()
    jam = Text("Paper jam", "卡纸")
    app.engine.ingest([reading(PRINTER_STATE, "media-jam-error", Level.CRITICAL, jam)])
    app.panel.flush_pending()
    row = app.panel.cards[devices.PRINTER].rows["printer.state"]
    assert row.value.text() == "Paper jam"
    assert not row.spark.isVisibleTo(app.panel)


def test_unconfigured_devices_say_why_and_how(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.panel.show()
    wait_idle(qtbot, app)
    cards = app.panel.cards
    # no monitor feeds the breaks card, and no break service runs in this runtime
    assert cards[Device.BREAKS].note.text() == NO_MONITOR()
    # the printer monitor runs but needs setting up
    assert cards[devices.PRINTER].note.text() == "Choose a printer queue in Settings."
    # the environment monitor is switched off
    assert cards[devices.ENVIRONMENT].note.text() == SWITCHED_OFF.format(title=EnvMonitor.title)()
    # the computer is configured and waiting for readings; once it reports, no note
    app.engine.ingest([reading(CPU, 10.0)])
    app.panel.flush_pending()
    app.panel.refresh_setup_notes()
    wait_idle(qtbot, app)
    assert not cards[Device.COMPUTER].note.isVisibleTo(app.panel)


def test_feature_widget_on_a_card_survives_a_language_change(make_app: Any) -> None:
    app = make_app()
    chart = QLabel("week chart")
    app.surface.add_card_widget(Device.BREAKS, chart)
    assert chart.parent() is app.panel.cards[Device.BREAKS]
    app.set_language("zh_CN")
    assert chart.parent() is app.panel.cards[Device.BREAKS]
    assert app.panel.cards[Device.COMPUTER].title.text() == "电脑系统"
    assert app.panel.tabs.tabText(0) == "状态"
    assert app.action("open").text() == "打开状态面板(&O)"
    app.set_language("en")
    assert app.panel.tabs.tabText(0) == "Status"


def _seed_history(app: Any, key: str, now: float, hours: float, value: float = 50.0) -> None:
    history = app.runtime.history
    step = 60.0
    t = now - hours * 3600
    n = 0
    while t < now:
        history.add_reading(key, value + (n % 10), Level.OK, t)
        t += step
        n += 1
    history.flush()


def test_detail_view_charts_the_chosen_range(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    now = time.time()
    app.engine.ingest([reading(CPU, 40.0)])
    app.panel.flush_pending()
    _seed_history(app, "pc.cpu", now, hours=30)
    app.panel.show()
    app.panel.show_detail(Device.COMPUTER)
    detail = app.panel.detail
    assert app.panel.stack.currentIndex() == 1
    assert detail.current_key() == "pc.cpu"
    qtbot.waitUntil(lambda: detail.chart.sample_count() > 0, timeout=5000)
    hour = detail.chart.sample_count()
    assert 55 <= hour <= 62
    assert "Maximum" in detail.stats.text()
    detail.set_range("day")
    qtbot.waitUntil(lambda: detail.chart.sample_count() > hour, timeout=5000)
    day = detail.chart.sample_count()
    assert day > 400
    detail.set_range("week")
    wait_idle(qtbot, app)
    # 30 hours of minute samples are merged to at most the chart's point budget
    assert detail.chart.sample_count() <= 480
    app.panel.grab()  # paints without error


def test_sparklines_show_the_last_hour(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    now = time.time()
    app.engine.ingest([reading(CPU, 40.0)])
    app.panel.flush_pending()
    _seed_history(app, "pc.cpu", now, hours=3)
    app.panel.show()
    row = app.panel.cards[Device.COMPUTER].rows["pc.cpu"]
    qtbot.waitUntil(lambda: len(row.spark.points()) > 0, timeout=5000)
    assert all(t >= now - 3600 - 60 for t, _v in row.spark.points())
    assert 55 <= len(row.spark.points()) <= 62


def test_downsample_keeps_extremes_and_worst_level() -> None:
    samples = [Sample(float(t), 1.0, 2.0, 3.0, Level.OK) for t in range(1000)]
    samples[500] = Sample(500.0, -5.0, 2.0, 9.0, Level.CRITICAL)
    merged = downsample(samples, 0.0, 1000.0, points=10)
    assert len(merged) == 10
    assert min(s.vmin for s in merged) == -5.0 and max(s.vmax for s in merged) == 9.0
    assert sum(1 for s in merged if s.level is Level.CRITICAL) == 1
    assert set(RANGES) == {"hour", "shift", "day", "week"}


def test_switching_a_monitor_on_in_settings_adds_its_card_rows(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    EnvMonitor.next_readings = [reading(TEMPERATURE, 24.0)]
    app.runtime.start()
    config = app.runtime.config
    from app.core.config import load_config, save_user_values

    save_user_values(config.user_path, {("monitors", "env", "enabled"): True})
    done: list[Any] = []
    app.surface.apply_config(load_config(config.monitor_classes, config.user_path), done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    # A hidden panel keeps each indicator's latest state and draws it when shown (issue 16):
    # whether the first reading came before or after the card was made, the clerk who opens
    # the panel sees the row.
    app.panel.show()
    card = app.panel.cards[devices.ENVIRONMENT]
    qtbot.waitUntil(lambda: "env.temperature" in card.rows, timeout=5000)
    assert card.rows["env.temperature"].value.text() == "24.0 °C"


def test_not_set_up_rows_say_why_once(make_app: Any) -> None:
    app = make_app()
    why = Text("No sensor configured", "未配置传感器")
    humidity = Indicator("env.humidity", devices.ENVIRONMENT, Text("Humidity", "湿度"), "%")
    app.engine.register_indicators([TEMPERATURE, humidity])
    app.engine.ingest(
        [reading(TEMPERATURE, None, Level.NOT_SET_UP, why), reading(humidity, None, Level.NOT_SET_UP, why)]
    )
    app.panel.flush_pending()
    card = app.panel.cards[devices.ENVIRONMENT]
    first, second = card.rows["env.temperature"], card.rows["env.humidity"]
    assert first.chip.text() == "Not observed" and card.level is Level.NOT_SET_UP
    # Closed, the card's summary says why once; opened, the first row does.
    said = [w.text() for w in card.findChildren(QLabel) if w.isVisibleTo(card) and w.text() == why.en]
    assert said == [why.en]
    card.set_expanded(True)
    assert first.message.isVisibleTo(card) and first.message.text() == why.en
    assert not second.message.isVisibleTo(card)  # said once per card
    # Not set up is no problem (Deskwatch's own records storage is observed and normal).
    assert app.panel.banner.text() == "All equipment normal"


def test_a_value_out_of_range_while_its_alert_debounces_is_pending_not_ok(make_app: Any) -> None:
    app = make_app('[indicators."pc.cpu"]\nraise_after = 60\n')
    app.engine.ingest([reading(CPU, 90.0)])
    app.panel.flush_pending()
    state = app.engine.state("pc.cpu")
    assert state is not None and (state.level, state.raw_level) == (Level.OK, Level.WARNING)
    row = app.panel.cards[Device.COMPUTER].rows["pc.cpu"]
    assert row.chip.text() == "Pending" and row.chip.level is Level.WARNING


def test_a_hidden_panel_draws_nothing_on_updates_and_the_latest_value_when_shown(
    make_app: Any, qtbot: Any, monkeypatch: Any
) -> None:
    app = make_app()
    panel = app.panel  # built, never shown: it lives in the tray
    card = panel.cards[Device.COMPUTER]
    drawn: list[str] = []
    update_states = card.update_states

    def counting(states: list[Any]) -> None:
        drawn.extend(s.key for s in states if s.key == "pc.cpu")
        update_states(states)

    monkeypatch.setattr(card, "update_states", counting)
    for value in (20.0, 30.0, 40.0):
        app.engine.ingest([reading(CPU, value)])
    qtbot.wait(200)  # any flush it would schedule has run by now
    assert drawn == [] and "pc.cpu" not in card.rows
    panel.show()
    qtbot.waitUntil(lambda: "pc.cpu" in card.rows, timeout=3000)
    assert card.rows["pc.cpu"].value.text() == "40.0 %"  # the latest only, drawn once
    assert drawn == ["pc.cpu"]
    # Opened once and hidden again: still nothing drawn until it is shown.
    panel.hide()
    app.engine.ingest([reading(CPU, 97.0)])  # critical: the alert count follows at once
    qtbot.wait(200)
    assert drawn == ["pc.cpu"] and card.rows["pc.cpu"].value.text() == "40.0 %"
    assert panel.tabs.tabText(panel.ALERTS_TAB) == "Alerts (1)"
    panel.show()
    qtbot.waitUntil(lambda: card.rows["pc.cpu"].value.text() == "97.0 %", timeout=3000)
    assert panel.banner.text() == "1 alert needs attention"


def test_a_hidden_panel_runs_no_timer(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    panel = app.panel
    timers = [panel._tick, panel._spark_timer, panel._setup_timer]
    panel.show()
    assert all(t.isActive() for t in timers)
    panel.hide()
    assert not any(t.isActive() for t in timers)

"""Status text: what is pending and when, and the one count of what needs the clerk."""

from __future__ import annotations

from app.core.config import load_config
from app.core.engine import Engine
from app.core.status import attention, next_pending_change, pending_note, tooltip_summary
from app.kernel.i18n import Text
from app.kernel.model import Direction, Indicator, Level, Reading, Thresholds
from tests import devices
from tests.conftest import FakeClock

CO2 = Indicator(
    "environment.co2",
    devices.ENVIRONMENT,
    Text("CO2", "二氧化碳"),
    "ppm",
    thresholds=Thresholds(warning=1000, critical=2000, warning_clear=950, raise_after=60, clear_after=60),
)
BATTERY = Indicator(
    "headset.battery",
    devices.HEADSET,
    Text("Battery", "电量"),
    "%",
    thresholds=Thresholds(Direction.LOW_IS_BAD, 20, 10, raise_after=30),
)
ROOM = Indicator(
    "environment.temperature",
    devices.ENVIRONMENT,
    Text("Temperature", "温度"),
    "°C",
    thresholds=Thresholds(Direction.OUTSIDE_IS_BAD, low=22, high=28, raise_after=60),
)
#: No hold before its alert (clears after 60 s): for counting.
FUMES = Indicator(
    "environment.fumes",
    devices.ENVIRONMENT,
    Text("Fumes", "烟雾"),
    "ppm",
    thresholds=Thresholds(warning=1000, critical=2000, clear_after=60),
)
JAM = Indicator("printer.state", devices.PRINTER, Text("Printer", "打印机"), numeric=False)


def engine(clock: FakeClock) -> Engine:
    return Engine(load_config({}, None), [CO2, BATTERY, ROOM, FUMES, JAM], clock=clock, user="clerk")


def test_pending_says_what_and_when_from_the_debouncer(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest([Reading(CO2.id, 1250.0)])
    state = eng.state(CO2.id)
    assert state is not None
    note = pending_note(state, clock())
    assert note == Text("Over 1000 ppm, alert in 1 min", "超过 1000 ppm,1分钟后告警")
    clock.advance(20)
    assert pending_note(state, clock()) == Text("Over 1000 ppm, alert in 40 s", "超过 1000 ppm,40秒后告警")
    clock.advance(39.5)
    assert pending_note(state, clock()).en == "Over 1000 ppm, alert in 1 s"  # type: ignore[union-attr]
    # The hold is over but only a reading raises the alert: say so, no "0 s" frozen on screen.
    clock.advance(5)
    assert pending_note(state, clock()) == Text(
        "Over 1000 ppm, alert at the next reading", "超过 1000 ppm,下次读数时告警"
    )
    eng.ingest([Reading(CO2.id, 1250.0)])
    assert state.level is Level.WARNING and pending_note(state, clock()) is None


def test_pending_describes_low_ranges_hysteresis_and_state_indicators(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest(
        [
            Reading(BATTERY.id, 15.0),
            Reading(ROOM.id, 30.0),
            Reading(JAM.id, "media-jam", Level.CRITICAL, Text("Paper jam", "卡纸")),
        ]
    )
    battery, room = eng.state(BATTERY.id), eng.state(ROOM.id)
    assert battery is not None and room is not None
    assert pending_note(battery, clock()) == Text("Under 20 %, alert in 30 s", "低于 20 %,30秒后告警")
    assert pending_note(room, clock()).en == "Above the range 22–28 °C, alert in 1 min"  # type: ignore[union-attr]
    # A monitor-judged level without a hold is an alert at once: nothing pending.
    assert pending_note(eng.state(JAM.id), clock()) is None  # type: ignore[arg-type]
    # Held by hysteresis: 980 ppm is under the limit but not yet back under 950 ppm.
    eng.ingest([Reading(CO2.id, 1100.0)])
    clock.advance(10)
    eng.ingest([Reading(CO2.id, 980.0)])
    co2 = eng.state(CO2.id)
    assert co2 is not None and co2.raw_level is Level.WARNING
    assert pending_note(co2, clock()).zh == "尚未回落到 950 ppm 以下,50秒后告警"  # type: ignore[union-attr]


def test_one_count_for_badge_banner_tab_and_tooltip(clock: FakeClock) -> None:
    eng = engine(clock)
    assert attention([], []).headline() == Text(
        "Starting — waiting for the first readings…", "正在启动 — 等待首次读数…"
    )
    eng.ingest([Reading(JAM.id, None, Level.NOT_SET_UP, Text("no queue", "未选打印队列"))])
    # Nothing observed is not "normal".
    assert attention(eng.states(), []).headline().en == "Nothing is set up to watch yet"
    eng.ingest([Reading(FUMES.id, 800.0)])
    assert attention(eng.states(), eng.alerts.visible()).headline().en == "All equipment normal"
    eng.ingest(
        [Reading(FUMES.id, 2500.0), Reading(JAM.id, "media-jam", Level.CRITICAL, Text("Paper jam", "卡纸"))]
    )
    count = attention(eng.states(), eng.alerts.visible())
    assert (count.badge, count.acknowledged) == (2, 0)
    assert count.headline() == Text("2 alerts need attention", "2 条告警待处理")
    jam = next(a for a in eng.alerts.visible() if a.key == JAM.id)
    eng.acknowledge(jam.id)
    eng.ingest([Reading(BATTERY.id, 15.0)])  # out of range, waiting 30 s
    count = attention(eng.states(), eng.alerts.visible())
    assert (count.badge, count.acknowledged, count.pending) == (1, 1, 1)
    assert count.headline() == Text(
        "1 alert needs attention · 1 acknowledged, still faulty · 1 out of range, alert pending",
        "1 条告警待处理;1 条已确认,故障仍在;1 项超限,等待告警",
    )
    clock.advance(10)
    eng.ingest([Reading(FUMES.id, 500.0)])  # clears (its clear_after is 60 s)
    clock.advance(60)
    eng.ingest([Reading(FUMES.id, 500.0)])
    count = attention(eng.states(), eng.alerts.visible())
    assert (count.badge, count.cleared, count.acknowledged) == (1, 1, 1)
    assert count.headline().en.startswith("1 alert needs attention (1 already cleared) · ")
    lines = tooltip_summary(eng.states(), eng.alerts.visible(), clock()).splitlines()
    assert lines[0] == "Deskwatch — " + count.headline()()
    assert any("(acknowledged)" in line or "(已确认)" in line for line in lines[1:])


def test_a_countdown_in_minute_steps_changes_once_a_minute(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest([Reading(CO2.id, 1250.0), Reading(BATTERY.id, 15.0)])  # 60 s and 30 s holds
    state = eng.state(CO2.id)
    assert state is not None
    start = clock()
    # Seconds: the battery's text changes in 1 s; minutes: the first change is when its hold ends.
    assert next_pending_change(eng.states(), clock()) == start + 1
    assert next_pending_change(eng.states(), clock(), step=60) == start + 30
    clock.advance(30)
    assert next_pending_change(eng.states(), clock(), step=60) == start + 60  # then the CO2's
    # Rounded up to minutes, the CO2's 60 s read "1 min" until the hold is over.
    clock.advance(29.5)
    assert pending_note(state, clock(), step=60).en == "Over 1000 ppm, alert in 1 min"  # type: ignore[union-attr]
    assert pending_note(state, clock()).en == "Over 1000 ppm, alert in 1 s"  # type: ignore[union-attr]
    clock.advance(1)
    assert next_pending_change(eng.states(), clock(), step=60) is None  # both wait for a reading
    lines = tooltip_summary(eng.states(), eng.alerts.visible(), clock(), step=60)
    assert "alert at the next reading" in lines


def test_a_long_hold_in_minute_steps_changes_at_each_minute(clock: FakeClock) -> None:
    slow = Indicator(
        "environment.co2", devices.ENVIRONMENT, Text("CO2", "二氧化碳"), "ppm",
        thresholds=Thresholds(warning=1000, critical=2000, raise_after=150),
    )  # fmt: skip
    eng = Engine(load_config({}, None), [slow], clock=clock, user="clerk")
    eng.ingest([Reading(slow.id, 1250.0)])
    start = clock()
    seen = []
    for _ in range(3):
        change = next_pending_change(eng.states(), clock(), step=60)
        assert change is not None
        seen.append(round(change - start, 6))
        clock.advance(change - clock())
    assert seen == [30.0, 90.0, 150.0]  # 3 min -> 2 min -> 1 min -> "at the next reading"
    assert next_pending_change(eng.states(), clock(), step=60) is None

"""The engine: readings judged into ok / warning / critical / unknown / not set up, and their alerts.

The states are the README's ("What the states mean"); the levels themselves are
tested in ``tests/kernel/test_model.py``, the alert lifecycle in ``test_alerts.py``.
"""

from __future__ import annotations

from app.core.config import load_config
from app.core.engine import Engine
from app.core.history import History
from app.core.status import shown_level
from app.kernel.i18n import Text
from app.kernel.model import Indicator, Level, Reading, Thresholds, make_key
from tests import devices
from tests.conftest import FakeClock

LINE = Indicator("telephone.sip_reply", devices.TELEPHONE, Text("PBX reply", "交换机应答"), numeric=False)
CO2 = Indicator(
    "environment.co2",
    devices.ENVIRONMENT,
    Text("CO2", "二氧化碳"),
    "ppm",
    thresholds=Thresholds(warning=1000, critical=2000, raise_after=60, clear_after=60),
)


def engine(clock: FakeClock, history: History | None = None) -> Engine:
    return Engine(load_config({}, None), [LINE, CO2], history=history, clock=clock, user="clerk")


def test_not_set_up_is_shown_at_once_and_never_alerts(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest([Reading(LINE.id, None, Level.NOT_SET_UP, Text("set pbx_host", "设置 pbx_host"))])
    state = eng.state(LINE.id)
    assert state is not None and state.level is Level.NOT_SET_UP
    assert eng.alerts.visible() == []
    assert eng.worst_level() is Level.OK
    # Configured later and answering: ok at once, still no alert.
    clock.advance(5)
    eng.ingest([Reading(LINE.id, "200 OK", Level.OK)])
    assert eng.state(LINE.id).level is Level.OK  # type: ignore[union-attr]
    assert eng.alerts.visible() == []


def test_a_problem_that_becomes_not_set_up_ends_its_episode(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest([Reading(LINE.id, "no reply", Level.CRITICAL)])
    [alert] = eng.alerts.visible()
    assert alert.ended is None
    clock.advance(5)
    eng.ingest([Reading(LINE.id, None, Level.NOT_SET_UP)])
    [alert] = eng.alerts.visible()
    assert alert.ended is not None and eng.worst_level() is Level.OK


def test_out_of_range_after_nothing_to_measure_waits_for_its_debounce(clock: FakeClock) -> None:
    """A headset's speech level reads "not observed" while nobody speaks; the first quiet
    word after it must not alert at once (raise_after holds as from ok), and the panel says pending."""
    eng = engine(clock)
    eng.ingest([Reading(CO2.id, None, Level.NOT_SET_UP, Text("nothing to measure", "无可测量"))])
    clock.advance(5)
    eng.ingest([Reading(CO2.id, 1250)])
    state = eng.state(CO2.id)
    assert state is not None and (state.level, state.raw_level) == (Level.NOT_SET_UP, Level.WARNING)
    assert state.rises_at == clock() + 60
    assert shown_level(state) == (Level.WARNING, True)
    assert eng.alerts.visible() == []
    clock.advance(61)
    eng.ingest([Reading(CO2.id, 1250)])
    assert eng.state(CO2.id).level is Level.WARNING  # type: ignore[union-attr]
    assert len(eng.alerts.visible()) == 1


def test_a_normal_value_after_nothing_to_measure_is_ok_at_once(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest([Reading(CO2.id, None, Level.NOT_SET_UP)])
    clock.advance(5)
    eng.ingest([Reading(CO2.id, 600)])
    state = eng.state(CO2.id)
    assert state is not None and state.level is Level.OK and state.rises_at is None


def test_pending_value_keeps_raw_level(clock: FakeClock) -> None:
    """Out of range but not yet held for raise_after: effective ok, raw warning (the panel says pending)."""
    eng = engine(clock)
    eng.ingest([Reading(CO2.id, 1250)])
    state = eng.state(CO2.id)
    assert state is not None
    assert (state.level, state.raw_level) == (Level.OK, Level.WARNING)
    clock.advance(61)
    eng.ingest([Reading(CO2.id, 1250)])
    assert eng.state(CO2.id).level is Level.WARNING  # type: ignore[union-attr]


NOISE = Indicator("telephone.noise", devices.TELEPHONE, Text("Noise", "噪声"), "dBFS")


def test_readings_explained_by_a_fault_open_no_alert_of_their_own(clock: FakeClock) -> None:
    """A headset unplugged is one alert, not one per audio indicator."""
    eng = Engine(load_config({}, None), [LINE, NOISE], clock=clock, user="clerk")
    why = Text("no audio: headset disconnected", "无音频:耳机已断开")
    eng.ingest(
        [
            Reading(LINE.id, False, Level.CRITICAL, why),
            Reading(NOISE.id, None, Level.UNKNOWN, why, caused_by=LINE.id),
        ]
    )
    assert [a.key for a in eng.alerts.visible()] == [LINE.id]
    assert eng.state(NOISE.id).level is Level.UNKNOWN  # type: ignore[union-attr]
    # Without a cause that is a problem, an unknown reading alerts as always.
    clock.advance(5)
    eng.ingest(
        [Reading(LINE.id, True, Level.OK), Reading(NOISE.id, None, Level.UNKNOWN, why, caused_by=LINE.id)]
    )
    assert NOISE.id in {a.key for a in eng.alerts.visible()}


def test_a_failed_monitor_is_one_alert(clock: FakeClock) -> None:
    eng = Engine(load_config({}, None), [LINE, NOISE], clock=clock, user="clerk")
    eng.mark_unknown("telephone", Text("Monitor failed: timeout", "监测失败:超时"))
    states = eng.states()
    assert {s.level for s in states} == {Level.UNKNOWN} and len(states) == 2
    assert len(eng.alerts.visible()) == 1


def test_a_rise_waiting_for_its_debounce_says_when_it_takes_effect(clock: FakeClock) -> None:
    eng = engine(clock)
    eng.ingest([Reading(CO2.id, 800.0)])
    assert eng.state(CO2.id).rises_at is None  # type: ignore[union-attr]
    start = clock()
    eng.ingest([Reading(CO2.id, 1250.0)])
    state = eng.state(CO2.id)
    assert state is not None and (state.level, state.raw_level) == (Level.OK, Level.WARNING)
    assert state.rises_at == start + 60  # the debouncer's own deadline, not a guess
    clock.advance(20)
    eng.ingest([Reading(CO2.id, 1300.0)])
    assert state.rises_at == start + 60  # held since the first out-of-range reading
    # Worse before the warning took effect: the critical level waits its own raise_after.
    clock.advance(10)
    eng.ingest([Reading(CO2.id, 2100.0)])
    assert state.rises_at == start + 90
    clock.advance(60)
    eng.ingest([Reading(CO2.id, 2100.0)])
    assert state.level is Level.CRITICAL and state.rises_at is None
    # Waiting to clear is no pending alert.
    clock.advance(5)
    eng.ingest([Reading(CO2.id, 500.0)])
    assert state.level is Level.CRITICAL and state.rises_at is None


def test_one_shot_checks_have_nothing_pending(clock: FakeClock) -> None:
    eng = Engine(load_config({}, None), [CO2], clock=clock, user="clerk", debounce=False)
    eng.ingest([Reading(CO2.id, 1250.0)])
    state = eng.state(CO2.id)
    assert state is not None and state.level is Level.WARNING and state.rises_at is None


def test_forgetting_a_monitor_tells_the_removal_listeners_which_states_went(clock: FakeClock) -> None:
    """A monitor switched off: its states go without a batch of readings, so whoever drew
    them (tray, panel) learns it from the removal listeners, once, with exactly those keys."""
    eng = engine(clock)
    removed: list[frozenset[str]] = []
    changed: list[list[str]] = []
    eng.add_removal_listener(lambda _keys: 1 / 0)  # a broken listener does not stop the others
    eng.add_removal_listener(removed.append)
    eng.add_state_listener(lambda states: changed.append([s.key for s in states]))
    eng.ingest([Reading(LINE.id, "200 OK", Level.OK), Reading(CO2.id, 2500, Level.CRITICAL, instance="wall")])
    changed.clear()
    eng.forget("environment")
    assert removed == [frozenset({make_key(CO2.id, "wall")})]
    assert changed == []  # no batch: nothing new was read
    assert [s.key for s in eng.states()] == [LINE.id]
    eng.forget("environment")  # nothing left of it: nobody is told again
    eng.forget("printer")  # never reported
    assert len(removed) == 1

"""The alert lifecycle, stepped with an injected clock through the engine."""

from __future__ import annotations

from pathlib import Path

from app.core.alerts import AlertEventKind, AlertState
from app.core.engine import Engine
from app.core.history import History
from app.core.i18n import Text
from app.core.model import Level, Reading
from tests.conftest import FakeClock
from tests.core.fakes import GAUGE, STATE, fake_config


def make_engine(clock: FakeClock, history: History | None = None) -> tuple[Engine, list]:
    engine = Engine(fake_config(), [GAUGE, STATE], history, clock=clock, user="clerk")
    events: list = []
    engine.add_alert_listener(lambda e: events.append((e.kind, e.alert.level)))
    return engine, events


def feed(engine: Engine, clock: FakeClock, value: float, seconds: float = 0) -> Level:
    clock.advance(seconds)
    engine.ingest([Reading(GAUGE.id, value)])
    state = engine.state(GAUGE.id)
    assert state is not None
    return state.level


def test_debounce_raise_and_clear(clock: FakeClock) -> None:
    engine, events = make_engine(clock)
    assert feed(engine, clock, 85) is Level.OK  # raw warning, not held 10 s yet
    assert feed(engine, clock, 85, 9) is Level.OK
    assert feed(engine, clock, 85, 1) is Level.WARNING  # held 10 s
    assert events == [(AlertEventKind.RAISED, Level.WARNING)]
    # A blip below the clear level that does not hold for 20 s changes nothing.
    assert feed(engine, clock, 60, 5) is Level.WARNING
    assert feed(engine, clock, 85, 5) is Level.WARNING
    assert feed(engine, clock, 60, 1) is Level.WARNING
    assert feed(engine, clock, 60, 19) is Level.WARNING
    assert feed(engine, clock, 60, 1) is Level.OK
    assert events[-1] == (AlertEventKind.CLEARED, Level.WARNING)


def test_a_short_spike_never_raises(clock: FakeClock) -> None:
    engine, events = make_engine(clock)
    for value in (95, 95, 50, 95, 50):
        feed(engine, clock, value, 4)
    assert events == []
    assert engine.alerts.visible() == []


def test_hysteresis_keeps_warning_until_clear_level(clock: FakeClock) -> None:
    engine, _ = make_engine(clock)
    feed(engine, clock, 82)
    assert feed(engine, clock, 82, 10) is Level.WARNING
    # 75 is under the warning limit (80) but above its clear level (70).
    assert feed(engine, clock, 75, 30) is Level.WARNING
    assert feed(engine, clock, 69, 1) is Level.WARNING  # debounce of the clear
    assert feed(engine, clock, 69, 20) is Level.OK


def test_acknowledge_does_not_clear_and_cleared_unacked_stays_visible(clock: FakeClock) -> None:
    engine, events = make_engine(clock)
    feed(engine, clock, 95)
    feed(engine, clock, 95, 10)
    (alert,) = engine.alerts.visible()
    assert alert.state is AlertState.ACTIVE and alert.level is Level.CRITICAL

    engine.acknowledge(alert.id, note="called IT")
    assert alert.state is AlertState.ACKNOWLEDGED
    assert (alert.acked_by, alert.note) == ("clerk", "called IT")
    assert engine.alerts.visible() == [alert]  # acknowledged, still there

    feed(engine, clock, 50, 1)
    feed(engine, clock, 50, 20)
    assert alert.state is AlertState.CLOSED
    assert engine.alerts.visible() == []
    assert events[-1] == (AlertEventKind.CLOSED, Level.CRITICAL)

    # A second episode clears before anyone sees it: it stays until acknowledged.
    feed(engine, clock, 85, 1)
    feed(engine, clock, 85, 10)
    feed(engine, clock, 50, 1)
    feed(engine, clock, 50, 20)
    (second,) = engine.alerts.visible()
    assert second.id != alert.id and second.state is AlertState.CLEARED
    engine.acknowledge(second.id)
    assert engine.alerts.visible() == []


def test_escalation_after_acknowledgement_raises_again(clock: FakeClock) -> None:
    engine, events = make_engine(clock)
    feed(engine, clock, 85)
    feed(engine, clock, 85, 10)
    (alert,) = engine.alerts.visible()
    engine.acknowledge(alert.id)
    assert not alert.needs_attention
    feed(engine, clock, 95, 1)
    feed(engine, clock, 95, 10)
    assert alert.level is Level.CRITICAL and alert.peak is Level.CRITICAL
    assert alert.needs_attention, "a rise in severity must need attention again"
    assert (AlertEventKind.ESCALATED, Level.CRITICAL) in events
    # Falling back to warning after a new acknowledgement does not re-raise.
    engine.acknowledge(alert.id)
    feed(engine, clock, 82, 1)
    feed(engine, clock, 82, 20)
    assert alert.level is Level.WARNING and not alert.needs_attention
    assert alert.peak is Level.CRITICAL


def test_episode_statistics(clock: FakeClock) -> None:
    engine, _ = make_engine(clock)
    feed(engine, clock, 81)
    for value in (81, 88, 93, 84):
        feed(engine, clock, value, 10)
    (alert,) = engine.alerts.visible()
    assert alert.started == clock.now - 30
    assert (alert.value_min, alert.value_max) == (81, 93)
    assert alert.value_avg == (81 + 88 + 93 + 84) / 4
    # 93 was critical for an instant only: debounce kept the episode at warning.
    assert alert.peak is Level.WARNING


def test_explicit_levels_and_unknown(clock: FakeClock) -> None:
    engine, _ = make_engine(clock)
    jam = Text("Paper jam", "卡纸")
    engine.ingest([Reading(STATE.id, "media-jam", Level.CRITICAL, jam)])
    (alert,) = engine.alerts.visible()
    assert alert.message == jam
    engine.mark_unknown("fake", Text("gone", "没了"))
    assert engine.state(STATE.id).level is Level.UNKNOWN  # type: ignore[union-attr]
    assert engine.state(STATE.id).level is not Level.OK  # type: ignore[union-attr]


def test_acknowledge_all(clock: FakeClock) -> None:
    engine, _ = make_engine(clock)
    engine.ingest([Reading(STATE.id, "x", Level.WARNING)])
    feed(engine, clock, 95)
    feed(engine, clock, 95, 10)
    assert len(engine.acknowledge_all("shift start")) == 2
    assert all(not a.needs_attention for a in engine.alerts.visible())


def test_alerts_and_acknowledgements_survive_restart(clock: FakeClock, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    engine, _ = make_engine(clock, history)
    feed(engine, clock, 95)
    feed(engine, clock, 95, 10)
    (alert,) = engine.alerts.visible()
    engine.acknowledge(alert.id, note="seen")
    history.close()

    history2 = History(tmp_path / "h.sqlite3")
    engine2, events2 = make_engine(clock, history2)
    (restored,) = engine2.alerts.visible()
    assert (restored.id, restored.acked_by, restored.note) == (alert.id, "clerk", "seen")
    # The same condition after the restart continues the episode, no duplicate.
    feed(engine2, clock, 95, 1)
    assert events2 == []
    feed(engine2, clock, 50, 1)
    feed(engine2, clock, 50, 20)
    assert events2 == [(AlertEventKind.CLOSED, Level.CRITICAL)]
    history2.close()

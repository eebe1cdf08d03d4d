"""The alert lifecycle, stepped with an injected clock through the engine."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.core.alerts import FLAP_WINDOW_SECONDS, AlertBook, AlertEvent, AlertEventKind, AlertState
from app.core.engine import Engine
from app.core.history import History
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from tests import devices
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


def flap(engine: Engine, clock: FakeClock, times: int) -> None:
    """A printer that jams and recovers ``times`` times, a second apart."""
    for _ in range(times):
        clock.advance(1)
        engine.ingest([Reading(STATE.id, "media-jam", Level.CRITICAL, Text("Paper jam", "卡纸"))])
        clock.advance(1)
        engine.ingest([Reading(STATE.id, "idle", Level.OK)])


def test_flaps_nobody_acknowledged_are_one_episode(clock: FakeClock) -> None:
    engine, events = make_engine(clock)
    first = clock.now + 1
    flap(engine, clock, 5000)
    (alert,) = engine.alerts.visible()
    assert alert.state is AlertState.CLEARED, "cleared but unseen: still visible"
    assert (alert.raises, alert.started, alert.last_raised) == (5000, first, clock.now - 1)
    assert alert.ended == clock.now and alert.peak is Level.CRITICAL
    assert len(engine.alerts.alerts) == 1, "5 000 flaps must not keep 5 000 episodes in memory"
    # Every comeback is announced as a raise; the episode is the same one.
    raised = [e for e in events if e[0] is AlertEventKind.RAISED]
    assert len(raised) == 5000

    # Back while the episode is visible: it is active again, and needs attention.
    clock.advance(1)
    engine.ingest([Reading(STATE.id, "media-jam", Level.WARNING)])
    assert alert.state is AlertState.ACTIVE and alert.raises == 5001 and alert.needs_attention
    assert engine.alerts.visible() == [alert]


def test_an_acknowledged_episode_is_not_reopened(clock: FakeClock) -> None:
    engine, _ = make_engine(clock)
    flap(engine, clock, 2)
    (alert,) = engine.alerts.visible()
    engine.acknowledge(alert.id)
    assert alert.state is AlertState.CLOSED and engine.alerts.visible() == []
    flap(engine, clock, 1)
    (second,) = engine.alerts.visible()
    assert second.id != alert.id and second.raises == 1

    # Acknowledged while present, then cleared: closed; the next raise is a new episode.
    clock.advance(1)
    engine.ingest([Reading(STATE.id, "media-jam", Level.CRITICAL)])
    engine.acknowledge(second.id)
    clock.advance(1)
    engine.ingest([Reading(STATE.id, "idle", Level.OK)])
    assert second.state is AlertState.CLOSED and second.raises == 2
    flap(engine, clock, 1)
    (third,) = engine.alerts.visible()
    assert third.id not in (alert.id, second.id) and third.raises == 1


def test_a_coalesced_episode_survives_restart(clock: FakeClock, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    engine, _ = make_engine(clock, history)
    first = clock.now + 1
    flap(engine, clock, 3)
    (alert,) = engine.alerts.visible()
    assert history.query("SELECT COUNT(*) FROM alerts") == [(1,)]
    history.close()

    history2 = History(tmp_path / "h.sqlite3")
    engine2, _ = make_engine(clock, history2)
    (restored,) = engine2.alerts.visible()
    assert (restored.id, restored.raises, restored.started, restored.last_raised) == (
        alert.id, 3, first, alert.last_raised,
    )  # fmt: skip
    assert restored.state is AlertState.CLEARED
    flap(engine2, clock, 1)  # the same episode goes on after the restart
    assert [(a.id, a.raises) for a in engine2.alerts.visible()] == [(alert.id, 4)]
    assert history2.query("SELECT COUNT(*), MAX(raises) FROM alerts") == [(1, 4)]
    history2.close()


def test_a_history_file_from_before_coalescing_is_upgraded(clock: FakeClock, tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE alerts (id INTEGER PRIMARY KEY, key TEXT NOT NULL, indicator_id TEXT NOT NULL,"
        " instance TEXT NOT NULL, device TEXT NOT NULL, level INTEGER NOT NULL, peak INTEGER NOT NULL,"
        " started REAL NOT NULL, ended REAL, message TEXT, acked_at REAL, acked_by TEXT,"
        " acked_level INTEGER, note TEXT, vmin REAL, vmax REAL, vsum REAL, n INTEGER, last_value TEXT)"
    )
    db.execute(
        "INSERT INTO alerts VALUES (7, 'fake.state', 'fake.state', '', 'printer', 2, 2, ?, ?,"
        " NULL, NULL, NULL, NULL, '', NULL, NULL, 0, 0, '\"media-jam\"')",
        (clock.now - 60, clock.now - 10),
    )
    db.commit()
    db.close()
    history = History(path)
    engine, _ = make_engine(clock, history)
    (old,) = engine.alerts.visible()
    assert (old.id, old.raises, old.last_raised, old.state) == (7, 1, clock.now - 60, AlertState.CLEARED)
    flap(engine, clock, 1)
    assert history.query("SELECT id, raises FROM alerts") == [(7, 2)]
    history.close()


def test_a_fault_back_after_a_quiet_hour_is_a_new_episode(clock: FakeClock) -> None:
    # Reports count faults per day: yesterday's unseen jam and today's are two.
    engine, _ = make_engine(clock)
    flap(engine, clock, 2)
    (first,) = engine.alerts.visible()
    clock.advance(FLAP_WINDOW_SECONDS + 1)
    flap(engine, clock, 1)
    assert sorted((a.id, a.raises) for a in engine.alerts.visible()) == [(first.id, 2), (first.id + 1, 1)]


def test_a_failing_alert_listener_does_not_keep_the_event_from_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book = AlertBook()
    seen: list[AlertEventKind] = []

    def broken(event: AlertEvent) -> None:
        raise UnicodeEncodeError("utf-8", "\udcc2", 0, 1, "surrogates not allowed")

    book.listeners += [broken, lambda event: seen.append(event.kind)]
    with caplog.at_level(logging.ERROR, "app.core.alerts"):
        alert = book.transition(
            key="k", indicator_id="k", instance="", device=devices.PRINTER,
            old=Level.OK, new=Level.CRITICAL, value="jam", message=None, now=1.0,
        )  # fmt: skip
        assert alert is not None
        book.acknowledge(alert.id, "clerk", 2.0)
    assert seen == [AlertEventKind.RAISED, AlertEventKind.ACKNOWLEDGED]
    assert "alert listener" in caplog.text and "UnicodeEncodeError" in caplog.text

"""Notifications for new alerts, re-announcement of unacknowledged critical ones, sounds never in a call."""

from __future__ import annotations

from typing import Any

from app.kernel.model import Level
from app.ui.tray import Announcer
from tests.conftest import FakeClock
from tests.ui.conftest import CPU, reading


class FakeSound:
    def __init__(self) -> None:
        self.played = 0

    def play(self) -> None:
        self.played += 1


def _announcer(app: Any) -> tuple[Announcer, list[tuple[str, str, Level]], FakeSound, FakeClock]:
    app.announcer.timer.stop()
    shown: list[tuple[str, str, Level]] = []
    sound = FakeSound()
    clock = FakeClock(1000.0)
    announcer = Announcer(app.surface, lambda t, b, lv: shown.append((t, b, lv)), sound, clock)
    announcer.timer.stop()
    return announcer, shown, sound, clock


def test_new_alert_is_announced_and_critical_ones_repeat_until_acknowledged(make_app: Any) -> None:
    app = make_app("[alerts]\nreannounce_minutes = 5\n")
    announcer, shown, sound, clock = _announcer(app)
    app.engine.ingest([reading(CPU, 99.0)])
    assert len(shown) == 1
    title, body, level = shown[0]
    assert title == "Computer: Critical" and "CPU usage 99.0 %" in body and level is Level.CRITICAL
    assert sound.played == 0  # sounds are off by default
    clock.advance(4 * 60)
    announcer.check_reannounce()
    assert len(shown) == 1
    clock.advance(61)
    announcer.check_reannounce()
    assert len(shown) == 2 and shown[1][0].startswith("Still unacknowledged")
    app.engine.acknowledge_all()
    clock.advance(3600)
    announcer.check_reannounce()
    assert len(shown) == 2


def test_warnings_are_not_reannounced_and_zero_turns_it_off(make_app: Any) -> None:
    app = make_app("[alerts]\nreannounce_minutes = 0\n")
    announcer, shown, _sound, clock = _announcer(app)
    app.engine.ingest([reading(CPU, 85.0)])
    app.engine.ingest([reading(CPU, 99.0)])
    count = len(shown)
    clock.advance(86400)
    announcer.check_reannounce()
    assert len(shown) == count


def test_notifications_can_be_switched_off(make_app: Any) -> None:
    app = make_app("[alerts]\nnotifications = false\n")
    _ann, shown, _sound, _clock = _announcer(app)
    app.engine.ingest([reading(CPU, 99.0)])
    assert shown == []


def test_sound_plays_but_never_during_a_call(make_app: Any) -> None:
    app = make_app("[alerts]\nsounds = true\n")
    _ann, _shown, sound, _clock = _announcer(app)
    call = app.runtime.context.call_state
    call.set_source("test", True)
    app.engine.ingest([reading(CPU, 99.0)])
    assert sound.played == 0
    app.engine.ingest([reading(CPU, 10.0)])
    call.set_source("test", False)
    call.hangover_seconds = 0.0
    app.engine.ingest([reading(CPU, 99.0)])
    assert sound.played == 1


def test_a_flapping_device_is_announced_once_per_quiet_time(make_app: Any) -> None:
    """Unacknowledged flaps reopen one episode (issue 13); the clerk is told once, not per flap."""
    app = make_app("[alerts]\nreannounce_minutes = 5\n")
    _ann, shown, _sound, clock = _announcer(app)
    for _ in range(5):  # a flaky cable: fault, fine, fault …
        app.engine.ingest([reading(CPU, 99.0)])
        app.engine.ingest([reading(CPU, 10.0)])
        clock.advance(10)
    [alert] = app.engine.alerts.visible()
    assert alert.raises == 5
    assert len(shown) == 1
    clock.advance(5 * 60)  # after the quiet time a new flap is news again
    app.engine.ingest([reading(CPU, 99.0)])
    assert len(shown) == 2

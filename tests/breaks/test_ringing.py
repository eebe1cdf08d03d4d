"""Rings and blips (app.core.ringing), exact call ends (CallState), and the break service waking at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.breaks import BreakPlan, BreakRule, BreakService, BreakSettings, Phase
from app.core.ringing import RingPolicy, softphone_names
from app.kernel.callstate import CallState, OpenStream
from app.ui import breaks as ui
from tests.breaks.sim import MONDAY_9AM, FakeSource
from tests.conftest import FakeClock

SHOWN = 1000.0
POLICY = RingPolicy(ring_after_seconds=0.7, lead_seconds=15, softphones=softphone_names("Zoiper, MicroSIP "))


def stream(app: str, opened_at: float, role: str = "") -> OpenStream:
    return OpenStream(1, app, role, opened_at)


def test_a_sound_that_lasts_is_a_ring_a_blip_is_not() -> None:
    ring = stream("ringer", SHOWN + 5)
    assert POLICY.ringing([ring], SHOWN, SHOWN + 5.3) == []  # a 300 ms blip would be gone by now
    assert POLICY.next_change([ring], SHOWN, SHOWN + 5.3) == SHOWN + 5.7
    assert POLICY.ringing([ring], SHOWN, SHOWN + 5.7) == ["ringer"]


def test_phone_role_and_softphones_ring_at_once() -> None:
    assert POLICY.ringing([stream("x", SHOWN + 1, "phone")], SHOWN, SHOWN + 1) == ["x"]
    assert POLICY.ringing([stream("zoiper", SHOWN + 1)], SHOWN, SHOWN + 1) == ["zoiper"]
    # A phone-role stream counts however long it has been open.
    assert POLICY.ringing([stream("x", SHOWN - 3600, "phone")], SHOWN, SHOWN + 1) == ["x"]


def test_music_that_was_playing_before_the_notice_is_no_ring() -> None:
    assert POLICY.ringing([stream("music", SHOWN - 60)], SHOWN, SHOWN + 10) == []
    assert POLICY.ringing([stream("ringer", SHOWN - 2)], SHOWN, SHOWN + 1) == ["ringer"]  # rang just before
    assert POLICY.ringing([stream("ringer", SHOWN + 1)], None, SHOWN + 10) == []  # nothing announced


def test_a_closed_microphone_ends_the_call_at_once_voice_keeps_its_hangover() -> None:
    clock = FakeClock(0)
    calls = CallState(hangover_seconds=8, clock=clock)
    calls.set_source("microphone_in_use", True, hangover=False)
    clock.advance(60)
    calls.set_source("microphone_in_use", False, hangover=False)
    assert calls.in_call is False
    calls.set_source("headset_voice", True)
    calls.set_source("headset_voice", False)
    clock.advance(7)
    assert calls.in_call is True
    clock.advance(1)
    assert calls.in_call is False


def test_playback_keeps_each_streams_opening_time() -> None:
    clock = FakeClock(0)
    calls = CallState(clock=clock)
    changes: list[int] = []
    calls.add_change_listener(lambda: changes.append(1))
    calls.set_playback([(1, "a", "")])
    clock.advance(5)
    calls.set_playback([(1, "a", ""), (2, "b", "phone")])
    calls.set_playback([(1, "a", ""), (2, "b", "phone")])  # no change: no notification
    assert [(s.app, s.opened_at) for s in calls.playback()] == [("a", 0), ("b", 5)]
    assert len(changes) == 2


class Rig:
    def __init__(self, strict: bool = True) -> None:
        self.clock = FakeClock(MONDAY_9AM)
        self.calls = CallState(hangover_seconds=0, clock=self.clock)
        settings = BreakSettings(
            plan=BreakPlan(BreakRule(60, 600), BreakRule(0, 0), 0), strict=strict, call_grace_seconds=10
        )
        self.service = BreakService(settings, call_state=self.calls, source=FakeSource(), clock=self.clock)
        self.controller = ui.BreaksController(self.service)

    def run_until(self, phase: Phase) -> None:
        for _ in range(3600):
            if self.service.phase is phase:
                return
            self.clock.advance(1)
            self.service.step(0, False)
        raise AssertionError(f"never reached {phase}")

    def close(self) -> None:
        self.controller.close()
        self.service.close()


def test_a_ring_ends_a_strict_break_the_moment_it_counts(qtbot: QtBot) -> None:
    rig = Rig()
    try:
        rig.run_until(Phase.BREAK)
        assert rig.controller.windows
        rig.service._wake.clear()
        rig.calls.set_playback([(7, "ringer", "")])
        assert rig.service._wake.is_set()  # the change wakes the service's thread at once
        rig.service.tick()
        assert rig.service.phase is Phase.BREAK  # 0 s: could still be a blip
        # The thread's next wake-up is planned at the ring's threshold, not at the next sample.
        assert 0.7 <= rig.service._next_wait() <= 0.71
        rig.clock.advance(0.7)
        rig.service.tick()  # what the thread does at the threshold
        assert rig.service.phase is Phase.HELD
        assert rig.service.ringing == ("ringer",)
        assert not any(w.isVisible() for w in rig.controller.windows)
        rig.clock.advance(5)
        rig.calls.set_playback([])
        rig.service.tick()
        assert rig.service.phase is Phase.GRACE
        rig.clock.advance(10)
        rig.service.tick()
        assert rig.service.phase is Phase.NOTICE
        assert rig.controller.notice.isVisible()
    finally:
        rig.close()
    assert rig.calls._change_listeners == []  # closed: no longer listening


def test_back_to_work_for_the_phone_works_in_strict_mode_from_the_keyboard(qtbot: QtBot) -> None:
    rig = Rig()
    try:
        rig.run_until(Phase.BREAK)
        window = rig.controller.windows[0]
        assert window.phone_button.isVisible() and not window.skip_button.isVisible()
        assert window.phone_button.focusPolicy() & Qt.FocusPolicy.TabFocus
        assert "&" in window.phone_button.text()  # Alt+B
        qtbot.keyClick(window.phone_button, Qt.Key.Key_Space)  # from the keyboard
        assert rig.service.scheduler.phase is Phase.GRACE
        assert rig.service.store.breaks[-1]["outcome"] == "held_for_phone"  # type: ignore[attr-defined]
        assert rig.service.scheduler.today.held_for_calls == 1
        assert not window.isVisible()
        rig.run_until(Phase.NOTICE)
        assert rig.controller.notice.phone_button.isVisible()
    finally:
        rig.close()

"""Outside a call the headset is listened to in spells; a call makes it continuous at once.

The real stream on the private PulseAudio null sink: between spells it is
stopped (not closed), which must never read as a fault (no "silent", no
"disconnected", no dropouts from the pause), an unplug during a pause must
still be noticed, and a softphone opening the microphone must bring
continuous listening back within a second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.kernel.model import Level
from monitors.headset import HeadsetMonitor
from sensors.audio import CaptureState
from tests.audio.conftest import PulseServer
from tests.audio.helpers import levels
from tests.audio.signals import noise, speech_like, to_pcm
from tests.audio.test_headset_pulse import make_monitor, softphone_recording, wait_for

#: Listen 1 s of every 2.5 s (the poll interval), so a test sees several spells quickly.
LISTEN_S, EVERY_S = 1.0, 2.5


@pytest.fixture
def duty_headset(pulse: PulseServer, tmp_path: Path) -> Iterator[HeadsetMonitor]:
    pulse.play(np.asarray(to_pcm(speech_like(60, -30) + noise(60, -70))))
    monitor = make_monitor(tmp_path, interval=EVERY_S, idle_listen_seconds=LISTEN_S)
    monitor.start()
    try:
        assert monitor.capture.wait_connected(15), monitor.capture.status()
        yield monitor
    finally:
        monitor.close()


def test_pauses_between_spells_are_no_fault(duty_headset: HeadsetMonitor) -> None:
    capture = duty_headset.capture
    states, paused_seen, listening_seen = set(), False, False
    deadline = time.monotonic() + 4 * EVERY_S
    while time.monotonic() < deadline:
        status = capture.status()
        states.add(status.state)
        paused_seen |= capture.paused
        listening_seen |= not capture.paused
        time.sleep(0.1)
    assert states == {CaptureState.OPEN}, states
    assert paused_seen and listening_seen
    assert capture.pauses >= 2
    polled = duty_headset.poll()
    readings = {r.indicator_id: r for r in polled}
    # The pauses are not gaps in the audio: every indicator is judged OK (as for
    # clean speech listened to continuously), and speech is still measured right.
    judged = levels(HeadsetMonitor, polled)
    assert set(judged.values()) == {Level.OK}, judged
    assert readings["headset.speech_level"].value == pytest.approx(-30, abs=2)
    assert readings["headset.in_call"].value is True  # speech-like audio throughout: voice


def test_a_softphone_makes_listening_continuous_within_a_second(
    duty_headset: HeadsetMonitor, pulse: PulseServer
) -> None:
    capture = duty_headset.capture
    duty_headset.options["voice_percent"] = 100.0  # only the softphone stream makes the call here
    wait_for(lambda: capture.paused, 3 * EVERY_S, "a pause between spells")
    with softphone_recording(pulse):
        wait_for(lambda: duty_headset.context.call_state.in_call, 5, "the softphone's call")
        started = time.monotonic()
        wait_for(lambda: not capture.paused, 5, "listening to resume")
        assert time.monotonic() - started <= 1.0
        pauses = capture.pauses
        for _ in range(3):  # polls during the call leave it continuous
            time.sleep(EVERY_S / 2)
            duty_headset.poll()
        assert capture.pauses == pauses and not capture.paused
    # The call is over (hang-over 0.3 s): the next polls go back to spells.
    wait_for(lambda: not duty_headset.context.call_state.in_call, 5, "the call's end")
    duty_headset.poll()
    wait_for(lambda: capture.paused, 3 * EVERY_S, "spells again after the call")


def test_an_unplug_during_a_pause_is_noticed(duty_headset: HeadsetMonitor, pulse: PulseServer) -> None:
    capture = duty_headset.capture
    first = {r.indicator_id: r for r in duty_headset.poll()}
    assert first["headset.connected"].value is True
    wait_for(lambda: capture.paused, 3 * EVERY_S, "a pause between spells")
    pulse.unplug()
    # The same bound as with continuous listening (tests/audio/test_headset_pulse.py).
    wait_for(lambda: capture.status().state is CaptureState.ABSENT, 20, "the unplug")
    readings = {r.indicator_id: r for r in duty_headset.poll()}
    assert readings["headset.connected"].level is Level.CRITICAL

"""The headset monitor on a real PulseAudio null sink read through PortAudio.

Each synthetic signal is played into the sink and recorded from its monitor
source by the monitor's own PyAudio stream; the readings must classify it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.kernel.callstate import CallState
from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.headset import MIC_SOURCE, VOICE_SOURCE, HeadsetMonitor
from sensors.audio import CaptureState
from sensors.audio_analysis import SILENCE_DBFS
from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.helpers import levels, monitor_settings, values
from tests.audio.signals import cases

#: Long enough to outlast SETTLE_S + LISTEN_S with seconds to spare on a loaded machine
#: (the player may connect late or the poll come late; a window must never hold its end).
SIGNALS = cases(seconds=8.0)
#: Audio analysed per case once the signal is flowing.
LISTEN_S = 2.0
# Long enough for the previous signal's tail to leave PulseAudio's buffers (0.6 s was not:
# the hum case then read part of the signal before it, 1 run in 4).
SETTLE_S = 1.5
#: The player's buffer: with 50 ms, two busy loops on this 2-core machine starved it
#: (the sink then plays zeros: 2 dropouts in the clipping window, 3 runs in 6); 400 ms did not.
PLAYER_LATENCY_MS = 400

OK, WARN, CRIT = Level.OK, Level.WARNING, Level.CRITICAL
#: Nothing to measure (no speech, no pause): not observed, never OK.
UNSEEN = Level.NOT_SET_UP
NO_SPEECH = {"speech_level": UNSEEN, "snr": UNSEEN}
#: Indicator levels each signal must produce (indicators not named must be OK).
EXPECTED: dict[str, dict[str, Level]] = {
    "clean_speech": {},
    "silence": NO_SPEECH,
    "noisy_speech": {"noise_floor": CRIT, "snr": WARN},
    "clipping": {"clipping": CRIT},
    # Hum (50–250 Hz) is below the 300–3400 Hz band the noise floor is measured in.
    "hum": {"hum": CRIT, **NO_SPEECH},
    # All zeros: no block to read hum in either.
    "digital_zeros": {"microphone": CRIT, "hum": UNSEEN, **NO_SPEECH},
    "dropouts": {"dropouts": CRIT},
    "dc_offset": {"dc_offset": WARN},
    "quiet_speech": {"microphone": WARN, "speech_level": CRIT},
}
#: Measured values each signal must show: (expected, tolerance).
MEASURED: dict[str, dict[str, tuple[float, float]]] = {
    "clean_speech": {"speech_level": (-30, 2), "noise_floor": (-72, 4), "snr": (42, 5), "clipping": (0, 0)},
    "noisy_speech": {"noise_floor": (-44, 2), "snr": (15, 3)},
    "hum": {"hum": (-42, 2)},
    "dropouts": {"dropouts": (7, 2)},
    "dc_offset": {"dc_offset": (4, 0.3)},
    "quiet_speech": {"speech_level": (-52, 2)},
}
QUALITY = ("microphone", "noise_floor", "speech_level", "snr", "clipping", "dc_offset", "hum", "dropouts")


def make_monitor(tmp_path: Path, **overrides: object) -> HeadsetMonitor:
    context = MonitorContext(data_dir=tmp_path, mode="app")
    context.call_state = CallState(hangover_seconds=0.3)
    settings = monitor_settings(HeadsetMonitor, **{"device": SINK, **overrides})
    return HeadsetMonitor(settings, context)


@pytest.fixture(scope="module")
def headset(pulse_server: PulseServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeadsetMonitor]:
    monitor = make_monitor(tmp_path_factory.mktemp("headset"), interval=1.0)
    monitor.start()
    assert monitor.capture.wait_connected(15), monitor.capture.status()
    wait_for(lambda: monitor.capture.status().silence_age is not None, 10, "the first audio block")
    yield monitor
    monitor.close()


def listen(monitor: HeadsetMonitor, pulse: PulseServer, signal: str) -> list[Reading]:
    """Play ``signal`` and poll once it has been analysed for LISTEN_S.

    Listens a second time when the first window did not hold the signal alone
    (see :func:`_spoilt`); the second one is judged whatever it holds.
    """
    readings, spoilt = _listen_once(monitor, pulse, signal)
    if spoilt is not None:
        print(f"{signal}: listening again: {spoilt}")
        readings, _ = _listen_once(monitor, pulse, signal)
    return readings


def _listen_once(
    monitor: HeadsetMonitor, pulse: PulseServer, signal: str
) -> tuple[list[Reading], str | None]:
    """The readings, and why the window did not hold the signal alone (``None``: it did)."""

    def flowing() -> bool:
        age = monitor.capture.status().silence_age
        return age is not None and age < 0.5

    # Another test may have unplugged the shared sink: wait until the stream is back.
    wait_for(flowing, 20, "audio to flow")
    monitor.poll()  # takes note of any reconnection (which resets the window)
    losses = monitor.capture.status().losses
    player = pulse.play(SIGNALS[signal], latency_ms=PLAYER_LATENCY_MS)
    # Until the player has connected the sink plays digital zeros, and a window that
    # held them has its floor at -120 dBFS (seen once under load): wait for it.
    wait_for(lambda: _playing(pulse), 20, "the player to connect")
    time.sleep(SETTLE_S)
    monitor.reset_window()
    time.sleep(LISTEN_S)
    readings = monitor.poll()
    played_through = player.poll() is None
    pulse.stop_players()
    return readings, _spoilt(monitor, signal, readings, losses, played_through)


def _playing(pulse: PulseServer) -> bool:
    return bool(pulse.pactl("list", "short", "sink-inputs").strip())


def _spoilt(
    monitor: HeadsetMonitor, signal: str, readings: list[Reading], losses: int, played_through: bool
) -> str | None:
    """Why a window held more than the signal (the rig's doing, not the monitor's), or ``None``."""
    if monitor.capture.status().losses != losses:
        return "the unplug test's reconnection finished meanwhile"
    if not played_through:
        return "the player ended before the poll"
    measured = values(readings)
    if signal != "dropouts" and measured.get("dropouts"):
        # A loaded machine starved the player or the capture: the gap (reported as a
        # dropout, rightly) spoils this window's floor and hum.
        return f"{measured['dropouts']} gap(s) in the window"
    if signal != "digital_zeros" and measured.get("noise_floor") == SILENCE_DBFS:
        # Only digital zeros read -120 dBFS: the player stalled for longer than a gap.
        return "the sink played digital zeros for part of the window (the player stalled)"
    return None


@contextlib.contextmanager
def softphone_recording(pulse: PulseServer) -> Iterator[None]:
    """A real recording client (``parec`` named "softphone") on the headset's source."""
    recorder = subprocess.Popen(
        ["parec", f"--device={SOURCE}", "--client-name=softphone"],
        env={**os.environ, **pulse.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: "softphone" in pulse.pactl("list", "source-outputs"), 5, "parec to start")
        yield
    finally:
        recorder.terminate()
        recorder.wait(5)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{thread_dump()}")
        time.sleep(0.2)


def thread_dump() -> str:
    """Where every thread is (for a wait that timed out)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        stack = "".join(traceback.format_stack(frame, limit=6))
        parts.append(f"--- {names.get(ident, ident)}\n{stack}")
    return "\n".join(parts)


@pytest.mark.parametrize("signal", list(EXPECTED))
def test_signal_is_classified(headset: HeadsetMonitor, pulse: PulseServer, signal: str) -> None:
    readings = listen(headset, pulse, signal)
    got = levels(HeadsetMonitor, readings)
    expected = {name: EXPECTED[signal].get(name, OK) for name in QUALITY}
    measured = values(readings)
    if signal != "dropouts":
        # A loaded machine (CI runs areas side by side) may starve the player or
        # the capture for a moment: one gap is tolerated, more is a failure.
        assert measured["dropouts"] <= 1, headset.summary()
        got["dropouts"] = expected["dropouts"]
    assert {name: got[name] for name in QUALITY} == expected, (headset.summary(), headset.capture.status())
    assert got["connected"] is OK
    for name, (value, tolerance) in MEASURED.get(signal, {}).items():
        assert measured[name] == pytest.approx(value, abs=tolerance), (name, measured)


def test_unplug_raises_disconnected_and_replug_clears_it(pulse: PulseServer, tmp_path: Path) -> None:
    monitor = make_monitor(tmp_path, interval=1.0)
    try:
        monitor.start()
        assert monitor.capture.wait_connected(15)
        first = {r.indicator_id: r for r in monitor.poll()}
        assert first["headset.connected"].value is True

        pulse.unplug()
        # The stream either dies at once or stalls first ("no audio"); then the source is gone.
        wait_for(lambda: monitor.capture.status().state is CaptureState.ABSENT, 20, "the unplug")
        readings = {r.indicator_id: r for r in monitor.poll()}
        gone = readings["headset.connected"]
        assert gone.value is False and gone.level is Level.CRITICAL
        assert gone.message is not None and "disconnected" in gone.message.en and "断开" in gone.message.zh
        # No audio is never OK: every audio indicator is unknown, saying why.
        for name in QUALITY:
            reading = readings[f"headset.{name}"]
            assert reading.value is None and reading.level is Level.UNKNOWN, reading
            assert reading.message is not None and "disconnected" in reading.message.en

        pulse.plug()
        wait_for(lambda: monitor.capture.status().connected, 20, "the stream to reopen by itself")
        pulse.play(SIGNALS["clean_speech"])
        time.sleep(SETTLE_S)
        monitor.reset_window()
        time.sleep(2.0)
        back = {r.indicator_id: r for r in monitor.poll()}
        assert back["headset.connected"].value is True and back["headset.connected"].level is Level.OK
        assert back["headset.speech_level"].value == pytest.approx(-30, abs=2)
        assert monitor.capture.status().losses == 1
    finally:
        monitor.close()


def test_voice_on_the_headset_means_in_call(headset: HeadsetMonitor, pulse: PulseServer) -> None:
    call_state = headset.context.call_state
    readings = listen(headset, pulse, "clean_speech")
    assert call_state.sources()[VOICE_SOURCE] is True, headset.summary(1.0)
    in_call = {r.indicator_id: r for r in readings}["headset.in_call"]
    assert in_call.value is True and in_call.level is Level.OK
    time.sleep(1.5)  # silence for longer than the poll interval
    headset.poll()
    assert call_state.sources()[VOICE_SOURCE] is False
    time.sleep(call_state.hangover_seconds + 0.1)
    assert call_state.in_call is False


def test_another_application_recording_means_in_call(headset: HeadsetMonitor, pulse: PulseServer) -> None:
    call_state = headset.context.call_state
    with softphone_recording(pulse):
        wait_for(lambda: call_state.sources().get(MIC_SOURCE) is True, 2, "the stream event")
        readings = {r.indicator_id: r for r in headset.poll()}
        assert call_state.sources()[MIC_SOURCE] is True
        in_call = readings["headset.in_call"]
        assert in_call.value is True
        assert in_call.message is not None and "softphone" in in_call.message.en
        # Deskwatch's own stream is never mistaken for another application.
        assert in_call.detail["apps"] == ["softphone"]
    # Stream events reach the call state within a fraction of a second, without a poll.
    wait_for(lambda: call_state.sources()[MIC_SOURCE] is False, 2, "the recorder's end")
    headset.poll()
    assert call_state.sources()[MIC_SOURCE] is False


def test_missing_headset_is_a_fault_only_after_the_start_up_grace(pulse: PulseServer, tmp_path: Path) -> None:
    monitor = make_monitor(tmp_path, device="no such headset")
    monitor.startup_grace = 3.0
    try:
        monitor.start()
        assert not monitor.capture.wait_connected(10)
        if monitor.capture.status().running_for < monitor.startup_grace:  # type: ignore[operator]
            # Not yet observed is not a fault: no reading for the headset itself yet.
            assert {r.indicator_id for r in monitor.poll()} <= {"headset.in_call"}
        wait_for(lambda: monitor.capture.status().running_for > 3.0, 10, "the grace to end")  # type: ignore[operator]
        readings = {r.indicator_id: r for r in monitor.poll()}
        connected = readings["headset.connected"]
        assert connected.level is Level.CRITICAL
        assert connected.message is not None and "no such headset" in connected.message.en
        assert readings["headset.snr"].level is Level.UNKNOWN
    finally:
        monitor.close()


def test_start_up_raises_nothing_before_the_stream_opens(pulse: PulseServer, tmp_path: Path) -> None:
    """Every start used to raise a critical "耳机已断开: Headset (not started)"."""
    monitor = make_monitor(tmp_path)
    try:
        first = monitor.poll()  # at once, as the scheduler does: the stream is not open yet
        assert all(r.level not in (Level.CRITICAL, Level.WARNING, Level.UNKNOWN) for r in first), first
        assert (
            "headset.connected" not in {r.indicator_id for r in first} or monitor.capture.status().connected
        )
        assert monitor.capture.wait_connected(15)
        wait_for(lambda: "connected" in values(monitor.poll()), 10, "the first reading")
        connected = {r.indicator_id: r for r in monitor.poll()}["headset.connected"]
        assert connected.level is Level.OK
    finally:
        monitor.close()


def test_an_input_that_delivers_nothing_is_unknown_not_ok(pulse: PulseServer, tmp_path: Path) -> None:
    monitor = make_monitor(tmp_path)
    try:
        monitor.start()
        assert monitor.capture.wait_connected(15)
        with pulse.suspended():
            wait_for(lambda: monitor.capture.status().state is CaptureState.SILENT, 20, "the stall")
            readings = {r.indicator_id: r for r in monitor.poll()}
            connected = readings["headset.connected"]
            assert connected.level is Level.UNKNOWN and connected.value is None
            assert connected.message is not None and "No audio from" in connected.message.en
            for name in QUALITY:
                reading = readings[f"headset.{name}"]
                assert reading.level is Level.UNKNOWN and reading.message is not None
                assert "No audio for" in reading.message.en
        # Samples again: back to observed readings without a restart.
        pulse.play(SIGNALS["clean_speech"])
        wait_for(lambda: monitor.capture.status().state is CaptureState.OPEN, 30, "audio to flow again")
        time.sleep(2.0)
        back = {r.indicator_id: r for r in monitor.poll()}
        assert back["headset.connected"].level is Level.OK
    finally:
        monitor.close()


def test_sound_server_modules_are_not_calls_but_a_recording_client_is(
    headset: HeadsetMonitor, pulse: PulseServer
) -> None:
    call_state = headset.context.call_state
    with pulse.filters_on_headset():
        outputs = pulse.pactl("list", "source-outputs")
        for driver in ("module-remap-source.c", "module-loopback.c", "module-echo-cancel.c"):
            assert driver in outputs  # all three really read the headset's source
        in_call = {r.indicator_id: r for r in headset.poll()}["headset.in_call"]
        assert in_call.detail["apps"] == [], in_call.detail
        assert call_state.sources()[MIC_SOURCE] is False
        with softphone_recording(pulse):
            # The stream watcher learns of it by an event, a moment after pactl lists it.
            wait_for(lambda: call_state.sources().get(MIC_SOURCE) is True, 5, "the stream event")
            in_call = {r.indicator_id: r for r in headset.poll()}["headset.in_call"]
            assert in_call.detail["apps"] == ["softphone"], in_call.detail
            assert in_call.value is True and in_call.message is not None
            assert "softphone" in in_call.message.en and "#" not in in_call.message.en


def test_fallback_to_default_input_warns(pulse: PulseServer, tmp_path: Path) -> None:
    monitor = make_monitor(tmp_path, device="no such headset", fallback_to_default=True)
    try:
        monitor.start()
        assert monitor.capture.wait_connected(15)
        connected = {r.indicator_id: r for r in monitor.poll()}["headset.connected"]
        assert connected.value is True and connected.level is Level.WARNING
        assert connected.message is not None and "default input" in connected.message.en
    finally:
        monitor.close()

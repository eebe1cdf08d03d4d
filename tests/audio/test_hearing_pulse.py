"""The sound-dose monitor on a real PulseAudio: what is played into the headset's sink is measured.

Calibrated tones and noise are played with ``pacat`` into the private
server's null sink (the headset's output); the hearing monitor records its
``.monitor`` source through PortAudio, only while the sink is RUNNING.
Expected levels come from the IEC 61672-1 table, not from the code under test.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from app.kernel.callstate import CallState
from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.hearing import HearingMonitor
from sensors import pulse as pulse_lib
from sensors.audio import AudioCapture, CaptureState
from tests.audio.conftest import RATE, SINK, PulseServer
from tests.audio.helpers import monitor_settings
from tests.audio.test_headset_check_json import check

#: IEC 61672-1 nominal A-weighting (dB) at the one-third-octave centres up to 6.3 kHz.
A_TABLE = {
    25: -44.7, 31.5: -39.4, 40: -34.6, 50: -30.2, 63: -26.2, 80: -22.5, 100: -19.1, 125: -16.1,
    160: -13.4, 200: -10.9, 250: -8.6, 315: -6.6, 400: -4.8, 500: -3.2, 630: -1.9, 800: -0.8,
    1000: 0.0, 1250: 0.6, 1600: 1.0, 2000: 1.2, 2500: 1.3, 3150: 1.2, 4000: 1.0, 5000: 0.5, 6300: -0.1,
}  # fmt: skip


def tone(freq: float, dbfs: float, seconds: float) -> np.ndarray:
    """A sine at ``dbfs`` re a full-scale sine."""
    t = np.arange(int(seconds * RATE)) / RATE
    return np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def white_noise(dbfs: float, seconds: float) -> np.ndarray:
    """Gaussian white noise whose RMS is ``dbfs`` re a full-scale sine (no clipping at these levels)."""
    noise = np.random.default_rng(7).standard_normal(int(seconds * RATE))
    noise *= 32767 * 10 ** (dbfs / 20) / np.sqrt(2) / np.sqrt(np.mean(noise**2))
    return np.round(noise).astype(np.int16)


def white_noise_a_correction() -> float:
    """What A-weighting does to white noise up to 8 kHz, from the table's one-third-octave bands."""
    nyquist = RATE / 2
    weighted = 0.0
    for centre, gain in A_TABLE.items():
        low, high = centre * 2 ** (-1 / 6), min(centre * 2 ** (1 / 6), nyquist)
        weighted += (high - low) * 10 ** (gain / 10)
    # The 8 kHz band (7.1 kHz up to Nyquist) at its nominal −1.1 dB.
    weighted += (nyquist - 6300 * 2 ** (1 / 6)) * 10 ** (-1.1 / 10)
    return float(10 * np.log10(weighted / nyquist))


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def by_name(readings: list[Reading]) -> dict[str, Reading]:
    return {r.indicator_id.split(".", 1)[1]: r for r in readings}


@pytest.fixture
def hearing(pulse: PulseServer, tmp_path: Path) -> Iterator[HearingMonitor]:
    settings = monitor_settings(HearingMonitor, sink=SINK, sensitivity_db=100.0, rate=RATE)
    monitor = HearingMonitor(settings, MonitorContext(data_dir=tmp_path, call_state=CallState()))
    monitor.keep_open_seconds = 2.0
    monitor.start()
    try:
        yield monitor
    finally:
        monitor.close()


def listening(monitor: HearingMonitor) -> bool:
    """Whether the playback capture is open and audio has arrived."""
    capture = monitor._capture
    if capture is None:
        return False
    status = capture.status()
    return status.state is CaptureState.OPEN and status.silence_age is not None


def measure(monitor: HearingMonitor, seconds: float = 2.0) -> Reading:
    """The level over ``seconds`` of what is playing now (a fresh interval)."""
    monitor.poll()  # start a clean interval
    time.sleep(seconds)
    return by_name(monitor.poll())["sound_level"]


def test_idle_sink_is_not_recorded(pulse: PulseServer, hearing: HearingMonitor) -> None:
    time.sleep(3.0)  # more than a gate step; nothing plays
    readings = by_name(hearing.poll())
    assert hearing.openings == 0 and not hearing.capturing
    assert readings["sound_level"].value is None and readings["sound_level"].level is Level.OK
    assert "Nothing playing" in str(readings["sound_level"].message)
    assert "RUNNING" not in pulse.pactl("list", "sinks", "short")


@pytest.mark.parametrize(("freq", "dbfs"), [(1000, -20.0), (250, -10.0), (4000, -25.0)])
def test_calibrated_tone_reads_its_a_weighted_level(
    pulse: PulseServer, hearing: HearingMonitor, freq: int, dbfs: float
) -> None:
    pulse.play(tone(freq, dbfs, 12.0))
    wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
    time.sleep(0.5)
    reading = measure(hearing)
    expected = 100.0 + dbfs + A_TABLE[freq]
    assert reading.value == pytest.approx(expected, abs=1.0), reading


def test_white_noise_reads_its_a_weighted_level(pulse: PulseServer, hearing: HearingMonitor) -> None:
    pulse.play(white_noise(-20.0, 12.0))
    wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
    time.sleep(0.5)
    reading = measure(hearing)
    expected = 100.0 - 20.0 + white_noise_a_correction()
    assert reading.value == pytest.approx(expected, abs=1.0), reading


def test_dose_accumulates_while_playing_and_capture_stops_when_idle(
    pulse: PulseServer, hearing: HearingMonitor
) -> None:
    hearing.options["sensitivity_db"] = 120.0
    hearing.meter.settings = hearing._meter_settings()
    player = pulse.play(tone(1000, -20.0, 8.0))  # 100 dB(A) at the ear
    wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
    hearing.poll()
    heard_from = time.monotonic()
    player.wait(20)
    heard = time.monotonic() - heard_from
    readings = by_name(hearing.poll())
    dose = readings["daily_dose"].value
    assert isinstance(dose, float)
    # 100 dB(A) is 15 dB over 85: each second is 10^1.5 / 28 800 of the day's allowance.
    per_second = 100 * 10**1.5 / (8 * 3600)
    assert per_second * (heard - 1.0) <= dose <= per_second * (8.0 + 0.5), (dose, heard)
    weekly = readings["weekly_dose"].value
    assert weekly == pytest.approx(dose * 10**0.5 * 8 / 40, rel=0.02)  # 80 dB(A)/40 h against 85/8 h
    assert readings["daily_dose"].level is None  # judged by the thresholds: far below 50 %
    # The sink is idle again: the capture closes after keep_open_seconds.
    wait_for(lambda: not hearing.capturing, 20, "the capture to close on an idle sink")
    assert "RUNNING" not in pulse.pactl("list", "sinks", "short")
    assert Path(hearing.state_path).is_file()


def test_acoustic_shock_burst_raises_the_alert_with_its_time(
    pulse: PulseServer, hearing: HearingMonitor
) -> None:
    hearing.options["sensitivity_db"] = 110.0
    hearing.meter.settings = hearing._meter_settings()
    pulse.play(tone(440, -40.0, 15.0))  # a quiet call: 70 dB SPL
    wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
    time.sleep(1.0)
    quiet = by_name(hearing.poll())["acoustic_shocks"]
    assert quiet.value == 0 and quiet.level is Level.OK
    before = time.time()
    pulse.play(tone(2100, -2.0, 0.4))  # a fax tone: 108 dB SPL, 38 dB up at once
    deadline = time.monotonic() + 10
    shock = quiet
    while time.monotonic() < deadline and shock.value == 0:
        time.sleep(0.5)
        shock = by_name(hearing.poll())["acoustic_shocks"]
    assert shock.value == 1 and shock.level is Level.WARNING, shock
    when = time.mktime(time.strptime(str(shock.detail["time"])[:19], "%Y-%m-%dT%H:%M:%S"))
    assert before - 1 <= when <= before + 3, (before, shock.detail)
    assert shock.detail["level_db"] == pytest.approx(108, abs=1.5)
    assert time.strftime("%H:%M", time.localtime(when)) in str(shock.message)


def test_check_json_reads_the_level_and_the_dose_kept_by_the_app(pulse: PulseServer, tmp_path: Path) -> None:
    # The app's state from earlier today: 4 h at 85 dB(A), half the GBZ 2.2 allowance.
    today = time.strftime("%Y-%m-%d")
    state = {"days": {today: [4 * 3600 * 10**8.5, 4 * 3600]}}
    (tmp_path / "hearing.json").write_text(json.dumps(state), "utf-8")
    config = f'[monitors.hearing]\nsink = "{SINK}"\nsensitivity_db = 100.0\n'
    code, idle = check(tmp_path, config, "hearing")
    by_id = {i["id"]: i for i in idle["indicators"]}
    assert by_id["hearing.sound_level"]["value"] is None and by_id["hearing.sound_level"]["level"] == "ok"
    assert by_id["hearing.daily_dose"]["value"] == pytest.approx(50.0, abs=0.01)
    assert by_id["hearing.daily_dose"]["level"] == "warning" and by_id["hearing.daily_dose"]["unit"] == "%"
    assert code == 1
    pulse.play(tone(1000, -20.0, 30.0))
    wait_for(lambda: "RUNNING" in pulse.pactl("list", "sinks", "short"), 10, "the sink to run")
    _code, playing = check(tmp_path, config, "hearing")
    by_id = {i["id"]: i for i in playing["indicators"]}
    level = by_id["hearing.sound_level"]
    assert level["unit"] == "dB(A)" and level["device"] == "headset"
    assert level["value"] == pytest.approx(80.0, abs=1.0), level
    assert by_id["hearing.acoustic_shocks"]["value"] == 0
    assert by_id["hearing.daily_dose"]["value"] >= 50.0


def test_the_headsets_default_input_is_not_turned_into_the_playback_monitor(
    pulse: PulseServer, hearing: HearingMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's capture chooses a PulseAudio source through PULSE_SOURCE, process-wide.

    Once the dose capture is open it is put back, so a capture of the *default*
    input opened later (the headset reopening after an unplug) records the
    microphone, not what the headset plays.
    """
    # A headset on the default input: nobody has named a source (earlier tests' captures did).
    monkeypatch.delenv("PULSE_SOURCE", raising=False)
    mic = pulse.load("module-null-sink", "sink_name=dw_mic", f"rate={RATE}", "channels=1")
    try:
        pulse.pactl("set-default-source", "dw_mic.monitor")
        pulse.play(tone(1000, -30.0, 20.0))
        wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
        wait_for(lambda: os.environ.get("PULSE_SOURCE") != f"{SINK}.monitor", 10, "PULSE_SOURCE put back")
        default_input = AudioCapture(device="", rate=RATE)
        default_input.acquire()
        try:
            assert default_input.wait_connected(15)
            mic_source = "dw_mic.monitor"
            wait_for(lambda: mic_source in our_recorded_sources(pulse), 10, "the default input's stream")
            assert sorted(our_recorded_sources(pulse)) == ["deskwatch_headset.monitor", "dw_mic.monitor"]
        finally:
            default_input.release()
    finally:
        pulse.stop_players()
        pulse.unload_module(mic)
        pulse.pactl("set-default-source", f"{SINK}.monitor")


def our_recorded_sources(pulse: PulseServer) -> list[str]:
    """The sources this process's streams record from."""
    names = {s.index: s.name for s in pulse_lib.parse_list(pulse.pactl("list", "sources"))}
    outputs = pulse_lib.parse_list(pulse.pactl("list", "source-outputs"))
    ours = [o for o in outputs if o.properties.get("application.process.id") == str(os.getpid())]
    return [names.get(int(o.fields.get("Source", "-1")), "?") for o in ours]


@pytest.fixture
def volume(pulse: PulseServer) -> Iterator[Callable[[str], None]]:
    """Set the headset sink's volume (``"50%"``); put back to 100 % and unmuted afterwards."""
    try:
        yield lambda value: pulse.pactl("set-sink-volume", SINK, value) and None
    finally:
        pulse.pactl("set-sink-volume", SINK, "100%")
        pulse.pactl("set-sink-mute", SINK, "0")


def sink_volume_percent(monitor: HearingMonitor) -> float | None:
    sink = monitor._sink
    return None if sink is None else sink.volume_percent


def test_software_volume_is_in_the_monitor_and_read_again_when_it_changes(
    pulse: PulseServer, hearing: HearingMonitor, volume: Callable[[str], None]
) -> None:
    """PulseAudio applies a null sink's (software) volume before its monitor: 50 % is −18 dB measured.

    That is which side of the volume the monitor is on; the monitor adds
    nothing for a software sink, and a change of volume is seen through the
    sink's event, not by asking ``pactl`` every poll.
    """
    pulse.play(tone(1000, -20.0, 40.0))
    wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
    time.sleep(0.5)
    full = measure(hearing)
    assert full.value == pytest.approx(80.0, abs=1.0), full
    assert full.detail["volume"] == "software" and full.detail["gain_db"] == 0.0
    volume("50%")
    assert "-18.06 dB" in pulse.pactl("list", "sinks")
    wait_for(lambda: sink_volume_percent(hearing) == 50.0, 5, "the sink's new volume")  # the sink event
    # What was in flight at the old volume: the capture hands over 1 s buffers and reads
    # libpulse's queue once a second, so up to about 2 s recorded before the change is still
    # to come.
    time.sleep(2.5)
    runs = hearing._lister.runs
    half = measure(hearing, 3.0)
    assert half.value == pytest.approx(80.0 - 18.06, abs=1.0), half
    assert float(full.value) - float(half.value) == pytest.approx(18.06, abs=0.5)  # type: ignore[arg-type]
    assert hearing._lister.runs - runs <= 1  # no pactl per poll while nothing changes


def test_muted_sink_counts_nothing(
    pulse: PulseServer, hearing: HearingMonitor, volume: Callable[[str], None]
) -> None:
    hearing.options["sensitivity_db"] = 130.0
    hearing.meter.settings = hearing._meter_settings()
    pulse.play(tone(1000, -10.0, 20.0))  # 120 dB(A) if it reached the ear
    wait_for(lambda: listening(hearing), 15, "the capture of the headset's playback")
    pulse.pactl("set-sink-mute", SINK, "1")
    wait_for(lambda: hearing._gain.silent, 5, "the mute to be seen")
    time.sleep(0.6)
    hearing.poll()
    time.sleep(2.0)
    readings = by_name(hearing.poll())
    assert readings["sound_level"].value is None and "muted" in str(readings["sound_level"].message)
    dose_before = readings["daily_dose"].value
    time.sleep(1.0)
    assert by_name(hearing.poll())["daily_dose"].value == dose_before  # nothing added while muted

"""Windows' sound dose on Linux: WASAPI loopback through a PyAudioWPatch stand-in fed a known tone.

PyAudioWPatch runs only on Windows; here a module of the same name and API
(``PyAudio``, device infos, ``get_default_wasapi_loopback``, callback
streams) serves the device list in ``data/pyaudiowpatch-devices.json`` and
plays interleaved stereo frames of a known tone into the real
:class:`~sensors.audio.AudioCapture`, so the capture, the channel choice,
the endpoint-volume correction and the monitor's readings are the ones
Windows runs.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.kernel.callstate import CallState
from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors import hearing
from monitors.hearing import HearingMonitor
from sensors import sound_dose as sd
from sensors import win_audio_sessions, win_loopback
from sensors.audio import AudioCapture, CaptureState, choose_loopback, louder_channel
from sensors.win_audio_sessions import WindowsAudioSessionWatcher
from sensors.win_loopback import EndpointVolume, endpoint_gain
from tests.audio.helpers import monitor_settings

DATA = json.loads((Path(__file__).parent / "data" / "pyaudiowpatch-devices.json").read_text("utf-8"))
RATE = 48000


def volume(name: str) -> EndpointVolume:
    return EndpointVolume(**DATA["endpoint_volumes"][name])


def stereo_tone(left_dbfs: float, right_dbfs: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    sine = np.sin(2 * np.pi * 1000 * t)
    left, right = (np.round(32767 * 10 ** (db / 20) * sine) for db in (left_dbfs, right_dbfs))
    return np.column_stack([left, right]).astype(np.int16).reshape(-1)


class FakeStream:
    """A PortAudio callback stream that plays ``frames`` (interleaved) in buffers, in real time."""

    def __init__(
        self, frames: np.ndarray, channels: int, per_buffer: int, callback: Callable[..., Any]
    ) -> None:
        self.frames, self.channels, self.per_buffer, self.callback = frames, channels, per_buffer, callback
        self.active = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        step = self.per_buffer * self.channels
        position = 0
        while not self._stop.wait(self.per_buffer / RATE / 4):  # faster than real time: a short test
            chunk = np.resize(self.frames[position : position + step], step) if self.frames.size else None
            if chunk is None:
                continue
            position = (position + step) % max(self.frames.size, 1)
            self.callback(chunk.astype("<i2").tobytes(), self.per_buffer, None, 0)

    def is_active(self) -> bool:
        return self.active

    def stop_stream(self) -> None:
        self._stop.set()

    def start_stream(self) -> None:
        pass

    def close(self) -> None:
        self._stop.set()
        self.active = False
        self._thread.join(2)


@pytest.fixture
def wpatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """``pyaudiowpatch`` answering with the recorded devices; ``state["frames"]`` is what plays."""
    state: dict[str, Any] = {"frames": stereo_tone(-20, -30, 2.0), "opened": [], "streams": []}

    class PyAudio:
        def get_device_count(self) -> int:
            return len(DATA["devices"])

        def get_device_info_by_index(self, index: int) -> dict[str, Any]:
            return dict(DATA["devices"][index])

        def get_default_input_device_info(self) -> dict[str, Any]:
            return dict(DATA["devices"][DATA["default_input"]])

        def get_default_wasapi_loopback(self) -> dict[str, Any]:
            return next(dict(d) for d in DATA["devices"] if d["name"] == DATA["default_loopback"])

        def open(self, **options: Any) -> FakeStream:
            info = DATA["devices"][options["input_device_index"]]
            if (
                options["channels"] != info["maxInputChannels"]
                or options["rate"] != info["defaultSampleRate"]
            ):
                raise OSError(-9997, "Invalid sample rate")  # WASAPI shared mode: the mix format only
            state["opened"].append(options)
            stream = FakeStream(state["frames"], options["channels"], options["frames_per_buffer"],
                                options["stream_callback"])  # fmt: skip
            state["streams"].append(stream)
            return stream

        def terminate(self) -> None:
            pass

    module = types.ModuleType("pyaudiowpatch")
    module.PyAudio = PyAudio  # type: ignore[attr-defined]
    module.paInt16 = 8  # type: ignore[attr-defined]
    module.paContinue = 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyaudiowpatch", module)
    yield state
    for stream in state["streams"]:
        stream.close()


def test_default_output_loopback_opens_in_its_mix_format_and_reads_the_louder_ear(
    wpatch: dict[str, Any],
) -> None:
    capture = AudioCapture(device="", rate=16000, loopback=True)
    samples, rate = capture.record(2.0, timeout=15)
    (opened,) = wpatch["opened"]
    assert opened["input_device_index"] == 8 and opened["channels"] == 2 and rate == RATE
    # Left at −20 dB FS, right at −30: the louder ear counts.
    assert sd.laeq_dbfs(samples, rate) == pytest.approx(-20.0, abs=0.2)


def test_a_named_headset_is_its_earphones_loopback_never_its_microphone(wpatch: dict[str, Any]) -> None:
    devices = DATA["devices"]
    chosen = choose_loopback(devices, DATA["default_loopback"], "realtek")
    assert chosen is not None and chosen.index == 9 and chosen.name.endswith("[Loopback]")
    jabra = choose_loopback(devices, "", "jabra")
    assert jabra is not None and jabra.index == 8 and (jabra.channels, jabra.rate) == (2, RATE)
    assert choose_loopback(devices, "", "plantronics") is None
    capture = AudioCapture(device="plantronics", rate=16000, loopback=True)
    capture.acquire()
    try:
        capture.wait_connected(5)
        assert capture.status().state is CaptureState.ABSENT and not wpatch["opened"]
    finally:
        capture.release()


def test_louder_channel_is_per_block() -> None:
    frames = np.array([1, 100, 2, -100, 3, 100], dtype=np.int16)
    assert louder_channel(frames, 2).tolist() == [100, -100, 100]
    assert louder_channel(frames, 1) is frames


def test_endpoint_volume_correction_follows_where_windows_applies_it() -> None:
    # Hardware volume: the loopback is full scale whatever the slider; −12 dB below the top.
    assert endpoint_gain(volume("jabra_hardware_-12dB")) == win_loopback.EarGain(-12.0, how="hardware")
    # Software volume: the audio engine applied it before the loopback copy.
    assert endpoint_gain(volume("realtek_software_-20dB")) == win_loopback.EarGain(0.0, how="software")
    assert endpoint_gain(volume("jabra_muted")).silent
    # A range topping at +6 dB: sensitivity is at full volume, so −4.5 dB is 10.5 dB below it.
    assert endpoint_gain(volume("usb_range_to_plus_6dB")).db == pytest.approx(-10.5)
    assert not endpoint_gain(None).known
    odd = EndpointVolume("x", 3.0, 0.0, False, 1)  # above its own range: not believed
    assert endpoint_gain(odd) == win_loopback.EarGain(0.0, known=False, how="unknown")


@pytest.mark.parametrize(
    ("endpoint", "expected", "how"),
    [("jabra_hardware_-12dB", 100 - 20 - 12, "hardware"), ("realtek_software_-20dB", 100 - 20, "software")],
)
def test_hearing_check_on_windows_reads_the_loopback_level(
    wpatch: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: str, expected: float,
    how: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(hearing, "_windows", lambda: True)
    monkeypatch.setattr(win_loopback, "read_endpoint_volume", lambda _wanted: volume(endpoint))
    settings = monitor_settings(HearingMonitor, sensitivity_db=100.0, rate=16000)
    monitor = HearingMonitor(settings, MonitorContext(data_dir=tmp_path, mode="check"), clock=time.time)
    readings = {r.indicator_id.split(".", 1)[1]: r for r in monitor.poll()}
    level = readings["sound_level"]
    assert level.value == pytest.approx(expected, abs=0.3), level
    assert level.level is None and level.detail["volume"] == how
    assert readings["daily_dose"].value is not None and readings["acoustic_shocks"].level is Level.OK
    assert wpatch["opened"][0]["input_device_index"] == 8  # the default output's loopback


def test_muted_endpoint_on_windows_hears_nothing(
    wpatch: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(hearing, "_windows", lambda: True)
    monkeypatch.setattr(win_loopback, "read_endpoint_volume", lambda _wanted: volume("jabra_muted"))
    settings = monitor_settings(HearingMonitor, sensitivity_db=130.0, rate=16000)
    monitor = HearingMonitor(settings, MonitorContext(data_dir=tmp_path, mode="check"))
    readings = {r.indicator_id.split(".", 1)[1]: r for r in monitor.poll()}
    assert readings["sound_level"].value is None and readings["daily_dose"].value == 0


class IdleSessions(WindowsAudioSessionWatcher):
    """Windows' session enumeration on a seat where nothing plays (as recorded: no active render session)."""

    def start(self) -> None:
        self.stats.mode = "events"
        self._publish()

    def stop(self) -> None:
        pass


def test_idle_windows_check_asks_the_sessions_and_does_not_wait_for_the_loopback(
    wpatch: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On an idle seat the loopback delivers nothing: the check must not wait out its timeout for it."""
    monkeypatch.setattr(hearing, "_windows", lambda: True)
    monkeypatch.setattr(win_audio_sessions, "WindowsAudioSessionWatcher", IdleSessions)
    monkeypatch.setattr(win_loopback, "read_endpoint_volume", lambda _wanted: volume("jabra_hardware_-12dB"))
    wpatch["frames"] = stereo_tone(-20, -20, 2.0)  # would be heard if the loopback were opened
    settings = monitor_settings(HearingMonitor, sensitivity_db=100.0, rate=16000)
    monitor = HearingMonitor(settings, MonitorContext(data_dir=tmp_path, mode="check"))
    started = time.monotonic()
    readings = {r.indicator_id.split(".", 1)[1]: r for r in monitor.poll()}
    assert time.monotonic() - started < 1.0
    assert not wpatch["opened"]
    level = readings["sound_level"]
    assert level.value is None and level.level is Level.OK and "Nothing playing" in str(level.message)
    assert monitor._watcher is None  # the one-shot's watcher is stopped and let go


RING = {"session_id": "{0.0.0.00000000}.{a1}|phone.exe%b{B2}", "pid": 4120, "process": "MicroSIP.exe",
        "flow": "render", "state": "active"}  # fmt: skip


def test_windows_gate_listens_while_a_render_session_is_active(
    wpatch: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The app on Windows: idle, nothing recorded; a softphone's render session opens the loopback."""

    class NotifiedByTest(WindowsAudioSessionWatcher):
        def start(self) -> None:  # Windows would enumerate the sessions: none yet
            self.stats.mode = "events"
            self._publish()

        def stop(self) -> None:
            pass

    monkeypatch.setattr(hearing, "_windows", lambda: True)
    # The monitor loads the watcher's module only on Windows, when it starts.
    monkeypatch.setattr(win_audio_sessions, "WindowsAudioSessionWatcher", NotifiedByTest)
    monkeypatch.setattr(win_loopback, "read_endpoint_volume", lambda _wanted: volume("jabra_hardware_-12dB"))
    wpatch["frames"] = stereo_tone(-20, -20, 2.0)
    settings = monitor_settings(HearingMonitor, sensitivity_db=100.0, rate=16000)
    monitor = HearingMonitor(settings, MonitorContext(data_dir=tmp_path, call_state=CallState()))
    monitor.keep_open_seconds = 1.0
    monitor.start()
    try:
        time.sleep(1.0)
        assert monitor.openings == 0 and not wpatch["opened"]  # nothing plays: nothing recorded
        watcher = monitor._watcher
        assert isinstance(watcher, NotifiedByTest)
        watcher.session_event(RING)
        eventually(lambda: monitor.capturing and bool(wpatch["opened"]), "the loopback to open")
        time.sleep(1.0)
        monitor.poll()
        time.sleep(1.5)
        level = {r.indicator_id.split(".", 1)[1]: r for r in monitor.poll()}["sound_level"]
        assert level.value == pytest.approx(100 - 20 - 12, abs=0.5), level
        watcher.session_event({**RING, "state": "expired"})
        eventually(lambda: not monitor.capturing, "the loopback to close once idle", within=10)
    finally:
        monitor.close()


def eventually(condition: Callable[[], bool], what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)

"""The headset captured through libpulse directly, against the private PulseAudio.

The capture must deliver the source's own signal (a known tone), flag audio
lost while a consumer stalls, report a source that goes (and not record
another one instead), come back when it returns, receive nothing while it is
corked between listening spells (nor wake for it), and on a PulseAudio seat
never load PyAudio (PortAudio and alsa-lib's plugins) at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from sensors import audio
from sensors.audio import AudioCapture, CaptureState
from sensors.audio_analysis import CONTINUITY_BREAK, PA_INPUT_OVERFLOW
from tests.audio.conftest import RATE, SINK, PulseServer
from tests.audio.test_headset_pulse import wait_for

ROOT = Path(__file__).resolve().parents[2]
#: A second "microphone" on the same server, hearing another tone.
OTHER_SOURCE = "dw_other_mic"


def tone(hz: float, seconds: float, amplitude: float = 0.1) -> npt.NDArray[np.int16]:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def dominant_hz(samples: npt.NDArray[np.int16]) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * RATE / samples.size)


def rms_dbfs(samples: npt.NDArray[np.int16]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) / 32768))


class Blocks:
    """What a consumer received: (arrival time, flags, samples)."""

    def __init__(self) -> None:
        self.items: list[tuple[float, int, npt.NDArray[np.int16]]] = []
        self.lock = threading.Lock()

    def __call__(self, block: npt.NDArray[np.int16], flags: int, _rate: int) -> None:
        with self.lock:
            self.items.append((time.monotonic(), flags, block.copy()))

    def since(self, moment: float) -> list[tuple[float, int, npt.NDArray[np.int16]]]:
        with self.lock:
            return [item for item in self.items if item[0] >= moment]


@pytest.fixture
def capture(pulse: PulseServer) -> Iterator[AudioCapture]:
    capture = AudioCapture(device=SINK, retry_seconds=0.5)
    capture.acquire()
    try:
        assert capture.wait_connected(15), capture.status()
        assert capture.backend_in_use == "pulse"
        yield capture
    finally:
        capture.release()


def flowing(capture: AudioCapture) -> bool:
    status = capture.status()
    return status.connected and status.silence_age is not None and status.silence_age < 1.0


def events_per_second(capture: AudioCapture, seconds: float) -> float:
    """Sound-server events the capture handled per second (each packet of audio is one or more)."""
    before = capture.server_events
    time.sleep(seconds)
    return (capture.server_events - before) / seconds


def threads_of_this_process() -> set[str]:
    return set(os.listdir("/proc/self/task"))


def test_stream_delivers_the_sources_signal(capture: AudioCapture, pulse: PulseServer) -> None:
    pulse.play(tone(1000, 20))
    wait_for(lambda: flowing(capture), 10, "audio")
    time.sleep(1.0)  # the player's start (and the silence before it) out of the way
    samples, rate = capture.record(2.0, timeout=15)
    assert rate == RATE and samples.size == 2 * RATE
    # A 1 kHz sine of amplitude 0.1: −23.0 dBFS RMS, through the null sink unchanged.
    assert dominant_hz(samples) == pytest.approx(1000, abs=2)
    assert rms_dbfs(samples) == pytest.approx(-23.0, abs=0.5)
    pulse.stop_players()
    pulse.play(tone(440, 20, amplitude=0.3))
    time.sleep(1.5)
    samples, _ = capture.record(1.0, timeout=15)
    assert dominant_hz(samples) == pytest.approx(440, abs=2)
    assert rms_dbfs(samples) == pytest.approx(-13.5, abs=0.5)


def test_buffers_are_whole_and_continuous(capture: AudioCapture, pulse: PulseServer) -> None:
    blocks = Blocks()
    capture.subscribe(blocks)
    started = time.monotonic()
    frames = int(RATE * capture.block_ms / 1000)

    def held() -> int:
        return sum(block.size for _, _, block in blocks.since(started))

    wait_for(lambda: held() >= 6 * frames and len(blocks.since(started)) >= 3, 20, "six buffers")
    capture.unsubscribe(blocks)
    got = blocks.since(started)
    # Whole buffers only, as many as were read together (once a second: READ_S).
    assert all(block.size and block.size % frames == 0 for _, _, block in got)
    assert not any(flags & PA_INPUT_OVERFLOW for _, flags, _ in got)
    # Audio arrives at the rate it is recorded (no loss, no duplication): what came after
    # the first delivery took as long to arrive as it lasts.
    span = got[-1][0] - got[0][0]
    after_first = sum(block.size for _, _, block in got[1:]) / RATE
    assert span == pytest.approx(after_first, abs=1.0)


def test_overflow_is_counted_when_the_consumer_stalls(capture: AudioCapture, pulse: PulseServer) -> None:
    blocks = Blocks()
    stall = {"seconds": 0.0}

    def slow(block: npt.NDArray[np.int16], flags: int, rate: int) -> None:
        seconds, stall["seconds"] = stall["seconds"], 0.0
        time.sleep(seconds)
        blocks(block, flags, rate)

    capture.subscribe(slow)
    try:
        start = time.monotonic()
        wait_for(lambda: len(blocks.since(start)) >= 3, 20, "audio before the stall")
        # A stall shorter than libpulse's queue (PULSE_QUEUE_S, 4 s) loses nothing.
        stall["seconds"] = 2.5
        short = time.monotonic()
        wait_for(lambda: len(blocks.since(short + 2.5)) >= 3, 20, "audio after a short stall")
        assert capture.overflows == 0
        assert not any(flags & PA_INPUT_OVERFLOW for _, flags, _ in blocks.since(start))
        # Longer than the queue: audio was dropped, and the next buffer says so.
        stall["seconds"] = 5.5
        long = time.monotonic()
        wait_for(lambda: len(blocks.since(long + 5.5)) >= 2, 20, "audio after a long stall")
        flagged = [flags for _, flags, _ in blocks.since(long + 5.5) if flags & PA_INPUT_OVERFLOW]
        assert len(flagged) == 1, blocks.since(long)
        assert capture.overflows == 1
        assert capture.status().state is CaptureState.OPEN  # a dropout, not a lost headset
    finally:
        capture.unsubscribe(slow)


def test_a_source_that_goes_is_reported_and_not_replaced(capture: AudioCapture, pulse: PulseServer) -> None:
    # Another microphone on the same server, with sound on it (a 440 Hz tone):
    # recording it instead of the headset would be seen.
    other = pulse.load("module-sine-source", f"source_name={OTHER_SOURCE}", f"rate={RATE}", "frequency=440")
    blocks = Blocks()
    try:
        capture.subscribe(blocks)
        wait_for(lambda: flowing(capture), 10, "audio")
        losses = capture.status().losses
        pulse.unplug()
        unplugged = time.monotonic()
        wait_for(lambda: capture.status().state is CaptureState.ABSENT, 10, "the source to be reported gone")
        noticed = time.monotonic() - unplugged
        # Told by the server (the stream is killed, PA_STREAM_DONT_MOVE), not found by polling.
        assert noticed < 2.0, noticed
        status = capture.status()
        assert not status.connected and SINK in status.error
        assert status.losses == losses + 1
        time.sleep(1.5)
        after = [block for t, _, block in blocks.since(unplugged + 0.2)]
        assert after == [], "audio arrived after the headset went"
        # Nothing of ours records the other microphone.
        outputs = pulse.pactl("list", "source-outputs")
        assert f'application.process.id = "{os.getpid()}"' not in outputs, outputs

        pulse.plug()
        pulse.play(tone(1000, 20))
        wait_for(lambda: flowing(capture), 20, "the stream back on the headset")
        assert capture.status().state is CaptureState.OPEN
        assert capture.status().losses == losses + 1
        time.sleep(1.5)
        samples, _ = capture.record(1.0, timeout=15)
        assert dominant_hz(samples) == pytest.approx(1000, abs=2)  # the headset, not the other one
    finally:
        capture.unsubscribe(blocks)
        pulse.unload_module(other)


def test_back_after_the_sound_server_restarts(capture: AudioCapture, pulse: PulseServer) -> None:
    wait_for(lambda: flowing(capture), 10, "audio")
    losses = capture.status().losses
    pulse.restart()  # the connection dies with the server: a new one is made
    wait_for(lambda: capture.status().losses > losses and flowing(capture), 30, "the stream back")
    # While the server was away it waited for it: no PortAudio (which would not find it either).
    assert capture.backend_in_use == "pulse" and capture.portaudio_inits == 0
    pulse.play(tone(1000, 20))
    time.sleep(1.5)
    samples, _ = capture.record(1.0, timeout=15)
    assert dominant_hz(samples) == pytest.approx(1000, abs=2)


def test_corked_between_spells_nothing_arrives_and_nothing_wakes(pulse: PulseServer) -> None:
    pulse.play(tone(1000, 60))
    capture = AudioCapture(device=SINK)
    blocks = Blocks()
    capture.subscribe(blocks)
    threads = threads_of_this_process()
    capture.acquire()
    try:
        assert capture.wait_connected(15)
        # One thread more (the capture's own), none of libpulse's: nothing else wakes for audio.
        assert len(threads_of_this_process() - threads) == 1
        wait_for(lambda: flowing(capture), 10, "audio")
        listening = events_per_second(capture, 1.5)
        capture.set_duty_cycle(1.0, 5.0)  # 4 s pauses
        wait_for(lambda: capture.paused, 10, "a pause")
        paused_at = time.monotonic()
        time.sleep(0.5)  # packets already on their way
        idle = events_per_second(capture, 2.0)
        still_paused = capture.paused and capture.pauses == 1
        during = blocks.since(paused_at + 0.5)
        outputs = pulse.pactl("list", "source-outputs")
        assert still_paused, "the pause ended early: measured outside it"
        assert during == []
        assert "Corked: yes" in outputs
        assert listening >= 5, listening  # the server's packets, while listening
        assert idle <= 1, (idle, listening)
        # And the next spell brings audio again, marked as not continuing the last.
        wait_for(lambda: not capture.paused, 10, "the next spell")
        resumed = time.monotonic()
        wait_for(lambda: blocks.since(resumed) != [], 10, "audio in the next spell")
        assert blocks.since(resumed)[0][1] & CONTINUITY_BREAK
    finally:
        capture.release()


def test_playback_goes_through_the_sound_server(capture: AudioCapture, pulse: PulseServer) -> None:
    """The recorder self-test's playback: on the default sink (the headset's), heard on its monitor."""
    blocks = Blocks()
    capture.subscribe(blocks)
    try:
        wait_for(lambda: flowing(capture), 10, "audio")
        started = time.monotonic()
        audio.play(tone(700, 1.5, amplitude=0.2), RATE, timeout=15)
        took = time.monotonic() - started
        assert 1.4 <= took <= 10, took  # returns once played, not before
        time.sleep(1.5)
        heard = np.concatenate([block for _, _, block in blocks.since(started)])
        assert dominant_hz(heard) == pytest.approx(700, abs=2)
        assert rms_dbfs(heard[np.abs(heard) > 0]) == pytest.approx(-17.0, abs=1.5)
    finally:
        capture.unsubscribe(blocks)


CHILD = """
import json, sys, time
import numpy as np
from sensors.audio import AudioCapture, play
capture = AudioCapture(device=sys.argv[1])
capture.acquire()
opened = capture.wait_connected(15)
if opened:
    capture.record(1.0, timeout=15)
    play(np.zeros(1600, dtype=np.int16), 16000, timeout=10)  # the recorder self-test's playback
maps = open("/proc/self/maps").read()
print(json.dumps({
    "opened": opened, "backend": capture.backend_in_use, "state": capture.status().state.value,
    "pyaudio": "pyaudio" in sys.modules, "portaudio": "libportaudio" in maps, "alsa": "libasound" in maps,
}))
capture.release()
"""


def run_child(env: dict[str, str], device: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, device],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_pulse_seat_never_loads_pyaudio(pulse: PulseServer) -> None:
    pulse.play(tone(1000, 20))
    got = run_child(pulse.env, SINK)
    assert got["opened"] and got["backend"] == "pulse", got
    assert got == {**got, "pyaudio": False, "portaudio": False, "alsa": False}


def test_without_a_sound_server_portaudio_is_used(tmp_path: Path) -> None:
    """No server answers (bare ALSA): the capture falls back to PyAudio."""
    env = {"PULSE_SERVER": f"unix:{tmp_path / 'no-such-socket'}", "DESKWATCH_AUDIO_BACKEND": ""}
    got = run_child(env, "no such headset")
    assert got["pyaudio"] is True and got["backend"] != "pulse", got
    assert got["state"] in ("absent", "no_input", "failed"), got

"""The capture reopens on the PortAudio it already initialised (issue 13: memory still grew).

Every fresh ``PyAudio()`` (``Pa_Initialize`` after a ``Pa_Terminate``) makes
alsa-lib load its PCM plugins again, and that costs ~12.5 KiB for good
(``sensors.audio.devices_signature``).  Retrying an unplugged headset every
few seconds with a new one grew the soak's RSS by ~1.5 MiB an hour.  These
tests count real ``PyAudio`` initialisations against the private PulseAudio
while the headset is away, and check the stream still comes back after an
unplug and after the sound server restarts.  The PortAudio backend is asked
for by name: with a sound server answering, the capture would otherwise
record through libpulse (tests/audio/test_pulse_capture.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyaudio
import pytest

from sensors import audio, pulse
from sensors.audio import AudioCapture, CaptureState
from tests.audio.conftest import SINK, PulseServer
from tests.audio.test_headset_pulse import wait_for

#: Retries each test lets happen while the headset is away (at RETRY_S each).
RETRIES = 12
RETRY_S = 0.2


class Counts:
    """Real ``PyAudio`` initialisations and terminations, and open attempts (source look-ups)."""

    def __init__(self) -> None:
        self.inits = self.terminates = self.attempts = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    seen = Counts()

    class CountingPyAudio(pyaudio.PyAudio):  # the real PortAudio, counted
        def __init__(self) -> None:
            super().__init__()
            seen.inits += 1

        def terminate(self) -> None:
            seen.terminates += 1
            super().terminate()

    real_list_sources = pulse.list_sources

    def list_sources() -> list[pulse.PulseObject] | None:
        seen.attempts += 1  # once per open attempt (and per presence check, every 15 s)
        return real_list_sources()

    monkeypatch.setattr(pyaudio, "PyAudio", CountingPyAudio)
    monkeypatch.setattr(pulse, "list_sources", list_sources)
    return seen


@pytest.fixture
def capture(pulse: PulseServer) -> Iterator[AudioCapture]:
    capture = AudioCapture(device=SINK, retry_seconds=RETRY_S, backend="portaudio")
    capture.acquire()
    try:
        assert capture.wait_connected(15), capture.status()
        yield capture
    finally:
        capture.release()


def flowing(capture: AudioCapture) -> bool:
    age = capture.status().silence_age
    return capture.status().connected and age is not None and age < 0.5


def test_retries_while_unplugged_reuse_one_portaudio(
    counts: Counts, capture: AudioCapture, pulse: PulseServer
) -> None:
    inits_open = counts.inits
    pulse.unplug()
    wait_for(lambda: capture.status().state is CaptureState.ABSENT, 20, "the unplug")
    attempts = counts.attempts
    wait_for(lambda: counts.attempts >= attempts + RETRIES, RETRIES * RETRY_S * 20, f"{RETRIES} retries")
    # Before: one fresh PyAudio (and one lasting ~12.5 KiB) per retry.
    assert counts.inits - inits_open <= 1, (counts.inits, counts.attempts)
    assert counts.terminates == 0

    pulse.plug()
    wait_for(lambda: flowing(capture), 20, "the stream to reopen on the kept PortAudio")
    assert counts.inits - inits_open <= 1
    assert capture.portaudio_inits == counts.inits


def test_reopens_after_the_sound_server_restarts(
    counts: Counts, capture: AudioCapture, pulse: PulseServer
) -> None:
    losses = capture.status().losses
    pulse.restart()  # PortAudio's pulse devices must be enumerated again: the server went away

    def back() -> bool:
        return capture.status().losses > losses and flowing(capture)

    wait_for(back, 30, "the stream back after a restart")
    # Bounded by the server's comings and goings, not by the retries in between.
    assert counts.inits <= 3, counts.inits


def test_release_terminates_the_kept_portaudio(counts: Counts, pulse: PulseServer) -> None:
    capture = AudioCapture(device=SINK, retry_seconds=RETRY_S, backend="portaudio")
    pulse.unplug()
    capture.acquire()
    try:
        wait_for(lambda: capture.status().state is CaptureState.ABSENT, 20, "no headset")
        attempts = counts.attempts
        wait_for(lambda: counts.attempts >= attempts + 3, 20, "a few retries")
    finally:
        capture.release()
    assert counts.inits >= 1
    assert counts.terminates == counts.inits  # nothing left initialised by a stopped capture
    assert audio.devices_signature() == audio.devices_signature()  # stable while nothing changes

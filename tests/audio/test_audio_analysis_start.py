"""A stream's start-up zeros are left out of the window; zeros anywhere else still count.

Synthetic capture buffers fed to :meth:`WindowStats.add_samples` as the headset
monitor feeds them (500 ms buffers, the capture's :data:`CONTINUITY_BREAK`
after a pause).  The signal is noisy speech with mains hum: in a window that
held the zeros its noise floor reads −120 dBFS and no block is quiet enough to
read hum from (what made the PulseAudio test flaky under load).
"""

from __future__ import annotations

import numpy as np
import pytest

from sensors.audio_analysis import (
    CONTINUITY_BREAK,
    PA_INPUT_OVERFLOW,
    AnalysisSettings,
    AudioSummary,
    WindowStats,
)
from tests.audio.signals import hum, in_band_level, noise, speech_like, to_pcm

SETTINGS = AnalysisSettings()
RATE = SETTINGS.rate
BUFFER = RATE // 2  # the capture's 500 ms buffers


def noisy_speech_with_hum(seconds: float) -> np.ndarray:
    voice = speech_like(seconds, -30)
    return to_pcm(voice + in_band_level(noise(seconds, -44, seed=4), -44) + hum(seconds, -45))


def zeros(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def feed(window: WindowStats, pcm: np.ndarray, flags: int = 0) -> None:
    """``pcm`` in 500 ms buffers; ``flags`` go with the first one."""
    for n, start in enumerate(range(0, pcm.size, BUFFER)):
        window.add_samples(pcm[start : start + BUFFER], flags if n == 0 else 0)


def summary(window: WindowStats) -> AudioSummary:
    found = window.summary()
    assert found is not None
    return found


def test_zeros_right_after_a_pause_are_not_counted() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    feed(window, noisy_speech_with_hum(2.0))
    # Resumed by the duty cycle: the source hands out 0.8 s of silence, then the signal.
    feed(window, np.concatenate((zeros(0.8), noisy_speech_with_hum(3.0))), CONTINUITY_BREAK)
    s = summary(window)
    assert window.start_zeros_dropped == round(0.8 * RATE)
    assert s.seconds == pytest.approx(5.0)
    assert s.noise_floor_dbfs == pytest.approx(-44, abs=2)
    assert s.hum_dbfs is not None and s.hum_dbfs == pytest.approx(-45, abs=3)
    assert s.dropouts == 0 and not s.dead


def test_a_fresh_window_leaves_out_the_zeros_its_stream_starts_with() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    feed(window, np.concatenate((zeros(0.7), noisy_speech_with_hum(2.5))))
    s = summary(window)
    assert s.seconds == pytest.approx(2.5) and s.noise_floor_dbfs == pytest.approx(-44, abs=2)
    assert s.hum_dbfs is not None


def test_zeros_in_the_middle_of_a_stream_still_count() -> None:
    """The same zeros without a pause before them are the signal (a mute, a gate): kept."""
    window = WindowStats(SETTINGS, seconds=10)
    feed(window, noisy_speech_with_hum(2.0))
    feed(window, np.concatenate((zeros(0.8), noisy_speech_with_hum(3.0))))
    s = summary(window)
    assert window.start_zeros_dropped == 0
    assert s.seconds == pytest.approx(5.8)
    assert s.noise_floor_dbfs == -120.0  # what a window with the start-up zeros read, too


def test_zeros_after_the_first_live_sample_of_a_start_count() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    pcm = np.concatenate((zeros(0.3), noisy_speech_with_hum(1.0), zeros(0.8), noisy_speech_with_hum(1.0)))
    feed(window, pcm, CONTINUITY_BREAK)
    assert window.start_zeros_dropped == round(0.3 * RATE)
    assert summary(window).seconds == pytest.approx(2.8)


def test_an_all_zero_microphone_still_reads_dead() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    feed(window, zeros(3.0), CONTINUITY_BREAK)
    s = summary(window)
    assert s.dead and s.seconds == pytest.approx(3.0)  # every zero counted, from the first
    assert window.start_zeros_dropped == 0


def test_a_dead_microphone_reads_dead_with_listening_spells_shorter_than_the_start_allowance() -> None:
    """Duty cycle: a pause after every 0.5 s of zeros.  A start that never met a signal was silence."""
    window = WindowStats(SETTINGS, seconds=10)
    for _ in range(6):
        feed(window, zeros(0.5), CONTINUITY_BREAK)
    s = summary(window)
    assert s.dead and s.seconds == pytest.approx(2.5)  # the last spell is still held at its start
    assert window.start_zeros_dropped == 0


def test_a_long_silence_at_the_start_counts_whole_then_the_signal() -> None:
    """Muted for 1.5 s after a pause, then unmuted: longer than a start-up, so it is the signal."""
    window = WindowStats(SETTINGS, seconds=10)
    feed(window, np.concatenate((zeros(1.5), noisy_speech_with_hum(1.0))), CONTINUITY_BREAK)
    assert window.start_zeros_dropped == 0
    assert summary(window).seconds == pytest.approx(2.5)


def test_flags_that_came_with_the_dropped_zeros_still_count() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    window.add_samples(zeros(0.5), CONTINUITY_BREAK | PA_INPUT_OVERFLOW)
    window.add_samples(noisy_speech_with_hum(1.0))
    s = summary(window)
    assert s.overflows == 1 and s.seconds == pytest.approx(1.0)


def test_clearing_the_window_forgets_held_zeros() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    window.add_samples(zeros(0.5), CONTINUITY_BREAK)
    window.clear()
    feed(window, np.concatenate((zeros(0.7), noisy_speech_with_hum(1.0))))
    assert summary(window).seconds == pytest.approx(1.0)


def test_a_long_silence_ending_inside_a_buffer_counts_whole() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    window.add_samples(zeros(0.9), CONTINUITY_BREAK)
    window.add_samples(np.concatenate((zeros(0.4), noisy_speech_with_hum(0.5))))
    assert window.start_zeros_dropped == 0
    assert summary(window).seconds == pytest.approx(1.8)


def test_audio_analysed_at_the_read_gives_the_figures_of_audio_analysed_on_arrival() -> None:
    # Buffers are queued and analysed when the window is read: the same blocks, flags and
    # zero runs as one analysed buffer by buffer, across a pause, an overflow and a short buffer.
    buffers = [
        (noisy_speech_with_hum(1.0), 0),
        (np.concatenate((zeros(0.3), noisy_speech_with_hum(0.7))), CONTINUITY_BREAK),
        (noisy_speech_with_hum(1.0), PA_INPUT_OVERFLOW),
        (noisy_speech_with_hum(0.45), 0),  # a flush before a pause: not a whole number of blocks
        (np.concatenate((noisy_speech_with_hum(0.5), zeros(0.05), noisy_speech_with_hum(0.45))), 0),
    ]
    eager, lazy = WindowStats(SETTINGS, seconds=10), WindowStats(SETTINGS, seconds=10)
    for pcm, flags in buffers:
        eager.add_samples(pcm, flags)
        eager.summary()  # analysed now
        lazy.add_samples(pcm, flags)
    assert len(lazy._queue) == len(buffers)  # none analysed yet
    assert lazy.summary() == eager.summary()
    assert lazy.summary(2.0) == eager.summary(2.0)
    assert [(b.samples, b.flags, b.inner_zero_runs, d) for b, d in lazy._blocks] == [
        (b.samples, b.flags, b.inner_zero_runs, d) for b, d in eager._blocks
    ]


def test_a_window_nobody_reads_holds_at_most_queue_seconds_of_raw_audio() -> None:
    window = WindowStats(SETTINGS, seconds=10, queue_seconds=3.0)
    feed(window, noisy_speech_with_hum(20.0))
    assert window._queued <= 3.0 * RATE
    assert window.seconds_held == pytest.approx(10.0)

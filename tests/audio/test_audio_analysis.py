"""Pure analysis of synthetic audio: levels, clipping, hum, dropouts, dead and quiet mics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.audio_analysis import (
    PA_INPUT_OVERFLOW,
    PA_INPUT_UNDERFLOW,
    AnalysisSettings,
    AudioSummary,
    WindowStats,
    analyse_block,
)
from tests.audio.signals import cases, hum, noise, speech_like, to_pcm

SETTINGS = AnalysisSettings()


def analyse(pcm: np.ndarray, block: int = 1600, flags: list[int] | None = None, **kw: float) -> AudioSummary:
    s = AnalysisSettings(**kw) if kw else SETTINGS
    window = WindowStats(s, seconds=60)
    for n, start in enumerate(range(0, pcm.size, block)):
        flag = flags[n] if flags and n < len(flags) else 0
        window.add(analyse_block(pcm[start : start + block], s, flag))
    summary = window.summary()
    assert summary is not None
    return summary


def test_clean_speech_levels() -> None:
    """Active speech level and noise floor in the 300–3400 Hz band (the cases are set in band)."""
    s = analyse(cases()["clean_speech"])
    assert s.speech_level_dbfs == pytest.approx(-30, abs=1)
    assert s.noise_floor_dbfs == pytest.approx(-72, abs=2)
    assert s.snr_db == pytest.approx(42, abs=3)
    assert s.clipped_percent == 0 and s.dropouts == 0 and not s.dead and not s.inaudible
    # Time with speech: the syllables (about 60 % of the signal), not the pauses between them.
    assert 1.8 < s.speech_seconds < 3.0


def test_white_noise_floor_is_the_band_share_of_its_power() -> None:
    """Full-band white noise at −50 dBFS has 3100/8000 of its power in 300–3400 Hz: −54 dBFS."""
    s = analyse(to_pcm(noise(4, -50)))
    assert s.noise_floor_dbfs == pytest.approx(-50 + 10 * np.log10(3100 / 8000), abs=0.5)
    assert not s.speech_present


def test_full_scale_sine_reads_minus_three_dbfs() -> None:
    t = np.arange(16000) / 16000
    s = analyse(to_pcm(np.sin(2 * np.pi * 1000 * t)))
    assert s.peak_dbfs == pytest.approx(-3.0, abs=0.1)


def test_clipping_counts_frames_with_over_ten_percent_at_full_scale() -> None:
    assert analyse(cases()["clipping"]).clipped_percent > 20
    # A loud but unclipped signal: peaks reach full scale once per frame at most.
    t = np.arange(16000) / 16000
    assert analyse(to_pcm(0.98 * np.sin(2 * np.pi * 440 * t))).clipped_percent == 0


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_hum_at_the_configured_mains_frequency(mains: float) -> None:
    pcm = to_pcm(hum(4, -45, mains_hz=mains) + noise(4, -72))
    assert analyse(pcm, mains_hz=mains).hum_dbfs == pytest.approx(-45, abs=1.5)
    other = 60.0 if mains == 50.0 else 50.0
    measured = analyse(pcm, mains_hz=other).hum_dbfs
    assert measured is None or measured < -60


def test_white_noise_is_not_hum() -> None:
    summary = analyse(to_pcm(noise(4, -40)))
    assert summary.hum_dbfs is None or summary.hum_dbfs < -65


def test_dc_offset_is_measured_apart_from_the_levels() -> None:
    biased = analyse(to_pcm(noise(2, -60) + 0.05))
    assert biased.dc_offset_percent == pytest.approx(5, abs=0.2)
    assert biased.noise_floor_dbfs < -58  # the bias is not counted as noise
    assert analyse(cases()["dc_offset"]).dc_offset_percent == pytest.approx(4, abs=0.2)
    assert analyse(cases()["clipping"]).dc_offset_percent < 1


def test_a_short_stretch_takes_the_noise_floor_of_the_whole_window() -> None:
    window = WindowStats(SETTINGS, seconds=10)
    pcm = cases(seconds=6.0)["noisy_speech"]
    for start in range(0, pcm.size, 1600):
        window.add(analyse_block(pcm[start : start + 1600], SETTINGS))
    whole, last = window.summary(), window.summary(last_seconds=0.5)
    assert whole is not None and last is not None
    assert last.noise_floor_dbfs == whole.noise_floor_dbfs == pytest.approx(-44, abs=1)


def test_digital_silence_is_dead_and_quiet_speech_inaudible() -> None:
    dead = analyse(np.zeros(32000, dtype=np.int16))
    assert dead.dead and not dead.inaudible and dead.dropouts == 0
    quiet = analyse(cases()["quiet_speech"])
    assert quiet.inaudible and not quiet.dead and quiet.speech_present


def test_room_noise_is_neither_speech_nor_dead() -> None:
    s = analyse(cases()["silence"])
    assert not s.speech_present and not s.dead and s.snr_db is None


def test_dropout_flags_are_counted() -> None:
    pcm = to_pcm(speech_like(2) + noise(2, -70))
    flags = [0, PA_INPUT_OVERFLOW, 0, PA_INPUT_UNDERFLOW, PA_INPUT_OVERFLOW | PA_INPUT_UNDERFLOW]
    s = analyse(pcm, flags=flags)
    assert (s.overflows, s.underflows, s.dropouts) == (2, 2, 4)


def test_zero_gaps_inside_signal_are_dropouts_but_leading_silence_is_not() -> None:
    signal = noise(2, -50)
    signal[:8000] = 0  # the stream starts silent: not a dropout
    signal[12000:12200] = 0  # 12.5 ms gap: a dropout
    signal[20000:20040] = 0  # 2.5 ms: too short to count
    signal[24000:30000] = 0  # 375 ms: a noise gate or mute, not a dropout
    assert analyse(to_pcm(signal)).dropouts == 1


@settings(max_examples=60, deadline=None)
@given(
    gap_start=st.integers(min_value=200, max_value=15000),
    gap_len=st.integers(min_value=80, max_value=3000),
    block=st.sampled_from([160, 320, 1000, 1600, 4000]),
)
def test_a_gap_counts_once_wherever_block_boundaries_fall(gap_start: int, gap_len: int, block: int) -> None:
    rng = np.random.default_rng(gap_start)
    pcm = rng.integers(1, 2000, size=20000).astype(np.int16)  # never exactly zero
    pcm[gap_start : gap_start + gap_len] = 0
    assert analyse(pcm, block=block).dropouts == 1


def test_window_forgets_old_audio() -> None:
    window = WindowStats(SETTINGS, seconds=1.0)
    loud = to_pcm(noise(0.1, -20))
    quiet = to_pcm(noise(0.1, -70))
    for _ in range(10):
        window.add(analyse_block(loud, SETTINGS))
    for _ in range(10):
        window.add(analyse_block(quiet, SETTINGS))
    summary = window.summary()
    assert summary is not None and summary.seconds == pytest.approx(1.0)
    assert summary.peak_dbfs < -60
    last = window.summary(last_seconds=0.3)
    assert last is not None and last.seconds == pytest.approx(0.3)


def test_empty_window_has_no_summary() -> None:
    assert WindowStats(SETTINGS).summary() is None


@settings(max_examples=80, deadline=None)
@given(
    rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]),
    length=st.integers(min_value=0, max_value=6000),
    level=st.floats(min_value=-100, max_value=10),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_any_block_length_and_rate_gives_sane_levels(rate: int, length: int, level: float, seed: int) -> None:
    """Odd capture buffers, every rate the monitor accepts, silence to overdrive: finite, ordered readings."""
    s = AnalysisSettings(rate=rate)
    pcm = to_pcm(noise(length / rate, level, rate=rate, seed=seed)) if length else np.zeros(0, np.int16)
    stats = analyse_block(pcm, s)
    frames = length // s.frame_samples
    assert stats.frame_power.size == stats.band_power.size == stats.band_magnitude.size == frames
    assert np.all(np.isfinite(stats.band_power)) and np.all(stats.band_power >= 0)
    # The band holds part of the power, never more (allowing for the filter's ripple at the edges).
    assert np.sum(stats.band_power) <= 1.05 * np.sum(stats.frame_power) + 1e-12
    window = WindowStats(s)
    window.add(stats)
    summary = window.summary()
    if frames:
        assert summary is not None and math.isfinite(summary.noise_floor_dbfs)
        assert summary.speech_level_dbfs is None or math.isfinite(summary.speech_level_dbfs)

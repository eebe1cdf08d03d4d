"""Speech level, noise floor and SNR against the in-band truth of synthetic signals.

Each case builds the clean speech and the noise apart, measures their sum
the way the headset monitor does (100 ms blocks into a window), and holds the
readings to the truth computed from the separate signals: the ITU-T P.56
active speech level of the clean speech in the telephone band, the mean
in-band power of the noise, and their difference.  ±3 dB, as issue 12 asks.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensors.audio_analysis import AnalysisSettings, AudioSummary, WindowStats, analyse_block
from tests.audio.signals import (
    RATE,
    Signal,
    active_speech_level,
    hum,
    in_band,
    in_band_level,
    noise,
    pink_noise,
    power_dbfs,
    speech_like,
    synthesised_speech,
    to_pcm,
)

SECONDS = 8.0
TOLERANCE_DB = 3.0


def measure(pcm: np.ndarray, rate: int = RATE, block_ms: float = 100.0) -> AudioSummary:
    settings = AnalysisSettings(rate=rate)
    window = WindowStats(settings, seconds=60)
    block = int(rate * block_ms / 1000)
    for start in range(0, pcm.size, block):
        window.add(analyse_block(pcm[start : start + block], settings))
    summary = window.summary()
    assert summary is not None
    return summary


def check(clean: Signal, background: Signal, rate: int = RATE, block_ms: float = 100.0) -> AudioSummary:
    """Measure clean + background and compare with the truth from the two apart."""
    speech = active_speech_level(in_band(clean, rate=rate), rate)
    floor = power_dbfs(in_band(background, rate=rate))
    got = measure(to_pcm(clean + background), rate, block_ms)
    truth = {"speech level": speech, "noise floor": floor, "SNR": speech - floor}
    measured = {"speech level": got.speech_level_dbfs, "noise floor": got.noise_floor_dbfs, "SNR": got.snr_db}
    wrong = {
        name: (None if value is None else round(value, 1), round(float(truth[name]), 1))
        for name, value in measured.items()
        if value is None or abs(value - truth[name]) > TOLERANCE_DB
    }
    assert not wrong, f"(measured, truth): {wrong}"
    return got


@pytest.mark.parametrize("colour", ["white", "pink"])
@pytest.mark.parametrize("level", [-35, -26, -20])
@pytest.mark.parametrize("snr", [5, 10, 20, 30])
def test_speech_in_noise(colour: str, level: float, snr: float) -> None:
    clean = speech_like(SECONDS, level, seed=int(-level))
    make = noise if colour == "white" else pink_noise
    # The noise is set so the in-band SNR is the nominal one; the truth is still
    # computed from the signals, not taken from these numbers.
    background = in_band_level(make(SECONDS, level, seed=snr), level - snr)
    check(clean, background)


@pytest.mark.parametrize("voice", ["en", "cmn"])
@pytest.mark.parametrize(("colour", "snr"), [("white", 5), ("pink", 10), ("white", 20), ("pink", 30)])
def test_spoken_words_in_noise(voice: str, colour: str, snr: float) -> None:
    """Words with real pauses and intonation (espeak-ng), English and Mandarin."""
    clean = synthesised_speech(voice, -26)
    make = noise if colour == "white" else pink_noise
    check(clean, in_band_level(make(clean.size / RATE, -40, seed=snr), -26 - snr))


def test_the_issue_case_white_noise_ten_db_below_full_band() -> None:
    """Issue 12: speech at −20 dBFS, white noise 10 dB below it over the full band (read 19.5 dB)."""
    clean = speech_like(SECONDS, -20)
    background = noise(SECONDS, -30, seed=9)
    got = check(clean, background)
    # White noise has 3100/8000 of its power in the band: the in-band SNR is 14 dB.
    assert got.snr_db == pytest.approx(10 + 10 * np.log10(8000 / 3100), abs=TOLERANCE_DB)


def test_hum_below_the_band_is_neither_noise_nor_speech() -> None:
    """50 Hz hum and its harmonics (to 250 Hz) stay out of the telephone band's noise floor."""
    clean = speech_like(SECONDS, -26)
    background = hum(SECONDS, -42) + in_band_level(noise(SECONDS, -56, seed=11), -56)
    got = check(clean, background)
    assert got.hum_dbfs == pytest.approx(-42, abs=2)


def test_hum_in_silence_leaves_the_quiet_floor() -> None:
    room = in_band_level(noise(SECONDS, -72, seed=12), -72)
    got = measure(to_pcm(hum(SECONDS, -42) + room))
    assert got.noise_floor_dbfs == pytest.approx(power_dbfs(in_band(room)), abs=TOLERANCE_DB)
    assert got.hum_dbfs == pytest.approx(-42, abs=2) and not got.speech_present


def test_clipped_speech() -> None:
    """An overdriven voice: the clean signal is the clipped one the ADC delivers."""
    clean = np.clip(speech_like(SECONDS, -26) * 20, -1.0, 32767 / 32768)
    got = check(clean, in_band_level(noise(SECONDS, -60, seed=13), -60))
    assert got.clipped_percent > 20


@pytest.mark.parametrize("rate", [8000, 48000])
def test_other_sample_rates(rate: int) -> None:
    clean = speech_like(SECONDS, -26, rate=rate)
    check(clean, in_band_level(noise(SECONDS, -40, rate=rate, seed=14), -36, rate=rate), rate=rate)


@pytest.mark.parametrize("block_ms", [20.0, 50.0, 250.0])
def test_other_capture_buffers(block_ms: float) -> None:
    clean = speech_like(SECONDS, -26)
    check(clean, in_band_level(noise(SECONDS, -40, seed=15), -40), block_ms=block_ms)


def test_noise_alone_is_no_speech_whatever_its_level() -> None:
    for level in (-70, -50, -30):
        got = measure(to_pcm(in_band_level(pink_noise(SECONDS, level, seed=16), level)))
        assert not got.speech_present and got.speech_seconds < 0.3
        assert got.noise_floor_dbfs == pytest.approx(level, abs=1)


def test_keyboard_clicks_are_not_talking_time() -> None:
    """Clicks are neither talking time (what call detection reads) nor a speech level to judge.

    P.56 alone would call them active (and add 200 ms of hangover to each).
    """
    room = in_band_level(noise(SECONDS, -72, seed=17), -72)
    rng = np.random.default_rng(17)
    for start in np.arange(0.1, SECONDS - 0.1, 0.2):  # typing, five keys a second
        at = int(start * RATE)
        room[at : at + 48] += rng.normal(0.0, 10 ** (-30 / 20), 48)
    got = measure(to_pcm(room))
    assert got.speech_seconds < 0.1 and not got.speech_present


@pytest.mark.parametrize("offset_ms", [0, 3, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41])
def test_hum_is_found_whatever_the_blocks_phase(offset_ms: int) -> None:
    """The capture's blocks start anywhere in the mains cycle: hum must read the same.

    Block-edge frames carry leaked hum energy into the band; a block's level taken
    over them sometimes left no block "near the floor", so hum read nothing.
    """
    room = in_band_level(noise(SECONDS + 0.1, -72, seed=5), -72)
    pcm = to_pcm(hum(SECONDS + 0.1, -42) + room)
    start = int(RATE * offset_ms / 1000)
    got = measure(pcm[start : start + int(SECONDS * RATE)], block_ms=100.0)
    assert got.hum_dbfs is not None and got.hum_dbfs == pytest.approx(-42, abs=2), offset_ms


def _hum_over_windows(signal: Signal, seeds: range, noise_dbfs: float) -> list[float]:
    """Hum read in 2 s windows starting every 100 ms (as a poll falls anywhere in the signal)."""
    readings = []
    for seed in seeds:
        pcm = to_pcm(signal + in_band_level(noise(SECONDS, noise_dbfs, seed=seed), noise_dbfs))
        for offset_ms in range(0, 5500, 100):
            start = RATE * offset_ms // 1000
            got = measure(pcm[start : start + 2 * RATE])
            readings.append(-120.0 if got.hum_dbfs is None else got.hum_dbfs)
    return readings


def test_speech_on_a_noisy_line_reads_no_hum_wherever_the_window_falls() -> None:
    """No hum in the signal: the reading stays clear of the warning, at every window position.

    Over a window's few quiet blocks, −44 dBFS line noise and the fading low
    harmonics of words (f0 110–160 Hz, near 100, 150, 300 Hz) read up to
    −60.6 dBFS as the mean: 0.6 dB under the warning, and over it in the live
    test on a loaded machine (the window lands elsewhere in the signal).  OK
    must be OK with the indicator's own margin: under its clear level.
    """
    from monitors.headset import HUM

    assert HUM.thresholds is not None and HUM.thresholds.warning_clear is not None
    readings = _hum_over_windows(speech_like(SECONDS, -30.0), range(1, 7), -44.0)
    assert max(readings) < HUM.thresholds.warning_clear, sorted(readings)[-5:]


def test_hum_on_a_noisy_line_is_still_found() -> None:
    """The other side of it: a hum between warning and critical reads so at every window position."""
    from monitors.headset import HUM

    assert HUM.thresholds is not None and HUM.thresholds.warning is not None
    signal = hum(SECONDS, -55.0) + speech_like(SECONDS, -30.0)
    readings = _hum_over_windows(signal, range(1, 4), -44.0)
    assert min(readings) >= HUM.thresholds.warning, sorted(readings)[:5]

"""Synthetic test signals for the headset analysis (int16 mono PCM).

The "speech-like" signal is a voiced harmonic series (F0 around 130 Hz with a
falling spectrum) gated into syllables of 150–350 ms separated by short
pauses, over a faint room noise: what matters for the analysis is that it has
active stretches at a known level and pauses at the noise floor.  Its level is
the in-band active speech level (ITU-T P.56), the figure the analysis reports;
noise levels are full-band RMS unless a test scales them in band.  The in-band
truth a measurement is held to is computed here from the separate clean and
noise signals (:func:`in_band`, :func:`active_speech_level`).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

RATE = 16000
FULL_SCALE = 32768.0
Signal = npt.NDArray[np.float64]


def db_to_rms(dbfs: float) -> float:
    return float(10 ** (dbfs / 20))


def noise(seconds: float, dbfs: float, rate: int = RATE, seed: int = 1) -> Signal:
    """White noise with the given RMS level."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, db_to_rms(dbfs), int(seconds * rate))


def speech_like(seconds: float, dbfs: float = -30.0, rate: int = RATE, seed: int = 2) -> Signal:
    """Syllables of a harmonic voice with pauses, at active speech level ``dbfs``.

    The level is what the standard measures: ITU-T P.56 active speech level in
    the telephone band (300–3400 Hz), see :func:`active_speech_level`.  The
    harmonics below 300 Hz are weaker (12 dB per octave), as through a headset
    microphone, so the band holds most of the power, as it does for real speech.
    """
    return _speech_like(seconds, dbfs, rate, seed).copy()


@functools.lru_cache(maxsize=64)
def _speech_like(seconds: float, dbfs: float, rate: int, seed: int) -> Signal:
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = int(0.05 * rate)
    while pos < n:
        length = int(rng.uniform(0.15, 0.35) * rate)
        f0 = rng.uniform(110, 160)
        t = np.arange(length) / rate
        syllable = sum(
            min(1.0, (f0 * h / 300) ** 2) * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6)) / h
            for h in range(1, 25)
            if f0 * h < rate / 2
        )
        envelope = np.sin(np.pi * np.arange(length) / length) ** 0.5
        syllable = syllable * envelope
        end = min(n, pos + length)
        out[pos:end] = syllable[: end - pos]
        pos = end + int(rng.uniform(0.08, 0.25) * rate)
    scaled = out * db_to_rms(dbfs - active_speech_level(in_band(out, rate=rate), rate))
    scaled.flags.writeable = False  # cached: callers get copies
    return scaled


def hum(seconds: float, dbfs: float, mains_hz: float = 50.0, rate: int = RATE) -> Signal:
    """Mains hum: the fundamental and odd/even harmonics falling off, total RMS ``dbfs``."""
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * mains_hz * k * t) / k for k in range(1, 6))
    return wave * db_to_rms(dbfs) / np.sqrt(np.mean(wave**2))


def with_gaps(signal: Signal, every_s: float = 0.5, gap_ms: float = 30.0, rate: int = RATE) -> Signal:
    """Exact digital zeros punched into a signal, as a dropping stream produces."""
    out = signal.copy()
    gap = int(gap_ms * rate / 1000)
    for start in range(int(0.2 * rate), out.size - gap, int(every_s * rate)):
        out[start : start + gap] = 0.0
    return out


def to_pcm(signal: Signal) -> npt.NDArray[np.int16]:
    """Float (1.0 = full scale) to int16, clipping like an overdriven ADC."""
    return np.round(np.clip(signal, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def cases(seconds: float = 4.0, rate: int = RATE) -> dict[str, npt.NDArray[np.int16]]:
    """The named signals the integration test plays through PulseAudio.

    Noise levels here are in the telephone band, as the analysis reads them
    (white noise at −72 dBFS in band is about −68 dBFS full band).
    """
    room = in_band_level(noise(seconds, -72, rate, seed=3), -72, rate)
    voice = speech_like(seconds, -30, rate)
    return {
        "clean_speech": to_pcm(voice + room),
        "noisy_speech": to_pcm(voice + in_band_level(noise(seconds, -44, rate, seed=4), -44, rate)),
        "clipping": to_pcm(speech_like(seconds, -30, rate) * 30 + room),
        "hum": to_pcm(hum(seconds, -42, rate=rate) + room),
        "silence": to_pcm(room),
        "digital_zeros": np.zeros(int(seconds * rate), dtype=np.int16),
        "dropouts": to_pcm(with_gaps(voice + room, every_s=0.3, rate=rate)),
        "dc_offset": to_pcm(voice + room + 0.04),
        "quiet_speech": to_pcm(speech_like(seconds, -52, rate) + noise(seconds, -85, rate, seed=5)),
    }


# -- the in-band truth the analysis is held to ---------------------------------------------------


def in_band(signal: Signal, low: float = 300.0, high: float = 3400.0, rate: int = RATE) -> Signal:
    """The signal with everything outside ``low``–``high`` Hz removed (an ideal filter)."""
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(signal.size, 1.0 / rate)
    spectrum[(freqs < low) | (freqs > high)] = 0.0
    return np.fft.irfft(spectrum, signal.size)


def in_band_level(signal: Signal, dbfs: float, rate: int = RATE) -> Signal:
    """The signal scaled so that its 300–3400 Hz part has the mean-square level ``dbfs``."""
    return signal * db_to_rms(dbfs - power_dbfs(in_band(signal, rate=rate)))


def power_dbfs(signal: Signal) -> float:
    """Mean-square level of a whole signal in dBFS."""
    return float(10 * np.log10(np.mean(signal**2)))


def pink_noise(seconds: float, dbfs: float, rate: int = RATE, seed: int = 6) -> Signal:
    """Noise whose power falls 3 dB per octave (1/f), from 20 Hz up, with the given RMS level."""
    n = int(seconds * rate)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    spectrum[0] = 0.0
    out = np.fft.irfft(spectrum, n)
    return out * db_to_rms(dbfs) / np.sqrt(np.mean(out**2))


def active_speech_level(signal: Signal, rate: int = RATE) -> float:
    """ITU-T P.56 method B active speech level of a clean signal, in dBFS, done by the book.

    Envelope: |x| through two cascaded one-pole smoothers (T = 30 ms); for each
    threshold c, activity counts the samples where the envelope is at least c
    or fell below it less than 200 ms ago; the active level for c is the whole
    signal's energy over that count; the result is the level whose threshold
    lies 15.9 dB below it.  The threshold is found by
    P.56's 6 dB steps with interpolation: a bisection to 0.01 dB.
    """
    g = np.exp(-1.0 / (0.03 * rate))
    taps = int(np.ceil(np.log(1e-7) / np.log(g)))
    k = np.arange(taps)
    kernel = (1 - g) ** 2 * (k + 1) * g**k
    size = 1 << (signal.size + taps).bit_length()  # a fast FFT length
    smoothed = np.fft.irfft(np.fft.rfft(np.abs(signal), size) * np.fft.rfft(kernel, size), size)
    envelope = smoothed[: signal.size]
    hangover = int(np.ceil(0.2 * rate))
    energy = float(np.sum(signal**2))
    index = np.arange(signal.size)

    def level_and_gap(c_db: float) -> tuple[float, float]:
        above = envelope >= 10 ** (c_db / 20)
        last = np.maximum.accumulate(np.where(above, index, -(10**9)))
        count = max(1, int(np.count_nonzero(index - last <= hangover)))
        level = 10 * np.log10(energy / count)
        return level, level - c_db

    # The gap between active level and threshold shrinks as the threshold rises:
    # bisect for the threshold 15.9 dB below the level it gives.
    high = 20 * np.log10(envelope.max())
    low = high - 100
    if level_and_gap(low)[1] <= 15.9:
        raise ValueError("no active speech")
    while high - low > 0.01:
        middle = (low + high) / 2
        if level_and_gap(middle)[1] > 15.9:
            low = middle
        else:
            high = middle
    return level_and_gap(high)[0]


#: What the clerk says, in the two languages of the seat.
PHRASES = {
    "en": (
        "Good morning, this is the electricity customer service line. Your account number, please. "
        "Thank you. I can see the outage in your district; a crew is on the way, "
        "and power should be back within two hours."
    ),
    "cmn": (
        "您好,这里是供电公司客户服务中心。请问您的户号是多少?"
        "谢谢,您所在的区域停电了,抢修人员正在路上,预计两小时内恢复供电。"
    ),
}


def synthesised_speech(voice: str, dbfs: float, rate: int = RATE) -> Signal:
    """A phrase spoken by espeak-ng (formant synthesis: real words, pauses and intonation).

    Resampled to ``rate`` and set to the in-band active speech level ``dbfs``.
    """
    return _synthesised_speech(voice, dbfs, rate).copy()


@functools.lru_cache(maxsize=8)
def _synthesised_speech(voice: str, dbfs: float, rate: int) -> Signal:
    binary = shutil.which("espeak-ng")
    if binary is None:
        pytest.fail("espeak-ng is not installed (Debian: espeak-ng); .ci/bootstrap installs it")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "phrase.wav"
        subprocess.run([binary, "-v", voice, "-w", str(path), PHRASES[voice]], check=True, timeout=60)
        with wave.open(str(path)) as wav:
            source_rate = wav.getframerate()
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2") / FULL_SCALE
    # Resample in the frequency domain (band-limited: espeak-ng speaks at 22.05 kHz).
    n = round(pcm.size * rate / source_rate)
    spectrum = np.fft.rfft(pcm)
    resampled = np.zeros(n // 2 + 1, dtype=complex)
    keep = min(resampled.size, spectrum.size)
    resampled[:keep] = spectrum[:keep]
    out = np.fft.irfft(resampled, n) * (n / pcm.size)
    scaled = out * db_to_rms(dbfs - active_speech_level(in_band(out, rate=rate), rate))
    scaled.flags.writeable = False  # cached: callers get copies
    return scaled

"""Synthetic test signals for the headset analysis (int16 mono PCM).

The "speech-like" signal is a voiced harmonic series (F0 around 130 Hz with a
falling spectrum) gated into syllables of 150–350 ms separated by short
pauses, over a faint room noise: what matters for the analysis is that it has
active stretches at a known level and pauses at the noise floor.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 16000
Signal = npt.NDArray[np.float64]


def db_to_rms(dbfs: float) -> float:
    return float(10 ** (dbfs / 20))


def noise(seconds: float, dbfs: float, rate: int = RATE, seed: int = 1) -> Signal:
    """White noise with the given RMS level."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, db_to_rms(dbfs), int(seconds * rate))


def speech_like(seconds: float, dbfs: float = -30.0, rate: int = RATE, seed: int = 2) -> Signal:
    """Syllables of a harmonic voice whose active level is ``dbfs``, with silent pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = int(0.05 * rate)
    while pos < n:
        length = int(rng.uniform(0.15, 0.35) * rate)
        f0 = rng.uniform(110, 160)
        t = np.arange(length) / rate
        syllable = sum(
            np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6)) / h for h in range(1, 25) if f0 * h < rate / 2
        )
        envelope = np.sin(np.pi * np.arange(length) / length) ** 0.5
        syllable = syllable * envelope
        end = min(n, pos + length)
        out[pos:end] = syllable[: end - pos]
        pos = end + int(rng.uniform(0.08, 0.25) * rate)
    active = np.abs(out) > 0
    rms = np.sqrt(np.mean(out[active] ** 2))
    return out * db_to_rms(dbfs) / rms


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
    """The named signals the integration test plays through PulseAudio."""
    room = noise(seconds, -72, rate, seed=3)
    voice = speech_like(seconds, -30, rate)
    return {
        "clean_speech": to_pcm(voice + room),
        "noisy_speech": to_pcm(voice + noise(seconds, -44, rate, seed=4)),
        "clipping": to_pcm(speech_like(seconds, -30, rate) * 30 + room),
        "hum": to_pcm(hum(seconds, -42, rate=rate) + room),
        "silence": to_pcm(room),
        "digital_zeros": np.zeros(int(seconds * rate), dtype=np.int16),
        "dropouts": to_pcm(with_gaps(voice + room, every_s=0.3, rate=rate)),
        "dc_offset": to_pcm(voice + room + 0.04),
        "quiet_speech": to_pcm(speech_like(seconds, -52, rate) + noise(seconds, -85, rate, seed=5)),
    }

"""The sound-dose analysis next to the microphone analysis, per second of audio (in-process).

The issue's bar: the dose analysis costs no more than the microphone
analysis.  Both run on the same speech-like signal in the capture's 500 ms
buffers, interleaved (median of several rounds), so machine load hits both
alike.  A second line runs the dose meter on audio loud enough that every
4 ms frame is above the shock level (its per-frame path), the worst case.

The capture itself costs what the microphone's does (the same
:class:`~sensors.audio.AudioCapture`), but only while the headset's sink
plays: an idle seat records nothing for the dose.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from sensors import sound_dose
from sensors.audio_analysis import AnalysisSettings, WindowStats, analyse_blocks
from tests.audio.signals import noise, speech_like, to_pcm
from tests.bench import Result, Usage

RATE = 16000
BUFFER = RATE // 2  # the capture's 500 ms


def _mic(pcm: np.ndarray) -> Callable[[], None]:
    settings = AnalysisSettings(rate=RATE)
    window = WindowStats(settings, 10.0)

    def work() -> None:
        for start in range(0, pcm.size, BUFFER):
            for stats in analyse_blocks(pcm[start : start + BUFFER], settings):
                window.add(stats)
            if start % (5 * RATE) == 0:  # a poll every 5 s: the window's summaries
                window.summary()
                window.summary(5.0)

    return work


def _dose(pcm: np.ndarray, sensitivity_db: float) -> Callable[[], None]:
    meter = sound_dose.SoundDoseMeter(sound_dose.MeterSettings(sensitivity_db=sensitivity_db), RATE)

    def work() -> None:
        for start in range(0, pcm.size, BUFFER):
            meter.add(pcm[start : start + BUFFER], RATE, float(start) / RATE)
            if start % (5 * RATE) == 0:
                meter.take()

    return work


def costs(seconds_of_audio: float = 60.0, rounds: int = 5) -> dict[str, float]:
    """CPU milliseconds per second of audio: ``mic``, ``dose`` and ``dose_loud`` (medians of ``rounds``)."""
    pcm = to_pcm(speech_like(seconds_of_audio, -30) + noise(seconds_of_audio, -70))
    jobs = {
        "mic": _mic(pcm),
        "dose": _dose(pcm, sound_dose.DEFAULT_SENSITIVITY_DB),
        "dose_loud": _dose(pcm, 160.0),  # 160 dB SPL full scale: speech frames all above 102
    }
    spent: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            started = time.process_time()
            job()
            spent[name].append(time.process_time() - started)
    return {name: 1000.0 * statistics.median(times) / seconds_of_audio for name, times in spent.items()}


def run(seconds: float) -> list[Result]:
    result = costs(max(10.0, seconds))
    # Usage is in CPU s per minute: ms per second of audio × 60 / 1000.
    mic = Usage("microphone analysis (headset monitor)", result["mic"] * 0.06, 0.0)
    dose = Usage("sound-dose analysis (hearing monitor)", result["dose"] * 0.06, 0.0)
    loud = Usage("sound-dose analysis, all frames above shock level", result["dose_loud"] * 0.06, 0.0)
    note = f"per second of audio: mic {result['mic']:.3f} ms, dose {result['dose']:.3f} ms"
    return [Result("hearing-analysis", dose, mic, notes=note), Result("hearing-analysis-loud", loud, mic)]

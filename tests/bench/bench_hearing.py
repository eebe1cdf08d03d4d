"""The sound-dose analysis next to the microphone analysis, per second of audio (in-process).

The issue's bar: the dose analysis costs no more than the microphone
analysis.  Both run on the same speech-like signal in the capture's 500 ms
buffers, interleaved (median of several rounds), so machine load hits both
alike.  A second line runs the dose meter on audio loud enough that every
4 ms frame is above the shock level (its per-frame path), the worst case.

Then the whole process, seen from outside, side by side on one private
PulseAudio whose headset sink plays speech for the whole run:
``deskwatch run --headless`` with only the hearing monitor (capture of the
sink's monitor, dose analysis, the gate's ``pactl``), with only the headset
monitor (its microphone is that same monitor source, and continuous speech
is a call, so it listens all the time), and with no monitor (the floor).
The capture itself costs what the microphone's does (the same
:class:`~sensors.audio.AudioCapture`), but only while the headset's sink
plays: an idle seat records nothing for the dose.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensors import sound_dose
from sensors.audio_analysis import AnalysisSettings, WindowStats, analyse_blocks
from tests.audio.conftest import SINK
from tests.audio.signals import noise, speech_like, to_pcm
from tests.bench import Result, Usage, measure_side_by_side
from tests.bench.bench_scale import headless_commands, only
from tests.bench.seat import Seat

RATE = 16000
#: The processes measured side by side.
NAMES = ("hearing monitor only", "headset monitor only", "floor: no monitor")
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
        meter.take()  # the meter analyses what it queued at take(): all of it is counted

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


def processes(seconds: float, warmup: float = 15.0) -> dict[str, Usage]:
    """The three headless processes side by side (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="dw-bench-hearing-") as tmp:
        root = Path(tmp)
        playing = warmup + seconds + 120
        with Seat(root / "seat", printers=0, sensors=0, phone=False, play_seconds=playing) as seat:
            configs = dict(
                zip(
                    NAMES,
                    (
                        only("hearing", f'[monitors.hearing]\nsink = "{SINK}"\n'),
                        only("headset", f'[monitors.headset]\ndevice = "{SINK}"\n'),
                        only(None),
                    ),
                    strict=True,
                )
            )
            commands = headless_commands(configs, root, "hearing")
            return measure_side_by_side(commands, seconds, warmup=warmup, env=seat.env())


def run(seconds: float) -> list[Result]:
    result = costs(max(10.0, seconds))
    # Usage is in CPU s per minute: ms per second of audio × 60 / 1000.
    mic = Usage("microphone analysis (headset monitor)", result["mic"] * 0.06, 0.0)
    dose = Usage("sound-dose analysis (hearing monitor)", result["dose"] * 0.06, 0.0)
    loud = Usage("sound-dose analysis, all frames above shock level", result["dose_loud"] * 0.06, 0.0)
    note = f"per second of audio: mic {result['mic']:.3f} ms, dose {result['dose']:.3f} ms"
    results = [Result("hearing-analysis", dose, mic, notes=note), Result("hearing-analysis-loud", loud, mic)]
    usage = processes(seconds)
    hearing, headset, floor = (usage[k] for k in NAMES)
    over = hearing.cpu_seconds_per_minute - floor.cpu_seconds_per_minute
    head_over = headset.cpu_seconds_per_minute - floor.cpu_seconds_per_minute
    note = f"over the floor: hearing {over:.3f}, headset {head_over:.3f} CPU-s/min"
    results += [Result("hearing-process", hearing, headset, notes=note)]
    results.append(Result("hearing-floor", hearing, floor))
    return results

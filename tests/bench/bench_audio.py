"""Headset monitoring: analysis cost per second of audio, and the whole app next to bare PyAudio loops.

A private PulseAudio server (as in the tests) plays a speech-like signal into
a null sink for the whole run; every process records the sink's monitor
source at 16 kHz mono:

* ``deskwatch run --headless`` with only the headset monitor (capture,
  analysis, call state from ``pactl subscribe`` events, engine, history):
  speech throughout is a call, so it listens continuously; the same with
  call detection off (which knows no call, so listens in spells);
* outside a call: Deskwatch on a second private server whose "headset"
  hears only room noise, where it listens in spells (``idle_listen_seconds``),
  next to a bare capture of the same noise on a third -- on the same server
  the bare capture would be a program recording from the microphone, which
  is a call;
* a bare PyAudio capture loop with the same stream parameters (callback mode,
  100 ms buffers) that only receives the blocks;
* the loop DESIGN.md §5 measured: blocking 20 ms reads.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from sensors.audio import AudioCapture
from sensors.audio_analysis import AnalysisSettings, WindowStats, analyse_blocks
from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.bench import Result, measure_side_by_side, python

BARE_CALLBACK = """
import time, pyaudio
p = pyaudio.PyAudio()
def callback(data, frames, info, status):
    return (None, pyaudio.paContinue)
s = p.open(format=pyaudio.paInt16, channels=1, rate=16000, input=True,
           frames_per_buffer=1600, stream_callback=callback)
while True:
    time.sleep(60)
"""

BARE_20MS_READS = """
import pyaudio
p = pyaudio.PyAudio()
s = p.open(format=pyaudio.paInt16, channels=1, rate=16000, input=True, frames_per_buffer=320)
while True:
    s.read(320, exception_on_overflow=False)
"""


def analysis_cost(
    seconds_of_audio: float = 120.0, block: int | None = None, poll_seconds: float = 5.0
) -> float:
    """CPU milliseconds the analysis spends per second of speech-like audio (in-process).

    As the headset monitor does it: capture buffers of the capture's default
    length (``block`` samples to compare others), cut into analysis blocks,
    and at every poll the whole window's summary and that of the last poll
    interval.
    """
    settings = AnalysisSettings()
    if block is None:
        block = int(settings.rate * AudioCapture().block_ms / 1000)
    pcm = to_pcm(speech_like(seconds_of_audio, -30) + noise(seconds_of_audio, -70))
    window = WindowStats(settings, 10.0)
    poll = int(poll_seconds * settings.rate)
    started = time.process_time()
    for start in range(0, pcm.size, block):
        for stats in analyse_blocks(pcm[start : start + block], settings):
            window.add(stats)
        if start // poll != (start + block) // poll:
            window.summary()
            window.summary(poll_seconds)
    spent = time.process_time() - started
    return 1000.0 * spent / seconds_of_audio


def run(seconds: float) -> list[Result]:
    per_second_ms = analysis_cost()
    small_buffers_ms = analysis_cost(block=1600)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pulse = PulseServer(root / "pulse")
        pulse.start()
        rooms = [PulseServer(root / f"room{n}") for n in range(2)]
        try:
            in_room = []
            for room in rooms:
                room.start()
                room.play(np.asarray(to_pcm(noise(seconds + 30, -65))))
                # ``env`` execs the process: its pid (and CPU) is the capture's.
                in_room.append(
                    ["env", *(f"{k}={v}" for k, v in {**room.env, "PULSE_SOURCE": SOURCE}.items())]
                )
            signal = to_pcm(speech_like(seconds + 30, -30) + noise(seconds + 30, -70))
            pulse.play(np.asarray(signal))
            config = root / "bench.toml"
            text = f'[monitors.headset]\nenabled = true\ndevice = "{SINK}"\n'
            import monitors

            for monitor_id in monitors.discover():
                if monitor_id != "headset":
                    text += f"[monitors.{monitor_id}]\nenabled = false\n"
            config.write_text(text, "utf-8")
            # The same without call detection: isolates what asking PulseAudio
            # which applications record (pactl every poll) costs.
            quiet = root / "bench-no-calls.toml"
            device = f'device = "{SINK}"\n'
            quiet.write_text(text.replace(device, device + "call_detection = false\n"), "utf-8")
            env = {**pulse.env, "PULSE_SOURCE": SOURCE}
            usage = measure_side_by_side(
                {
                    "deskwatch run --headless (headset)": [
                        python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(config), "--data-dir", str(root / "data"),
                    ],
                    "deskwatch, call detection off": [
                        python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(quiet), "--data-dir", str(root / "data2"),
                    ],
                    "bare PyAudio, callback, 100 ms": [python(), "-c", BARE_CALLBACK],
                    "bare PyAudio, blocking 20 ms reads": [python(), "-c", BARE_20MS_READS],
                    "deskwatch, outside a call (room noise)": [
                        *in_room[0], python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(config), "--data-dir", str(root / "data3"),
                    ],
                    "bare PyAudio, callback, 100 ms (room)": [*in_room[1], python(), "-c", BARE_CALLBACK],
                },
                seconds,
                warmup=15.0,
                env=env,
            )  # fmt: skip
        finally:
            for room in rooms:
                room.stop()
            pulse.stop()
    subject, no_calls, same_stream, small_reads, idle, idle_bare = usage.values()
    note = (
        f"analysis alone: {per_second_ms:.2f} ms CPU per second of audio "
        f"({per_second_ms / 10:.2f} % of one core; 100 ms buffers: {small_buffers_ms:.2f} ms)"
    )
    return [
        Result("headset-monitoring", subject, same_stream, notes=note),
        Result("headset-outside-call", idle, idle_bare, notes="listens 2 s of every 5 s outside a call"),
        Result("headset-no-call-detect", no_calls, same_stream),
        Result("headset-vs-20ms-reads", subject, small_reads),
    ]

"""Child process of test_capture_portaudio_spin: makes PortAudio 19.6's ALSA thread spin, reports.

Run as ``python -m tests.audio.portaudio_spin_child SINK ATTEMPTS [--stale-stacks]`` with
PULSE_SERVER set, SINK the server's only sink.  Prints one JSON line per attempt; stops after
one that spun.  How the spin is made (``--stale-stacks``: without the capture's prevention,
:func:`sensors.spinning_threads.fresh_thread_stacks`):

1. Four libpulse captures open and close first, so glibc's cache of thread
   stacks holds stacks of libpulse's mainloop threads (non-zero where
   PortAudio's callback thread keeps its uninitialised ``framesAvail``; a
   fresh stack is all zeros, and then PortAudio's error path ends the thread
   instead of looping).  Running tests/hearing's PipeWire test first in one
   pytest process did the same by chance.
2. A PortAudio capture opens the sink's monitor with 2 s buffers, and the
   sink is unloaded at once: PortAudio's first poll of the stream fails
   before its first buffer (``snd_pcm_poll_descriptors_revents``: the
   PulseAudio stream is gone), and with ``framesAvail`` not zero
   ``PaAlsaStream_WaitForFrames`` loops for ever on its ``error:`` label.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

from sensors import spinning_threads
from sensors.audio import AudioCapture, CaptureState

#: Seconds the child watches after the unplug, and for how long the CPU is measured once stopped.
WATCH_S = 8.0
QUIET_S = 3.0


def pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=True).stdout


def dirty_thread_stacks(sink: str) -> None:
    captures = [AudioCapture(device=f"{sink}.monitor", backend="pulse") for _ in range(4)]
    for capture in captures:
        capture.acquire()
    for capture in captures:
        capture.wait_connected(10)
    time.sleep(1.0)
    for capture in captures:
        capture.release()


def attempt(sink: str) -> dict[str, object]:
    module = pactl("load-module", "module-null-sink", f"sink_name={sink}", "rate=16000", "channels=1").strip()
    dirty_thread_stacks(sink)
    capture = AudioCapture(device=sink, block_ms=2000.0, retry_seconds=60.0, backend="portaudio")
    capture.acquire()
    if not capture.wait_connected(15):
        return {"error": f"did not open: {capture.status()}"}
    pactl("unload-module", module)
    deadline = time.monotonic() + WATCH_S
    while time.monotonic() < deadline and capture.status().state is CaptureState.OPEN:
        time.sleep(0.1)
    status = capture.status()
    # What the process costs from now on (the parent counts what reaches stderr meanwhile).
    cpu, at = time.process_time(), time.monotonic()
    time.sleep(QUIET_S)
    share = (time.process_time() - cpu) / (time.monotonic() - at)
    return {
        "state": status.state.value,
        "error": status.error,
        "spins": getattr(capture, "spins", 0),
        "cpu_share_after": share,
        "quiet_from": at,
        "quiet_to": time.monotonic(),
    }


def main() -> None:
    sink, attempts = sys.argv[1], int(sys.argv[2])
    if "--stale-stacks" in sys.argv:  # without the prevention: the spin itself is what is tested
        spinning_threads.fresh_thread_stacks = contextlib.nullcontext
    for _ in range(attempts):
        result = attempt(sink)
        print(json.dumps(result), flush=True)
        if result.get("spins") or float(str(result.get("cpu_share_after", 0))) > 0.3:
            break  # it spun (stopped, or still spinning)
    os._exit(0)  # a stream that spun is never closed (its thread never ends)


if __name__ == "__main__":
    main()

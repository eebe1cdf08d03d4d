"""A PortAudio stream whose ALSA thread spins is stopped, not left burning a core and flooding stderr.

PortAudio 19.6 (Debian 12) loops for ever in ``PaAlsaStream_WaitForFrames``
when a capture stream fails before its first buffer and the callback thread's
uninitialised frame count is not zero (PortAudio issue 1037): one core at
100 % and ``Expression 'self->capture.ready || self->playback.ready' failed``
on stderr as fast as it can be written -- 15 GB captured by pytest once
tests/hearing's PipeWire test had run before tests/audio/test_capture_portaudio_reuse.py.
The close of such a stream joins that thread and never returns (the 3 s
close bound left it behind, still spinning).

The spin is made in a child process (``portaudio_spin_child``) so that,
before the fix, it cannot flood or spin here: its address space is capped,
its stderr is a pipe read here, counted and dropped (the child is killed
past :data:`STDERR_CAP`), and it is killed after a timeout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.headset import IN_CALL, HeadsetMonitor
from sensors.audio import CaptureState, CaptureStatus
from tests.audio.conftest import PulseServer
from tests.audio.helpers import monitor_settings

ROOT = Path(__file__).resolve().parents[2]
#: The child is killed once this much reached its stderr (bytes), or after TIMEOUT_S.
STDERR_CAP = 1_000_000_000
TIMEOUT_S = 120.0
ADDRESS_SPACE = 4_000_000_000

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PortAudio's ALSA host API")


class Stderr:
    """The child's stderr, counted as it arrives (monotonic time, total bytes) and dropped."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child, self.total, self.marks = child, 0, [(time.monotonic(), 0)]
        self.tail = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.child.stderr is not None
        while chunk := self.child.stderr.read1(1 << 20):
            self.total += len(chunk)
            self.marks.append((time.monotonic(), self.total))
            self.tail = (self.tail + chunk)[-4000:]
            if self.total > STDERR_CAP:
                self.child.kill()

    def between(self, start: float, end: float) -> int:
        """Bytes that arrived between the two times."""
        before = max((n for t, n in self.marks if t <= start), default=0)
        until = max((n for t, n in self.marks if t <= end), default=0)
        return until - before


def run_child(*args: str) -> tuple[list[dict[str, Any]], Stderr]:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    child = subprocess.Popen(
        [sys.executable, "-m", "tests.audio.portaudio_spin_child", *args],
        cwd=ROOT, env={**os.environ}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, preexec_fn=limits,
    )  # fmt: skip
    stderr = Stderr(child)
    try:
        out, _ = child.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
    stderr.thread.join(10)
    results = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert results, f"child printed nothing (exit {child.returncode}): {stderr.tail.decode(errors='replace')}"
    return results, stderr


def assert_stopped(result: dict[str, Any], stderr: Stderr) -> None:
    """The process is idle again and nothing more reaches stderr."""
    assert result["cpu_share_after"] < 0.2, result
    assert stderr.between(result["quiet_from"] + 0.1, result["quiet_to"]) == 0, result
    assert stderr.total < STDERR_CAP, stderr.total


def test_a_spinning_portaudio_stream_is_parked_and_reported_stuck(pulse: PulseServer) -> None:
    # The child's sink must be the only one: PulseAudio would move the stream to another
    # source instead of ending it (the fixture plugs the headset back afterwards).
    pulse.unplug()
    results, stderr = run_child("dw_spin", "3", "--stale-stacks")
    last = results[-1]
    assert last["spins"] or last["cpu_share_after"] > 0.3, f"PortAudio's spin was not triggered: {results}"
    assert_stopped(last, stderr)
    # Reported as not observed (never OK, never "disconnected": the headset itself may be fine).
    assert last["state"] == CaptureState.STUCK.value and last["spins"] == 1, last
    # What reached stderr before it was stopped: about one supervisor round (0.5 s) of the flood.
    print(f"stderr before the spin was stopped: {stderr.total / 1e6:.0f} MB")


def test_the_same_failure_with_fresh_thread_stacks_does_not_spin(pulse: PulseServer) -> None:
    """The prevention: PortAudio's callback thread gets a zeroed stack (if it spins anyway: parked)."""
    pulse.unplug()
    results, stderr = run_child("dw_spin", "3")
    for result in results:
        assert result["state"] in (CaptureState.ABSENT.value, CaptureState.STUCK.value), result
    assert_stopped(results[-1], stderr)
    spun = sum(1 for r in results if r["spins"])
    assert spun <= 1, results  # (seen: none in 5 runs; without fresh stacks: every run)


def test_the_headset_reads_unknown_while_the_capture_is_stuck(tmp_path: Path) -> None:
    monitor = HeadsetMonitor(monitor_settings(HeadsetMonitor), MonitorContext(data_dir=tmp_path))
    error = "the audio library's stream thread spun after the input failed and was stopped"
    status = CaptureStatus(False, "Jabra", 16000, error, losses=1, state=CaptureState.STUCK, running_for=60.0)
    readings = monitor._not_delivering(status)
    connected, *others = readings
    # Not observed: never OK, and no "disconnected" alert (the headset itself may well be there).
    assert connected.level is Level.UNKNOWN and connected.value is None
    assert "audio library" in str(connected.message) and "Jabra" in str(connected.message)
    audio = [r for r in others if r.indicator_id != IN_CALL.id]  # (calls are also seen from the programs)
    assert audio and all(r.level is Level.UNKNOWN for r in audio), audio

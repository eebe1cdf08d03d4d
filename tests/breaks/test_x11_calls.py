"""Calls win, measured on a real X server against a real PulseAudio (issue 19).

A strict-mode break window is up; a recording client (``parec``, the
softphone answering) and playback clients (``pacat`` of a generated WAV: a
ring, a 300 ms notification blip) open and close at known times.  The break
window's visibility is its *map state on the X server* (python-xlib), not
the Qt object's idea of it:

* a call that starts (its stream is announced by the sound server) unmaps
  the window within 1 s;
* the held break's notice is mapped at call end + grace ± 1 s;
* a ring (another program playing for longer than ``ring_seconds``) unmaps
  it within 1 s, and its notice comes at ring end + grace ± 1 s;
* a 300 ms blip leaves the window mapped the whole time.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from Xlib import X, display

from tests.audio.conftest import SOURCE, PulseServer
from tests.audio.helpers import stop_process
from tests.audio.pulse_clients import start_client
from tests.xserver import xvfb

ROOT = Path(__file__).resolve().parents[2]
GRACE = 3.0
#: A call or ring must end the break window within this (issue 19).
AT_ONCE = 1.0
#: The held break's notice comes at the end of the call + grace, ± this.
NOTICE_TOLERANCE = 1.0


class App:
    """The break app in a subprocess, and the X server it draws on."""

    def __init__(self, process: subprocess.Popen[str], x: display.Display) -> None:
        self.process = process
        self.x = x
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def join(self) -> None:
        """Wait for the reader to see the app's end of output."""
        self._reader.join(5)

    def latest(self, phase: str, timeout: float = 30.0) -> dict[str, Any]:
        """The most recent report of ``phase`` (waiting for one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lines and self.lines[-1]["phase"] == phase:
                return self.lines[-1]
            if self.process.poll() is not None:
                raise AssertionError(
                    f"app exited: {self.process.stderr.read() if self.process.stderr else ''}"
                )
            time.sleep(0.01)
        raise AssertionError(f"phase {phase} never reported; saw {[line['phase'] for line in self.lines]}")

    def mapped(self, window_id: int) -> bool:
        """Whether the window is viewable on the X server right now."""
        window = self.x.create_resource_object("window", window_id)
        return bool(window.get_attributes().map_state == X.IsViewable)

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll every 10 ms; the wall time the predicate first held."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return time.time()
            time.sleep(0.01)
        raise AssertionError(f"{what}: not within {timeout} s")

    def break_shown(self, timeout: float = 30.0) -> list[int]:
        """Wait for the break window to be mapped; its window ids."""
        windows = self.latest("break", timeout)["windows"]
        assert windows, "a break was reported without its windows"
        self.wait_until(lambda: all(self.mapped(w) for w in windows), 10, "break window mapped")
        return list(windows)


class StreamEvents:
    """When the sound server announced each new stream (``pactl subscribe``; wall time).

    A call or a ring starts when its stream exists on the server, not when the
    test forks its client: with both cores busy, starting ``pacat`` took a few
    hundred ms of the 1 s a ring is allowed (0.7 s of which is ``ring_seconds``,
    by design), and the ring measured 0.85–0.89 s from the fork.
    """

    def __init__(self, pulse: PulseServer) -> None:
        self.pulse = pulse
        self.headings = {"sink-input": "Sink Input", "source-output": "Source Output"}
        self.process = subprocess.Popen(
            ["pactl", "subscribe"],
            env={**os.environ, **pulse.env, "LC_ALL": "C"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._owners: dict[tuple[str, int], bool] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.time(), line.strip()))

    def opened(self, kind: str, client: str, after: float, timeout: float = 10.0) -> float:
        """When the server announced a new ``kind`` stream of ``client`` at or after ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                found = re.fullmatch(rf"Event 'new' on {kind} #(\d+)", line)
                if found and at >= after and self._owned(kind, int(found.group(1)), client):
                    return at
            time.sleep(0.02)
        raise AssertionError(f"no new {kind} of {client} announced within {timeout} s: {self.lines[-10:]}")

    def _owned(self, kind: str, index: int, client: str) -> bool:
        key = (kind, index)
        if key not in self._owners:
            listing = self.pulse.pactl("list", f"{kind}s")
            block = listing.partition(f"{self.headings[kind]} #{index}\n")[2].partition("\n\n")[0]
            self._owners[key] = f'application.name = "{client}"' in block
        return self._owners[key]

    def close(self) -> None:
        stop_process(self.process)  # type: ignore[arg-type]
        if self.process.stdout is not None:
            self.process.stdout.close()


def tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A 440 Hz WAV file (the ring tone / blip)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        out.writeframes(b"".join(struct.pack("<h", f) for f in frames))
    return path


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[App, PulseServer]]:
    pulse = PulseServer(tmp_path / "pulse")
    pulse.start()
    try:
        with xvfb(False) as x:
            env = {**x.env, **pulse.env, "PULSE_SOURCE": SOURCE}
            env.pop("DBUS_SESSION_BUS_ADDRESS", None)
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.breaks.x_call_app", str(GRACE)],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            conn = display.Display(x.display)
            app = App(process, conn)
            try:
                yield app, pulse
            finally:
                conn.close()
                if process.poll() is None and process.stdin is not None:
                    process.stdin.write("stop\n")
                    process.stdin.close()
                    try:
                        process.wait(10)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(5)
                app.join()
                for stream in (process.stdout, process.stderr):
                    if stream is not None:
                        stream.close()
    finally:
        pulse.stop()


def test_calls_and_rings_end_a_strict_break_at_once_and_blips_do_not(
    rig: tuple[App, PulseServer], tmp_path: Path
) -> None:
    app, pulse = rig
    ring_tone = tone(tmp_path / "ring.wav", 20.0)
    events = StreamEvents(pulse)
    try:
        _calls_rings_and_blips(app, pulse, events, ring_tone)
    finally:
        events.close()


def _calls_rings_and_blips(app: App, pulse: PulseServer, events: StreamEvents, ring_tone: Path) -> None:
    # The first break also waits for the app to start (Python, Qt, PortAudio: slow on a loaded machine).
    windows = app.break_shown(timeout=60.0)
    assert app.latest("break")["watcher"] == "events"

    # 1. The softphone answers: it opens the headset microphone.
    forked = time.time()
    call = start_client(pulse, "parec", f"--device={SOURCE}", "--client-name=softphone")
    gone = app.wait_until(lambda: not any(app.mapped(w) for w in windows), 5, "break window unmapped")
    started = events.opened("source-output", "softphone", forked)
    print(f"call start -> window unmapped: {gone - started:.3f} s ({gone - forked:.3f} s from the fork)")
    assert gone - started <= AT_ONCE, f"call: window went {gone - started:.2f} s after the call started"
    time.sleep(3.0)
    stop_process(call)
    ended = time.time()
    notice = app.latest("grace")["notice"]
    shown = app.wait_until(lambda: app.mapped(notice), GRACE + 5, "held break's notice mapped")
    late = shown - (ended + GRACE)
    print(f"notice after call end + grace: {late:+.3f} s")
    assert abs(late) <= NOTICE_TOLERANCE, f"notice came {late:+.2f} s off call end + grace"

    # 2. The phone rings: another program plays (not answered yet: no microphone).
    windows = app.break_shown()
    forked = time.time()
    ring = start_client(pulse, "pacat", "--playback", "--latency-msec=50", "--file-format=wav",
                  "--client-name=ringer", str(ring_tone))  # fmt: skip
    gone = app.wait_until(lambda: not any(app.mapped(w) for w in windows), 5, "break window unmapped")
    started = events.opened("sink-input", "ringer", forked)
    print(f"ring start -> window unmapped: {gone - started:.3f} s ({gone - forked:.3f} s from the fork)")
    assert gone - started <= AT_ONCE, f"ring: window went {gone - started:.2f} s after the ring started"
    assert app.latest("held")["ringing"] == ["ringer"]
    time.sleep(3.0)
    stop_process(ring)
    ended = time.time()
    shown = app.wait_until(lambda: app.mapped(notice), GRACE + 5, "notice after the ring mapped")
    late = shown - (ended + GRACE)
    print(f"notice after ring end + grace: {late:+.3f} s")
    assert abs(late) <= NOTICE_TOLERANCE, f"notice came {late:+.2f} s off ring end + grace"

    # 3. A notification blip (300 ms of sound) does not end the break.
    windows = app.break_shown()
    reports = len(app.lines)
    blip = start_client(pulse, "pacat", "--playback", "--latency-msec=50", "--file-format=wav",
                  "--client-name=notifier", str(ring_tone))  # fmt: skip
    time.sleep(0.3)
    stop_process(blip)
    deadline = time.time() + 2.5
    while time.time() < deadline:
        assert all(app.mapped(w) for w in windows), "a 300 ms blip unmapped the break window"
        time.sleep(0.02)
    assert [line["phase"] for line in app.lines[reports:]] == []

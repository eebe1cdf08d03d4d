"""The sound dose on a real PipeWire (pipewire-pulse): its monitor is before the sink volume.

A private PipeWire 0.3 (pipewire, wireplumber, pipewire-pulse on a private
D-Bus and runtime directory) with two null sinks at 50 % volume:

* ``dw_device``: made with ``pw-cli create-node`` like a sound card's sink
  (no ``monitor.channel-volumes``): its monitor is *pre*-volume -- recorded
  with ``parec`` it shows the tone at full level;
* ``dw_null``: pipewire-pulse's ``module-null-sink``, which sets
  ``monitor.channel-volumes = true`` (PulseAudio's behaviour): its monitor
  carries the volume, 18 dB lower.

The hearing monitor must find the same level at the ear on both: the tone's
level 18 dB down, corrected on the first, as measured on the second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.kernel.callstate import CallState
from app.kernel.monitor import MonitorContext
from monitors.hearing import HearingMonitor
from sensors import pulse_sinks
from sensors import sound_dose as sd
from tests.audio.helpers import monitor_settings, stop_process
from tests.services import require, wait_ready

RATE = 16000
TONE_DBFS = -20.0
HALF_DB = -18.06  # PulseAudio's cubic volume at 50 %


class PipeWire:
    """A private PipeWire with pipewire-pulse; :meth:`pactl` and :meth:`play` talk to it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        run = root / "run"
        run.mkdir(mode=0o700, parents=True)
        (root / "home").mkdir()
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(run),
            "HOME": str(root / "home"),
            "LC_ALL": "C",
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={run}/bus",
            "PULSE_SERVER": f"unix:{run}/pulse/native",
        }
        self.env.pop("PULSE_CLIENTCONFIG", None)
        self.processes: list[subprocess.Popen[bytes]] = []

    def spawn(self, *command: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{Path(command[0]).name}.log").open("ab") as log:  # the child keeps its copy
            process = subprocess.Popen(
                command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        self.processes.append(process)
        return process

    def start(self) -> None:
        for binary, package in (
            ("pipewire", "pipewire"),
            ("wireplumber", "wireplumber"),
            ("pipewire-pulse", "pipewire-pulse"),
            ("pw-cli", "pipewire-bin"),
        ):
            require(binary, package)  # fmt: skip
        self.spawn(
            "dbus-daemon",
            "--session",
            "--nofork",
            "--nopidfile",
            f"--address={self.env['DBUS_SESSION_BUS_ADDRESS']}",
        )
        time.sleep(0.2)
        self.spawn("pipewire")
        self.spawn("wireplumber")
        pulse = self.spawn("pipewire-pulse")
        logs = [self.root / f"{name}.log" for name in ("pipewire", "wireplumber", "pipewire-pulse")]
        wait_ready("pipewire-pulse (pactl info)", lambda: "PipeWire" in self.pactl("info"), process=pulse,
                   logs=logs, timeout=20)  # fmt: skip
        self.pactl("load-module", "module-null-sink", "sink_name=dw_null", f"rate={RATE}", "channels=1")
        subprocess.run(
            ["pw-cli", "create-node", "adapter",
             "{ factory.name=support.null-audio-sink node.name=dw_device media.class=Audio/Sink "
             f"object.linger=true audio.position=[ MONO ] audio.rate={RATE} }}"],
            env=self.env, capture_output=True, timeout=10, check=True,
        )  # fmt: skip
        wait_ready(
            "the two sinks", lambda: self.pactl("list", "sinks", "short").count("dw_") == 2, timeout=10
        )
        for sink in ("dw_null", "dw_device"):
            self.pactl("set-sink-volume", sink, "50%")

    def pactl(self, *args: str) -> str:
        done = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10)
        return done.stdout if done.returncode == 0 else ""

    def play(self, sink: str, pcm: np.ndarray) -> subprocess.Popen[bytes]:
        path = self.root / f"{sink}.raw"
        path.write_bytes(pcm.astype("<i2").tobytes())
        return self.spawn("pacat", "--playback", f"--device={sink}", f"--rate={RATE}", "--channels=1",
                          "--format=s16le", str(path))  # fmt: skip

    def record(self, source: str, seconds: float) -> np.ndarray:
        recorder = subprocess.Popen(
            ["parec", f"--device={source}", f"--rate={RATE}", "--channels=1", "--format=s16le"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(seconds)
        recorder.terminate()
        data, _ = recorder.communicate(timeout=5)
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")[RATE // 2 :]  # past the start

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)


@pytest.fixture(scope="module")
def pipewire() -> Iterator[PipeWire]:
    """The private PipeWire, with this process's libpulse clients (and ``pactl``) pointed at it."""
    root = Path(tempfile.mkdtemp(prefix="deskwatch-pipewire-"))
    server = PipeWire(root)
    try:
        with pytest.MonkeyPatch.context() as env:
            server.start()
            env.setenv("PULSE_SERVER", server.env["PULSE_SERVER"])
            env.delenv("PULSE_CLIENTCONFIG", raising=False)  # (tests/audio's PulseAudio client settings)
            yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.round(32767 * 10 ** (TONE_DBFS / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)


def test_pipewire_sinks_are_parsed_with_their_monitor_behaviour(pipewire: PipeWire) -> None:
    lister = pulse_sinks.SinkLister()
    sinks = {s.name: s for s in lister.list() or []}
    assert lister.json_works  # pactl 16 formats JSON itself, whatever the server
    device, null = sinks["dw_device"], sinks["dw_null"]
    assert device.pipewire and null.pipewire and device.volume_db == pytest.approx(HALF_DB)
    assert not device.monitor_channel_volumes and null.monitor_channel_volumes
    assert pulse_sinks.ear_gain(device) == pulse_sinks.EarGain(pytest.approx(HALF_DB), how="pipewire")  # type: ignore[arg-type]
    assert pulse_sinks.ear_gain(null) == pulse_sinks.EarGain(0.0, how="software")


def test_device_sinks_monitor_is_pre_volume_and_the_null_sinks_is_post(pipewire: PipeWire) -> None:
    """What the correction rests on, measured: which side of the volume each monitor is."""
    levels = {}
    for sink in ("dw_device", "dw_null"):
        player = pipewire.play(sink, tone(4.0))
        time.sleep(0.5)
        levels[sink] = sd.laeq_dbfs(pipewire.record(f"{sink}.monitor", 2.5), RATE)
        stop_process(player)
    assert levels["dw_device"] == pytest.approx(TONE_DBFS, abs=0.5)  # 50 % volume not in it
    assert levels["dw_null"] == pytest.approx(TONE_DBFS + HALF_DB, abs=0.5)


@pytest.mark.parametrize("sink", ["dw_device", "dw_null"])
def test_hearing_monitor_reads_the_level_at_the_ear_on_both(
    pipewire: PipeWire, tmp_path: Path, sink: str
) -> None:
    settings = monitor_settings(HearingMonitor, sink=sink, sensitivity_db=100.0, rate=RATE)
    monitor = HearingMonitor(settings, MonitorContext(data_dir=tmp_path, call_state=CallState()))
    player = pipewire.play(sink, tone(12.0))
    monitor.start()
    try:
        deadline = time.monotonic() + 15
        while not (
            monitor.capturing and monitor._capture and monitor._capture.status().silence_age is not None
        ):
            assert time.monotonic() < deadline, "the capture of the sink's monitor did not start"
            time.sleep(0.1)
        time.sleep(0.6)
        monitor.poll()
        time.sleep(2.5)
        level = {r.indicator_id.split(".", 1)[1]: r for r in monitor.poll()}["sound_level"]
    finally:
        monitor.close()
        stop_process(player)
    assert level.value == pytest.approx(100 + TONE_DBFS + HALF_DB, abs=1.0), level
    assert level.detail["volume"] == ("pipewire" if sink == "dw_device" else "software")

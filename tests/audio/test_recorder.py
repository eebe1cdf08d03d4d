"""The recorder: folder checks on real (tmpfs) mounts and the self-test through PulseAudio.

Tests run as root, and root ignores permission bits, so "read-only" is a
read-only mount and "full" a tiny tmpfs filled up: the failures a clerk's PC
really produces.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.recorder import PROBE_PREFIX, RecorderMonitor, newest_file
from sensors.wav import read_wav
from tests.audio.conftest import SINK, PulseServer
from tests.audio.helpers import levels, monitor_settings
from tests.audio.signals import cases

SPEECH = cases(seconds=12.0)["clean_speech"]


def make_recorder(folder: Path, tmp_path: Path, **overrides: object) -> RecorderMonitor:
    context = MonitorContext(data_dir=tmp_path / "data", app={"": {"recordings_dir": str(folder)}})
    return RecorderMonitor(monitor_settings(RecorderMonitor, **{"device": SINK, **overrides}), context)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    assert done.returncode == 0, f"cannot mount a tmpfs (tests need root): {done.stderr.decode()}"
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(path: Path) -> None:
    with (path / "filler.bin").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def results_by_step(results: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {r.name.en: r for r in results}


def test_self_test_passes_on_the_null_sink(pulse: PulseServer, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    recorder = make_recorder(folder, tmp_path)
    pulse.play(SPEECH)
    results = recorder.self_test({"seconds": 2.0})
    assert [r.status for r in results] == ["pass"] * 4, [(r.name.en, r.message.en) for r in results]
    assert "2.0 s recorded" in results[0].message.en
    assert "16000 Hz" in results[2].message.en
    assert list(folder.iterdir()) == []  # removed unless kept


def test_self_test_keeps_a_valid_wav_when_asked(pulse: PulseServer, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    recorder = make_recorder(folder, tmp_path)
    pulse.play(SPEECH)
    results = recorder.self_test({"seconds": 1.5, "keep": True, "playback": False})
    assert [r.status for r in results] == ["pass", "pass", "pass", "skipped"]
    (kept,) = folder.glob("deskwatch-selftest-*.wav")
    info = read_wav(kept)
    assert (info.channels, info.rate) == (1, 16000)
    assert info.seconds == pytest.approx(1.5, abs=0.01)


def test_self_test_fails_clearly_on_silence(pulse: PulseServer, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    results = make_recorder(folder, tmp_path).self_test({"seconds": 1.0})
    assert [r.status for r in results] == ["fail", "skipped", "skipped", "skipped"]
    assert "silent" in results[0].message.en and results[0].advice is not None


def test_self_test_says_why_an_input_that_delivers_nothing_failed(pulse: PulseServer, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    with pulse.suspended():
        results = make_recorder(folder, tmp_path).self_test({"seconds": 1.0})
    assert [r.status for r in results] == ["fail", "skipped", "skipped", "skipped"]
    # The reason as it was while recording, not the "stopped" of the closed capture.
    assert "no audio for" in results[0].message.en, results[0].message.en
    assert results[0].advice is not None


def test_read_only_folder(pulse: PulseServer, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro") as folder:
        remount_read_only(folder)
        recorder = make_recorder(folder, tmp_path)
        readings = recorder.poll()
        folder_reading = readings[0]
        assert folder_reading.value == "read-only" and folder_reading.level is Level.CRITICAL
        assert "Read-only file system" in folder_reading.message.en  # type: ignore[union-attr]
        pulse.play(SPEECH)
        results = recorder.self_test({"seconds": 1.0})
        assert [r.status for r in results] == ["pass", "fail", "skipped", "skipped"]
        store = results[1]
        assert "Cannot save the recording" in store.message.en and "Read-only" in store.message.en
        assert "无法将录音保存到" in store.message.zh and store.advice is not None


def test_full_folder(pulse: PulseServer, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", size="256k") as folder:
        fill(folder)
        recorder = make_recorder(folder, tmp_path)
        readings = recorder.poll()
        got = levels(RecorderMonitor, readings)
        assert readings[0].value == "full" and got["folder"] is Level.CRITICAL
        assert got["time_left"] is Level.CRITICAL and readings[1].value == 0
        assert not list(folder.glob(PROBE_PREFIX + "*"))
        pulse.play(SPEECH)
        results = recorder.self_test({"seconds": 1.0})
        assert [r.status for r in results] == ["pass", "fail", "skipped", "skipped"]
        assert "No space left on device" in results[1].message.en
        assert [p.name for p in folder.iterdir()] == ["filler.bin"]  # no half-written WAV left


def test_healthy_folder_and_hours_left(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ok", size="100m") as folder:
        readings = make_recorder(folder, tmp_path, recording_kbps=256.0).poll()
        got = levels(RecorderMonitor, readings)
        assert readings[0].value == "ok" and got["folder"] is Level.OK
        # 100 MiB at 256 kbit/s is under an hour of recording.
        assert readings[1].value == pytest.approx(100 * 2**20 * 8 / 256000 / 3600, abs=0.1)


def test_missing_configured_folder(tmp_path: Path) -> None:
    readings = make_recorder(tmp_path / "nowhere", tmp_path).poll()
    assert readings[0].value == "missing" and readings[0].level is Level.CRITICAL
    assert "does not exist" in readings[0].message.en  # type: ignore[union-attr]
    assert not (tmp_path / "nowhere").exists()  # someone else's folder is not created


def test_newest_recording_age(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    old_day = folder / "2026" / "11" / "27"
    new_day = folder / "2026" / "11" / "28"
    for day in (old_day, new_day):
        day.mkdir(parents=True)
    now = time.time()
    for path, age_min in ((old_day / "a.wav", 1500), (new_day / "b.WAV", 90), (new_day / "notes.txt", 1)):
        path.write_bytes(b"x")
        os.utime(path, (now - age_min * 60, now - age_min * 60))
    os.utime(old_day, (now - 1500 * 60, now - 1500 * 60))
    found = newest_file(folder, ["*.wav"])
    assert found is not None and found[0].name == "b.WAV"
    recorder = make_recorder(folder, tmp_path, expect_recordings=True)
    age = {r.indicator_id: r for r in recorder.poll()}["recorder.newest_age"]
    assert age.value == pytest.approx(90, abs=1)
    assert levels(RecorderMonitor, [age])["newest_age"] is Level.WARNING
    empty = make_recorder(tmp_path / "data", tmp_path, expect_recordings=True)
    (tmp_path / "data").mkdir()
    assert {r.indicator_id: r for r in empty.poll()}["recorder.newest_age"].level is Level.WARNING

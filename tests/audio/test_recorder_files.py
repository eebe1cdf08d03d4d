"""The recorder's own files in a shared folder: no link is followed, names are clean text, leftovers go."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.recorder import (
    PROBE_PREFIX,
    SELFTEST_PREFIX,
    RecorderMonitor,
    display_name,
    probe_writable,
    remove_stale_self_tests,
)
from sensors.wav import write_wav
from tests.audio.conftest import SINK, PulseServer
from tests.audio.helpers import monitor_settings
from tests.audio.signals import cases

GBK_BYTES = "录音-张三.wav".encode("gbk")
#: A name that is neither UTF-8 nor GB18030 (0xFF starts no character in either).
JUNK_BYTES = b"\xff\xfe-\x1b[31m.wav"
VICTIM_TEXT = b"the clerk's own file, which nobody may overwrite\n"


def recorder_for(folder: Path, tmp_path: Path, **overrides: object) -> RecorderMonitor:
    context = MonitorContext(data_dir=tmp_path / "data", app={"": {"recordings_dir": str(folder)}})
    settings = monitor_settings(RecorderMonitor, **{"device": SINK, **overrides})
    return RecorderMonitor(settings, context)


def plant(folder: Path, name: str, victim: Path) -> Path:
    link = folder / name
    link.symlink_to(victim)
    return link


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path]:
    """A world-writable recordings folder (sticky, like /tmp) and a file outside it."""
    folder = tmp_path / "share"
    folder.mkdir()
    folder.chmod(0o1777)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_TEXT)
    return folder, victim


def test_the_write_probe_never_follows_a_planted_link(shared: tuple[Path, Path], tmp_path: Path) -> None:
    folder, victim = shared
    plant(folder, ".deskwatch-write-test", victim)  # the name older versions used
    recorder = recorder_for(folder, tmp_path)
    readings = recorder.poll()
    assert readings[0].value == "ok" and readings[0].level is Level.OK
    assert victim.read_bytes() == VICTIM_TEXT
    assert [p.name for p in folder.iterdir()] == [".deskwatch-write-test"], "probe removed, link left alone"
    assert probe_writable(folder) is None
    assert not list(folder.glob(PROBE_PREFIX + "*"))


def test_the_wav_writer_refuses_an_existing_name_or_link(shared: tuple[Path, Path]) -> None:
    folder, victim = shared
    link = plant(folder, "deskwatch-selftest-20260101-080000.wav", victim)
    with pytest.raises(FileExistsError):
        write_wav(link, np.zeros(1600, dtype=np.int16), 16000)
    assert victim.read_bytes() == VICTIM_TEXT
    fresh = folder / "new.wav"
    write_wav(fresh, np.zeros(1600, dtype=np.int16), 16000)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_a_kept_self_test_does_not_overwrite_a_planted_link(
    pulse: PulseServer, shared: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, victim = shared
    # Plant links at every dated name the next seconds could give the kept file.
    now = time.time()
    for offset in range(0, 30):
        name = time.strftime("deskwatch-selftest-%Y%m%d-%H%M%S.wav", time.localtime(now + offset))
        plant(folder, name, victim)
    pulse.play(cases(seconds=8.0)["clean_speech"])
    results = recorder_for(folder, tmp_path).self_test({"seconds": 1.0, "keep": True, "playback": False})
    assert [r.status for r in results] == ["pass", "pass", "pass", "skipped"]
    assert victim.read_bytes() == VICTIM_TEXT
    assert all(p.is_symlink() for p in folder.iterdir()), "nothing but the planted links is left"


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def test_a_self_test_recording_left_by_a_killed_test_is_removed_at_start(
    shared: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, victim = shared
    ours = folder / f"{SELFTEST_PREFIX}0123456789abcdef.wav"
    ours.write_bytes(b"RIFF")
    age(ours, 3600)
    running = folder / f"{SELFTEST_PREFIX}fedcba9876543210.wav"  # a test still running elsewhere
    running.write_bytes(b"RIFF")
    theirs = folder / f"{SELFTEST_PREFIX}1111111111111111.wav"
    theirs.write_bytes(b"RIFF")
    os.chown(theirs, 4242, 4242)  # another clerk's file
    age(theirs, 3600)
    link = plant(folder, f"{SELFTEST_PREFIX}2222222222222222.wav", victim)
    age(link, 3600)
    kept = folder / "deskwatch-selftest-20260101-080000.wav"  # kept on purpose
    kept.write_bytes(b"RIFF")
    age(kept, 3600)
    recorder_for(folder, tmp_path).start()
    assert not ours.exists()
    assert running.exists() and theirs.exists() and link.is_symlink() and kept.exists()
    assert victim.read_bytes() == VICTIM_TEXT
    assert remove_stale_self_tests(folder) == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(GBK_BYTES, "录音-张三.wav"), ("录音-李四.wav".encode(), "录音-李四.wav"), (JUNK_BYTES, None)],
)
def test_recording_names_become_clean_text(tmp_path: Path, raw: bytes, shown: str | None) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), raw), "wb") as handle:
        handle.write(b"RIFF")
    reading = recorder_for(folder, tmp_path, expect_recordings=True).poll()[2]
    assert reading.message is not None
    for text in (reading.message("en"), reading.message("zh_CN"), reading.detail["path"]):
        text.encode("utf-8")  # no lone surrogates
        assert all(ch.isprintable() for ch in text), repr(text)
        if shown is not None:
            assert text.endswith(shown)
    assert display_name(os.fsdecode(raw)) == (shown or display_name(os.fsdecode(raw)))

"""Windows audio-session notifications (issue 19): the pure judging, with a recorded event sequence."""

from __future__ import annotations

import json
from pathlib import Path

from sensors.pulse_events import PlaybackStream, StreamSnapshot
from sensors.win_audio_sessions import WindowsAudioSessionWatcher

EVENTS = json.loads((Path(__file__).parent / "data" / "win-audio-sessions.json").read_text())


def test_sessions_become_recordings_and_playback_and_end_with_their_state() -> None:
    seen: list[StreamSnapshot | None] = []
    watcher = WindowsAudioSessionWatcher(seen.append, own_pid=777)
    assert watcher.snapshot is None  # not started: unknown, not "no call"
    for event in EVENTS[:4]:
        watcher.session_event(event)
    # System sounds (pid 0) and Deskwatch's own session never count.
    assert watcher.snapshot == StreamSnapshot(("MicroSIP.exe",), (PlaybackStream(1, "MicroSIP.exe"),))
    for event in EVENTS[4:6]:
        watcher.session_event(event)
    assert watcher.stats.bad_lines == 2
    watcher.session_event(EVENTS[6])  # the call ends: microphone session inactive
    assert watcher.snapshot is not None and watcher.snapshot.recording == ()
    watcher.session_event(EVENTS[7])  # the ring's session expires
    assert watcher.snapshot == StreamSnapshot()
    assert seen[-1] == StreamSnapshot() and len(seen) == 5


def test_starting_off_windows_reports_unavailable() -> None:
    seen: list[StreamSnapshot | None] = []
    watcher = WindowsAudioSessionWatcher(seen.append)
    watcher.start()
    assert watcher.stats.mode == "unavailable" and watcher.snapshot is None
    assert "only on Windows" in watcher.stats.errors[0] and seen == []
    watcher.stop()

"""Windows: audio sessions starting and stopping, as the OS notifies them (the ``pactl subscribe`` twin).

Windows Core Audio reports every application's audio as a *session* per
endpoint: ``IAudioSessionManager2::RegisterSessionNotification`` announces
new sessions (``IAudioSessionNotification::OnSessionCreated``) and each
session's ``IAudioSessionEvents::OnStateChanged`` tells when it becomes
active (sound flowing), inactive or expired.  Sessions on capture endpoints
are recordings (a softphone holding the microphone); sessions on render
endpoints are playback (a ring).

:class:`WindowsAudioSessionWatcher` has the interface of
:class:`sensors.pulse_events.PulseStreamWatcher` (``start``, ``stop``,
``snapshot``, ``stats``, the ``on_change`` callback).  The judging —
:meth:`WindowsAudioSessionWatcher.session_event` and
:func:`snapshot_from_sessions` — is pure and tested with recorded session
events; only :func:`_register_notifications` talks COM (Windows only).
The system-sounds session (process id 0: Windows' own notification sounds)
and Deskwatch's own sessions never count.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sensors.pulse_events import PlaybackStream, SnapshotListener, StreamSnapshot, WatcherStats

log = logging.getLogger(__name__)

FLOWS = frozenset({"render", "capture"})
STATES = frozenset({"active", "inactive", "expired"})


@dataclass(frozen=True)
class SessionRecord:
    """One audio session's state (``AudioSessionState`` in lower case)."""

    session_id: str
    pid: int
    process: str
    flow: str
    state: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SessionRecord | None:
        """Parse a recorded or COM-side event; ``None`` when anything is off."""
        try:
            record = cls(
                str(data["session_id"])[:200],
                int(data["pid"]),
                "".join(ch for ch in str(data["process"]) if ch.isprintable())[:80],
                str(data["flow"]).lower(),
                str(data["state"]).lower(),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if record.flow not in FLOWS or record.state not in STATES or record.pid < 0:
            return None
        return record


def snapshot_from_sessions(sessions: Iterable[tuple[int, SessionRecord]], own_pid: int) -> StreamSnapshot:
    """Who records and who plays, from ``(stable key, session)`` pairs in their current states."""
    recording: list[str] = []
    playing: list[PlaybackStream] = []
    for number, session in sessions:
        if session.state != "active" or session.pid in (0, own_pid):
            continue
        if session.flow == "capture":
            if session.process not in recording:
                recording.append(session.process)
        else:
            playing.append(PlaybackStream(number, session.process))
    return StreamSnapshot(tuple(recording), tuple(playing))


class WindowsAudioSessionWatcher:
    """Keeps a :class:`StreamSnapshot` current from audio-session notifications."""

    def __init__(self, on_change: SnapshotListener, own_pid: int | None = None) -> None:
        self.on_change = on_change
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.stats = WatcherStats()
        self._sessions: dict[str, tuple[int, SessionRecord]] = {}
        self._next_key = 0  # a session keeps its key while it lives (the call state tracks by key)
        self._lock = threading.Lock()
        self._published: StreamSnapshot | None = None
        self._unregister: Any = None

    def start(self) -> None:
        """Register for notifications (Windows); elsewhere the state stays unknown."""
        try:
            self._unregister = _register_notifications(self.session_event)
            self.stats.mode = "events"
        except (ImportError, OSError) as exc:
            self.stats.mode = "unavailable"
            self.stats.errors.append(f"{type(exc).__name__}: {exc}")
        self._publish()

    def stop(self) -> None:
        """Unregister (idempotent)."""
        if self._unregister is not None:
            self._unregister()
            self._unregister = None

    @property
    def snapshot(self) -> StreamSnapshot | None:
        """The latest snapshot; ``None`` while unknown."""
        with self._lock:
            return self._published

    def session_event(self, data: Mapping[str, Any]) -> None:
        """A session appeared or changed state (called from the COM thread, or by tests)."""
        record = SessionRecord.from_mapping(data)
        if record is None:
            self.stats.bad_lines += 1
            return
        self.stats.events += 1
        with self._lock:
            if record.state == "expired":
                self._sessions.pop(record.session_id, None)
            else:
                kept = self._sessions.get(record.session_id)
                if kept is None:
                    kept = (self._next_key, record)
                    self._next_key += 1
                self._sessions[record.session_id] = (kept[0], record)
        if self.stats.mode == "starting":
            self.stats.mode = "events"
        self._publish()

    def _publish(self) -> None:
        with self._lock:
            snapshot = (
                None
                if self.stats.mode != "events"
                else snapshot_from_sessions(self._sessions.values(), self.own_pid)
            )
            if snapshot == self._published:
                return
            self._published = snapshot
        try:
            self.on_change(snapshot)
        except Exception:  # a broken listener must not stop the notifications
            log.exception("session listener failed")


def _register_notifications(callback: Any) -> Any:  # pragma: no cover - Windows only
    """Register ``callback(event_dict)`` for session creation and state changes; returns an undo.

    Uses pycaw / comtypes when installed (imported by name: they exist only on
    Windows, and mypy runs on Linux).
    """
    pycaw: Any = importlib.import_module("pycaw.pycaw")
    sessions = pycaw.AudioUtilities.GetAllSessions()
    for session in sessions:
        process = session.Process
        state = {0: "inactive", 1: "active", 2: "expired"}.get(session.State, "inactive")
        callback(
            {
                "session_id": session.InstanceIdentifier,
                "pid": session.ProcessId,
                "process": process.name() if process else "",
                "flow": "render",
                "state": state,
            }
        )
    raise OSError("session notifications need the COM event sink (not wired yet)")

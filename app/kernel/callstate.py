"""Whether the clerk is in a call, shared by everything that must not interrupt one.

Producers (the headset monitor's voice activity, the OS telling that another
application holds the microphone, a softphone integration) set named sources;
consumers (break reminders, alert sounds) read :attr:`CallState.in_call` or
listen for changes.  A short hang-over keeps "in call" through pauses in the
conversation so a caller's silence is not mistaken for the end of the call.

Sources whose end *is* the end of the call (a softphone closing the
microphone stream, reported the moment it happens) are set with
``hangover=False``: their call ends exactly then, so a wrap-up grace after it
is exactly the grace the clerk set.  Other applications' playback streams
(a softphone ringing) are kept with the time each opened (:meth:`set_playback`);
:mod:`app.core.ringing` judges which of them are a ring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

CallListener = Callable[[bool], None]


@dataclass(frozen=True)
class OpenStream:
    """Another application's playback stream, and the clock time it was first seen open."""

    key: int
    app: str
    role: str
    opened_at: float


class CallState:
    """Thread-safe call state combined from several named sources."""

    def __init__(self, hangover_seconds: float = 8.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.hangover_seconds = hangover_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._sources: dict[str, bool] = {}
        self._last_active = -float("inf")
        self._reported = False
        self._since: float | None = None
        self._listeners: list[CallListener] = []
        self._exact: set[str] = set()
        self._playback: dict[int, OpenStream] = {}
        self._change_listeners: list[Callable[[], None]] = []

    def set_source(self, name: str, active: bool, *, hangover: bool = True) -> None:
        """Report that source ``name`` currently sees (or no longer sees) a call.

        ``hangover=False``: the source knows exactly when the call ends (no hang-over).
        """
        with self._lock:
            changed = self._sources.get(name) != active
            if hangover:
                self._exact.discard(name)
                if active or any(v for k, v in self._sources.items() if k not in self._exact):
                    # The hang-over runs from the moment the last such source went quiet.
                    self._last_active = self.clock()
            else:
                self._exact.add(name)
            self._sources[name] = active
        self._update()
        if changed:
            self._changed()

    def set_playback(self, streams: Iterable[tuple[int, str, str]]) -> None:
        """Other applications' playback streams open now, as ``(key, app, role)``."""
        with self._lock:
            now = self.clock()
            old = self._playback
            new = {}
            for key, app, role in streams:
                kept = old.get(key)
                same = kept is not None and kept.app == app and kept.role == role
                new[key] = kept if same and kept is not None else OpenStream(key, app, role, now)
            changed = new.keys() != old.keys() or any(new[k] is not old[k] for k in new)
            self._playback = new
        if changed:
            self._changed()

    def playback(self) -> tuple[OpenStream, ...]:
        """The playback streams open now, oldest first."""
        with self._lock:
            return tuple(sorted(self._playback.values(), key=lambda s: s.opened_at))

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (on the reporting thread) whenever a source or the playback changes."""
        self._change_listeners.append(listener)

    def remove_change_listener(self, listener: Callable[[], None]) -> None:
        """Undo :meth:`add_change_listener` (a closed window stops listening)."""
        if listener in self._change_listeners:
            self._change_listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._change_listeners):
            try:
                listener()
            except Exception:  # a broken consumer must not stop the producer's thread
                log.exception("call-state listener failed")

    def add_listener(self, listener: CallListener) -> None:
        """Call ``listener(in_call)`` whenever the combined state changes."""
        self._listeners.append(listener)

    @property
    def in_call(self) -> bool:
        """True while any source is active, or was within the hang-over time."""
        self._update()
        return self._reported

    @property
    def since(self) -> float | None:
        """Clock time the current call began (``None`` when not in a call)."""
        self._update()
        return self._since

    def sources(self) -> dict[str, bool]:
        """The raw per-source states (for the panel and diagnostics)."""
        with self._lock:
            return dict(self._sources)

    def _update(self) -> None:
        with self._lock:
            now = self.clock()
            active = any(self._sources.values()) or now - self._last_active < self.hangover_seconds
            changed = active != self._reported
            if changed:
                self._reported = active
                self._since = now if active else None
        if changed:
            for listener in list(self._listeners):
                listener(active)

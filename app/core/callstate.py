"""Whether the clerk is in a call, shared by everything that must not interrupt one.

Producers (the headset monitor's voice activity, the OS telling that another
application holds the microphone, a softphone integration) set named sources;
consumers (break reminders, alert sounds) read :attr:`CallState.in_call` or
listen for changes.  A short hang-over keeps "in call" through pauses in the
conversation so a caller's silence is not mistaken for the end of the call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CallListener = Callable[[bool], None]


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

    def set_source(self, name: str, active: bool) -> None:
        """Report that source ``name`` currently sees (or no longer sees) a call."""
        with self._lock:
            if active or any(self._sources.values()):
                # The hang-over runs from the moment the last source went quiet.
                self._last_active = self.clock()
            self._sources[name] = active
        self._update()

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

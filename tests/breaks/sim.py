"""A simulated clerk for stepping the break scheduler through workdays in milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.breaks import (
    BreakEvent,
    BreakScheduler,
    BreakSettings,
    BreakStore,
    EventKind,
    Phase,
)
from app.kernel.i18n import Text
from sensors.idle import ActivitySource
from tests.conftest import FakeClock

#: Monday 23 November 2026, 09:00 local time.
MONDAY_9AM = time.mktime((2026, 11, 23, 9, 0, 0, 0, 0, -1))
SHOWN = (Phase.NOTICE, Phase.BREAK)
INTRUSIVE = (EventKind.NOTICE, EventKind.BREAK_STARTED, EventKind.SOUND)


class FakeSource(ActivitySource):
    """An activity source whose idle time and lock state the test sets."""

    def __init__(self, name: str = "fake", label: Text | None = None) -> None:
        super().__init__()
        self.name, self.label = name, label if label is not None else Text.same(name)
        self.idle = 0.0
        self.locked_now = False
        self.closed = False

    def idle_seconds(self) -> float:
        return self.idle

    def os_locked(self) -> bool | None:
        return self.locked_now

    def close(self) -> None:
        self.closed = True


@dataclass
class Clerk:
    """Drives a scheduler like a clerk would: typing, calls, idling, obeying breaks."""

    settings: BreakSettings = field(default_factory=BreakSettings)
    store: BreakStore | None = None
    start: float = MONDAY_9AM
    #: Stop typing while a break window is up (a clerk who takes the break).
    obeys: bool = True

    def __post_init__(self) -> None:
        self.clock = FakeClock(self.start)
        self.scheduler = BreakScheduler(self.settings, self.store, self.clock)
        self.events: list[BreakEvent] = []
        self.last_input = self.start
        self.in_call = False
        self.locked = False
        #: Anything that covered the screen or made a sound during a call.
        self.violations: list[str] = []
        self.phases: list[Phase] = []

    @property
    def now(self) -> float:
        return self.clock.now

    def kinds(self, *wanted: EventKind) -> list[EventKind]:
        return [e.kind for e in self.events if not wanted or e.kind in wanted]

    def run(
        self,
        seconds: float,
        *,
        typing: bool = True,
        step: float = 1.0,
        until: Callable[[Clerk], bool] | None = None,
    ) -> None:
        """Advance ``seconds`` (or until ``until`` holds), ticking every ``step``."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.clock.advance(step)
            breaking = self.obeys and self.scheduler.phase is Phase.BREAK
            if typing and not breaking and not self.locked:
                self.last_input = self.now
            idle = self.now - self.last_input
            events = self.scheduler.tick(self.now, idle, self.in_call, self.locked)
            self.events += events
            if self.in_call:
                for event in events:
                    if event.kind in INTRUSIVE:
                        self.violations.append(f"{event.kind.value} at {self.now - self.start:.0f}s")
                if self.scheduler.phase in SHOWN:
                    self.violations.append(f"{self.scheduler.phase.value} at {self.now - self.start:.0f}s")
            self.phases.append(self.scheduler.phase)
            if until is not None and until(self):
                return

    def run_until_phase(self, phase: Phase, limit: float = 8 * 3600, **kwargs: object) -> float:
        """Run until the scheduler is in ``phase``; return the seconds it took."""
        begin = self.now
        self.run(limit, until=lambda c: c.scheduler.phase is phase, **kwargs)  # type: ignore[arg-type]
        assert self.scheduler.phase is phase, f"never reached {phase} (now {self.scheduler.phase})"
        return self.now - begin

    def call(self, seconds: float, **kwargs: object) -> None:
        """A call: headset on, clerk listening, no keyboard input."""
        self.in_call = True
        try:
            self.run(seconds, typing=False, **kwargs)  # type: ignore[arg-type]
        finally:
            self.in_call = False

    def hang_up(self) -> None:
        """The call ends now: the app ticks at once when the call state changes."""
        self.in_call = False
        self.events += self.scheduler.tick(self.now, self.now - self.last_input, False, self.locked)

"""Break reminders that respect calls (Qt-free): the public API of the breaks package.

The package is cut along its seams; each module imports only those above it
in this list:

* :mod:`~app.core.breaks.settings` — break kinds, presets, the ``[breaks]`` settings;
* :mod:`~app.core.breaks.exercises` — what to do during a break;
* :mod:`~app.core.breaks.stats` — per-day statistics;
* :mod:`~app.core.breaks.stores` — where state and statistics are kept, and their
  read API for reports (:class:`HistoryBreakStore`);
* :mod:`~app.core.breaks.scheduler` — the state machine (stepped with an injected clock);
* :mod:`~app.core.breaks.readings` — the ``breaks.*`` indicators and their readings;
* :mod:`~app.core.breaks.activity` — keyboard/mouse idle time, read on its own thread;
* :mod:`~app.core.breaks.service` — all of it driven by the runtime, with calls and rings.
"""

from app.core.breaks.exercises import EXERCISES, Exercise, choose_exercise
from app.core.breaks.readings import (
    INDICATORS,
    NEXT_BREAK,
    SCREEN_WORK,
    SKIPPED,
    SOURCE,
    STRETCH,
    TAKEN,
    readings,
)
from app.core.breaks.scheduler import BreakEvent, BreakScheduler, BreakStatus, EventKind, Phase
from app.core.breaks.service import BreakService, BreakUpdate
from app.core.breaks.settings import (
    BREAK_SETTINGS,
    HOUR,
    MINUTE,
    PRESETS,
    BreakKind,
    BreakPlan,
    BreakRule,
    BreakSettings,
)
from app.core.breaks.stats import DayStats, local_date
from app.core.breaks.stores import (
    BREAK_RECORD,
    DAY_RECORD,
    STATE_KEY,
    BreakStore,
    HistoryBreakStore,
    MemoryBreakStore,
)

__all__ = [
    "BREAK_RECORD",
    "BREAK_SETTINGS",
    "DAY_RECORD",
    "EXERCISES",
    "HOUR",
    "INDICATORS",
    "MINUTE",
    "NEXT_BREAK",
    "PRESETS",
    "SCREEN_WORK",
    "SKIPPED",
    "SOURCE",
    "STATE_KEY",
    "STRETCH",
    "TAKEN",
    "BreakEvent",
    "BreakKind",
    "BreakPlan",
    "BreakRule",
    "BreakScheduler",
    "BreakService",
    "BreakSettings",
    "BreakStatus",
    "BreakStore",
    "BreakUpdate",
    "DayStats",
    "EventKind",
    "Exercise",
    "HistoryBreakStore",
    "MemoryBreakStore",
    "Phase",
    "choose_exercise",
    "local_date",
    "readings",
]

"""Where break state and statistics are kept: in memory, or in the history database.

:class:`HistoryBreakStore` is also the read side for everything else that
shows breaks (reports): nobody but this module knows the record kinds and
state key the scheduler writes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from app.core.breaks.stats import DayStats, local_date

if TYPE_CHECKING:
    from app.core.history import History

log = logging.getLogger(__name__)

STATE_KEY = "breaks.state"
DAY_RECORD = "breaks.day"
BREAK_RECORD = "breaks.break"
#: What older versions called a plain per-day record (read, never written).
OLD_DAY_RECORD = "breaks"
DAY = 86400.0


class BreakStore(Protocol):
    """Where the scheduler keeps its state and statistics."""

    def load(self) -> dict[str, Any] | None:
        """The state saved last, or ``None``."""

    def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state."""

    def add_day(self, stats: DayStats, now: float) -> None:
        """Archive a finished day."""

    def add_break(self, record: dict[str, Any], now: float) -> None:
        """Log one break outcome (taken, skipped, natural …) for supervisors."""

    def week(self, today: DayStats, now: float, days: int = 7) -> list[DayStats]:
        """Statistics of the last ``days`` days, oldest first, ``today`` included, empty days filled in."""


def _days_back(past: Mapping[str, DayStats], today: DayStats, now: float, days: int) -> list[DayStats]:
    by_date = {**past, today.date: today}
    dates = [local_date(now - back * DAY) for back in range(days - 1, -1, -1)]
    return [by_date.get(date, DayStats(date)) for date in dates]


class MemoryBreakStore:
    """A store that lives as long as the object (tests, ``check`` mode)."""

    def __init__(self) -> None:
        self.state: dict[str, Any] | None = None
        self.days: list[DayStats] = []
        self.breaks: list[dict[str, Any]] = []

    def load(self) -> dict[str, Any] | None:
        """See :class:`BreakStore`."""
        return self.state

    def save(self, state: dict[str, Any]) -> None:
        """See :class:`BreakStore`."""
        self.state = state

    def add_day(self, stats: DayStats, now: float) -> None:
        """See :class:`BreakStore`."""
        self.days.append(stats)

    def add_break(self, record: dict[str, Any], now: float) -> None:
        """See :class:`BreakStore`."""
        self.breaks.append(record)

    def week(self, today: DayStats, now: float, days: int = 7) -> list[DayStats]:
        """See :class:`BreakStore`."""
        return _days_back({d.date: d for d in self.days}, today, now, days)


def _midnight(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day).timestamp()


class HistoryBreakStore:
    """Keeps break state and statistics in the history database, and reads them back for reports.

    The read API (:meth:`outcomes`, :meth:`day_records`) is what reports use:
    records are read defensively, since older or newer versions may store
    other keys, and a damaged record never stops a report.
    """

    def __init__(self, history: History) -> None:
        self.history = history

    def load(self) -> dict[str, Any] | None:
        """See :class:`BreakStore`."""
        value = self.history.get_state(STATE_KEY)
        return value if isinstance(value, dict) else None

    def save(self, state: dict[str, Any]) -> None:
        """See :class:`BreakStore`."""
        self.history.set_state(STATE_KEY, state)

    def add_day(self, stats: DayStats, now: float) -> None:
        """See :class:`BreakStore`."""
        self.history.add_record(DAY_RECORD, stats.to_dict(), now)

    def add_break(self, record: dict[str, Any], now: float) -> None:
        """See :class:`BreakStore`."""
        self.history.add_record(BREAK_RECORD, record, now)

    def week(self, today: DayStats, now: float, days: int = 7) -> list[DayStats]:
        """See :class:`BreakStore`."""
        past = {
            str(data.get("date")): DayStats.from_dict(data)
            for _, data in self._records(DAY_RECORD, now - (days + 1) * DAY, now)
        }
        return _days_back(past, today, now, days)

    # -- the read side, for reports -------------------------------------------------------
    def _records(self, kind: str, since: float, until: float) -> list[tuple[float, dict[str, Any]]]:
        try:
            rows = self.history.records(kind, since, until)
        except Exception:  # a damaged record must not stop the reader
            log.exception("breaks: records of kind %s unreadable", kind)
            return []
        return [(ts, data) for ts, data in rows if isinstance(data, dict)]

    def outcomes(self, since: float, until: float) -> list[tuple[float, str]]:
        """Each break outcome logged between ``since`` and ``until``, oldest first, as ``(time, outcome)``.

        Outcomes are ``taken``, ``natural``, ``postponed``, ``skipped`` and
        ``held_for_phone``; records without one are left out.
        """
        found = []
        for ts, data in self._records(BREAK_RECORD, since, until):
            outcome = str(data.get("outcome", ""))
            if outcome:
                found.append((ts, outcome))
        return found

    def day_records(self, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """Per-day statistics of the local dates ``first``..``last``, oldest first, today's included.

        Each is a :class:`DayStats`-shaped mapping as stored (keys may be
        missing or extra).  A day is archived when it ends, so the records
        are read one day past ``last``; the day still running comes from the
        scheduler's saved state.
        """
        lo, hi = first.isoformat(), last.isoformat()
        since, until = _midnight(first), _midnight(last + dt.timedelta(days=1)) + DAY
        days: dict[str, dict[str, Any]] = {}
        for kind in (DAY_RECORD, OLD_DAY_RECORD):
            for ts, data in self._records(kind, since, until):
                date = str(data.get("date") or dt.datetime.fromtimestamp(ts).date().isoformat())
                if lo <= date <= hi:
                    days[date] = data  # the latest record of a day wins
        state = self.load()
        today = state.get("stats") if state is not None else None
        if isinstance(today, dict) and lo <= str(today.get("date", "")) <= hi:
            days.setdefault(str(today["date"]), today)
        return [days[date] for date in sorted(days)]

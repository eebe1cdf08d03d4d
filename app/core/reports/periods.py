"""Report periods: the days, or the configured shifts of each day, a report counts by."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: What a report can count by (``deskwatch report --per``).
PER_CHOICES = ("day", "shift")


@dataclass(frozen=True)
class Shift:
    """A named shift, in minutes after local midnight (``end`` may pass midnight)."""

    name: str
    start: int
    end: int


_SHIFT = re.compile(
    r"^\s*(?:(?P<name>[^=]+?)\s*=\s*)?(?P<a>\d{1,2}):(?P<b>\d{2})\s*-\s*(?P<c>\d{1,2}):(?P<d>\d{2})\s*$"
)


def parse_shifts(specs: Iterable[str]) -> list[Shift]:
    """Parse ``"[name=]HH:MM-HH:MM"`` entries; raises ``ValueError`` naming the bad one."""
    shifts = []
    for spec in specs:
        match = _SHIFT.match(spec)
        if match is None:
            raise ValueError(f"shift {spec!r} is not [name=]HH:MM-HH:MM")
        start = int(match["a"]) * 60 + int(match["b"])
        end = int(match["c"]) * 60 + int(match["d"])
        if start >= 24 * 60 or end > 24 * 60 or int(match["b"]) > 59 or int(match["d"]) > 59:
            raise ValueError(f"shift {spec!r} has a time outside 00:00-24:00")
        if end <= start:
            end += 24 * 60  # a night shift ends the next morning
        name = match["name"] or f"{spec.strip()}"
        shifts.append(Shift(name.strip(), start, end))
    return shifts


@dataclass(frozen=True)
class Period:
    """One column of the report: a day or a shift."""

    key: str
    label: str
    start: float
    end: float


def midnight(day: dt.date) -> float:
    """Epoch seconds of local midnight at the start of ``day``."""
    return dt.datetime(day.year, day.month, day.day).timestamp()


def day_at(day: dt.date, minutes: int) -> float:
    """Epoch seconds of the local wall-clock time ``minutes`` after ``day``'s midnight."""
    # Via datetime arithmetic, so days with a DST change still get the wall-clock time.
    moment = dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minutes)
    return moment.timestamp()


def make_periods(first: dt.date, last: dt.date, per: str, shifts: Sequence[Shift]) -> list[Period]:
    """The days (or the shifts of each day) from ``first`` to ``last`` inclusive."""
    periods = []
    day = first
    while day <= last:
        if per == "shift":
            for shift in shifts:
                label = f"{day.isoformat()} {shift.name}"
                periods.append(Period(label, label, day_at(day, shift.start), day_at(day, shift.end)))
        else:
            iso = day.isoformat()
            periods.append(Period(iso, iso, midnight(day), day_at(day, 24 * 60)))
        day += dt.timedelta(days=1)
    return periods


def period_of(ts: float, periods: Sequence[Period]) -> Period | None:
    """The period ``ts`` falls in, if any."""
    for period in periods:
        if period.start <= ts < period.end:
            return period
    return None

"""Per-day break statistics (local calendar days)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class DayStats:
    """Break statistics of one calendar day (local time)."""

    date: str
    due: int = 0
    taken: int = 0
    natural: int = 0
    postponed: int = 0
    skipped: int = 0
    held_for_calls: int = 0
    work_seconds: float = 0.0
    call_seconds: float = 0.0
    longest_stretch: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the history database."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DayStats:
        """Inverse of :meth:`to_dict`; unknown keys (from newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def local_date(now: float) -> str:
    """The local calendar date of a timestamp, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.localtime(now))

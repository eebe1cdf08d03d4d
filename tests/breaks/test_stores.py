"""The break stores' read API, which reports use instead of the records and state it writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.core import reports
from app.core.breaks import BREAK_RECORD, DAY_RECORD, STATE_KEY, HistoryBreakStore
from app.core.history import History
from tests.fleet import histdata


def test_outcomes_and_days_of_a_period(tmp_path: Path) -> None:
    first = dt.date(2026, 3, 2)
    histdata.build(tmp_path / "h.sqlite3", first, days=3)
    history = History(tmp_path / "h.sqlite3")
    try:
        last = first + dt.timedelta(days=2)
        store = HistoryBreakStore(history)
        days = store.day_records(first, last)
        # Each day archived at 23:59 (read one day further: a day is archived when it ends).
        assert [d["date"] for d in days] == ["2026-03-02", "2026-03-03", "2026-03-04"]
        assert [d["held_for_calls"] for d in days] == [0, 1, 2]
        outcomes = store.outcomes(histdata.at(first, 0), histdata.at(last, 23, 59))
        assert [o for _, o in outcomes][:5] == ["taken", "postponed", "taken", "skipped", "natural"]
        assert len(outcomes) == 15
        assert store.outcomes(histdata.at(first, 10, 30), histdata.at(first, 12)) == [
            (histdata.at(first, 11), "postponed")
        ]
        # Reports show the same (they read through this API).
        assert reports.gather(history, first, last).break_days == days
        # One day only; today's statistics come from the scheduler's saved state.
        today = first + dt.timedelta(days=3)
        history.set_state(STATE_KEY, {"stats": {"date": today.isoformat(), "taken": 4}})
        assert [d["date"] for d in store.day_records(last, today)] == [last.isoformat(), today.isoformat()]
    finally:
        history.close()


def test_the_read_api_skips_what_it_cannot_read(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    day = dt.date(2026, 3, 9)
    at = histdata.at(day, 12)
    history.add_record(BREAK_RECORD, {"kind": "rest"}, at)  # no outcome
    history.add_record(BREAK_RECORD, {"kind": "rest", "outcome": "taken"}, at + 1)
    history.add_record(DAY_RECORD, {"taken": 3}, histdata.at(day - dt.timedelta(days=1), 23))  # no date
    history.add_record("breaks", {"date": day.isoformat(), "taken": 5}, at + 2)  # older versions' kind
    history.set_state(STATE_KEY, ["not", "a", "state"])
    try:
        store = HistoryBreakStore(history)
        assert store.outcomes(at - 10, at + 10) == [(at + 1, "taken")]
        assert store.day_records(day - dt.timedelta(days=1), day) == [
            {"taken": 3},
            {"date": "2026-03-09", "taken": 5},
        ]
        history.flush()
        history.query("UPDATE records SET data='{broken' WHERE kind=?", (BREAK_RECORD,))
        with pytest.raises(ValueError):
            history.records(BREAK_RECORD, at - 10, at + 10)
        assert store.outcomes(at - 10, at + 10) == []  # logged, and the report goes on
    finally:
        history.close()

"""History: trend buckets, retention, and durability across kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from app.core.history import History
from app.kernel.model import Level
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]


def test_readings_are_downsampled_into_buckets(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", sample_seconds=60)
    base = 1_700_000_000.0 - (1_700_000_000.0 % 60)
    for n, value in enumerate([10.0, 20.0, 30.0]):
        history.add_reading("k", value, Level.OK, base + n)
    history.add_reading("k", 50.0, Level.WARNING, base + 61)  # closes the first bucket
    samples = history.samples("k", base - 1, base + 120)
    assert [(s.ts, s.vmin, s.vavg, s.vmax, s.level) for s in samples] == [
        (base, 10.0, 20.0, 30.0, Level.OK),
        (base + 60, 50.0, 50.0, 50.0, Level.WARNING),  # still open, served from memory
    ]
    history.close()


def test_retention_prunes_old_data_but_keeps_unacknowledged_alerts(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", sample_seconds=60, retention_days=1)
    now = 1_700_000_000.0
    history.add_reading("k", 1.0, Level.OK, now - 3 * 86400)
    history.add_reading("k", 2.0, Level.OK, now)
    history.flush()
    history.add_record("selftest", {"ok": True}, now - 3 * 86400)
    history.prune(now)
    assert [s.vavg for s in history.samples("k", 0, now + 1)] == [2.0]
    assert history.records("selftest", 0, now) == []
    history.close()


def test_trend_bucket_keeps_most_severe_level_not_highest_code(tmp_path: Path, clock: FakeClock) -> None:
    """Unknown is Nagios code 3 but less severe than critical (2): a bucket must keep critical."""
    history = History(tmp_path / "h.sqlite3")
    key = "environment.co2"
    start = clock.now - clock.now % history.sample_seconds
    clock.now = start + 1
    history.add_reading(key, 2500, Level.CRITICAL, clock.now)
    history.add_reading(key, None, Level.UNKNOWN, clock.now + 1)
    history.add_reading(key, None, Level.NOT_SET_UP, clock.now + 2)
    history.flush()
    [sample] = history.samples(key, start - 1, start + history.sample_seconds)
    assert sample.level is Level.CRITICAL
    history.close()


def test_latest_record_is_the_newest_by_time_of_its_kind(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    assert history.latest_record("selftest") is None
    history.add_record("selftest", {"n": 2}, now=200.0)
    history.add_record("selftest", {"n": 1}, now=100.0)  # written later, but older
    history.add_record("other", {"n": 3}, now=300.0)
    assert history.latest_record("selftest") == (200.0, {"n": 2})
    history.close()


def test_nothing_acknowledged_is_lost_on_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from app.core.engine import Engine
        from app.core.history import History
        from app.kernel.model import Level, Reading
        from tests.core.fakes import STATE, GAUGE, fake_config
        history = History(__import__("pathlib").Path({str(db)!r}))
        engine = Engine(fake_config(), [GAUGE, STATE], history, user="clerk")
        engine.ingest([Reading(STATE.id, "jam", Level.CRITICAL)])
        alert = engine.alerts.visible()[0]
        engine.acknowledge(alert.id, note="paper removed")
        engine.ingest([Reading(STATE.id, "x", Level.WARNING, instance="second")])
        print("ready", flush=True)
        n = 0
        while True:  # keep writing trend data until killed mid-write
            history.add_reading("busy", float(n), Level.OK, 1_700_000_000 + n * 61)
            n += 1
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    history = History(db)
    alerts = {a.key: a for a in history.open_alerts()}
    assert alerts["fake.state"].acked_by == "clerk"
    assert alerts["fake.state"].note == "paper removed"
    assert alerts["fake.state[second]"].needs_attention
    assert history.query("PRAGMA integrity_check") == [("ok",)]
    kinds = [row[0] for row in history.query("SELECT kind FROM events ORDER BY id")]
    assert kinds == ["raised", "acknowledged", "raised"]
    history.close()


def test_a_failing_disk_is_logged_not_raised(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    history._db.close()  # simulate the database becoming unusable
    import sqlite3

    history._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    history.add_record("x", {"a": 1})  # no such table: an error, counted, not raised
    assert history.write_errors == 1 and history.last_error

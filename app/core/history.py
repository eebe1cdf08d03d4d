"""Persistent history in SQLite (WAL): trend samples, alert episodes, events.

Alert transitions and acknowledgements are committed as they happen, so a
``kill -9`` loses nothing acknowledged.  Readings are averaged into buckets of
``sample_seconds`` in memory and written when a bucket closes: a crash costs at
most one bucket of trend data, never an alert.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.alerts import Alert, AlertEvent
from app.core.i18n import Text
from app.core.model import Device, Level, Value

log = logging.getLogger(__name__)

#: Unwritten statements kept while the disk is full (a day of alerts fits easily).
MAX_PENDING = 20_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    key TEXT NOT NULL, ts REAL NOT NULL, n INTEGER NOT NULL,
    vmin REAL, vavg REAL, vmax REAL, level INTEGER NOT NULL,
    PRIMARY KEY (key, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, indicator_id TEXT NOT NULL,
    instance TEXT NOT NULL, device TEXT NOT NULL, level INTEGER NOT NULL,
    peak INTEGER NOT NULL, started REAL NOT NULL, ended REAL,
    message TEXT, acked_at REAL, acked_by TEXT, acked_level INTEGER, note TEXT,
    vmin REAL, vmax REAL, vsum REAL, n INTEGER, last_value TEXT,
    raises INTEGER NOT NULL DEFAULT 1, last_raised REAL
);
CREATE INDEX IF NOT EXISTS alerts_started ON alerts (started);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL,
    alert_id INTEGER, level INTEGER, detail TEXT
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ts REAL NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_ts ON records (kind, ts);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: Columns added to ``alerts`` after the first release, appended by ALTER TABLE to older
#: files (so both keep the same column order); rows written before read as defaults.
ADDED_ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("raises", "INTEGER NOT NULL DEFAULT 1"),
    ("last_raised", "REAL"),
)


def _add_missing_columns(db: sqlite3.Connection) -> None:
    present = {row[1] for row in db.execute("PRAGMA table_info(alerts)")}
    try:
        for name, declaration in ADDED_ALERT_COLUMNS:
            if name not in present:
                db.execute(f"ALTER TABLE alerts ADD COLUMN {name} {declaration}")
    except sqlite3.Error as exc:  # a read-only file: readable as it is, rows read with defaults
        log.warning("history: cannot add new alert columns: %s", exc)


@dataclass
class _Bucket:
    start: float
    n: int = 0
    vmin: float = 0.0
    vmax: float = 0.0
    vsum: float = 0.0
    level: int = 0


@dataclass(frozen=True)
class Sample:
    """One downsampled trend point."""

    ts: float
    vmin: float | None
    vavg: float | None
    vmax: float | None
    level: Level


class History:
    """The history database. Thread-safe; every public method takes the lock."""

    def __init__(self, path: Path, sample_seconds: float = 60.0, retention_days: float = 90.0):
        self.path = path
        self.sample_seconds = sample_seconds
        self.retention_days = retention_days
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # check_same_thread=False: access is serialised by self._lock instead.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against process crashes (kill -9) in WAL mode;
        # only an OS crash could lose the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        _add_missing_columns(self._db)
        self._buckets: dict[str, _Bucket] = {}
        self.write_errors = 0
        self.last_error: str | None = None
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

    # -- plumbing ---------------------------------------------------------
    def _commit(self, statements: list[tuple[str, tuple[Any, ...]]]) -> bool:
        """Run statements in one transaction, after any that failed before.

        A full disk or a locked database is logged, not raised; the statements
        are kept (up to :data:`MAX_PENDING`) and written, in order, with the
        next successful commit, so an acknowledgement made while the disk was
        full reaches the database once space is back.
        """
        with self._lock:
            batch = self._pending + statements
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for sql, params in batch:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self.write_errors += 1
                if self.last_error != str(exc):
                    log.error("history: write failed, keeping %d statements to retry: %s", len(batch), exc)
                self.last_error = str(exc)
                if len(batch) > MAX_PENDING:
                    log.error("history: dropping %d oldest unwritten statements", len(batch) - MAX_PENDING)
                self._pending = batch[-MAX_PENDING:]
                return False
            if self.last_error is not None:
                log.warning("history: writing again (%d delayed statements written)", len(batch))
            self._pending = []
            self.last_error = None
            return True

    @property
    def pending_writes(self) -> int:
        """Statements waiting for the database to become writable again."""
        with self._lock:
            return len(self._pending)

    def retry_pending(self) -> bool:
        """Try to write what a failing disk held back; True when nothing is left."""
        with self._lock:
            return not self._pending or self._commit([])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query (for reports and charts)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        """Flush open trend buckets and close the database."""
        with self._lock:
            self.flush()
            self._db.close()

    # -- trend samples ----------------------------------------------------
    def add_reading(self, key: str, value: Value, level: Level, now: float) -> None:
        """Fold a reading into the current trend bucket for ``key``."""
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        start = now - (now % self.sample_seconds)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None and bucket.start != start:
                self._store_bucket(key, bucket)
                bucket = None
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(start)
            bucket.level = max(bucket.level, int(level))
            if number is not None:
                if bucket.n == 0:
                    bucket.vmin = bucket.vmax = number
                bucket.vmin, bucket.vmax = min(bucket.vmin, number), max(bucket.vmax, number)
                bucket.vsum += number
                bucket.n += 1

    def _store_bucket(self, key: str, bucket: _Bucket) -> None:
        avg = bucket.vsum / bucket.n if bucket.n else None
        lo = bucket.vmin if bucket.n else None
        hi = bucket.vmax if bucket.n else None
        self._commit(
            [
                (
                    "INSERT OR REPLACE INTO samples VALUES (?,?,?,?,?,?,?)",
                    (key, bucket.start, bucket.n, lo, avg, hi, bucket.level),
                )
            ]
        )

    def flush(self) -> None:
        """Write every open bucket (on shutdown and before reports)."""
        with self._lock:
            for key, bucket in list(self._buckets.items()):
                self._store_bucket(key, bucket)
            self._buckets.clear()

    def samples(self, key: str, since: float, until: float | None = None) -> list[Sample]:
        """Trend points for ``key`` in a time range, including the open bucket."""
        until = time.time() if until is None else until
        rows = self.query(
            "SELECT ts, vmin, vavg, vmax, level FROM samples WHERE key=? AND ts>=? AND ts<=? ORDER BY ts",
            (key, since, until),
        )
        result = [Sample(r[0], r[1], r[2], r[3], Level(r[4])) for r in rows]
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None and since <= bucket.start <= until:
                avg = bucket.vsum / bucket.n if bucket.n else None
                lo, hi = (bucket.vmin, bucket.vmax) if bucket.n else (None, None)
                result.append(Sample(bucket.start, lo, avg, hi, Level(bucket.level)))
        return result

    # -- alerts -----------------------------------------------------------
    def next_alert_id(self) -> int:
        """An alert id not used before in this database."""
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM alerts").fetchone()
            current = max(int(row[0]), getattr(self, "_last_id", 0))
            self._last_id = current + 1
            return self._last_id

    def record_event(self, event: AlertEvent) -> None:
        """Persist an alert transition (listener for :class:`AlertBook`)."""
        alert = event.alert
        self._commit(
            [
                (
                    "INSERT OR REPLACE INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        alert.id,
                        alert.key,
                        alert.indicator_id,
                        alert.instance,
                        alert.device.value,
                        int(alert.level),
                        int(alert.peak),
                        alert.started,
                        alert.ended,
                        json.dumps(alert.message.to_dict(), ensure_ascii=False) if alert.message else None,
                        alert.acked_at,
                        alert.acked_by,
                        None if alert.acked_level is None else int(alert.acked_level),
                        alert.note,
                        alert.value_min,
                        alert.value_max,
                        alert.value_sum,
                        alert.value_count,
                        json.dumps(alert.last_value),
                        alert.raises,
                        alert.last_raised,
                    ),
                ),
                (
                    "INSERT INTO events (ts, kind, alert_id, level, detail) VALUES (?,?,?,?,?)",
                    (event.time, event.kind.value, alert.id, int(alert.level), alert.note or None),
                ),
            ]
        )

    def open_alerts(self) -> list[Alert]:
        """Alerts not closed: still present, or cleared but never acknowledged."""
        rows = self.query("SELECT * FROM alerts WHERE ended IS NULL OR acked_at IS NULL ORDER BY id")
        return [_alert_from_row(row) for row in rows]

    def alerts_between(self, since: float, until: float) -> list[Alert]:
        """Every alert episode that overlaps a time range (for reports)."""
        rows = self.query(
            "SELECT * FROM alerts WHERE started<=? AND (ended IS NULL OR ended>=?) ORDER BY started",
            (until, since),
        )
        return [_alert_from_row(row) for row in rows]

    # -- generic records and state ---------------------------------------
    def add_record(self, kind: str, data: dict[str, Any], now: float | None = None) -> None:
        """Store a structured record (self-check results, break statistics …)."""
        ts = time.time() if now is None else now
        sql = "INSERT INTO records (kind, ts, data) VALUES (?,?,?)"
        self._commit([(sql, (kind, ts, json.dumps(data, ensure_ascii=False)))])

    def records(
        self, kind: str, since: float = 0.0, until: float | None = None
    ) -> list[tuple[float, dict[str, Any]]]:
        """Records of one kind in a time range, oldest first."""
        until = time.time() if until is None else until
        rows = self.query(
            "SELECT ts, data FROM records WHERE kind=? AND ts>=? AND ts<=? ORDER BY ts",
            (kind, since, until),
        )
        return [(r[0], json.loads(r[1])) for r in rows]

    def set_state(self, key: str, value: Any) -> None:
        """Persist a small JSON value (heartbeat, per-day counters …)."""
        self._commit([("INSERT OR REPLACE INTO kv VALUES (?,?)", (key, json.dumps(value)))])

    def get_state(self, key: str, default: Any = None) -> Any:
        """Read a value stored with :meth:`set_state`."""
        rows = self.query("SELECT value FROM kv WHERE key=?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def prune(self, now: float | None = None) -> None:
        """Delete trend samples, events and closed alerts older than the retention limit."""
        cutoff = (time.time() if now is None else now) - self.retention_days * 86400
        self._commit(
            [
                ("DELETE FROM samples WHERE ts < ?", (cutoff,)),
                ("DELETE FROM events WHERE ts < ?", (cutoff,)),
                ("DELETE FROM records WHERE ts < ?", (cutoff,)),
                (
                    "DELETE FROM alerts WHERE ended IS NOT NULL AND acked_at IS NOT NULL AND ended < ?",
                    (cutoff,),
                ),
            ]
        )


def _alert_from_row(row: tuple[Any, ...]) -> Alert:
    (aid, key, iid, instance, device, level, peak, started, ended, message, acked_at, acked_by,
     acked_level, note, vmin, vmax, vsum, n, last_value, *added) = row  # fmt: skip
    raises, last_raised = (*added, 1, None)[:2]  # absent in a file that could not be upgraded
    return Alert(
        id=aid,
        key=key,
        indicator_id=iid,
        instance=instance,
        device=Device(device),
        level=Level(level),
        peak=Level(peak),
        started=started,
        ended=ended,
        message=Text.from_dict(json.loads(message)) if message else None,
        acked_at=acked_at,
        acked_by=acked_by,
        acked_level=None if acked_level is None else Level(acked_level),
        note=note or "",
        value_min=vmin,
        value_max=vmax,
        value_sum=vsum or 0.0,
        value_count=n or 0,
        last_value=json.loads(last_value) if last_value else None,
        raises=raises or 1,
        last_raised=last_raised,
    )

"""Persistent history in SQLite (WAL): trend samples, alert episodes, events.

Alert transitions and acknowledgements are committed as they happen, so a
``kill -9`` loses nothing acknowledged.  Readings are averaged into buckets of
``sample_seconds`` in memory and written when a bucket closes: a crash costs at
most one bucket of trend data, never an alert.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.alerts import Alert, AlertEvent
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, Value
from app.kernel.paths import PRIVATE_FILE_MODE, private_dir, tighten

log = logging.getLogger(__name__)

#: Memory for unwritten statements while the disk is full (a day of alerts fits easily).
#: Counted in bytes, not statements: one statement may carry a long message.
MAX_PENDING_BYTES = 8 * 1024 * 1024

MSG_DAMAGED = Text(
    "The history file was damaged ({error}); it was kept as {path} for IT and a new one started",
    "历史记录文件已损坏({error});已保留为 {path} 供信息技术部门检查,并新建了记录文件",
)
MSG_IN_MEMORY = Text(
    "Cannot write the history file {path} ({error}); records of this session are kept in memory only",
    "无法写入历史记录文件 {path}({error});本次运行的记录仅保存在内存中",
)
#: Small tables holding alerts, acknowledgements and state: checked at open, copied out of a damaged file.
SALVAGED_TABLES = ("alerts", "events", "records", "kv")
#: SQLite's names for "the file is not a usable database" (as opposed to "cannot write now").
DAMAGE_ERRORS = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
#: Statements by what they write, for shedding held-back writes (see ``_Statement.rank``).
_TREND = ("INSERT OR REPLACE INTO samples",)
_ALERT_ROW = "INSERT OR REPLACE INTO alerts"
_ALERTS = (_ALERT_ROW, "INSERT INTO events")

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

#: What opening or reading a damaged or unreadable history raises (for callers such as
#: ``deskwatch report``, which say so and stop; the running app moves a damaged file aside).
HistoryError = sqlite3.Error

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


@dataclass(frozen=True)
class StorageProblem:
    """A lasting condition of the history database, shown as the history-storage alert."""

    level: Level
    message: Text


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]

    @property
    def size(self) -> int:
        """Rough bytes held in memory (text dominates; numbers count a fixed 16)."""
        return 64 + len(self.sql) + sum(len(p) if isinstance(p, str | bytes) else 16 for p in self.params)

    @property
    def rank(self) -> int:
        """What to keep when held-back writes must be shed.

        0 trend data goes first, 1 records and state next, 2 alert transitions
        and acknowledgements last.
        """
        if self.sql.startswith(_TREND):
            return 0
        return 2 if self.sql.startswith(_ALERTS) else 1


def _shed(batch: list[_Statement], size: int, limit: int) -> tuple[list[_Statement], int, int]:
    """Make ``batch`` fit in ``limit`` bytes, losing as little as possible.

    First the rows a later statement replaces anyway (an alert's row written
    again at each transition; its events stay), then the oldest statements of
    the lowest rank.
    """
    keep = [True] * len(batch)
    dropped = 0
    latest: set[tuple[str, Any]] = set()
    for n in range(len(batch) - 1, -1, -1):
        statement = batch[n]
        if statement.sql.startswith(_ALERT_ROW):
            row = (statement.sql, statement.params[0])
            if row in latest:
                keep[n] = False
                size -= statement.size
                dropped += 1
            latest.add(row)
    for rank in (0, 1, 2):
        for n, statement in enumerate(batch):
            if size <= limit:
                break
            if keep[n] and statement.rank == rank:
                keep[n] = False
                size -= statement.size
                dropped += 1
    return [s for s, k in zip(batch, keep, strict=True) if k], size, dropped


def _encodable(value: Any) -> Any:
    """Text SQLite can store: lone surrogates (undecodable file-name bytes) become U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name in DAMAGE_ERRORS or (not name and type(exc) is sqlite3.DatabaseError)


def _disk_trouble(exc: BaseException) -> bool:
    """True for errors of the disk or the file (worth retrying), not of one statement."""
    if isinstance(exc, sqlite3.OperationalError | sqlite3.InternalError):
        return True
    return isinstance(exc, sqlite3.DatabaseError) and _is_damage(exc)


def _create_private(path: Path) -> None:
    """Create an empty database file 0600 (SQLite gives its -wal/-shm files the same mode)."""
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    os.close(fd)


def _connect_writable(path: Path) -> sqlite3.Connection:
    # check_same_thread=False: access is serialised by History._lock instead.
    # uri=True also lets ATTACH take "file:…?mode=ro" (salvaging a damaged copy).
    db = sqlite3.connect(_uri(path), uri=True, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against process crashes (kill -9) in WAL mode;
        # only an OS crash could lose the last transactions.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        _add_missing_columns(db)
        # The tables that hold alerts and acknowledgements are checked page by
        # page now (they are small); trend samples, the bulk of the file, are
        # not: a full check of 90 days costs seconds at every start.  Damage
        # there surfaces at the start-up prune, which reads every sample page,
        # or at any later write, and is handled then (``History._recover``).
        for table in SALVAGED_TABLES:
            verdict = db.execute(f"PRAGMA quick_check({table})").fetchone()
            if verdict is None or verdict[0] != "ok":
                raise sqlite3.DatabaseError(f"{table}: {verdict[0] if verdict else 'no answer'}")
        # The database must really take a write (a read-only file opens fine).
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR REPLACE INTO kv VALUES ('opened', ?)", (json.dumps(time.time()),))
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    # No chmod of -wal/-shm here: SQLite creates them with the database
    # file's mode (0600), and touching them now could disturb its locks.
    return db


def _uri(path: Path) -> str:
    """An SQLite ``file:`` URI for ``path`` (``?``, ``#`` and spaces escaped; drive letters on Windows)."""
    return path.absolute().as_uri()


def _salvage(db: sqlite3.Connection, damaged: Path) -> list[str]:
    """Copy every readable table of :data:`SALVAGED_TABLES` from ``damaged`` into ``db``.

    Read-only, with its write-ahead log (the last acknowledgements may be
    there); the -wal/-shm files reading creates are removed again, so IT
    gets the copy as it was.
    """
    companions = [damaged.with_name(damaged.name + suffix) for suffix in ("-wal", "-shm")]
    existed = [os.path.lexists(c) for c in companions]
    try:
        db.execute("ATTACH DATABASE ? AS damaged", (_uri(damaged) + "?mode=ro",))
    except sqlite3.Error:
        return []
    try:
        return _copy_tables(db)
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.execute("DETACH DATABASE damaged")
        for companion, was_there in zip(companions, existed, strict=True):
            if not was_there:
                with contextlib.suppress(OSError):
                    companion.unlink()


def _shared_columns(db: sqlite3.Connection, table: str) -> str:
    mine = [row[1] for row in db.execute(f"PRAGMA main.table_info({table})")]
    theirs = {row[1] for row in db.execute(f"PRAGMA damaged.table_info({table})")}
    return ", ".join(f'"{name}"' for name in mine if name in theirs)


def _copy_tables(db: sqlite3.Connection) -> list[str]:
    saved: list[str] = []
    for table in SALVAGED_TABLES:
        try:
            # By name: a file from before ADDED_ALERT_COLUMNS has fewer columns (they take defaults).
            columns = _shared_columns(db, table)
            db.execute("BEGIN")
            db.execute(
                f"INSERT OR IGNORE INTO main.{table} ({columns}) SELECT {columns} FROM damaged.{table}"
            )
            db.execute("COMMIT")
            saved.append(table)
        except sqlite3.Error:  # this table is damaged too: it stays in the copy only
            if db.in_transaction:
                db.execute("ROLLBACK")
    return saved


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open for reading only (reports): works on a read-only file or folder too."""
    uri = _uri(path)
    try:
        db = sqlite3.connect(uri + "?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        # A WAL database in a folder we cannot write has no -shm to share:
        # read it as an unchanging file (nobody can be writing it then either).
        db = sqlite3.connect(uri + "?immutable=1", uri=True, check_same_thread=False, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db


@dataclass
class _Bucket:
    start: float
    n: int = 0
    vmin: float = 0.0
    vmax: float = 0.0
    vsum: float = 0.0
    level: int = -1  # none yet; then the most severe level seen in the bucket


@dataclass(frozen=True)
class Sample:
    """One downsampled trend point."""

    ts: float
    vmin: float | None
    vavg: float | None
    vmax: float | None
    level: Level


class History:
    """The history database. Thread-safe; every public method takes the lock.

    Opening never fails: a damaged file is moved aside (kept for IT as
    ``<name>.damaged-<time>``) and a fresh one started; a file that cannot be
    written is replaced by an in-memory database for this session.  Either is
    described by :attr:`problem`, which the engine shows as the
    ``computer.history_storage`` alert.  ``read_only=True`` (reports) opens the
    file without writing anything, even the schema.
    """

    def __init__(
        self,
        path: Path,
        sample_seconds: float = 60.0,
        retention_days: float = 90.0,
        *,
        read_only: bool = False,
    ):
        self.path = path
        self.sample_seconds = sample_seconds
        self.retention_days = retention_days
        self.read_only = read_only
        self._lock = threading.RLock()
        #: A lasting condition of the database (moved aside, in memory only), or ``None``.
        self.problem: StorageProblem | None = None
        #: Where a damaged file was moved to, when it was.
        self.damaged_copy: Path | None = None
        self._buckets: dict[str, _Bucket] = {}
        self.write_errors = 0
        self.last_error: str | None = None
        #: Held-back statements dropped in the current failing spell (over the memory cap).
        self.dropped_writes = 0
        self._pending: list[_Statement] = []
        self._pending_bytes = 0
        self._db = _connect_read_only(path) if read_only else self._open()

    # -- opening ----------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        path = self.path
        try:
            private_dir(path.parent)
            _create_private(path)
            return _connect_writable(path)
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                return self._in_memory(str(exc))
            return self._replace_damaged(str(exc))
        except OSError as exc:
            return self._in_memory(exc.strerror or str(exc))

    def _replace_damaged(self, reason: str) -> sqlite3.Connection:
        """Move the damaged file aside (kept for IT), start a fresh one, copy what is still readable.

        Alerts, events, records and state are copied table by table from the
        damaged copy when they can be read, so an acknowledgement survives
        damage elsewhere in the file; trend samples are left in the copy.
        """
        path = self.path
        # SQLite's check report spans lines ("*** in database main ***\nPage 6: …"): one line for the clerk.
        reason = " ".join(reason.replace("*** in database main ***", "").split())
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            for suffix in ("", "-wal", "-shm"):
                source = path.with_name(path.name + suffix)
                if os.path.lexists(source):
                    os.replace(source, aside.with_name(aside.name + suffix))
            _create_private(path)
            db = _connect_writable(path)
        except (OSError, sqlite3.Error) as exc:
            return self._in_memory(f"{reason}; moving it aside failed: {exc}")
        saved = _salvage(db, aside)
        log.error(
            "history: %s was damaged (%s); moved to %s, started a fresh one (%s copied)",
            path, reason, aside, ", ".join(saved) or "nothing",
        )  # fmt: skip
        self.damaged_copy = aside
        self.problem = StorageProblem(Level.WARNING, MSG_DAMAGED.format(path=str(aside), error=reason))
        return db

    def _recover(self, reason: str) -> None:
        """Damage found while running: replace the file under the lock, keep going."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._db = self._replace_damaged(reason)

    def _in_memory(self, reason: str) -> sqlite3.Connection:
        log.error("history: cannot use %s (%s); keeping this session's records in memory", self.path, reason)
        self.problem = StorageProblem(Level.CRITICAL, MSG_IN_MEMORY.format(path=str(self.path), error=reason))
        db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        db.executescript(SCHEMA)
        return db

    # -- plumbing ---------------------------------------------------------
    def _commit(self, statements: list[tuple[str, tuple[Any, ...]]]) -> bool:
        """Run statements in one transaction, after any that failed before.

        A full disk or a locked database is logged, not raised; the statements
        are kept (up to :data:`MAX_PENDING_BYTES`) and written, in order, with
        the next successful commit, so an acknowledgement made while the disk
        was full reaches the database once space is back.  A statement that can
        never be written (a value SQLite refuses) is repaired or dropped on its
        own; it never holds the others back, and no transaction stays open.
        """
        with self._lock:
            batch = self._pending + [_Statement(sql, params) for sql, params in statements]
            try:
                try:
                    self._run(batch, one_by_one=False)
                except sqlite3.DatabaseError as exc:
                    if not _is_damage(exc) or self.problem is not None or self.read_only:
                        raise
                    # Damage found by a write (the start-up prune reads every sample
                    # page): replace the file once, then write the batch there.
                    self._recover(str(exc))
                    self._run(batch, one_by_one=False)
            except Exception as exc:
                if _disk_trouble(exc):  # the disk or the file, not the statements: retry later
                    self._hold_back(batch, exc)
                    return False
                # A statement SQLite refuses: find it, write the rest.
                log.warning(
                    "history: a statement was refused (%s: %s); writing one by one", type(exc).__name__, exc
                )
                try:
                    self._run(batch, one_by_one=True)
                except Exception as again:
                    self._hold_back(batch, again)
                    return False
            if self.last_error is not None:
                log.warning(
                    "history: writing again (%d delayed statements written, %d dropped)",
                    len(batch),
                    self.dropped_writes,
                )
            self.dropped_writes = 0
            self._pending = []
            self._pending_bytes = 0
            self.last_error = None
            return True

    def _run(self, batch: list[_Statement], one_by_one: bool) -> None:
        """Execute ``batch`` in one transaction; roll back on any error, never leave it open."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            for statement in batch:
                if one_by_one:
                    self._run_guarded(statement)
                else:
                    db.execute(statement.sql, statement.params)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    def _run_guarded(self, statement: _Statement) -> None:
        """One statement in a savepoint: text SQLite cannot encode is repaired, other refusals dropped."""
        db = self._db
        params = statement.params
        for attempt in range(2):
            db.execute("SAVEPOINT one")
            try:
                db.execute(statement.sql, params)
            except Exception as exc:
                if _disk_trouble(exc):
                    raise
                db.execute("ROLLBACK TO one")
                db.execute("RELEASE one")
                if attempt == 0 and isinstance(exc, UnicodeError):
                    params = tuple(_encodable(p) for p in params)
                    continue
                self.write_errors += 1
                log.error(
                    "history: dropped a statement SQLite refuses (%s: %s): %.200s",
                    type(exc).__name__,
                    exc,
                    statement.sql,
                )
                return
            db.execute("RELEASE one")
            return

    def _hold_back(self, batch: list[_Statement], exc: Exception) -> None:
        """Keep unwritten statements for the next attempt, within :data:`MAX_PENDING_BYTES`."""
        self.write_errors += 1
        if self.last_error != str(exc):
            log.error("history: write failed, keeping %d statements to retry: %s", len(batch), exc)
        self.last_error = str(exc)
        size = sum(s.size for s in batch)
        if size > MAX_PENDING_BYTES:
            batch, size, dropped = _shed(batch, size, MAX_PENDING_BYTES)
            if not self.dropped_writes:  # once per failing spell, not once per reading
                log.error("history: held-back writes exceed %d bytes; dropping the oldest", MAX_PENDING_BYTES)
            self.dropped_writes += dropped
        self._pending, self._pending_bytes = batch, size

    @property
    def pending_writes(self) -> int:
        """Statements waiting for the database to become writable again."""
        with self._lock:
            return len(self._pending)

    @property
    def pending_bytes(self) -> int:
        """Approximate memory held by those statements."""
        with self._lock:
            return self._pending_bytes

    def retry_pending(self) -> bool:
        """Try to write what a failing disk held back; True when nothing is left."""
        with self._lock:
            return not self._pending or self._commit([])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query: for this class's readers and for tests.

        The schema is this module's business: code elsewhere asks through the
        named methods below (``samples``, ``alerts_between``, ``records``,
        ``latest_record``, ``get_state`` …), so a schema change stays here.
        """
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
            # By severity, not by Nagios code: unknown (3) must not outrank critical (2).
            if bucket.level < 0 or level.rank > Level(bucket.level).rank:
                bucket.level = int(level)
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
                        alert.device.id,
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

    def latest_record(self, kind: str) -> tuple[float, Any] | None:
        """The newest record of one kind as ``(ts, data)``, or ``None`` if there is none.

        ``data`` is whatever JSON was stored (callers check its shape); a record
        that is not JSON raises ``ValueError``.
        """
        rows = self.query("SELECT ts, data FROM records WHERE kind=? ORDER BY ts DESC LIMIT 1", (kind,))
        return (float(rows[0][0]), json.loads(rows[0][1])) if rows else None

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
        device=Device.named(device),
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

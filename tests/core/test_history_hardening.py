"""History against hostile input and damaged files: nothing stays locked, nothing acknowledged is lost."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import history as history_module
from app.core.engine import HISTORY_STORAGE, Engine
from app.core.history import History
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from tests.core.fakes import GAUGE, STATE, fake_config

#: A recording name from a Chinese Windows share, as Linux hands it over: GBK bytes as surrogates.
GBK_NAME = os.fsdecode("录音-张三.wav".encode("gbk"))


def second_writer_can_write(db: Path) -> bool:
    """Another process's view: can it take the write lock within half a second?"""
    other = sqlite3.connect(db, timeout=0.5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT OR REPLACE INTO kv VALUES ('other', '1')")
        other.execute("COMMIT")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_an_unencodable_message_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    history = History(db)
    engine = Engine(fake_config(), [GAUGE, STATE], history, user="clerk")
    message = Text(f"newest: {GBK_NAME}", f"最新:{GBK_NAME}")
    engine.ingest([Reading(STATE.id, "jam", Level.CRITICAL, message)])
    assert second_writer_can_write(db), "the failed write left the database locked"
    (alert,) = engine.alerts.visible()
    engine.acknowledge(alert.id, note="seen")
    history.close()
    check = sqlite3.connect(db)
    ((note, acked_by, stored),) = check.execute("SELECT note, acked_by, message FROM alerts").fetchall()
    check.close()
    assert (note, acked_by) == ("seen", "clerk"), "the acknowledgement reached the file"
    assert "\ufffd" in stored and "newest" in stored  # undecodable bytes replaced, the rest kept


def test_a_refused_statement_does_not_hold_back_the_others(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    history.add_record("big", {"n": 1})
    # A Python int SQLite cannot store: this statement alone is dropped.
    history._commit([("INSERT INTO kv VALUES (?, ?)", ("huge", 10**30))])
    history.set_state("after", 2)
    assert history.pending_writes == 0 and history.last_error is None
    assert history.get_state("after") == 2
    assert second_writer_can_write(history.path)
    history.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of our own (tests run as root): filled up or remounted read-only by tests."""
    point = tmp_path / "disk"
    point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)], check=True)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_held_back_writes_are_capped_by_bytes_keeping_acknowledgements(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "MAX_PENDING_BYTES", 64 * 1024)
    history = History(small_disk / "h.sqlite3", sample_seconds=1)
    engine = Engine(fake_config(), [GAUGE, STATE], history, user="clerk")
    filler = fill(small_disk)
    engine.ingest([Reading(STATE.id, "jam", Level.CRITICAL)], now=1000.0)
    (alert,) = [a for a in engine.alerts.visible() if a.key == STATE.id]
    engine.acknowledge(alert.id, note="kept through a full disk")
    long_text = "x" * 2000  # a few long statements must not slip under a statement count
    for n in range(400):
        history.add_record("noise", {"text": long_text}, now=1000.0 + n)
        history.add_reading(GAUGE.id, float(n), Level.OK, 1000.0 + n)
    assert history.last_error is not None
    assert history.pending_bytes <= 64 * 1024
    pending = list(history._pending)
    assert any("INTO alerts" in s.sql and s.params[10] is not None for s in pending), "ack kept"
    # Trend samples go first (only the one written since the last shedding is left), then records.
    assert sum(s.rank == 0 for s in pending) <= 1
    assert sum("INTO records" in s.sql for s in pending) < 400
    assert history.dropped_writes > 0
    filler.unlink()
    assert history.retry_pending()
    history.close()
    check = sqlite3.connect(small_disk / "h.sqlite3")
    notes = check.execute("SELECT note FROM alerts WHERE key=?", (STATE.id,)).fetchall()
    assert notes == [("kept through a full disk",)]
    check.close()


# -- damaged and read-only files ------------------------------------------------


def make_history_file(path: Path, rows: int = 2000) -> None:
    history = History(path)
    for n in range(rows):
        history.add_record("filler", {"n": n, "pad": "p" * 200}, now=1000.0 + n)
    history.close()


def overwrite_a_page(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(4096 * 3)
        handle.write(os.urandom(4096))


def storage_state(history: History) -> tuple[Level, str]:
    engine = Engine(fake_config(), [GAUGE], history, user="clerk")
    engine.ingest([Reading(GAUGE.id, 10.0)])
    state = engine.state(HISTORY_STORAGE.id)
    assert state is not None and state.message is not None
    return state.level, state.message("en")


@pytest.mark.parametrize("damage", ["random bytes", "overwritten page"])
def test_a_damaged_file_is_moved_aside_and_a_fresh_one_started(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "history.sqlite3"
    if damage == "random bytes":
        db.write_bytes(os.urandom(64 * 1024))
    else:
        make_history_file(db)
        overwrite_a_page(db)
    original = db.read_bytes()
    history = History(db)
    assert history.damaged_copy is not None and history.damaged_copy.read_bytes() == original
    assert history.damaged_copy.name.startswith("history.sqlite3.damaged-")
    level, message = storage_state(history)
    assert level is Level.WARNING and str(history.damaged_copy) in message and "damaged" in message
    history.set_state("works", True)
    assert history.get_state("works") is True and history.last_error is None
    history.close()
    assert History(db).problem is None, "the fresh file is healthy at the next start"


@contextlib.contextmanager
def unwritable(db: Path) -> Iterator[Path]:
    """Make ``db`` a file nobody may write: ``chattr +i`` for root (who ignores modes), 0444 otherwise."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(db)], check=True)
    else:
        db.chmod(0o444)
    try:
        yield db
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(db)], check=False)


@pytest.fixture
def read_only_file(tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "history.sqlite3"
    make_history_file(db, rows=10)
    with unwritable(db):
        yield db


def test_a_read_only_file_gives_an_in_memory_history_and_a_critical_alert(read_only_file: Path) -> None:
    before = read_only_file.read_bytes()
    history = History(read_only_file)
    level, message = storage_state(history)
    assert level is Level.CRITICAL and "in memory" in message and str(read_only_file) in message
    history.set_state("session", 1)
    assert history.get_state("session") == 1, "this session's records still work"
    history.close()
    assert read_only_file.read_bytes() == before, "the file itself is left as it was"


def test_reports_open_a_read_only_file_without_writing(read_only_file: Path) -> None:
    history = History(read_only_file, read_only=True)
    assert len(history.records("filler", 0, 1e12)) == 10
    history.close()


def test_history_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        history = History(tmp_path / "data" / "history.sqlite3")
        history.set_state("x", 1)
        for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
            assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        history.close()
    finally:
        os.umask(old)


def test_damage_among_trend_samples_keeps_every_acknowledgement(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    history = History(db, sample_seconds=60, retention_days=100_000)
    engine = Engine(fake_config(), [GAUGE, STATE], history, user="clerk")
    engine.ingest([Reading(STATE.id, "jam", Level.CRITICAL)], now=1000.0)
    (alert,) = [a for a in engine.alerts.visible() if a.key == STATE.id]
    engine.acknowledge(alert.id, note="paper removed")
    for n in range(30000):  # trend samples fill the rest of the file, after the alert pages
        history.add_reading(f"k{n % 40}", float(n), Level.OK, 2000.0 + 60 * (n // 40))
    history.close()
    size = db.stat().st_size
    with db.open("r+b") as handle:  # overwrite a page near the end: trend samples only
        handle.seek(size - 8 * 4096)
        handle.write(os.urandom(4096))
    reopened = History(db, retention_days=1)
    assert reopened.problem is None, "alerts, events, records and state check out at open"
    reopened.prune(now=time.time())  # reads every sample page, as at every start
    assert reopened.damaged_copy is not None and reopened.problem is not None
    assert reopened.problem.level is Level.WARNING
    rows = reopened.query("SELECT id, note, acked_by FROM alerts WHERE key=?", (STATE.id,))
    assert rows == [(alert.id, "paper removed", "clerk")], "copied from the damaged file"
    reopened.set_state("after", 1)
    assert reopened.last_error is None and reopened.pending_writes == 0
    reopened.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("history.sqlite3")) == []


def test_a_history_on_a_read_only_mount_is_read_by_reports_and_kept_in_memory_by_the_app(
    small_disk: Path,
) -> None:
    db = small_disk / "history.sqlite3"
    make_history_file(db, rows=10)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    report = History(db, read_only=True)  # no -shm can be created here: read as immutable
    assert len(report.records("filler", 0, 1e12)) == 10
    report.close()
    app = History(db)
    assert app.problem is not None and app.problem.level is Level.CRITICAL
    app.close()


def test_shedding_drops_superseded_alert_rows_then_samples_then_records() -> None:
    from app.core.history import _shed, _Statement

    def alert_row(alert_id: int, note: str) -> _Statement:
        return _Statement("INSERT OR REPLACE INTO alerts VALUES (?,?)", (alert_id, note))

    event = _Statement("INSERT INTO events (ts, kind) VALUES (?,?)", (1.0, "acknowledged"))
    sample = _Statement("INSERT OR REPLACE INTO samples VALUES (?,?)", ("k", 1.0))
    record = _Statement("INSERT INTO records (kind, ts, data) VALUES (?,?,?)", ("x", 1.0, "{}"))
    batch = [alert_row(1, "raised"), sample, event, alert_row(1, "acked"), record, alert_row(2, "other")]
    total = sum(s.size for s in batch)
    kept, size, dropped = _shed(batch, total, total - 1)
    assert kept == [sample, event, alert_row(1, "acked"), record, alert_row(2, "other")] and dropped == 1
    kept, size, dropped = _shed(batch, total, size - 1)
    assert kept == [event, alert_row(1, "acked"), record, alert_row(2, "other")]
    kept, _, _ = _shed(batch, total, sum(s.size for s in kept) - 1)
    assert kept == [event, alert_row(1, "acked"), alert_row(2, "other")], "alerts and events go last"

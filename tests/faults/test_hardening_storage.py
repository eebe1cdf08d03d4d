"""Damaged, read-only and hostile storage against the real ``deskwatch`` processes.

Each test starts ``deskwatch run --headless`` / ``report`` / ``check`` as a
separate process on a real file (random bytes, an overwritten page, an
immutable file, a non-UTF-8 recording name in a real folder) and shows that
Deskwatch starts, says what happened, keeps polling and loses nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import monitors
from app.core.alerts import Alert
from app.core.history import History
from app.core.runtime import build_runtime
from app.kernel.model import Level
from tests.core.test_history_hardening import unwritable
from tests.faults.seat import Seat, wait_for

ROOT = Path(__file__).resolve().parents[2]
GBK_NAME = "录音-张三.wav"
CONFIG = '[monitors.computer]\ninterval = 0.3\nrequired_processes = ["dw-absent-crm"]\n'


def deskwatch(*args: str, **kwargs: object) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def read_alerts(db: Path) -> list[tuple[str, int, str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
    try:
        return con.execute("SELECT key, level, COALESCE(message, '') FROM alerts").fetchall()
    except sqlite3.Error:
        return []
    finally:
        con.close()


class Headless:
    """``deskwatch run --headless`` in its own process."""

    def __init__(self, tmp_path: Path, data: Path) -> None:
        self.config = tmp_path / "deskwatch.toml"
        self.config.write_text(CONFIG, "utf-8")
        command = deskwatch("run", "--headless", "--config", str(self.config), "--data-dir", str(data))
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=30)
        return err

    def running(self) -> bool:
        return self.process.poll() is None


def damaged_file(data: Path, damage: str) -> Path:
    data.mkdir(parents=True)
    db = data / "history.sqlite3"
    if damage == "random bytes":
        db.write_bytes(os.urandom(256 * 1024))
    else:
        history = History(db)
        for n in range(3000):
            history.add_record("filler", {"n": n, "pad": "p" * 200}, now=1000.0 + n)
        history.close()
        with db.open("r+b") as handle:  # an overwritten page in the middle of the file
            handle.seek(4096 * 5)
            handle.write(os.urandom(4096))
    return db


@pytest.mark.parametrize("damage", ["random bytes", "overwritten page"])
def test_headless_starts_on_a_damaged_history_keeps_it_for_it_and_says_so(
    tmp_path: Path, damage: str
) -> None:
    data = tmp_path / "data"
    db = damaged_file(data, damage)
    original = db.read_bytes()
    run = Headless(tmp_path, data)
    try:

        def storage_alert() -> bool:
            return any(key == "computer.history_storage" for key, _, _ in read_alerts(db))

        wait_for(storage_alert, 30, "the history-storage alert in the fresh history")
        wait_for(
            lambda: any(k == "computer.required_processes" for k, _, _ in read_alerts(db)), 30, "polling"
        )
        assert run.running()
    finally:
        err = run.stop()
    assert run.process.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    (aside,) = data.glob("history.sqlite3.damaged-*")
    assert aside.read_bytes() == original, "the damaged file is kept, unchanged, for IT"
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    ((_, level, message),) = [a for a in read_alerts(db) if a[0] == "computer.history_storage"]
    assert level == int(Level.WARNING) and aside.name in message


@pytest.fixture
def immutable_history(tmp_path: Path) -> Iterator[Path]:
    """A history file nobody may write: ``chattr +i`` (root ignores modes), else 0444."""
    data = tmp_path / "data"
    data.mkdir()
    db = data / "history.sqlite3"
    history = History(db)
    history.add_record("selftest", {"status": "pass"}, now=time.time() - 3600)
    history.close()
    with unwritable(db):
        yield db


def test_headless_runs_in_memory_on_a_read_only_history(tmp_path: Path, immutable_history: Path) -> None:
    before = immutable_history.read_bytes()
    run = Headless(tmp_path, immutable_history.parent)
    try:
        time.sleep(3.0)  # long enough to poll several times and hit every write path
        assert run.running(), "Deskwatch must not exit on a read-only history"
    finally:
        err = run.stop()
    assert run.process.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert "keeping this session's records in memory" in err
    assert "alert raised: computer.history_storage CRITICAL" in err
    assert immutable_history.read_bytes() == before


def test_the_runtime_on_a_read_only_history_shows_a_critical_storage_alert(
    tmp_path: Path, immutable_history: Path
) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text(CONFIG, "utf-8")
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=config,
        data_dir=immutable_history.parent,
        only=["computer"],
    )
    runtime.start()
    try:

        def critical() -> bool:
            state = runtime.engine.state("computer.history_storage")
            return state is not None and state.level is Level.CRITICAL

        wait_for(critical, 20, "the history-storage indicator to go critical")
        state = runtime.engine.state("computer.history_storage")
        assert state is not None and state.message is not None
        assert "in memory" in state.message("en") and "仅保存在内存中" in state.message("zh_CN")

        def missing_program() -> list[Alert]:
            return [a for a in runtime.engine.alerts.visible() if a.key == "computer.required_processes"]

        # (Other alerts may come first: the break reminders' one for a seat without idle time.)
        wait_for(missing_program, 20, "alerts to work in memory")
        (alert,) = missing_program()
        runtime.engine.acknowledge(alert.id, note="seen")
        assert runtime.history is not None
        assert runtime.history.query("SELECT note FROM alerts WHERE id=?", (alert.id,)) == [("seen",)]
    finally:
        runtime.stop()


def test_report_reads_a_read_only_history(tmp_path: Path, immutable_history: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        deskwatch("report", "--data-dir", str(immutable_history.parent), "--out", str(out)),
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    html, csv = (Path(line) for line in done.stdout.split())
    assert html.exists() and csv.exists()
    for path in (html, csv):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_report_on_a_damaged_history_says_so_without_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = damaged_file(data, "random bytes")
    done = subprocess.run(
        deskwatch("report", "--data-dir", str(data), "--out", str(tmp_path / "out")),
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot read the history" in done.stderr and "Traceback" not in done.stderr
    assert db.exists(), "a report never moves the file: the running app does"


# -- a recording name that is not UTF-8 ------------------------------------------------


@pytest.fixture
def gbk_folder(tmp_path: Path) -> Path:
    """A real recordings folder whose newest file has a GBK name, 5 hours old (critical)."""
    folder = tmp_path / "share"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), GBK_NAME.encode("gbk"))
    with open(raw, "wb") as handle:
        handle.write(b"RIFF")
    past = time.time() - 5 * 3600
    os.utime(raw, (past, past))
    return folder


def test_a_gbk_recording_name_keeps_the_recorder_polling_and_history_writable(
    tmp_path: Path, gbk_folder: Path
) -> None:
    config = (
        f'recordings_dir = "{gbk_folder}"\n[monitors.recorder]\ninterval = 0.2\nexpect_recordings = true\n'
    )
    desk = Seat(tmp_path / "seat", config, ["recorder"])
    try:
        state = desk.wait_level("recorder.newest_age", Level.CRITICAL)
        assert state.message is not None and state.message("en") == GBK_NAME
        (alert,) = desk.alerts("recorder.newest_age")
        desk.engine.acknowledge(alert.id, note="old recording seen")
        polls = desk.runtime.scheduler.poll_counts()["recorder"]
        wait_for(lambda: desk.runtime.scheduler.poll_counts()["recorder"] >= polls + 5, 20, "more polls")
        # Another writer (the selftest command, a report) is not locked out.
        other = sqlite3.connect(desk.data_dir / "history.sqlite3", timeout=1.0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("COMMIT")
        other.close()
        assert desk.level("computer.history_storage") is Level.OK
    finally:
        desk.stop()
    con = sqlite3.connect(desk.data_dir / "history.sqlite3")
    rows = con.execute("SELECT message, note FROM alerts WHERE key='recorder.newest_age'").fetchall()
    con.close()
    ((message, note),) = rows
    assert json.loads(message)["zh_CN"] == GBK_NAME and note == "old recording seen"


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii:strict"])
def test_check_json_survives_a_strict_stdout(tmp_path: Path, gbk_folder: Path, encoding: str) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        f'recordings_dir = "{gbk_folder}"\n[monitors.recorder]\nexpect_recordings = true\n', "utf-8"
    )
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    done = subprocess.run(
        deskwatch("check", "--json", "--only", "recorder", "--lang", "zh_CN",
                  "--config", str(config), "--data-dir", str(tmp_path / "data")),
        cwd=ROOT, capture_output=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr.decode(errors="replace")[-3000:]  # critical: 5 h old
    payload = json.loads(done.stdout.decode("utf-8", "replace"))
    newest = next(i for i in payload["indicators"] if i["id"] == "recorder.newest_age")
    assert newest["level"] == "critical"
    if encoding.startswith("utf-8"):
        assert newest["message"] == GBK_NAME


@pytest.mark.parametrize("condition", ["damaged", "read-only"])
def test_the_tray_app_starts_on_a_damaged_or_read_only_history(
    tmp_path: Path, immutable_history: Path, condition: str
) -> None:
    data = immutable_history.parent
    if condition == "damaged":
        subprocess.run(["chattr", "-i", str(immutable_history)], check=False)
        immutable_history.chmod(0o600)
        immutable_history.write_bytes(os.urandom(64 * 1024))
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime_dir)}
    command = deskwatch("run", "--demo", "--data-dir", str(data))
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            lambda: (runtime_dir / "deskwatch-demo.sock").exists() or proc.poll() is not None, 30, "start"
        )
        time.sleep(2.0)
        assert proc.poll() is None, "the tray app must not exit on its history file"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err[-3000:]
    if condition == "damaged":
        assert list(data.glob("history.sqlite3.damaged-*"))
        assert any(key == "computer.history_storage" for key, _, _ in read_alerts(immutable_history))
    else:
        assert "keeping this session's records in memory" in err

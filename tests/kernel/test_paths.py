"""Deskwatch's files are the clerk's (``app.kernel.paths`` and its users): 0700/0600 whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import save_user_values
from app.core.history import History
from app.core.runtime import HISTORY_FILE, build_runtime
from app.kernel.paths import secure_data_dir, tighten, write_private
from tests.core.fakes import CLASSES


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The common desktop umask: everything created is world-readable unless set explicitly."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_data_folder_and_its_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runtime = build_runtime(data_dir=data, monitor_classes=CLASSES, only=["fake"])
    runtime.stop()
    assert mode(data) == 0o700
    for name in (HISTORY_FILE, HISTORY_FILE + "-wal", HISTORY_FILE + "-shm"):
        if (data / name).exists():
            assert mode(data / name) == 0o600, name


def test_modes_left_too_open_by_an_older_version_are_fixed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "reports").mkdir(parents=True)
    History(data / HISTORY_FILE).close()
    report = data / "reports" / "fault-1.txt"
    report.write_text("call history", "utf-8")
    for path, loose in (
        (data, 0o755),
        (data / "reports", 0o755),
        (data / HISTORY_FILE, 0o644),
        (report, 0o644),
    ):
        path.chmod(loose)
    elsewhere = tmp_path / "not-ours.txt"
    elsewhere.write_text("x", "utf-8")
    elsewhere.chmod(0o644)
    (data / "link").symlink_to(elsewhere)
    secure_data_dir(data)
    assert (mode(data), mode(data / "reports")) == (0o700, 0o700)
    assert (mode(data / HISTORY_FILE), mode(report)) == (0o600, 0o600)
    assert mode(elsewhere) == 0o644, "a link's target is never changed"


def test_shared_and_user_chosen_folders_are_never_changed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"  # like /tmp: sticky and world-writable
    shared.mkdir()
    shared.chmod(0o1777)
    History(shared / HISTORY_FILE).close()
    secure_data_dir(shared)
    assert mode(shared) == 0o1777
    home = tmp_path / "home"  # --data-dir pointing at a folder of the user's
    home.mkdir()
    home.chmod(0o755)
    (home / "notes.txt").write_text("the clerk's own file", "utf-8")
    (home / "notes.txt").chmod(0o644)
    secure_data_dir(home)
    History(home / "elsewhere.sqlite3").close()
    assert (mode(home), mode(home / "notes.txt")) == (0o755, 0o644)
    assert mode(home / "elsewhere.sqlite3") == 0o600, "our own file is private in any folder"


def test_another_users_file_is_left_alone(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    theirs = tmp_path / "theirs.txt"
    theirs.write_text("x", "utf-8")
    theirs.chmod(0o644)
    os.chown(theirs, 4242, 4242)
    tighten(theirs)
    assert mode(theirs) == 0o644


def test_write_private_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", "utf-8")
    target = tmp_path / "report.html"
    target.symlink_to(victim)
    write_private(target, "<html></html>")
    assert victim.read_text("utf-8") == "keep me"
    assert not target.is_symlink() and mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "victim.txt"], "no temp file left"


def test_fault_reports_are_private(tmp_path: Path) -> None:
    from app.core.status import FaultReport, save_fault_report

    saved = save_fault_report(
        FaultReport("subject", "call at 10:02, line dropped\n", "printer.state"), tmp_path
    )
    assert saved.path is not None
    assert (mode(tmp_path / "reports"), mode(saved.path)) == (0o700, 0o600)


@pytest.mark.parametrize("before", [0o600, 0o640, None])
def test_config_write_back_keeps_the_files_mode(tmp_path: Path, before: int | None) -> None:
    path = tmp_path / "deskwatch.toml"
    if before is not None:
        path.write_text('# the clerk\'s comment\n[monitors.printer]\nsnmp_community = "s3cret"\n', "utf-8")
        path.chmod(before)
    save_user_values(path, {("monitors", "computer", "interval"): 7})
    assert mode(path) == (0o600 if before is None else before)
    text = path.read_text("utf-8")
    assert "interval = 7" in text
    if before is not None:
        assert "the clerk's comment" in text
    assert [p.name for p in tmp_path.iterdir()] == ["deskwatch.toml"], "no temporary file left"


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from app.core.history import History
from app.kernel.paths import secure_data_dir
data = Path({data!r})
history = History(data / "history.sqlite3")
for n in range(300):
    history.set_state("n", n)
    if n % 5 == 0:
        secure_data_dir(data)  # as at every start, beside an open database
history.close()
print("done")
"""
READER = """
import sqlite3, sys, time
deadline = time.time() + 30
while time.time() < deadline:
    con = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=2)
    try:
        con.execute("SELECT count(*) FROM kv").fetchall()
    except sqlite3.Error:
        pass
    con.close()
"""


def test_tightening_modes_beside_an_open_history_leaves_its_locks_alone(tmp_path: Path) -> None:
    """Opening and closing a database file drops SQLite's POSIX locks: tightening must not open it."""
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[2])
    data = tmp_path / "data"
    History(data / HISTORY_FILE).close()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(data / HISTORY_FILE)])
    try:
        for _ in range(3):
            writer = subprocess.run(
                [sys.executable, "-c", WRITER.format(root=root, data=str(data))],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert writer.returncode == 0 and "done" in writer.stdout, writer.stderr[-2000:]
    finally:
        reader.kill()
        reader.wait()

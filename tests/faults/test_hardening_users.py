"""Another local user cannot stop this clerk's Deskwatch (a terminal server with many clerks).

A real second user is created with ``useradd`` (tests run as root; skipped
otherwise) and squats the names an older Deskwatch used.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTHER_USER = "dw-harden-squat"

SQUATTER = textwrap.dedent(
    """
    import os, socket, sys, time
    path = sys.argv[1]
    if sys.argv[2] == "dir":
        os.mkdir(path, 0o700)
    else:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        os.chmod(path, 0o777)
        server.listen(8)
        server.settimeout(0.2)
    print("ready", flush=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if sys.argv[2] == "dir":
            time.sleep(0.2)
            continue
        try:
            conn, _ = server.accept()
            conn.close()
        except OSError:
            pass
    """
)


@pytest.fixture(scope="module")
def other_user() -> Iterator[pwd.struct_passwd]:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating a second local user needs root and useradd")
    created = False
    try:
        entry = pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", OTHER_USER], check=True)
        created = True
        entry = pwd.getpwnam(OTHER_USER)
    yield entry
    if created:
        subprocess.run(["userdel", OTHER_USER], check=False)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A /tmp-like folder (1777) both users can reach; pytest's own tmp dirs are 0700."""
    path = Path(tempfile.mkdtemp(prefix="dw-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Squatter:
    """A process of the other user holding a socket (or folder) at ``path``."""

    def __init__(self, user: pwd.struct_passwd, path: Path, kind: str = "socket") -> None:
        command = [
            "setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
            "/usr/bin/python3", "-c", SQUATTER, str(path), kind,
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"
        assert path.lstat().st_uid == user.pw_uid

    def stop(self) -> None:
        self.process.kill()
        self.process.communicate()


def test_a_squatted_socket_of_another_user_is_not_taken_for_deskwatch(
    other_user: pwd.struct_passwd, shared_tmp: Path, qapp: Any
) -> None:
    from app.ui.single import ask_running_instance

    squat = Squatter(other_user, shared_tmp / "deskwatch.sock")
    try:
        assert ask_running_instance(str(shared_tmp / "deskwatch.sock"), 2000) is False
    finally:
        squat.stop()


def test_the_instance_socket_lives_in_a_private_folder(
    other_user: pwd.struct_passwd, shared_tmp: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any
) -> None:
    from app.ui import single

    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    # The other user took the fallback folder's name first.
    squat = Squatter(other_user, shared_tmp / f"deskwatch-{os.geteuid()}", kind="dir")
    try:
        name = single.server_name()
        folder = Path(name).parent
        assert folder != shared_tmp / f"deskwatch-{os.geteuid()}"
        assert folder.stat().st_uid == os.geteuid() and folder.stat().st_mode & 0o077 == 0
        instance = single.SingleInstance(name)
        assert instance.listen()
        assert single.ask_running_instance(name, 2000) is True
        instance.close()
    finally:
        squat.stop()


def test_deskwatch_starts_although_another_user_squats_the_old_socket_name(
    other_user: pwd.struct_passwd, shared_tmp: Path, tmp_path: Path
) -> None:
    user = pwd.getpwuid(os.geteuid()).pw_name
    # Where Deskwatch used to listen: QDir.tempPath()/deskwatch-<user>[-demo].
    squat = Squatter(other_user, shared_tmp / f"deskwatch-{user}-demo")
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    env = {
        **os.environ,
        "TMPDIR": str(shared_tmp),
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "QT_QPA_PLATFORM": "offscreen",
    }
    command = [sys.executable, "-m", "app.cli", "run", "--demo", "--data-dir", str(tmp_path / "data")]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (runtime_dir / "deskwatch-demo.sock").exists():
            assert proc.poll() is None, "Deskwatch exited: it took the squatter for itself"
            time.sleep(0.1)
        assert (runtime_dir / "deskwatch-demo.sock").exists()
        time.sleep(1.0)
        assert proc.poll() is None
    finally:
        squat.stop()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


KNOCKER = textwrap.dedent(
    """
    import socket, sys
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(sys.argv[1])
        try:
            # The other end may check who we are and close before the knock is sent
            # (a broken pipe) or while it is unread (a reset): refused either way.
            conn.sendall(b"show\\n")
            conn.recv(1)
        except (BrokenPipeError, ConnectionResetError):
            pass
    print("knocked", flush=True)
    """
)


def test_a_knock_from_another_user_is_not_obeyed(
    other_user: pwd.struct_passwd, shared_tmp: Path, qtbot: Any
) -> None:
    from app.ui import single

    name = str(shared_tmp / "deskwatch.sock")
    instance = single.SingleInstance(name)
    assert instance.listen()
    shown: list[bool] = []
    instance.show_requested.connect(lambda: shown.append(True))
    try:
        os.chmod(name, 0o777)  # as if the socket were reachable: the uid check alone must hold
        command = [
            "setpriv", f"--reuid={other_user.pw_uid}", f"--regid={other_user.pw_gid}", "--clear-groups",
            "/usr/bin/python3", "-c", KNOCKER, name,
        ]  # fmt: skip
        knocker = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        qtbot.waitUntil(lambda: knocker.poll() is not None, timeout=10000)
        assert knocker.communicate()[0].strip() == "knocked"
        qtbot.wait(300)
        assert shown == []
        with qtbot.waitSignal(instance.show_requested, timeout=3000):
            assert single.ask_running_instance(name, 2000) is True
    finally:
        instance.close()

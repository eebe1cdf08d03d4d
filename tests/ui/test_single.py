"""The single-instance socket (app/ui/single.py) without QtNetwork: the socket file, stale names, slow
callers, and the Windows named-pipe path run here with a socket standing in for the pipe.

A second launch from another user is in tests/faults/test_hardening_users.py.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.ui import single

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def name(tmp_path: Path) -> str:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    return str(folder / "deskwatch-test.sock")


@pytest.fixture
def instance(name: str, qapp: Any) -> Iterator[single.SingleInstance]:
    first = single.SingleInstance(name)
    assert first.listen()
    yield first
    first.close()


def test_the_socket_is_the_users_alone_and_goes_with_the_instance(
    name: str, instance: single.SingleInstance
) -> None:
    info = os.lstat(name)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()
    instance.close()
    assert not os.path.exists(name)
    assert single.ask_running_instance(name, 200) is False


def test_a_socket_left_by_a_crashed_instance_is_taken_over(name: str, qtbot: Any) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(name)
    stale.close()  # the file stays, nobody listens: what a killed Deskwatch leaves
    assert single.ask_running_instance(name, 200) is False
    first = single.SingleInstance(name)
    try:
        assert first.listen()
        with qtbot.waitSignal(first.show_requested, timeout=3000):
            assert single.ask_running_instance(name) is True
    finally:
        first.close()


def test_a_file_that_is_not_a_socket_is_never_removed(name: str, qapp: Any) -> None:
    Path(name).write_text("not ours to delete", "utf-8")
    first = single.SingleInstance(name)
    assert first.listen() is False
    first.close()
    assert Path(name).read_text("utf-8") == "not ours to delete"


def test_closing_leaves_a_newer_instances_socket_alone(name: str, qapp: Any) -> None:
    first = single.SingleInstance(name)
    assert first.listen()
    os.unlink(name)  # as a later instance does when it takes the name for stale
    second = single.SingleInstance(name)
    assert second.listen()
    first.close()
    assert stat.S_ISSOCK(os.lstat(name).st_mode)
    second.close()
    assert not os.path.exists(name)


def test_a_caller_that_says_nothing_does_not_hold_up_the_next(
    name: str, instance: single.SingleInstance, qtbot: Any
) -> None:
    shown: list[bool] = []
    instance.show_requested.connect(lambda: shown.append(True))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.connect(name)
        silent.sendall(b"sh")  # half a line, then nothing
        with qtbot.waitSignal(instance.show_requested, timeout=3000):
            assert single.ask_running_instance(name) is True
        assert shown == [True]
    # Other words are not the command.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.connect(name)
        other.sendall(b"quit\n")
    qtbot.wait(300)
    assert shown == [True]


#: ``deskwatch run`` must not load QtNetwork for its single-instance check.
NO_QTNETWORK = textwrap.dedent(
    """
    import sys
    from app.ui import single
    first = single.SingleInstance(sys.argv[1])
    assert first.listen()
    assert single.ask_running_instance(sys.argv[1])
    first.close()
    print(sorted(m for m in sys.modules if m.startswith("PySide6.Qt")))
    """
)


def test_no_qtnetwork_is_loaded(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_QTNETWORK, name], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['PySide6.QtCore']"]


# -- Windows: the named pipe, with an AF_UNIX socket standing in -------------------------------
@pytest.fixture
def faked_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(single, "WINDOWS", True)
    monkeypatch.setattr(single, "PIPE_FAMILY", "AF_UNIX")


def test_the_windows_name_is_a_pipe_of_this_user(
    faked_windows: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(single.getpass, "getuser", lambda: "DOMAIN\\zhang wei")
    assert single.server_name("-demo") == r"\\.\pipe\deskwatch-demo-DOMAIN_zhang_wei"


def test_the_pipe_server_hands_a_knock_to_the_gui_thread(faked_windows: None, name: str, qtbot: Any) -> None:
    first = single.SingleInstance(name)
    assert first.listen()
    threads: list[threading.Thread] = []
    first.show_requested.connect(lambda: threads.append(threading.current_thread()))
    try:
        # A second server cannot take the name (on Windows: the first pipe instance is held).
        second = single.SingleInstance(name)
        assert second.listen() is False
        with qtbot.waitSignal(first.show_requested, timeout=5000):
            assert single.ask_running_instance(name) is True
        assert threads == [threading.main_thread()]
    finally:
        first.close()
    assert not any(t.name == "deskwatch-instance" for t in threading.enumerate()), "the pipe thread ended"
    assert single.ask_running_instance(name) is False


def test_the_pipe_server_ignores_other_words_and_silence(faked_windows: None, name: str, qtbot: Any) -> None:
    from multiprocessing.connection import Client

    first = single.SingleInstance(name)
    assert first.listen()
    shown: list[bool] = []
    first.show_requested.connect(lambda: shown.append(True))
    try:
        with Client(name, family="AF_UNIX") as other:
            other.send_bytes(b"quit\n")
        with Client(name, family="AF_UNIX"):
            pass  # connects and goes without a word
        with qtbot.waitSignal(first.show_requested, timeout=5000):
            assert single.ask_running_instance(name) is True
        qtbot.wait(200)
        assert shown == [True]
    finally:
        first.close()

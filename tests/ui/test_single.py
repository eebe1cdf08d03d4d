"""The single-instance socket (app/ui/single.py) without QtNetwork: the socket file, stale names, slow
callers, and the Windows named-pipe path run here with a socket standing in for the pipe.

A second launch from another user is in tests/faults/test_hardening_users.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time
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
#: Token users as ``whoami /user`` prints them on a terminal server: two clerks of one domain.
OWN_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
OTHER_SID = "S-1-5-21-1004336348-1177238915-682003330-1002"
OTHER_PID = 5120  # the other clerk's process (not ours to open: ERROR_ACCESS_DENIED)
ERROR_ACCESS_DENIED, ERROR_INSUFFICIENT_BUFFER = 5, 122


def sid_bytes(text: str) -> bytes:
    """The binary SID of ``S-1-5-21-…`` (revision, count, 6-byte authority, sub-authorities)."""
    _s, revision, authority, *subs = text.split("-")
    head = bytes([int(revision), len(subs)]) + int(authority).to_bytes(6, "big")
    return head + struct.pack(f"<{len(subs)}I", *map(int, subs))


class FakeWin32:
    """kernel32/advapi32 as Windows answers the calls of :class:`single.PipePeers`.

    ``users`` maps a process id to its token user; ``None`` is a process
    ``OpenProcess`` refuses (another user's, for a clerk who is no admin).
    ``GetTokenInformation`` fails with ERROR_INSUFFICIENT_BUFFER and the size
    needed when asked without a buffer (44 bytes for a domain user on 64-bit
    Windows: TOKEN_USER's pointer and attributes, then the 28-byte SID), and
    lays TOKEN_USER out as Windows does: the SID pointer points past the
    struct, into the same buffer.  Every handle opened must be closed.
    """

    CURRENT_PROCESS = -1  # GetCurrentProcess's pseudo handle, never closed

    def __init__(self, users: dict[int, str | None], server: int, client: int) -> None:
        self.users, self.server, self.client = users, server, client
        self.handles: dict[int, tuple[str, int]] = {}
        self.error = 0
        self.calls: list[str] = []
        self._next = 0x1A4

    def _open(self, kind: str, pid: int) -> int:
        self._next += 4
        self.handles[self._next] = (kind, pid)
        return self._next

    def GetNamedPipeServerProcessId(self, pipe: int, pid: Any) -> int:
        assert isinstance(pipe, int) and pipe >= 0
        self.calls.append("server")
        pid._obj.value = self.server
        return 1

    def GetNamedPipeClientProcessId(self, pipe: int, pid: Any) -> int:
        assert isinstance(pipe, int) and pipe >= 0
        self.calls.append("client")
        pid._obj.value = self.client
        return 1

    def GetCurrentProcess(self) -> int:
        return self.CURRENT_PROCESS

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int | None:
        assert access == 0x1000 and inherit is False  # PROCESS_QUERY_LIMITED_INFORMATION
        if self.users.get(pid) is None:
            self.error = ERROR_ACCESS_DENIED
            return None
        return self._open("process", pid)

    def OpenProcessToken(self, process: int, access: int, token: Any) -> int:
        assert access == 0x0008  # TOKEN_QUERY
        pid = os.getpid() if process == self.CURRENT_PROCESS else self.handles[process][1]
        token._obj.value = self._open("token", pid)
        return 1

    def GetTokenInformation(self, token: Any, kind: int, buffer: Any, size: int, needed: Any) -> int:
        assert kind == 1  # TokenUser
        sid = sid_bytes(self.users[self.handles[token.value][1]] or "")
        header = 2 * ctypes.sizeof(ctypes.c_void_p)
        needed._obj.value = header + len(sid)
        if buffer is None or size < header + len(sid):
            self.error = ERROR_INSUFFICIENT_BUFFER
            return 0
        ctypes.memmove(ctypes.addressof(buffer) + header, sid, len(sid))
        ctypes.c_void_p.from_buffer(buffer).value = ctypes.addressof(buffer) + header
        return 1

    def CloseHandle(self, handle: Any) -> int:
        del self.handles[handle.value if isinstance(handle, ctypes.c_void_p) else handle]
        return 1

    def last_error(self) -> int:
        return self.error


def fake_win32(monkeypatch: pytest.MonkeyPatch, server: int, client: int) -> FakeWin32:
    users: dict[int, str | None] = {os.getpid(): OWN_SID, OTHER_PID: None}
    fake = FakeWin32(users, server, client)
    monkeypatch.setattr(single, "PIPE_PEERS", single.PipePeers(fake))
    return fake


@pytest.fixture
def faked_windows(monkeypatch: pytest.MonkeyPatch) -> FakeWin32:
    """Windows's pipe code on an AF_UNIX socket; both ends are this user's (this process)."""
    monkeypatch.setattr(single, "WINDOWS", True)
    monkeypatch.setattr(single, "PIPE_FAMILY", "AF_UNIX")
    return fake_win32(monkeypatch, os.getpid(), os.getpid())


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


class Squatter:
    """Another user's server on our pipe name (here: an AF_UNIX listener), keeping what it is told."""

    def __init__(self, name: str) -> None:
        from multiprocessing.connection import Listener

        self.listener = Listener(name, family="AF_UNIX")
        self.heard: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError, EOFError), self.listener.accept() as connection:
            self.heard.append(connection.recv_bytes(64))

    def close(self) -> None:
        self.thread.join(5)
        self.listener.close()


@pytest.mark.parametrize("owner", [OTHER_SID, None], ids=["another user", "not ours to open"])
def test_a_pipe_another_user_serves_is_no_running_deskwatch(
    faked_windows: FakeWin32, name: str, monkeypatch: pytest.MonkeyPatch, owner: str | None
) -> None:
    faked_windows.users[OTHER_PID] = owner
    faked_windows.server = OTHER_PID
    squatter = Squatter(name)
    try:
        assert single.ask_running_instance(name) is False  # so this clerk's Deskwatch starts
    finally:
        squatter.close()
    assert squatter.heard == [], "nothing is said to another user's pipe"
    assert faked_windows.calls == ["server"] and faked_windows.handles == {}


def test_a_knock_from_another_users_process_is_not_obeyed(
    faked_windows: FakeWin32, name: str, qtbot: Any
) -> None:
    first = single.SingleInstance(name)
    assert first.listen()
    shown: list[bool] = []
    first.show_requested.connect(lambda: shown.append(True))
    try:
        faked_windows.client = OTHER_PID
        # The server is ours, the knock is not: it hangs up (the knocker may see that, or not).
        single.ask_running_instance(name)
        deadline = time.monotonic() + 1.0
        while "client" not in faked_windows.calls and time.monotonic() < deadline:
            qtbot.wait(20)
        qtbot.wait(200)
        assert shown == [] and "client" in faked_windows.calls
        faked_windows.client = os.getpid()
        with qtbot.waitSignal(first.show_requested, timeout=5000):
            assert single.ask_running_instance(name) is True
    finally:
        first.close()
    assert faked_windows.handles == {}, "every process and token handle is closed"


def test_a_malformed_token_user_is_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ui import pipe_peer

    own = sid_bytes(OWN_SID)
    header = 2 * ctypes.sizeof(ctypes.c_void_p)

    def token_user(sid: bytes, offset: int | None = header) -> ctypes.Array[ctypes.c_char]:
        buffer = ctypes.create_string_buffer(header + len(sid))
        ctypes.memmove(ctypes.addressof(buffer) + header, sid, len(sid))
        pointer = None if offset is None else ctypes.addressof(buffer) + offset
        ctypes.c_void_p.from_buffer(buffer).value = pointer
        return buffer

    assert pipe_peer.token_user_sid(token_user(own)) == own
    assert pipe_peer.sid_string(own) == OWN_SID
    assert pipe_peer.token_user_sid(token_user(own, None)) is None
    assert pipe_peer.token_user_sid(token_user(own, 0)) is None  # points at itself
    assert pipe_peer.token_user_sid(token_user(own, 4096)) is None  # outside the buffer
    assert pipe_peer.token_user_sid(token_user(bytes([2]) + own[1:])) is None  # revision 2
    assert pipe_peer.token_user_sid(token_user(own[:1] + bytes([6]) + own[2:])) is None  # runs past the end
    assert pipe_peer.token_user_sid(token_user(own[:1] + bytes([16]) + own[2:] + bytes(44))) is None


# -- Linux: the socket's folder --------------------------------------------------------------------
def test_a_runtime_folder_others_can_enter_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "xdg"
    runtime.mkdir()
    runtime.chmod(0o755)  # as a badly set-up session leaves $XDG_RUNTIME_DIR
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(single.tempfile, "tempdir", str(tmp_path / "tmp"))
    folder = Path(single.server_name()).parent
    assert folder == tmp_path / "tmp" / f"deskwatch-{os.geteuid()}"
    info = folder.lstat()
    assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
    runtime.chmod(0o700)
    assert Path(single.server_name()).parent == runtime

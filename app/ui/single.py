"""Single instance.

The first Deskwatch listens on a local socket; a second launch asks it to
show the panel and exits.

Linux: an ``AF_UNIX`` socket in a folder only this user can enter, watched
on the GUI thread by a :class:`QSocketNotifier` (QtNetwork's ``QLocalServer``
would load a 2 MiB library for this alone); both ends check the other's user
id.  Windows: a named pipe (``multiprocessing.connection``, the first pipe
instance, so a name someone else holds is not shared), served by a thread
that hands knocks to the GUI thread through a queued signal; pipe names are
machine-wide, so both ends check that the other runs as this user
(:mod:`app.ui.pipe_peer`).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import logging
import os
import re
import socket as pysocket
import stat
import struct
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Signal

from app.kernel.paths import private_dir, user_data_dir
from app.ui.pipe_peer import PipePeers

log = logging.getLogger(__name__)

SHOW_COMMAND = b"show\n"
#: Windows's names and transport; tests on Linux put ``True`` and ``"AF_UNIX"`` here (a socket stands in
#: for the pipe: ``multiprocessing.connection`` serves both through the same calls).
WINDOWS = os.name == "nt"
PIPE_FAMILY = "AF_PIPE"
#: Connections read at once; more are closed unread (a launch sends one line and goes).
MAX_CONNECTIONS = 8
#: Longest a knock on the pipe may take to say its command.
PIPE_READ_S = 1.0
#: Who is at the other end of a pipe (tests put Win32 functions that answer as Windows does here).
PIPE_PEERS = PipePeers()


def server_name(suffix: str = "") -> str:
    """The instance socket: a path in a folder only this user can enter.

    A bare name would live in ``/tmp`` (``/tmp/deskwatch-<user>``), where any
    user can create it first; Deskwatch would then take the squatter for
    itself and exit.  ``$XDG_RUNTIME_DIR`` (``/run/user/<uid>``, 0700) is used
    when it is really ours, else a private 0700 folder.  On Windows the name
    is a named pipe; pipe names are machine-wide (every session of a terminal
    server), so each end checks that the other runs as this user.
    """
    name = "deskwatch" + suffix
    if WINDOWS:
        try:
            user = getpass.getuser()
        except Exception:
            user = "user"
        return "\\\\.\\pipe\\" + name + "-" + re.sub(r"[^A-Za-z0-9_-]", "_", user)
    return str(_private_runtime_dir() / f"{name}.sock")


def _is_private_dir(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not stat.S_IMODE(info.st_mode) & 0o077
    )


def _private_runtime_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and _is_private_dir(Path(runtime)):
        return Path(runtime)
    fallback = Path(tempfile.gettempdir()) / f"deskwatch-{os.geteuid()}"
    with contextlib.suppress(OSError):
        fallback.mkdir(mode=0o700)
    if _is_private_dir(fallback):
        return fallback
    # Someone else holds that name: use the data folder, which Deskwatch keeps 0700.
    log.warning(
        "%s is not a private folder of this user; using the data folder for the instance socket", fallback
    )
    return private_dir(user_data_dir())


def peer_uid(connection: pysocket.socket) -> int | None:
    """The user id of the process at the other end of a connected ``AF_UNIX`` socket (Linux)."""
    if not hasattr(pysocket, "SO_PEERCRED"):
        return None
    creds = connection.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _foreign(connection: pysocket.socket, name: str) -> bool:
    """Whether another user's process is at the other end (logged: it is not a Deskwatch of ours)."""
    uid = peer_uid(connection)
    if uid is None or uid == os.geteuid():
        return False
    log.warning("instance socket %s: the other end is user id %d, not this user; ignoring it", name, uid)
    return True


def ask_running_instance(name: str, timeout_ms: int = 500) -> bool:
    """Tell a running Deskwatch to show its panel; ``False`` when none of ours answers.

    A socket held by another user is not a running Deskwatch of this clerk.
    """
    if WINDOWS:
        return _ask_pipe(name)
    with pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_ms / 1000)
        try:
            connection.connect(name)
        except OSError:  # no socket, nobody listening, or its backlog full for the whole wait
            return False
        if _foreign(connection, name):
            return False
        try:
            connection.sendall(SHOW_COMMAND)
        except OSError:
            return False
    return True


def _ask_pipe(name: str) -> bool:
    # No pipe: FileNotFoundError at once; a busy one is waited for up to 1 s (WaitNamedPipe).
    from multiprocessing.connection import Client

    try:
        with Client(name, family=PIPE_FAMILY) as connection:
            # Another user's pipe under our name is no Deskwatch of ours: say nothing to it.
            if not PIPE_PEERS.server_is_ours(connection.fileno()):
                return False
            connection.send_bytes(SHOW_COMMAND)
    except OSError:
        return False
    return True


class _SocketServer:
    """The listening ``AF_UNIX`` socket and its readers, all on the GUI thread (never blocking)."""

    def __init__(self, name: str, owner: QObject, knock: Callable[[], None]) -> None:
        self.name = name
        self.owner = owner
        self.knock = knock
        self.socket: pysocket.socket | None = None
        self.inode: int | None = None
        self.notifier: QSocketNotifier | None = None
        self.readers: dict[QSocketNotifier, tuple[pysocket.socket, bytearray]] = {}

    def listen(self) -> bool:
        server = pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM)
        try:
            self._bind(server)
            server.listen(MAX_CONNECTIONS)
        except OSError as exc:
            server.close()
            log.warning("single-instance socket %s: %s", self.name, exc)
            return False
        server.setblocking(False)
        self.socket = server
        self.notifier = QSocketNotifier(server.fileno(), QSocketNotifier.Type.Read, self.owner)
        self.notifier.activated.connect(self._accept)
        return True

    def _bind(self, server: pysocket.socket) -> None:
        try:
            server.bind(self.name)
        except OSError as exc:
            # A socket left by a crashed instance (a live one answered ask_running_instance).
            if exc.errno != errno.EADDRINUSE or not stat.S_ISSOCK(os.lstat(self.name).st_mode):
                raise
            os.unlink(self.name)
            server.bind(self.name)
        # The folder is this user's alone already; the socket is too.
        os.chmod(self.name, 0o600)
        self.inode = os.lstat(self.name).st_ino

    def _accept(self, *_args: Any) -> None:
        while self.socket is not None:
            try:
                connection, _address = self.socket.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("single-instance socket %s: %s", self.name, exc)
                return
            if len(self.readers) >= MAX_CONNECTIONS or _foreign(connection, self.name):
                connection.close()
                continue
            connection.setblocking(False)
            reader = QSocketNotifier(connection.fileno(), QSocketNotifier.Type.Read, self.owner)
            self.readers[reader] = (connection, bytearray())
            reader.activated.connect(lambda *_args, reader=reader: self._read(reader))

    def _read(self, reader: QSocketNotifier) -> None:
        if reader not in self.readers:  # dropped already
            return
        connection, data = self.readers[reader]
        try:
            chunk = connection.recv(64)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        data += chunk
        if chunk and b"\n" not in data and len(data) < 64:
            return  # the rest of the line is on its way
        self._drop(reader)
        if data.strip() == SHOW_COMMAND.strip():
            self.knock()

    def _drop(self, reader: QSocketNotifier) -> None:
        connection, _data = self.readers.pop(reader)
        reader.setEnabled(False)
        reader.deleteLater()
        connection.close()

    def close(self) -> None:
        for reader in list(self.readers):
            self._drop(reader)
        if self.notifier is not None:
            self.notifier.setEnabled(False)
            self.notifier.deleteLater()
            self.notifier = None
        if self.socket is not None:
            self.socket.close()
            self.socket = None
            # Only our own socket: a later instance may have replaced a name it took for stale.
            with contextlib.suppress(OSError):
                if os.lstat(self.name).st_ino == self.inode:
                    os.unlink(self.name)


class _PipeServer:
    """The named pipe, accepted on a thread (Windows waits on pipes, not on sockets' notifiers)."""

    def __init__(self, name: str, knock: Callable[[], None]) -> None:
        self.name = name
        self.knock = knock
        self.listener: Any = None
        self.thread: threading.Thread | None = None
        self.closing = threading.Event()

    def listen(self) -> bool:
        from multiprocessing.connection import Listener

        try:
            self.listener = Listener(self.name, family=PIPE_FAMILY)
        except OSError as exc:  # the name is taken (the first pipe instance is someone else's)
            log.warning("single-instance pipe %s: %s", self.name, exc)
            return False
        self.thread = threading.Thread(target=self._serve, name="deskwatch-instance", daemon=True)
        self.thread.start()
        return True

    def _serve(self) -> None:
        while not self.closing.is_set():
            try:
                connection = self.listener.accept()
            except OSError as exc:
                if not self.closing.is_set():
                    log.warning("single-instance pipe %s: %s", self.name, exc)
                return
            with connection:
                if self.closing.is_set():
                    return
                if not PIPE_PEERS.client_is_ours(connection.fileno()):
                    continue  # another user's process: its words are not obeyed
                try:
                    data = connection.recv_bytes(64) if connection.poll(PIPE_READ_S) else b""
                except (OSError, EOFError):
                    continue
            if data.strip() == SHOW_COMMAND.strip():
                self.knock()

    def close(self) -> None:
        if self.thread is None:
            return
        self.closing.set()
        # Wake the thread out of accept(): it sees the flag and ends.
        from multiprocessing.connection import Client

        with contextlib.suppress(OSError), Client(self.name, family=PIPE_FAMILY):
            pass
        self.thread.join(2.0)
        self.thread = None
        self.listener.close()


class SingleInstance(QObject):
    """Owns the instance socket and emits :attr:`show_requested` when another launch knocks."""

    show_requested = Signal()
    #: Emitted where the knock was heard (the pipe's thread on Windows); queued to the GUI thread.
    _knocked = Signal()

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._knocked.connect(self.show_requested)
        self._server: _SocketServer | _PipeServer = (
            _PipeServer(self.name, self._knocked.emit)
            if WINDOWS
            else _SocketServer(self.name, self, self._knocked.emit)
        )

    def listen(self) -> bool:
        """Claim the name; a stale socket left by a crashed instance is removed first."""
        return self._server.listen()

    def close(self) -> None:
        """Release the name."""
        self._server.close()

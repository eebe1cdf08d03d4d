"""Single instance.

The first Deskwatch listens on a local socket; a second launch asks it to
show the panel and exits.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import re
import socket as pysocket
import stat
import struct
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.kernel.paths import private_dir, user_data_dir

log = logging.getLogger(__name__)

SHOW_COMMAND = b"show\n"


def server_name(suffix: str = "") -> str:
    """The instance socket: a path in a folder only this user can enter.

    A bare name would live in ``/tmp`` (``/tmp/deskwatch-<user>``), where any
    user can create it first; Deskwatch would then take the squatter for
    itself and exit.  ``$XDG_RUNTIME_DIR`` (``/run/user/<uid>``, 0700) is used
    when it is really ours, else a private 0700 folder.  On Windows the name
    is a named pipe, private to the session already.
    """
    name = "deskwatch" + suffix
    if os.name == "nt":
        try:
            user = getpass.getuser()
        except Exception:
            user = "user"
        return name + "-" + re.sub(r"[^A-Za-z0-9_-]", "_", user)
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


def peer_uid(socket: QLocalSocket) -> int | None:
    """The user id of the process at the other end of a connected local socket (Linux)."""
    descriptor = int(socket.socketDescriptor())
    if descriptor < 0 or not hasattr(pysocket, "SO_PEERCRED"):
        return None
    # fromfd duplicates the descriptor: closing the copy leaves Qt's socket alone.
    with pysocket.fromfd(descriptor, pysocket.AF_UNIX, pysocket.SOCK_STREAM) as copy:
        creds = copy.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def ask_running_instance(name: str, timeout_ms: int = 500) -> bool:
    """Tell a running Deskwatch to show its panel; ``False`` when none of ours answers.

    A socket held by another user is not a running Deskwatch of this clerk.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    if os.name != "nt":
        uid = peer_uid(socket)
        if uid is not None and uid != os.geteuid():
            log.warning("instance socket %s belongs to user id %d, not to this user; ignoring it", name, uid)
            socket.abort()
            return False
    socket.write(SHOW_COMMAND)
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class SingleInstance(QObject):
    """Owns the instance socket and emits :attr:`show_requested` when another launch knocks."""

    show_requested = Signal()

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Claim the name; a stale socket left by a crashed instance is removed first."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        ok = self.server.listen(self.name)
        if not ok:
            log.warning("single-instance socket %s: %s", self.name, self.server.errorString())
        return ok

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            if connection is not None:
                connection.readyRead.connect(self._read)

    def _read(self) -> None:
        connection = self.sender()
        if not isinstance(connection, QLocalSocket):
            return
        data = bytes(connection.readAll().data())
        connection.readyRead.disconnect(self._read)
        connection.abort()
        connection.deleteLater()
        if SHOW_COMMAND.strip() in data:
            self.show_requested.emit()

    def close(self) -> None:
        """Release the name."""
        self.server.close()

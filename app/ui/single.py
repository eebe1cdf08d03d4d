"""Single instance.

The first Deskwatch listens on a local socket; a second launch asks it to
show the panel and exits.
"""

from __future__ import annotations

import getpass
import logging
import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

SHOW_COMMAND = b"show\n"


def server_name(suffix: str = "") -> str:
    """A per-user socket name (two clerks on one terminal server each get their own)."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    return "deskwatch-" + re.sub(r"[^A-Za-z0-9_-]", "_", user) + suffix


def ask_running_instance(name: str, timeout_ms: int = 500) -> bool:
    """Tell a running Deskwatch to show its panel; ``False`` when none answers."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
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

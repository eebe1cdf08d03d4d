"""Alerts as freedesktop desktop notifications (``org.freedesktop.Notifications``).

Kylin, UOS, KDE, GNOME, Xfce and dunst all run a notification server on the
session bus; a notification sent there is shown the way the desktop shows
every other one (and kept in its history), whatever the tray does.

What Deskwatch sends (see :class:`Note`):

- ``app_name`` "Deskwatch", the level's icon, the summary ("Printer:
  Critical") and the body (the indicator, its value and message);
- the ``urgency`` hint: 2 (critical) for critical alerts, 1 (normal) for the
  rest; ``category`` ``device.error``; ``desktop-entry`` ``deskwatch``;
- an expire timeout of 10 s for warnings; critical notifications do not
  expire (the specification's advice): Deskwatch closes them itself when
  the alert is acknowledged or clears;
- ``replaces_id``: a notification of the same indicator replaces the one
  before it, so a re-announcement does not pile up;
- the default action, "Open alert centre" (a click on the notification).

The protocol is spoken with :mod:`jeepney` on a thread of its own (blocking
calls with a timeout; it looks for the server's signals four times a
second while idle): the GUI thread only puts requests in a queue and hears
back through queued Qt signals, so a server that does not answer (or no
bus at all) never blocks it.  PySide6's QtDBus cannot send the unsigned and byte arguments ``Notify``
requires (``replaces_id`` is ``u``, ``urgency`` a ``y``).  A note that cannot
be delivered comes back as :attr:`DesktopNotifier.undelivered`, and the
caller shows it the way Deskwatch did before (the tray balloon or the
panel's notice).
"""

from __future__ import annotations

import importlib.util
import logging
import queue
import sys
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from app.kernel.model import Level
from app.kernel.paths import resources_dir
from app.ui.markup import escape

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
#: How long one call to the server may take before the note counts as undelivered (s).
CALL_TIMEOUT_S = 5.0
#: Expire timeouts (ms) by urgency: warnings go after 10 s, critical ones stay until closed.
EXPIRE_MS = {2: 0, 1: 10_000}
#: The action a click on the notification invokes (the specification's name for it).
DEFAULT_ACTION = "default"
#: Why a notification was closed (NotificationClosed's ``reason``): 2 = dismissed by the user.
DISMISSED = 2
CLOSED_BY_USER = "closed-by-user"
#: How often the notifier's thread looks for the server's signals while idle (s).
SIGNAL_POLL_S = 0.25


def urgency_of(level: Level) -> int:
    """The notification urgency of an alert level: 2 critical, 1 normal (warning, unknown)."""
    return 2 if level is Level.CRITICAL else 1


def level_icon_uri(level: Level) -> str:
    """A ``file://`` URI of the level's shipped icon ('' when it is not there)."""
    name = {Level.OK: "ok", Level.WARNING: "warning", Level.CRITICAL: "critical"}.get(level, "unknown")
    path = resources_dir() / "icons" / f"deskwatch-{name}.png"
    return path.resolve().as_uri() if path.exists() else ""


@dataclass(frozen=True)
class Note:
    """One notification: ``key`` says what it replaces (one per indicator, or the call summary)."""

    key: str
    summary: str
    body: str
    level: Level
    #: The label of the default action (a click: open the alert centre); '' for none.
    action_label: str = ""


class DesktopNotifier(QObject):
    """Sends :class:`Note` objects to the session's notification server, never blocking the caller.

    ``bus`` is ``"SESSION"`` (``$DBUS_SESSION_BUS_ADDRESS``) or a bus
    address (tests use a private bus).  Signals arrive on the thread the
    notifier lives on (the GUI thread).
    """

    #: A note the server did not take (no bus, no server, an error or no answer in time).
    undelivered = Signal(object)
    #: ``(key, action)``: the clerk clicked a notification (``action`` is ``"default"``).
    action_invoked = Signal(str, str)
    #: ``key`` of a notification the clerk dismissed.
    dismissed = Signal(str)
    #: ``(key, notification id)``: the server showed a note (for tests and diagnostics).
    delivered = Signal(str, int)

    def __init__(
        self, bus: str = "SESSION", app_name: str = "Deskwatch", parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.bus = bus
        self.app_name = app_name
        self._requests: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopped = False
        #: Whether the server renders markup in the body (then ours is escaped).
        self.body_markup = False

    # -- the caller's side (GUI thread) ------------------------------------------------
    def show(self, note: Note) -> None:
        """Show ``note``, replacing the notification last shown under its key."""
        self._put(("show", note))

    def close(self, key: str) -> None:
        """Close the notification shown under ``key`` (if any is still shown)."""
        self._put(("close", key))

    def stop(self, timeout: float = 2.0) -> None:
        """Close the connection and end the thread (idempotent; waits at most ``timeout``)."""
        if self._stopped:
            return
        self._stopped = True
        thread = self._thread
        if thread is not None:
            self._requests.put(("stop",))
            thread.join(timeout)

    def _put(self, request: tuple[Any, ...]) -> None:
        if self._stopped:
            return
        if self._thread is None:
            # Daemon: a server that hangs in a call must not keep Deskwatch from quitting.
            self._thread = threading.Thread(target=self._run, name="desktop-notifications", daemon=True)
            self._thread.start()
        self._requests.put(request)

    # -- the notifier's thread ---------------------------------------------------------
    def _run(self) -> None:
        try:
            session: _Session | None = _Session(self.bus)
        except Exception as exc:  # no bus, refused authentication, no jeepney …
            log.info("no session bus for desktop notifications (%s); using the tray or the panel", exc)
            session = None
        if session is not None:
            self.body_markup = "body-markup" in session.capabilities()
        try:
            while True:
                try:
                    # While connected, wake now and then to read the server's signals (clicks).
                    request = self._requests.get(timeout=SIGNAL_POLL_S if session is not None else None)
                except queue.Empty:
                    request = None
                if request is not None and request[0] == "stop":
                    return
                if session is None:
                    if request is not None and request[0] == "show":
                        self.undelivered.emit(request[1])
                    continue
                try:
                    if request is not None:
                        self._handle(session, request)
                    for heard in session.signals():
                        self._heard(*heard)
                except OSError as exc:  # the bus went away (the session is ending)
                    log.info("lost the session bus (%s); notifications use the tray or the panel", exc)
                    session.close()
                    session = None
        finally:
            if session is not None:
                session.close()

    def _handle(self, session: _Session, request: tuple[Any, ...]) -> None:
        if request[0] == "show":
            note: Note = request[1]
            body = escape(note.body, quote=False) if self.body_markup else note.body
            try:
                ident = session.notify(self.app_name, note, body)
            except OSError:
                self.undelivered.emit(note)
                raise
            except Exception as exc:  # ServiceUnknown (no server), no answer in time …
                log.info("notification server did not take %r: %s", note.summary, exc)
                self.undelivered.emit(note)
                return
            self.delivered.emit(note.key, ident)
        elif request[0] == "close":
            session.close_notification(request[1])

    def _heard(self, key: str, action: str) -> None:
        if action == CLOSED_BY_USER:
            self.dismissed.emit(key)
        else:
            self.action_invoked.emit(key, action)


class _Session:
    """The notifier thread's connection to the bus: which id shows which key (thread-confined)."""

    def __init__(self, bus: str) -> None:
        from jeepney import DBusAddress, MatchRule, message_bus
        from jeepney.io.blocking import Proxy, open_dbus_connection

        self.connection = open_dbus_connection(bus)
        self.address = DBusAddress(OBJECT_PATH, bus_name=SERVICE, interface=INTERFACE)
        self.ids: dict[str, int] = {}
        self.keys: dict[int, str] = {}
        self.heard: deque[Any] = deque()
        try:
            bus_proxy = Proxy(message_bus, self.connection, timeout=CALL_TIMEOUT_S)
            # The server's ActionInvoked and NotificationClosed are collected in ``heard``.
            for member in ("ActionInvoked", "NotificationClosed"):
                rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH, member=member)
                bus_proxy.AddMatch(rule)
                self.connection.filter(rule, queue=self.heard)
        except BaseException:
            self.close()
            raise

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> tuple[Any, ...]:
        from jeepney import DBusErrorResponse, MessageType, new_method_call

        reply = self.connection.send_and_get_reply(
            new_method_call(self.address, method, signature, body), timeout=CALL_TIMEOUT_S
        )
        if reply.header.message_type is MessageType.error:
            raise DBusErrorResponse(reply)
        return tuple(reply.body)

    def capabilities(self) -> list[str]:
        """The server's capabilities ([] when it cannot say)."""
        try:
            return list(self._call("GetCapabilities", "", ())[0])
        except Exception:
            return []

    def notify(self, app_name: str, note: Note, body: str) -> int:
        """Send ``Notify`` (replacing the key's last notification); the server's id for it."""
        urgency = urgency_of(note.level)
        actions = [DEFAULT_ACTION, note.action_label] if note.action_label else []
        hints = {
            "urgency": ("y", urgency),
            "category": ("s", "device.error"),
            "desktop-entry": ("s", "deskwatch"),
        }
        replaces = self.ids.get(note.key, 0)
        args = (app_name, replaces, level_icon_uri(note.level), note.summary, body, actions, hints)
        (ident,) = self._call("Notify", "susssasa{sv}i", (*args, EXPIRE_MS[urgency]))
        ident = int(ident)
        if replaces and replaces != ident:
            self.keys.pop(replaces, None)
        self.ids[note.key] = ident
        self.keys[ident] = note.key
        return ident

    def close_notification(self, key: str) -> None:
        """``CloseNotification`` for the key's notification (quietly: it may be gone already)."""
        ident = self.ids.pop(key, None)
        if ident is None:
            return
        self.keys.pop(ident, None)
        try:
            self._call("CloseNotification", "u", (ident,))
        except OSError:
            raise
        except Exception as exc:
            log.debug("closing notification %s: %s", ident, exc)

    def signals(self) -> list[tuple[str, str]]:
        """``(key, action)`` for each server signal about ours since the last look (never waits)."""
        while True:
            try:
                self.connection.recv_messages(timeout=0)
            except TimeoutError:
                break
        found = []
        while self.heard:
            heard = self._signal(self.heard.popleft())
            if heard is not None:
                found.append(heard)
        return found

    def _signal(self, message: Any) -> tuple[str, str] | None:
        member = message.header.fields.get(_member_field())
        body = tuple(message.body)
        key = self.keys.get(int(body[0])) if body else None
        if key is None:
            return None  # someone else's notification
        if member == "ActionInvoked":
            return key, str(body[1])
        # NotificationClosed: the id is free again; only a dismissal by the clerk is news.
        self.keys.pop(int(body[0]), None)
        if self.ids.get(key) == int(body[0]):
            del self.ids[key]
        reason = int(body[1]) if len(body) > 1 else 0
        return (key, CLOSED_BY_USER) if reason == DISMISSED else None

    def close(self) -> None:
        """Close the connection."""
        try:
            self.connection.close()
        except Exception:
            log.debug("closing the notifications connection", exc_info=True)


def _member_field() -> Any:
    from jeepney import HeaderFields

    return HeaderFields.member


def desktop_notifier(parent: QObject | None = None) -> DesktopNotifier | None:
    """The session's notifier where desktops have one (Linux and the BSDs), else ``None``.

    ``None`` also on Qt's offscreen and minimal platforms (no desktop to
    show anything on: tests, ``run --headless``) and without :mod:`jeepney`;
    the caller then keeps to the tray balloon and the panel.
    """
    if sys.platform == "win32" or sys.platform == "darwin":
        return None
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return None
    if importlib.util.find_spec("jeepney") is None:
        log.info("jeepney is not installed: alerts use the tray balloon instead of desktop notifications")
        return None
    return DesktopNotifier(parent=parent)

"""How long since the clerk last touched keyboard or mouse, and whether the screen is locked.

One interface, :class:`ActivitySource`, over the ways operating systems tell:

* X11: the MIT-SCREEN-SAVER extension (``XScreenSaverQueryInfo`` of libXss, via ctypes);
* GNOME (X11 and Wayland): Mutter's ``org.gnome.Mutter.IdleMonitor.GetIdletime``
  over the session D-Bus (``gdbus`` subprocess, so no D-Bus binding is needed);
* Windows: ``GetLastInputInfo`` against ``GetTickCount`` via ctypes.

Screen lock comes from the screensaver D-Bus interfaces
(``org.gnome.ScreenSaver`` / ``org.freedesktop.ScreenSaver`` ``GetActive``),
from logind's ``LockedHint``, and on X11 from the screensaver state.
:func:`select_source` picks what works here.  Parsing is pure; reads may
block (D-Bus), so the UI calls :meth:`ActivitySource.sample` off the GUI thread.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.kernel.i18n import Text

log = logging.getLogger(__name__)

#: Seconds a D-Bus query may take before the source is treated as failing.
DBUS_TIMEOUT = 2.0
#: Lock state changes slowly; asking D-Bus every second would cost a process each time.
LOCK_POLL_SECONDS = 5.0


class IdleUnavailable(Exception):
    """The source cannot tell idle time here (no X server, no Mutter, not Windows …)."""


@dataclass(frozen=True)
class ActivitySample:
    """One reading: seconds since the last input, and whether the screen is locked."""

    idle_seconds: float
    locked: bool


Runner = Callable[[Sequence[str]], str]


def run_command(args: Sequence[str]) -> str:
    """Run a short command and return its stdout; any failure is :class:`IdleUnavailable`."""
    try:
        result = subprocess.run(list(args), capture_output=True, text=True, timeout=DBUS_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise IdleUnavailable(f"{args[0]}: {exc}") from exc
    if result.returncode != 0:
        raise IdleUnavailable(f"{args[0]}: {result.stderr.strip() or result.returncode}")
    return result.stdout


# -- pure parsers ---------------------------------------------------------------
_GVARIANT_UINT = re.compile(r"^\(\s*(?:uint64|uint32)?\s*(\d+)\s*,?\s*\)$")
_GVARIANT_BOOL = re.compile(r"^\(\s*(true|false)\s*,?\s*\)$")


def parse_gdbus_uint(text: str) -> int:
    """Parse gdbus's print of a ``(t)`` reply such as ``(uint64 12345,)``."""
    match = _GVARIANT_UINT.match(text.strip())
    if match is None:
        raise IdleUnavailable(f"unexpected D-Bus reply {text.strip()!r}")
    return int(match.group(1))


def parse_gdbus_bool(text: str) -> bool:
    """Parse gdbus's print of a ``(b)`` reply such as ``(true,)``."""
    match = _GVARIANT_BOOL.match(text.strip())
    if match is None:
        raise IdleUnavailable(f"unexpected D-Bus reply {text.strip()!r}")
    return match.group(1) == "true"


def parse_locked_hint(text: str) -> bool:
    """Parse ``loginctl show-session -p LockedHint`` output (``LockedHint=yes``)."""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "LockedHint":
            return value.strip() == "yes"
    raise IdleUnavailable("no LockedHint in loginctl output")


def tick_difference_ms(now_ticks: int, last_input_ticks: int) -> int:
    """Milliseconds between two 32-bit tick counts, across the 49.7-day wrap-around."""
    return (now_ticks - last_input_ticks) & 0xFFFFFFFF


# -- lock detection ------------------------------------------------------------------
class LockDetector:
    """Screen lock from D-Bus screensaver interfaces, then logind; cached for a few seconds."""

    SCREENSAVERS = (
        ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
        ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
        ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
    )

    def __init__(
        self,
        runner: Runner = run_command,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runner = runner
        self.env = os.environ if env is None else env
        self.clock = clock
        self._cached: bool = False
        self._checked = -float("inf")
        self._dead: set[int] = set()  # methods that failed: not asked again
        self._has_gdbus = shutil.which("gdbus") is not None or runner is not run_command
        self._has_loginctl = shutil.which("loginctl") is not None or runner is not run_command

    def locked(self) -> bool:
        """Whether the session is locked (False when nothing can tell)."""
        now = self.clock()
        if now - self._checked < LOCK_POLL_SECONDS:
            return self._cached
        self._checked = now
        self._cached = self._query()
        return self._cached

    def _query(self) -> bool:
        if self._has_gdbus and self.env.get("DBUS_SESSION_BUS_ADDRESS"):
            for index, (dest, path, iface) in enumerate(self.SCREENSAVERS):
                if index in self._dead:
                    continue
                try:
                    return parse_gdbus_bool(
                        self.runner(
                            ["gdbus", "call", "--session", "--dest", dest, "--object-path", path,
                             "--method", f"{iface}.GetActive"]
                        )
                    )  # fmt: skip
                except IdleUnavailable:
                    self._dead.add(index)
        session = self.env.get("XDG_SESSION_ID")
        if self._has_loginctl and session and -1 not in self._dead:
            try:
                return parse_locked_hint(
                    self.runner(["loginctl", "show-session", session, "-p", "LockedHint"])
                )
            except IdleUnavailable:
                self._dead.add(-1)
        return False


class NoLock:
    """A lock detector that never sees a lock (tests, and where nothing can tell)."""

    def locked(self) -> bool:
        """Always False."""
        return False


# -- sources ---------------------------------------------------------------------------
class ActivitySource:
    """Base class: ``idle_seconds()`` plus lock state."""

    name = "none"
    label = Text("none (every minute counts as work)", "无(所有时间都计为工作)")

    def __init__(self, lock: LockDetector | NoLock | None = None) -> None:
        self.lock: LockDetector | NoLock = lock if lock is not None else NoLock()

    def idle_seconds(self) -> float:
        """Seconds since the last keyboard or mouse input; raises :class:`IdleUnavailable`."""
        return 0.0

    def os_locked(self) -> bool | None:
        """Lock state the source itself knows (``None``: ask the lock detector)."""
        return None

    def sample(self) -> ActivitySample:
        """Idle time and lock state together (may block: call off the GUI thread)."""
        idle = self.idle_seconds()
        locked = self.os_locked()
        if locked is None or not locked:
            locked = self.lock.locked()
        return ActivitySample(idle, bool(locked))

    def close(self) -> None:
        """Release the connection; safe to call twice."""


class _XScreenSaverInfo(ctypes.Structure):
    """``XScreenSaverInfo`` of ``<X11/extensions/scrnsaver.h>``."""

    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("event_mask", ctypes.c_ulong),
    ]


#: ``ScreenSaverOn`` of ``scrnsaver.h``: the screensaver is showing.
SCREENSAVER_ON = 1
#: ``int (*)(Display *)``: libX11's process-wide fatal I/O error handler.
_IOErrorHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
#: ``void (*)(Display *, void *)``: what libX11 calls instead of ``exit()`` after it, per display.
_IOErrorExitHandler = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


class _XConnections:
    """Keeps a lost X server from ending the process, for the displays this module opened.

    On a broken connection libX11 calls the process-wide I/O error handler
    (its default, and Qt's, call ``exit()``) and then the display's exit
    handler (default ``exit()`` too).  Ours returns for our displays, marking
    them lost, and hands any other display (Qt's own) to the handler that was
    there before, so the rest of the process behaves as without us.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._previous: Any = None
        self._installed = False
        self.ours: set[int] = set()
        self.lost: set[int] = set()
        # Kept here for the life of the process: libX11 holds only the C pointers.
        self._io_handler = _IOErrorHandler(self._io_error)
        self._exit_handler = _IOErrorExitHandler(self._exit)

    def adopt(self, x11: ctypes.CDLL, display: int) -> None:
        """Handle ``display``'s fatal errors here from now on."""
        with self._lock:
            if not self._installed:
                previous = x11.XSetIOErrorHandler(self._io_handler)
                self._previous = _IOErrorHandler(previous) if previous else None
                self._installed = True
            self.ours.add(display)
        x11.XSetIOErrorExitHandler(display, self._exit_handler, None)

    def release(self, display: int) -> None:
        """``display`` is closed (its address may be reused)."""
        self.ours.discard(display)
        self.lost.discard(display)

    def _io_error(self, display: int | None) -> int:
        if display in self.ours:
            self.lost.add(display)
            return 0
        return int(self._previous(display)) if self._previous is not None else 0

    def _exit(self, display: int | None, _data: int | None) -> None:
        if display is not None:
            self.lost.add(display)


_X_CONNECTIONS = _XConnections()


def _load_library(soname: str, short: str) -> ctypes.CDLL:
    """``soname`` (the runtime package's name), else what ``ctypes.util`` finds for ``short``."""
    try:
        return ctypes.CDLL(soname)
    except OSError:
        from ctypes import util  # spawns ldconfig: only when the usual name is not there

        found = util.find_library(short)
        if found is None:
            raise IdleUnavailable(f"{soname} is not installed") from None
        try:
            return ctypes.CDLL(found)
        except OSError as exc:
            raise IdleUnavailable(f"cannot load {found}: {exc}") from exc


def _x_libraries() -> tuple[ctypes.CDLL, ctypes.CDLL]:
    """libX11 and libXss with the prototypes used here."""
    x11 = _load_library("libX11.so.6", "X11")
    xss = _load_library("libXss.so.1", "Xss")
    display_p = ctypes.c_void_p
    x11.XOpenDisplay.argtypes, x11.XOpenDisplay.restype = [ctypes.c_char_p], display_p
    x11.XCloseDisplay.argtypes, x11.XCloseDisplay.restype = [display_p], ctypes.c_int
    x11.XDefaultRootWindow.argtypes, x11.XDefaultRootWindow.restype = [display_p], ctypes.c_ulong
    if not hasattr(x11, "XSetIOErrorExitHandler"):
        # Older than 1.7: a lost X server would end the whole process.
        raise IdleUnavailable("libX11 is older than 1.7 (no XSetIOErrorExitHandler)")
    x11.XSetIOErrorHandler.argtypes, x11.XSetIOErrorHandler.restype = [_IOErrorHandler], ctypes.c_void_p
    x11.XSetIOErrorExitHandler.argtypes = [display_p, _IOErrorExitHandler, ctypes.c_void_p]
    x11.XSetIOErrorExitHandler.restype = None
    int_p = ctypes.POINTER(ctypes.c_int)
    xss.XScreenSaverQueryExtension.argtypes = [display_p, int_p, int_p]
    xss.XScreenSaverQueryExtension.restype = ctypes.c_int
    xss.XScreenSaverQueryInfo.argtypes = [display_p, ctypes.c_ulong, ctypes.POINTER(_XScreenSaverInfo)]
    xss.XScreenSaverQueryInfo.restype = ctypes.c_int
    return x11, xss


class X11IdleSource(ActivitySource):
    """X11 MIT-SCREEN-SAVER extension: ``XScreenSaverQueryInfo`` of libXss, through ctypes.

    The display is opened once.  libX11 ends the process when its connection
    breaks (the X server restarted); :class:`_XConnections` keeps it alive,
    and the source answers :class:`IdleUnavailable` from then on.
    """

    name = "x11"
    label = Text("X11 screensaver extension", "X11 屏保扩展")

    def __init__(self, display: str | None = None, lock: LockDetector | NoLock | None = None) -> None:
        super().__init__(lock)
        # One thread at a time on this connection (the samplers may be several).
        self._lock = threading.Lock()
        self._display: int | None = None
        name = display if display is not None else os.environ.get("DISPLAY")
        if not name:
            raise IdleUnavailable("DISPLAY is not set")
        self._x11, self._xss = _x_libraries()
        opened = self._x11.XOpenDisplay(name.encode())
        if not opened:
            raise IdleUnavailable(f"cannot open X display {name}")
        self._display = int(opened)
        _X_CONNECTIONS.adopt(self._x11, self._display)
        event_base, error_base = ctypes.c_int(), ctypes.c_int()
        if not self._xss.XScreenSaverQueryExtension(
            self._display, ctypes.byref(event_base), ctypes.byref(error_base)
        ):
            self.close()
            raise IdleUnavailable("the X server has no MIT-SCREEN-SAVER extension")
        self._root = int(self._x11.XDefaultRootWindow(self._display))
        self._state = 0

    def _info(self) -> _XScreenSaverInfo:
        info = _XScreenSaverInfo()
        with self._lock:
            display = self._display
            if display is None or display in _X_CONNECTIONS.lost:
                raise IdleUnavailable("X11 query failed: the connection to the X server is lost")
            # On a broken connection libX11 marks the display and every request fails at once.
            status = self._xss.XScreenSaverQueryInfo(display, self._root, ctypes.byref(info))
            if display in _X_CONNECTIONS.lost:
                raise IdleUnavailable("X11 query failed: the connection to the X server was lost")
        if not status:
            raise IdleUnavailable("X11 query failed: XScreenSaverQueryInfo returned no reply")
        return info

    def idle_seconds(self) -> float:
        """See :class:`ActivitySource`."""
        info = self._info()
        self._state = int(info.state)
        return float(info.idle) / 1000.0

    def os_locked(self) -> bool | None:
        """The X screensaver running (state On) means the clerk is away."""
        return True if self._state == SCREENSAVER_ON else None

    def close(self) -> None:
        """See :class:`ActivitySource`."""
        with self._lock:
            display, self._display = self._display, None
            if display is not None:
                # After a lost connection this only frees the memory (its I/O error is handled).
                self._x11.XCloseDisplay(display)
                _X_CONNECTIONS.release(display)


class MutterIdleSource(ActivitySource):
    """GNOME Shell's idle monitor over the session D-Bus (works on Wayland)."""

    name = "mutter"
    label = Text("GNOME idle monitor (D-Bus)", "GNOME 空闲监视器(D-Bus)")
    COMMAND = (
        "gdbus", "call", "--session", "--dest", "org.gnome.Mutter.IdleMonitor",
        "--object-path", "/org/gnome/Mutter/IdleMonitor/Core",
        "--method", "org.gnome.Mutter.IdleMonitor.GetIdletime",
    )  # fmt: skip

    def __init__(self, runner: Runner = run_command, lock: LockDetector | NoLock | None = None) -> None:
        super().__init__(lock)
        self.runner = runner
        if runner is run_command and shutil.which("gdbus") is None:
            raise IdleUnavailable("gdbus is not installed")

    def idle_seconds(self) -> float:
        """See :class:`ActivitySource`."""
        return parse_gdbus_uint(self.runner(self.COMMAND)) / 1000.0


class WindowsIdleSource(ActivitySource):
    """``GetLastInputInfo`` (user32) against ``GetTickCount`` (kernel32)."""

    name = "windows"
    label = Text("Windows input time", "Windows 输入时间")

    class _LastInputInfo(ctypes.Structure):
        _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

    def __init__(self, api: Any = None, lock: LockDetector | NoLock | None = None) -> None:
        super().__init__(lock)
        if api is None:
            if sys.platform != "win32":
                raise IdleUnavailable("not Windows")
            api = ctypes.windll  # type: ignore[attr-defined,unused-ignore]
        self.user32 = api.user32
        self.kernel32 = api.kernel32

    def idle_seconds(self) -> float:
        """See :class:`ActivitySource`."""
        info = self._LastInputInfo()
        info.cbSize = ctypes.sizeof(info)
        if not self.user32.GetLastInputInfo(ctypes.byref(info)):
            raise IdleUnavailable("GetLastInputInfo failed")
        now = int(self.kernel32.GetTickCount()) & 0xFFFFFFFF
        return tick_difference_ms(now, int(info.dwTime)) / 1000.0

    def os_locked(self) -> bool | None:
        """While the workstation is locked the input desktop cannot be opened."""
        desktop = self.user32.OpenInputDesktop(0, False, 0x0100)  # DESKTOP_SWITCHDESKTOP
        if not desktop:
            return True
        self.user32.CloseDesktop(desktop)
        return False


SOURCES: dict[str, type[ActivitySource]] = {
    "x11": X11IdleSource,
    "mutter": MutterIdleSource,
    "windows": WindowsIdleSource,
    "none": ActivitySource,
}


def candidate_order(env: Mapping[str, str], platform: str) -> list[str]:
    """Which sources to try, best first, for this environment."""
    if platform == "win32":
        return ["windows", "none"]
    desktop = env.get("XDG_CURRENT_DESKTOP", "").lower()
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    order = []
    if "gnome" in desktop or wayland:
        # On Wayland X11 (XWayland) sees only X clients' input: Mutter knows all.
        order.append("mutter")
    if env.get("DISPLAY"):
        order.append("x11")
    if "mutter" not in order and env.get("DBUS_SESSION_BUS_ADDRESS"):
        order.append("mutter")
    return [*order, "none"]


def select_source(
    preference: str = "auto",
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    factories: Mapping[str, Callable[[], ActivitySource]] | None = None,
) -> ActivitySource:
    """The first source that answers, or the "none" source (never raises).

    ``preference`` is the ``breaks.activity_source`` setting; a named source
    that fails falls back to automatic selection, with a log line saying why.
    """
    env = os.environ if env is None else env
    lock = LockDetector(env=env) if platform != "win32" else NoLock()
    made: dict[str, Callable[[], ActivitySource]] = {
        "x11": lambda: X11IdleSource(env.get("DISPLAY"), lock),
        "mutter": lambda: MutterIdleSource(lock=lock),
        "windows": lambda: WindowsIdleSource(lock=NoLock()),
        "none": lambda: ActivitySource(lock),
    }
    if factories is not None:
        made.update(factories)
    order = candidate_order(env, platform)
    if preference != "auto" and preference in made:
        order = [preference] + [name for name in order if name != preference]
    for name in order:
        try:
            source = made[name]()
            source.idle_seconds()  # it must answer once to be chosen
        except IdleUnavailable as exc:
            log.info("activity source %s not available: %s", name, exc)
            continue
        if preference not in ("auto", name):
            log.warning("activity source %s was configured but is not available; using %s", preference, name)
        log.info("activity source: %s", name)
        return source
    return ActivitySource(lock)

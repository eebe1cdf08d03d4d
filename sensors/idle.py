"""How long since the clerk last touched keyboard or mouse, and whether the screen is locked.

One interface, :class:`ActivitySource`, over the ways operating systems tell:

* X11: the MIT-SCREEN-SAVER extension (``XScreenSaverQueryInfo``) via python-xlib;
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


class X11IdleSource(ActivitySource):
    """X11 MIT-SCREEN-SAVER extension via python-xlib."""

    name = "x11"
    label = Text("X11 screensaver extension", "X11 屏保扩展")

    def __init__(self, display: str | None = None, lock: LockDetector | NoLock | None = None) -> None:
        super().__init__(lock)
        try:
            from Xlib import display as xdisplay
            from Xlib import error as xerror
        except ImportError as exc:  # python-xlib is a Linux-only dependency
            raise IdleUnavailable("python-xlib is not installed") from exc
        name = display if display is not None else os.environ.get("DISPLAY")
        if not name:
            raise IdleUnavailable("DISPLAY is not set")
        try:
            self._display: Any = xdisplay.Display(name)
        except (xerror.DisplayError, OSError, ValueError) as exc:
            raise IdleUnavailable(f"cannot open X display {name}: {exc}") from exc
        if not self._display.has_extension("MIT-SCREEN-SAVER"):
            self._display.close()
            raise IdleUnavailable("the X server has no MIT-SCREEN-SAVER extension")
        self._root = self._display.screen().root
        self._state = 0

    def _info(self) -> Any:
        try:
            return self._root.screensaver_query_info()
        except Exception as exc:  # connection lost (X server restarted)
            raise IdleUnavailable(f"X11 query failed: {exc}") from exc

    def idle_seconds(self) -> float:
        """See :class:`ActivitySource`."""
        info = self._info()
        self._state = int(info.state)
        return float(info.idle) / 1000.0

    def os_locked(self) -> bool | None:
        """The X screensaver running (state On) means the clerk is away."""
        from Xlib.ext import screensaver

        return True if self._state == screensaver.StateOn else None

    def close(self) -> None:
        """See :class:`ActivitySource`."""
        display, self._display = getattr(self, "_display", None), None
        if display is not None:
            display.close()


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

"""Start at login: an XDG autostart entry on Linux, the ``Run`` registry key on Windows.

Qt-free and behind one small interface so the settings dialog does not care
which platform it runs on; the Windows registry is reached through an
injectable :class:`Registry` so the logic is tested on Linux with a fake.
"""

from __future__ import annotations

import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from app.kernel.paths import xdg_config_dirs

APP_ID = "deskwatch"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Deskwatch"


def launch_command() -> list[str]:
    """The command that starts this Deskwatch (the installed script, else this interpreter)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.startswith("deskwatch") and script.exists():
        return [str(script.resolve())]
    return [sys.executable, "-m", "app.cli"]


class Autostart(Protocol):
    """Whether Deskwatch starts when the user logs in."""

    def is_enabled(self) -> bool:
        """True when an autostart entry for Deskwatch exists and is active."""
        ...

    def set_enabled(self, enabled: bool) -> None:
        """Create or remove the autostart entry."""
        ...


class XdgAutostart:
    """``$XDG_CONFIG_HOME/autostart/deskwatch.desktop`` (freedesktop Desktop Application Autostart).

    The seat package installs a system-wide entry in
    ``$XDG_CONFIG_DIRS/autostart`` (``/etc/xdg/autostart``).  By the autostart
    spec a user's entry of the same name replaces it, so the clerk's choice is
    kept as a user entry: ``Hidden=true`` to switch the system entry off, none
    at all to follow it again.
    """

    def __init__(
        self,
        config_home: Path | None = None,
        command: Sequence[str] | None = None,
        system_dirs: Sequence[Path] | None = None,
    ) -> None:
        base = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = base / "autostart" / f"{APP_ID}.desktop"
        self.command = list(command) if command is not None else launch_command()
        dirs = system_dirs if system_dirs is not None else [Path(d) for d in xdg_config_dirs()]
        self.system_paths = [folder / "autostart" / f"{APP_ID}.desktop" for folder in dirs]

    def is_enabled(self) -> bool:
        if self.path.exists():
            return _entry_is_active(self.path)
        return self._system_entry_is_active()

    def set_enabled(self, enabled: bool) -> None:
        if self._system_entry_is_active():
            # The system entry starts Deskwatch: the user's entry only ever says "not for me".
            if enabled:
                self.path.unlink(missing_ok=True)
            else:
                self._write_entry(hidden=True)
            return
        if enabled:
            self._write_entry(hidden=False)
        else:
            self.path.unlink(missing_ok=True)

    def _system_entry_is_active(self) -> bool:
        # The first directory that has the entry decides, as for every XDG config file.
        for path in self.system_paths:
            if path.exists():
                return _entry_is_active(path)
        return False

    def _write_entry(self, hidden: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exec_line = " ".join(shlex.quote(part) for part in self.command)
        self.path.write_text(
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Deskwatch\n"
            "Name[zh_CN]=Deskwatch 工位监测\n"
            "Comment=Workstation health and equipment monitor\n"
            "Comment[zh_CN]=工位设备与健康监测\n"
            f"Exec={exec_line}\n"
            "Icon=deskwatch\n"
            "Terminal=false\n" + ("Hidden=true\n" if hidden else "X-GNOME-Autostart-enabled=true\n"),
            "utf-8",
        )


def _entry_is_active(path: Path) -> bool:
    """Whether an autostart entry exists, can be read, and is not switched off."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    # A user (or their desktop) may disable an entry rather than delete it.
    lines = {line.strip().replace(" ", "") for line in text.splitlines()}
    return "Hidden=true" not in lines and "X-GNOME-Autostart-enabled=false" not in lines


class Registry(Protocol):
    """The part of ``winreg`` used here, on ``HKEY_CURRENT_USER``."""

    def get(self, key: str, name: str) -> str | None:
        """A string value, or ``None`` when absent."""
        ...

    def set(self, key: str, name: str, value: str) -> None:
        """Write a string value."""
        ...

    def delete(self, key: str, name: str) -> None:
        """Remove a value (no error when absent)."""
        ...


def _winreg() -> Any:
    """The ``winreg`` module (Windows only), typed loosely so Linux type checks pass."""
    return importlib.import_module("winreg")


class WinregRegistry:
    """:class:`Registry` on the real Windows registry (HKCU)."""

    def get(self, key: str, name: str) -> str | None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                value, _kind = winreg.QueryValueEx(handle, name)
                return str(value)
        except OSError:
            return None

    def set(self, key: str, name: str, value: str) -> None:
        winreg = _winreg()

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, value)

    def delete(self, key: str, name: str) -> None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.DeleteValue(handle, name)
        except OSError:
            pass


class WindowsRunKey:
    """``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`` value ``Deskwatch``."""

    def __init__(self, registry: Registry | None = None, command: Sequence[str] | None = None) -> None:
        self.registry = registry or WinregRegistry()
        self.command = list(command) if command is not None else launch_command()

    def command_line(self) -> str:
        """The value written: each part double-quoted as Windows expects."""
        return " ".join(f'"{part}"' if " " in part else part for part in self.command)

    def is_enabled(self) -> bool:
        return bool(self.registry.get(RUN_KEY, RUN_VALUE))

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self.registry.set(RUN_KEY, RUN_VALUE, self.command_line())
        else:
            self.registry.delete(RUN_KEY, RUN_VALUE)


def autostart_for_platform(platform: str = sys.platform) -> Autostart:
    """The right mechanism for this platform."""
    if platform == "win32":
        return WindowsRunKey()
    return XdgAutostart()

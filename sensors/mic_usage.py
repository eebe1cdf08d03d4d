"""Which other applications are using the microphone, as the operating system tells it.

A softphone or the call-centre client holding the microphone is the surest
sign of a call.  One interface, two sources:

* Linux: PulseAudio / PipeWire source outputs (:mod:`sensors.pulse`).
* Windows 10/11: the privacy "consent store".  Under
  ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CapabilityAccessManager\\ConsentStore\\microphone``
  every app that used the microphone has a key (packaged apps directly,
  desktop programs under ``NonPackaged`` with ``\\`` written as ``#``) with
  ``LastUsedTimeStart`` and ``LastUsedTimeStop`` FILETIMEs; a stop time of 0
  after a start means the app is recording now.

The judging (:func:`consent_store_in_use`) is pure and tested with recorded
data; only :class:`ConsentStoreMicUsage` touches the registry.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sensors import pulse

log = logging.getLogger(__name__)

CONSENT_STORE_KEY = (
    r"Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore\microphone"
)


class MicUsage(Protocol):
    """Something that can tell which other applications record from the microphone."""

    def recording_apps(self) -> list[str] | None:
        """Names of other applications using the microphone; ``None`` when unknown."""
        ...


@dataclass(frozen=True)
class ConsentEntry:
    """One app's consent-store record."""

    app: str
    last_used_start: int
    last_used_stop: int


def app_display_name(key: str) -> str:
    """``C:#Program Files#Soft#phone.exe`` → ``phone.exe``; packaged names stay as they are."""
    return key.replace("#", "\\").rsplit("\\", 1)[-1]


def consent_store_in_use(entries: list[ConsentEntry], own_executable: str = "") -> list[str]:
    """Apps whose microphone use has started and not stopped, except ``own_executable``."""
    own = own_executable.replace("\\", "#").casefold()
    in_use = []
    for entry in entries:
        if entry.last_used_start and entry.last_used_stop == 0:
            if own and entry.app.casefold() == own:
                continue
            in_use.append(app_display_name(entry.app))
    return in_use


def consent_entries_from_tree(tree: Mapping[str, Any]) -> list[ConsentEntry]:
    """Flatten a ``{name: {"LastUsedTimeStart": …, "NonPackaged": {…}}}`` tree (registry dump)."""
    entries = []
    for name, values in tree.items():
        if not isinstance(values, Mapping):
            continue
        if name == "NonPackaged":
            entries += consent_entries_from_tree(values)
            continue
        start, stop = values.get("LastUsedTimeStart"), values.get("LastUsedTimeStop")
        if isinstance(start, int) and isinstance(stop, int):
            entries.append(ConsentEntry(name, start, stop))
    return entries


class ConsentStoreMicUsage:
    """Windows: read the microphone consent store of the current user."""

    def recording_apps(self) -> list[str] | None:
        try:
            tree = _read_consent_store()
        except OSError as exc:
            log.debug("consent store unreadable: %s", exc)
            return None
        return consent_store_in_use(consent_entries_from_tree(tree), sys.executable)


def _read_consent_store() -> dict[str, Any]:  # pragma: no cover - Windows only
    # Imported by name: the module exists only on Windows (and mypy runs on Linux).
    winreg: Any = importlib.import_module("winreg")

    def read(key: Any, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        n = 0
        while True:
            try:
                name, value, _kind = winreg.EnumValue(key, n)
            except OSError:
                break
            result[name] = value
            n += 1
        if depth > 0:
            n = 0
            while True:
                try:
                    sub = winreg.EnumKey(key, n)
                except OSError:
                    break
                with winreg.OpenKey(key, sub) as child:
                    result[sub] = read(child, depth - 1)
                n += 1
        return result

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, CONSENT_STORE_KEY) as root:
        return read(root, 2)


class PulseMicUsage:
    """Linux: PulseAudio / PipeWire streams recording from a microphone."""

    def __init__(self, headset_source: str = "") -> None:
        self.headset_source = headset_source

    def recording_apps(self) -> list[str] | None:
        outputs = pulse.list_source_outputs()
        if outputs is None:
            return None
        sources = pulse.list_sources() or []
        return pulse.recording_applications(outputs, sources, os.getpid(), self.headset_source)


class NoMicUsage:
    """Platforms where the OS does not tell (macOS for now)."""

    def recording_apps(self) -> list[str] | None:
        return None


def system_mic_usage(headset_source: str = "") -> MicUsage:
    """The right :class:`MicUsage` for this operating system."""
    if sys.platform == "win32":
        return ConsentStoreMicUsage()
    if sys.platform.startswith("linux"):
        return PulseMicUsage(headset_source)
    return NoMicUsage()

"""PulseAudio / PipeWire (pipewire-pulse) facts through ``pactl``: sources and who records.

``pactl list sources`` and ``pactl list source-outputs`` print blocks such as::

    Source Output #4
        Driver: protocol-native.c
        Source: 2
        Corked: no
        Properties:
                application.name = "parec"
                application.process.id = "14097"

:func:`parse_list` turns that text into :class:`PulseObject` records (pure,
tested with recorded output); :func:`run_pactl` runs the command with the C
locale so the field names are not translated.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PACTL_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class PulseObject:
    """One block of ``pactl list``: its kind, index, top-level fields and properties."""

    kind: str
    index: int
    fields: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The object's ``Name:`` (sources, sinks)."""
        return self.fields.get("Name", "")

    @property
    def description(self) -> str:
        """Human description (``Description:`` or ``device.description``)."""
        return self.fields.get("Description") or self.properties.get("device.description", "")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def parse_list(text: str) -> list[PulseObject]:
    """Parse the output of ``pactl list <kind>`` (C locale)."""
    objects: list[PulseObject] = []
    current: PulseObject | None = None
    section = ""
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if not raw[0].isspace():
            head, _, number = raw.rpartition("#")
            try:
                index = int(number.strip())
            except ValueError:
                current = None
                continue
            current = PulseObject(head.strip(), index)
            objects.append(current)
            section = ""
            continue
        if current is None:
            continue
        depth = len(raw) - len(raw.lstrip("\t"))
        line = raw.strip()
        if depth >= 2 and section == "Properties" and " = " in line:
            key, _, value = line.partition(" = ")
            current.properties[key.strip()] = _unquote(value)
            continue
        if depth == 1:
            key, sep, value = line.partition(":")
            if sep:
                section = key.strip()
                current.fields[section] = value.strip()
    return objects


def run_pactl(*args: str) -> str | None:
    """Output of ``pactl args…`` in the C locale, or ``None`` when there is no server or no pactl."""
    exe = shutil.which("pactl")
    if exe is None:
        return None
    env = {**os.environ, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [exe, *args], capture_output=True, text=True, timeout=PACTL_TIMEOUT_S, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("pactl %s failed: %s", " ".join(args), exc)
        return None
    if done.returncode != 0:
        log.debug("pactl %s exited %d: %s", " ".join(args), done.returncode, done.stderr.strip())
        return None
    return done.stdout


def list_sources() -> list[PulseObject] | None:
    """The server's capture sources, or ``None`` without a PulseAudio-compatible server."""
    text = run_pactl("list", "sources")
    return None if text is None else parse_list(text)


def list_source_outputs() -> list[PulseObject] | None:
    """Streams recording from any source, or ``None`` without a server."""
    text = run_pactl("list", "source-outputs")
    return None if text is None else parse_list(text)


def match_source(sources: Iterable[PulseObject], wanted: str) -> PulseObject | None:
    """The first source whose name or description contains ``wanted`` (case-insensitive)."""
    needle = wanted.casefold()
    if not needle:
        return None
    for source in sources:
        if needle in source.name.casefold() or needle in source.description.casefold():
            return source
    return None


#: Level meters (pavucontrol, desktop volume applets) record too, but are not calls.
IGNORED_APPLICATIONS = frozenset({"org.pulseaudio.pavucontrol", "pavucontrol", "gnome-volume-control"})


def recording_applications(
    outputs: Iterable[PulseObject],
    sources: Iterable[PulseObject],
    own_pid: int,
    headset_source: str = "",
) -> list[str]:
    """Names of OTHER applications recording from a microphone right now.

    Skips Deskwatch itself (``own_pid``), paused (corked) streams, level
    meters, and recordings of sink monitors (screen recorders capturing
    playback) unless that monitor is the configured headset source.
    """
    by_index = {s.index: s for s in sources}
    apps: list[str] = []
    for out in outputs:
        props = out.properties
        if props.get("application.process.id") == str(own_pid):
            continue
        if out.fields.get("Corked", "no").lower() == "yes":
            continue
        app_id = props.get("application.id", "").lower()
        binary = props.get("application.process.binary", "").lower()
        if app_id in IGNORED_APPLICATIONS or binary in IGNORED_APPLICATIONS:
            continue
        try:
            source = by_index.get(int(out.fields.get("Source", "-1")))
        except ValueError:
            source = None
        if source is not None and source.name.endswith(".monitor") and source.name != headset_source:
            continue
        name = props.get("application.name") or props.get("application.process.binary") or f"#{out.index}"
        if name not in apps:
            apps.append(name)
    return apps

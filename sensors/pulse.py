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


#: Longest field, property or application name kept (``pactl`` output is outside input).
MAX_VALUE_CHARS = 200


def clean_text(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``value`` without control characters, trimmed to ``limit`` characters.

    Application and device names end up in messages, logs and history; a
    client may name itself anything, including terminal escapes or newlines.
    """
    kept = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(kept.split())[:limit]


def ascii_int(text: str) -> int | None:
    """``text`` as a non-negative integer when it is plain ASCII digits, else ``None``.

    ``int()`` would also accept ``"٣"``, ``"1_0"`` or ``"+7"``; indexes
    from ``pactl`` are ASCII digits or nothing (``n/a``).
    """
    text = text.strip()
    if not text or len(text) > 12 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"')
    return clean_text(value)


def parse_list(text: str) -> list[PulseObject]:
    """Parse the output of ``pactl list <kind>`` (C locale).

    Defensive: any text gives a list (possibly empty), never an exception.
    A block starts at an unindented ``Kind #N`` line; lines before the first
    block, headers without an ASCII index and lines that are neither
    ``Field: value`` nor (under ``Properties:``) ``key = value`` are skipped.
    """
    objects: list[PulseObject] = []
    current: PulseObject | None = None
    section = ""
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if not raw[0].isspace():
            head, sep, number = raw.rpartition("#")
            index = ascii_int(number) if sep else None
            if index is None:
                current = None
                continue
            current = PulseObject(clean_text(head), index)
            objects.append(current)
            section = ""
            continue
        if current is None:
            continue
        depth = len(raw) - len(raw.lstrip("\t"))
        line = raw.strip()
        if depth >= 2 and section == "Properties" and " = " in line:
            key, _, value = line.partition(" = ")
            current.properties[clean_text(key)] = _unquote(value)
            continue
        if depth == 1:
            key, sep, value = line.partition(":")
            if sep:
                section = clean_text(key)
                current.fields[section] = clean_text(value)
    return objects


def run_pactl(*args: str) -> str | None:
    """Output of ``pactl args…`` in the C locale, or ``None`` when there is no server or no pactl."""
    exe = shutil.which("pactl")
    if exe is None:
        return None
    env = {**os.environ, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [exe, *args],
            capture_output=True,
            timeout=PACTL_TIMEOUT_S,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("pactl %s failed: %s", " ".join(args), exc)
        return None
    if done.returncode != 0:
        error = clean_text(done.stderr.decode("utf-8", "replace"))
        log.debug("pactl %s exited %d: %s", " ".join(args), done.returncode, error)
        return None
    # Names are UTF-8 by PulseAudio's rules, but a client may send anything.
    return done.stdout.decode("utf-8", "replace")


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

#: ``media.role`` of streams that are plumbing inside the sound server (PipeWire
#: names its filter and loopback nodes so), not a program listening to the clerk.
INTERNAL_ROLES = frozenset({"filter", "abstract"})


def client_index(output: PulseObject) -> int | None:
    """The client owning a source output, or ``None`` for a module's own stream.

    ``module-remap-source``, ``module-loopback`` and ``module-echo-cancel``
    read the microphone through source outputs that have ``Client: n/a``
    (and an ``Owner Module``): they are the sound server's own plumbing.
    """
    return ascii_int(output.fields.get("Client", ""))


def application_name(output: PulseObject) -> str:
    """How to call the program behind a client stream: its name, else its binary."""
    props = output.properties
    name = props.get("application.name") or props.get("application.process.binary")
    if name:
        return name
    pid = ascii_int(props.get("application.process.id", ""))
    return f"process {pid}" if pid is not None else f"client {client_index(output)}"


def recording_applications(
    outputs: Iterable[PulseObject],
    sources: Iterable[PulseObject],
    own_pid: int,
    headset_source: str = "",
) -> list[str]:
    """Names of OTHER applications recording from a microphone right now.

    Only client applications count: streams owned by a module (remap,
    loopback, echo-cancel: ``Client: n/a``) are skipped, and so are
    Deskwatch itself (``own_pid``), paused (corked) streams, level meters,
    and recordings of sink monitors (screen recorders capturing playback)
    unless that monitor is the configured headset source.
    """
    by_index = {s.index: s for s in sources}
    apps: list[str] = []
    for out in outputs:
        if client_index(out) is None:
            continue
        props = out.properties
        if ascii_int(props.get("application.process.id", "")) == own_pid:
            continue
        if out.fields.get("Corked", "no").lower() == "yes":
            continue
        if props.get("media.role", "").lower() in INTERNAL_ROLES:
            continue
        app_id = props.get("application.id", "").lower()
        binary = props.get("application.process.binary", "").lower()
        if app_id in IGNORED_APPLICATIONS or binary in IGNORED_APPLICATIONS:
            continue
        index = ascii_int(out.fields.get("Source", ""))
        source = by_index.get(index) if index is not None else None
        if source is not None and source.name.endswith(".monitor") and source.name != headset_source:
            continue
        name = application_name(out)
        if name not in apps:
            apps.append(name)
    return apps

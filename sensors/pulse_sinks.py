"""Playback devices (sinks) on PulseAudio / PipeWire: state, volume, mute, and what their monitor carries.

The sound-dose meter records a sink's ``.monitor`` source.  What reaches the
ear is the monitor's samples *plus whatever volume the monitor does not
carry*, and that differs by server and by sink:

* **PulseAudio** mixes the streams and applies the sink's *software* volume
  and mute (``pa_sink_render`` → ``pa_mix`` with ``thread_info.soft_volume``,
  ``soft_muted``), then posts that same chunk to the monitor source
  (``inputs_drop`` → ``pa_source_post``).  So on a sink with software volume
  (a null or virtual sink, Bluetooth, a mixer without a usable control) the
  monitor is post-volume: nothing to correct.  On a sink with
  ``HW_VOLUME_CTRL`` (``module-alsa-card`` on a USB headset such as a Jabra or
  Plantronics: the slider moves the device's own mixer) the hardware part of
  the volume is applied after the monitor, which shows full scale whatever
  the slider says.  The hardware part is the sink volume up to 100 % (PA's
  0 dB is the mixer's maximum; with ``DECIBEL_VOLUME`` ``pactl`` prints it in
  dB); above 100 % the rest is software and is in the monitor again.  A
  hardware mute (``HW_MUTE_CTRL``) likewise leaves the monitor playing.
  Between two steps of the mixer PulseAudio sets the step at or above the
  slider and applies the rest in software, before the monitor; ``pactl``
  shows only the whole volume, so that rest is counted twice and the level
  can read up to one mixer step low (known, not corrected).
* **PipeWire** (pipewire-pulse, the default on newer Ubuntu, UOS and Kylin)
  reports every sink with ``DECIBEL_VOLUME`` (plus ``HW_VOLUME_CTRL`` when the
  route has a hardware volume) and ``Driver: PipeWire``.  Its monitor ports
  are taken *before* the sink's volume, hardware or software, unless the node
  has ``monitor.channel-volumes = true`` (PipeWire commit "Make a new
  softVolume property": "the volume on the monitor is not affected by the
  sink volume anymore … In PipeWire there is an option in merger to let the
  volume affect the monitor with monitor.channel-volumes = true").  So the
  whole sink volume, in dB, is the correction.

:func:`ear_gain` turns a :class:`Sink` into that correction; it never makes
the level louder than measured except where the server really amplifies
after the monitor (PipeWire above 100 %; the meter clips at full scale as the
device does).  When the volume outside the monitor cannot be known (a
hardware volume without dB, output that does not parse) it is counted as
full volume -- an upper bound -- and :attr:`EarGain.known` says so.

``pactl`` is asked once per look, in the C locale: ``pactl --format=json list
sinks`` (PulseAudio 16+, pipewire-pulse 0.3.4x+), else ``pactl list sinks``.
Both parsers are defensive: any text gives sinks or nothing, never an
exception, and a localized listing (field names translated) is recognised as
such -- the sinks are then taken from ``pactl list sinks short`` with their
volume unknown.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sensors import pulse

RUNNING = "RUNNING"
#: ``pa_sink_flags_t`` names as ``pactl`` prints them (not translated in any locale).
HW_VOLUME_CTRL = "HW_VOLUME_CTRL"
HW_MUTE_CTRL = "HW_MUTE_CTRL"
DECIBEL_VOLUME = "DECIBEL_VOLUME"
#: ``Driver:`` of every sink pipewire-pulse lists.
PIPEWIRE_DRIVER = "PipeWire"
#: The node property that makes PipeWire's monitor carry the sink volume.
MONITOR_CHANNEL_VOLUMES = "monitor.channel-volumes"

#: ``front-left: 39321 /  60% / -13.31 dB`` (the dB part only with ``DECIBEL_VOLUME``).
_CHANNEL_VOLUME = re.compile(
    r"([A-Za-z0-9-]{1,32}):\s*([0-9]{1,10})\s*/\s*([0-9]{1,5})%(?:\s*/\s*(-inf|[-+]?[0-9]{1,4}(?:\.[0-9]{1,4})?)\s*dB)?"
)
_DB = re.compile(r"\s*(-inf|[-+]?[0-9]{1,4}(?:\.[0-9]{1,4})?)\s*dB\s*")
_CHANNELS = re.compile(r"\b([0-9]{1,3})ch\b")


@dataclass(frozen=True)
class Sink:
    """One playback device: name, state and, from the long listing, its volume and flags.

    A sink built from the short listing only (``detailed`` false) has no volume,
    mute or flags: what reaches the ear from it cannot be known.
    """

    name: str
    state: str
    detailed: bool = False
    driver: str = ""
    flags: frozenset[str] = frozenset()
    #: ``None``: not known.
    muted: bool | None = None
    #: The loudest channel's volume in dB (``-inf`` at 0 %); ``None`` when not given in dB.
    volume_db: float | None = None
    #: The loudest channel's volume in percent of PA_VOLUME_NORM.
    volume_percent: float | None = None
    #: PipeWire's ``monitor.channel-volumes`` node property, when the sink lists it.
    monitor_channel_volumes: bool = False
    properties: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def monitor_source(self) -> str:
        """The source that records what this sink plays."""
        return f"{self.name}.monitor"

    @property
    def playing(self) -> bool:
        """Whether something plays into it now."""
        return self.state == RUNNING

    @property
    def pipewire(self) -> bool:
        """Whether the sink is PipeWire's (pipewire-pulse), whose monitor is pre-volume."""
        return self.driver == PIPEWIRE_DRIVER

    @property
    def hardware_volume(self) -> bool:
        """Whether the volume slider moves the device's own mixer (``HW_VOLUME_CTRL``)."""
        return HW_VOLUME_CTRL in self.flags


@dataclass(frozen=True)
class EarGain:
    """What lies between the monitor's samples and the ear."""

    #: dB to add to the monitor's level (0: the monitor carries the volume, or it is unknown).
    db: float
    #: Muted or at 0 %: nothing reaches the ear.
    silent: bool = False
    #: False: the volume outside the monitor could not be known; :attr:`db` is then 0,
    #: as if at full volume (an upper bound, except above 100 % on PipeWire).
    known: bool = True
    #: Which case applied: "software", "hardware", "pipewire", "muted", "unknown".
    how: str = "software"


def ear_gain(sink: Sink) -> EarGain:
    """The correction from ``sink``'s monitor to the ear (see the module docstring)."""
    if not sink.detailed or sink.muted is None:
        return EarGain(0.0, known=False, how="unknown")
    if sink.muted:
        return EarGain(0.0, silent=True, how="muted")
    if sink.pipewire:
        if sink.monitor_channel_volumes:
            return EarGain(0.0, how="software")  # this node's monitor carries the volume
        return _from_volume(sink, sink.volume_db, "pipewire")
    if not sink.hardware_volume:
        return EarGain(0.0, how="software")  # PulseAudio's monitor is post software volume
    volume = sink.volume_db
    # Above 100 % PulseAudio keeps the mixer at its maximum and the rest is software (in the monitor).
    return _from_volume(sink, None if volume is None else min(volume, 0.0), "hardware")


def _from_volume(sink: Sink, volume_db: float | None, how: str) -> EarGain:
    if volume_db is None:
        return EarGain(0.0, known=False, how="unknown")
    if math.isinf(volume_db) or (sink.volume_percent == 0):
        return EarGain(0.0, silent=True, how=how)
    return EarGain(volume_db, how=how)


# -- parsing -----------------------------------------------------------------------------
def parse_sinks_short(text: str) -> list[Sink]:
    """The sinks in ``pactl list sinks short`` output (lines that do not fit are skipped)."""
    sinks = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 5 or not fields[0].strip().isdigit():
            continue
        name = pulse.clean_text(fields[1].strip())
        state = pulse.clean_text(fields[-1].strip().upper(), limit=20)
        if name:
            sinks.append(Sink(name, state))
    return sinks


def _loudest(channels: Iterable[tuple[float | None, float]]) -> tuple[float | None, float | None]:
    """The loudest channel's (dB, percent): the louder ear.  dB ``None`` when any channel lacks it."""
    found = list(channels)
    if not found:
        return None, None
    percent = max(p for _db, p in found)
    dbs = [db for db, _p in found]
    if any(db is None for db in dbs):
        return None, percent
    return max(db for db in dbs if db is not None), percent


def _db(text: str) -> float | None:
    match = _DB.fullmatch(text)
    if match is None:
        return None
    return -math.inf if match[1] == "-inf" else float(match[1])


def _channel_count(spec: str) -> int | None:
    match = _CHANNELS.search(spec)
    return int(match[1]) if match else None


def _sink(
    name: str,
    state: str,
    driver: str,
    flags: Iterable[str],
    muted: bool | None,
    channels: list[tuple[float | None, float]],
    expected_channels: int | None,
    properties: Mapping[str, str],
) -> Sink:
    flag_set = frozenset(pulse.clean_text(f, limit=40) for f in flags)
    volume_db, percent = _loudest(channels)
    if not channels or (expected_channels is not None and len(channels) != expected_channels):
        volume_db = percent = None  # a channel missing (cut short, malformed): not the whole volume
    if DECIBEL_VOLUME not in flag_set:
        volume_db = None  # a dB figure without the flag would be PulseAudio's guess
    monitor_volumes = properties.get(MONITOR_CHANNEL_VOLUMES, "").strip().lower() in ("true", "1")
    return Sink(
        name, state, True, driver, flag_set, muted, volume_db, percent, monitor_volumes, dict(properties)
    )


_YES_NO = {"yes": True, "no": False}


def parse_sinks_long(text: str) -> list[Sink]:
    """The sinks in ``pactl list sinks`` output (C locale).

    Blocks without a ``Name:`` (a localized listing, garbage) are skipped.
    """
    sinks: list[Sink] = []
    for block in pulse.parse_list(text):
        if block.kind != "Sink" or not block.name:
            continue
        f = block.fields
        channels: list[tuple[float | None, float]] = []
        for match in _CHANNEL_VOLUME.finditer(f.get("Volume", "")):
            db = None if match[4] is None else (-math.inf if match[4] == "-inf" else float(match[4]))
            channels.append((db, float(match[3])))
        muted = _YES_NO.get(f.get("Mute", "").strip().lower())
        state = pulse.clean_text(f.get("State", "").upper(), limit=20)
        expected = _channel_count(f.get("Sample Specification", ""))
        sinks.append(
            _sink(
                block.name,
                state,
                f.get("Driver", ""),
                f.get("Flags", "").split(),
                muted,
                channels,
                expected,
                block.properties,
            )
        )
    return sinks


def parse_sinks_json(text: str) -> list[Sink] | None:
    """The sinks in ``pactl --format=json list sinks`` output; ``None`` when it is not that JSON."""
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, list):
        return None
    sinks: list[Sink] = []
    for item in data:
        if not isinstance(item, dict):
            continue
        name = pulse.clean_text(_str(item.get("name")))
        if not name:
            continue
        channels: list[tuple[float | None, float]] = []
        volume = item.get("volume")
        for entry in volume.values() if isinstance(volume, dict) else ():
            if not isinstance(entry, dict):
                continue
            percent = _percent(entry.get("value_percent"))
            if percent is None:
                continue
            db_text = entry.get("db")
            channels.append((_db(db_text) if isinstance(db_text, str) else None, percent))
        mute = item.get("mute")
        flags = item.get("flags")
        props = item.get("properties")
        properties = (
            {pulse.clean_text(str(k)): pulse.clean_text(_str(v)) for k, v in props.items()}
            if isinstance(props, dict)
            else {}
        )
        sinks.append(
            _sink(
                name,
                pulse.clean_text(_str(item.get("state")).upper(), limit=20),
                pulse.clean_text(_str(item.get("driver"))),
                [f for f in flags if isinstance(f, str)] if isinstance(flags, list) else [],
                mute if isinstance(mute, bool) else None,
                channels,
                _channel_count(_str(item.get("sample_specification"))),
                properties,
            )
        )
    return sinks


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _percent(value: object) -> float | None:
    if not isinstance(value, str) or not value.endswith("%"):
        return None
    number = pulse.ascii_int(value[:-1])
    return None if number is None else float(number)


def parse_default_sink(info: str) -> str:
    """The ``Default Sink:`` of ``pactl info`` output ("" when absent)."""
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Default Sink":
            return pulse.clean_text(value.strip())
    return ""


def choose_sink(sinks: list[Sink], wanted: str, default: str) -> Sink | None:
    """The sink named by ``wanted`` (a case-insensitive part of its name), else the default sink."""
    if wanted:
        needle = wanted.casefold()
        exact = [s for s in sinks if s.name.casefold() == needle]
        if exact:
            return exact[0]
        return next((s for s in sinks if needle in s.name.casefold()), None)
    return next((s for s in sinks if s.name == default), None)


class SinkLister:
    """Lists the sinks with their volume, one ``pactl`` run a look; remembers whether JSON works."""

    def __init__(self) -> None:
        #: ``pactl --format=json`` answered once (``None``: not tried yet).
        self.json_works: bool | None = None
        #: ``pactl`` runs so far (diagnostics and tests: the gate must not poll it every second).
        self.runs = 0

    def list(self) -> list[Sink] | None:
        """The sinks, detailed where the listing could be read; ``None`` without a sound server."""
        if self.json_works is not False:
            self.runs += 1
            text = pulse.run_pactl("--format=json", "list", "sinks")
            sinks = None if text is None else parse_sinks_json(text)
            if sinks is not None:
                self.json_works = True
                return sinks
            if self.json_works and text is None:
                return None  # it worked before: the server is gone
        self.runs += 1
        text = pulse.run_pactl("list", "sinks")
        if text is None:
            return None
        if self.json_works is None:
            self.json_works = False  # the server answers, JSON did not: an older pactl
        sinks = parse_sinks_long(text)
        if sinks or not text.strip():
            return sinks
        # Text that is not the C locale's listing: the short one says which sinks exist.
        self.runs += 1
        short = pulse.run_pactl("list", "sinks", "short")
        return None if short is None else parse_sinks_short(short)

    def find(self, wanted: str) -> tuple[bool, Sink | None]:
        """Whether a sound server answers, and the headset's sink on it (``None``: not there)."""
        sinks = self.list()
        if sinks is None:
            return False, None
        default = ""
        if not wanted:
            self.runs += 1
            default = parse_default_sink(pulse.run_pactl("info") or "")
        return True, choose_sink(sinks, wanted, default)


def find_sink(wanted: str) -> tuple[bool, Sink | None]:
    """Whether a sound server answers, and the headset's sink on it (a one-off look)."""
    return SinkLister().find(wanted)

"""Playback devices (sinks) on PulseAudio / PipeWire and whether they are playing, through ``pactl``.

``pactl list sinks short`` prints one line per sink, tab-separated::

    0	alsa_output.usb-Jabra_Evolve_20-00.analog-stereo	module-alsa-card.c	s16le 2ch 48000Hz	RUNNING

A sink is ``RUNNING`` while an uncorked stream plays into it, ``IDLE`` when
none does, ``SUSPENDED`` when the server has closed the device.  A program
recording the sink's ``.monitor`` (the sound-dose meter) does not make it
``RUNNING``, so the meter never keeps itself listening.
"""

from __future__ import annotations

from dataclasses import dataclass

from sensors import pulse

RUNNING = "RUNNING"


@dataclass(frozen=True)
class Sink:
    """One playback device: its name and state (``RUNNING``, ``IDLE``, ``SUSPENDED`` …)."""

    name: str
    state: str

    @property
    def monitor_source(self) -> str:
        """The source that records what this sink plays."""
        return f"{self.name}.monitor"

    @property
    def playing(self) -> bool:
        """Whether something plays into it now."""
        return self.state == RUNNING


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


def find_sink(wanted: str) -> tuple[bool, Sink | None]:
    """Whether a sound server answers, and the headset's sink on it (``None``: not there)."""
    text = pulse.run_pactl("list", "sinks", "short")
    if text is None:
        return False, None
    default = "" if wanted else parse_default_sink(pulse.run_pactl("info") or "")
    return True, choose_sink(parse_sinks_short(text), wanted, default)

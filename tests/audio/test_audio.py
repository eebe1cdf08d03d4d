"""Choosing the capture device (``sensors.audio``) from PortAudio's list and PulseAudio's sources."""

from __future__ import annotations

from sensors.audio import choose_input
from sensors.pulse import parse_list
from tests.audio.test_pulse import SOURCES

DEVICES = [
    {"index": 0, "name": "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "maxInputChannels": 2},
    {"index": 1, "name": "HDMI 0", "maxInputChannels": 0},
    {"index": 2, "name": "Headset Microphone (Jabra EVOLVE 20)", "maxInputChannels": 1},
    {"index": 3, "name": "pulse", "maxInputChannels": 32},
    {"index": 4, "name": "default", "maxInputChannels": 32},
]


def test_choose_input() -> None:
    assert choose_input(DEVICES, 4, "").name == "default"  # type: ignore[union-attr]
    assert choose_input(DEVICES, 4, "JABRA").index == 2  # type: ignore[union-attr]
    assert choose_input(DEVICES, 4, "HDMI") is None  # outputs never match
    sources = parse_list(SOURCES)
    no_jabra = [d for d in DEVICES if d["index"] != 2]
    via_pulse = choose_input(no_jabra, 4, "evolve", sources)
    assert via_pulse is not None and via_pulse.index == 3
    assert via_pulse.pulse_source == "alsa_input.usb-Jabra_Jabra_EVOLVE_20_MS-00.mono-fallback"
    assert choose_input(no_jabra, 4, "plantronics", sources) is None
    assert choose_input([], None, "") is None

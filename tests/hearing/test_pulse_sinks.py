"""Sinks' volume, mute and flags from ``pactl``, and what part of the volume the monitor does not carry.

Data (``tests/hearing/data``): ``pactl-sinks-null.*`` recorded from this
suite's private PulseAudio 16.1 (null sink at 50 %), text and
``--format=json``.  ``pactl-sinks-usb-headset.txt`` (PulseAudio,
module-alsa-card: a Jabra with HW_VOLUME_CTRL and DECIBEL_VOLUME, a
Plantronics whose mixer has no dB scale, the built-in card) and
``pactl-sinks-pipewire.txt`` (pipewire-pulse: ``Driver: PipeWire``, a USB
headset, a null-audio-sink with ``monitor.channel-volumes``, a muted
Bluetooth headset) follow pactl 16's layout field for field; no such device
is attached here.  ``pactl-sinks-zh_CN.txt`` is the same Jabra listed in a
Chinese locale (field names translated, as when LC_ALL=C were lost).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sensors import pulse_sinks
from sensors.pulse_sinks import EarGain, Sink, ear_gain

DATA = Path(__file__).parent / "data"
JABRA = "alsa_output.usb-GN_Netcom_A_S_Jabra_EVOLVE_LINK_000736B2D2E4-00.analog-stereo"


def read(name: str) -> str:
    return (DATA / name).read_text("utf-8")


def by_name(sinks: list[Sink]) -> dict[str, Sink]:
    return {s.name: s for s in sinks}


def test_null_sink_text_and_json_agree_and_its_monitor_carries_the_volume() -> None:
    text = pulse_sinks.parse_sinks_long(read("pactl-sinks-null.txt"))
    parsed = pulse_sinks.parse_sinks_json(read("pactl-sinks-null.json"))
    assert parsed is not None
    assert text == parsed  # (properties are left out of the comparison)
    (sink,) = text
    assert (sink.name, sink.state, sink.driver) == ("deskwatch_headset", "IDLE", "module-null-sink.c")
    assert sink.detailed and sink.muted is False and not sink.hardware_volume and not sink.pipewire
    assert sink.volume_db == pytest.approx(-18.06) and sink.volume_percent == 50
    # PulseAudio applies a software volume before the monitor: nothing to add.
    assert ear_gain(sink) == EarGain(0.0, how="software")


def test_usb_headset_with_hardware_volume_is_corrected_by_its_loudest_channel() -> None:
    sinks = by_name(pulse_sinks.parse_sinks_long(read("pactl-sinks-usb-headset.txt")))
    jabra = sinks[JABRA]
    assert jabra.playing and jabra.hardware_volume and "HW_MUTE_CTRL" in jabra.flags
    assert jabra.volume_db == pytest.approx(-23.88) and jabra.volume_percent == 40  # the louder ear
    assert ear_gain(jabra) == EarGain(pytest.approx(-23.88), how="hardware")  # type: ignore[arg-type]
    # A hardware mixer without a dB scale: the volume cannot be known; counted as full volume.
    plantronics = next(s for s in sinks.values() if "Plantronics" in s.name)
    assert plantronics.volume_percent == 70 and plantronics.volume_db is None
    assert ear_gain(plantronics) == EarGain(0.0, known=False, how="unknown")
    builtin = next(s for s in sinks.values() if "pci" in s.name)
    assert ear_gain(builtin) == EarGain(0.0, how="hardware")


def test_pipewire_monitor_is_pre_volume_unless_the_node_says_otherwise() -> None:
    sinks = by_name(pulse_sinks.parse_sinks_long(read("pactl-sinks-pipewire.txt")))
    usb = sinks[JABRA]
    assert usb.pipewire and usb.hardware_volume
    assert ear_gain(usb) == EarGain(pytest.approx(-18.06), how="pipewire")  # type: ignore[arg-type]
    # 150 % on a node whose monitor carries its volume: nothing added.
    effects = sinks["easyeffects_sink"]
    assert effects.monitor_channel_volumes and effects.volume_db == pytest.approx(10.57)
    assert ear_gain(effects) == EarGain(0.0, how="software")
    bluetooth = sinks["bluez_output.70_BF_92_11_22_33.1"]
    assert bluetooth.muted is True and ear_gain(bluetooth).silent


def test_pipewire_above_100_percent_is_louder_than_the_monitor() -> None:
    boosted = Sink("s", "RUNNING", True, "PipeWire", frozenset({"DECIBEL_VOLUME"}), False, 10.57, 150.0)
    assert ear_gain(boosted) == EarGain(pytest.approx(10.57), how="pipewire")  # type: ignore[arg-type]
    # PulseAudio above 100 % on a hardware sink: the part above is software, in the monitor already.
    pa = Sink("s", "RUNNING", True, "module-alsa-card.c", frozenset({"HW_VOLUME_CTRL", "DECIBEL_VOLUME"}),
              False, 10.57, 150.0)  # fmt: skip
    assert ear_gain(pa) == EarGain(0.0, how="hardware")


def test_zero_volume_and_mute_reach_no_ear_and_unknowns_are_not_guessed() -> None:
    flags = frozenset({"HW_VOLUME_CTRL", "DECIBEL_VOLUME"})
    silent = Sink("s", "RUNNING", True, "module-alsa-card.c", flags, False, -math.inf, 0.0)
    assert ear_gain(silent).silent
    assert ear_gain(Sink("s", "RUNNING")) == EarGain(0.0, known=False, how="unknown")  # short listing only
    unknown_mute = Sink("s", "RUNNING", True, "module-alsa-card.c", flags, None, -10.0, 60.0)
    assert not ear_gain(unknown_mute).known


def test_localized_listing_is_not_read_as_a_volume() -> None:
    assert pulse_sinks.parse_sinks_long(read("pactl-sinks-zh_CN.txt")) == []
    (sink,) = pulse_sinks.parse_sinks_short(read("pactl-sinks-short-zh_CN.txt"))
    assert sink.name == JABRA and sink.playing and not ear_gain(sink).known


def test_lister_falls_back_to_the_short_listing_on_a_localized_pactl(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        ("--format=json", "list", "sinks"): None,  # pactl 15: no JSON
        ("list", "sinks"): read("pactl-sinks-zh_CN.txt"),
        ("list", "sinks", "short"): read("pactl-sinks-short-zh_CN.txt"),
    }
    monkeypatch.setattr(pulse_sinks.pulse, "run_pactl", lambda *args: answers[args])
    lister = pulse_sinks.SinkLister()
    server, sink = lister.find("jabra")
    assert server and sink is not None and sink.name == JABRA and not sink.detailed
    assert lister.json_works is False and lister.runs == 3
    lister.find("jabra")  # JSON is not tried again
    assert lister.runs == 5


def test_lister_uses_json_when_pactl_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def pactl(*args: str) -> str | None:
        calls.append(args)
        return (
            read("pactl-sinks-null.json")
            if args[0] == "--format=json"
            else "Default Sink: deskwatch_headset\n"
        )

    monkeypatch.setattr(pulse_sinks.pulse, "run_pactl", pactl)
    server, sink = pulse_sinks.SinkLister().find("")
    assert server and sink is not None and sink.volume_db == pytest.approx(-18.06)
    assert calls == [("--format=json", "list", "sinks"), ("info",)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Sink #x\n\tName: a\n",
        "Sink #1\n\tName: a\n\tVolume: front-left: 99999999999 / 9% / -1e9 dB\n\tFlags: DECIBEL_VOLUME\n",
        "Sink #1\n\tName: a\n\tSample Specification: s16le 2ch 48000Hz\n\tMute: no\n"
        "\tVolume: front-left: 32768 /  50% / -18.06 dB,   front-ri\n\tFlags: DECIBEL_VOLUME\n",
        "\x1b[31mSink #1\n\tName: \x00\n" + "\tVolume: " + "x: 1 / 1% / 1 dB, " * 500 + "\n",
    ],
)
def test_hostile_text_gives_no_volume_that_was_not_there(text: str) -> None:
    for sink in pulse_sinks.parse_sinks_long(text):
        assert sink.volume_db is None or sink.volume_db > -200
        assert not ear_gain(sink).known or ear_gain(sink).db == 0.0


@pytest.mark.parametrize(
    "text",
    ["", "{", "[1, null, {}]", '[{"name": 5}]', '[{"name": "a", "volume": {"x": {"value_percent": "٣%"}}}]',
     '[{"name": "a", "mute": "no", "flags": "HW_VOLUME_CTRL", "volume": [1]}]', "[" * 100000],
)  # fmt: skip
def test_hostile_json_is_no_sink_or_an_unknown_one(text: str) -> None:
    sinks = pulse_sinks.parse_sinks_json(text)
    for sink in sinks or []:
        assert not ear_gain(sink).known


def test_meter_gain_lowers_the_level_and_a_boost_clips_at_full_scale() -> None:
    from sensors import sound_dose as sd

    rate = 16000
    t = np.arange(rate) / rate
    sine = np.round(32767 * 10 ** (-20 / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)

    def laeq(gain: float, samples: np.ndarray = sine) -> float:
        meter = sd.SoundDoseMeter(sd.MeterSettings(100.0), rate)
        meter.add(samples, rate, 1.0, gain_db=gain)
        level = meter.take().laeq_db
        assert level is not None
        return level

    assert laeq(0.0) == pytest.approx(80.0, abs=0.1)
    assert laeq(-23.88) == pytest.approx(80.0 - 23.88, abs=0.1)
    assert laeq(10.0) == pytest.approx(90.0, abs=0.1)
    loud = np.round(32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    # Clipped at full scale, as the device does: not +10 dB, at most a full-scale square wave (+3 dB).
    assert 100.0 < laeq(10.0, loud) <= 100.0 + 3.02

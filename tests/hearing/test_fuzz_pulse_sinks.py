"""Fuzz: ``pactl list sinks`` (text and JSON) and the correction drawn from it.

Random text and sink blocks shaped like real output with hostile volumes,
flags and mute values.  Parsing never raises, and the correction is never a
made-up gain: either nothing (0 dB), silence, "unknown", or a finite dB
figure that was in the listing, attenuating except on PipeWire.
"""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from sensors.pulse_sinks import ear_gain, parse_sinks_json, parse_sinks_long
from tests.environment.fuzz import FUZZ

db = st.one_of(
    st.floats(-300, 300, allow_nan=False).map(lambda v: f"{v:.2f} dB"),
    st.sampled_from(["-inf dB", "inf dB", "nan dB", "dB", "-18,06 dB", "٣ dB", ""]),
)
percent = st.one_of(st.integers(-5, 100000).map(lambda n: f"{n}%"), st.sampled_from(["%", "x%", "٣%", ""]))
channel = st.sampled_from(["mono", "front-left", "front-right", "aux0", "", "a b", "x" * 40])
flags = st.lists(
    st.sampled_from(["HARDWARE", "HW_VOLUME_CTRL", "HW_MUTE_CTRL", "DECIBEL_VOLUME", "LATENCY", "x"]),
    max_size=6,
)
driver = st.sampled_from(["module-alsa-card.c", "module-null-sink.c", "PipeWire", "pipewire", ""])


@st.composite
def volume_text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        parts.append(f"{draw(channel)}: {draw(st.integers(-1, 10**7))} / {draw(percent)} / {draw(db)}")
    return ",   ".join(parts)


@st.composite
def sink_block(draw: st.DrawFn) -> str:
    lines = [f"Sink #{draw(st.integers(0, 99))}", f"\tName: {draw(st.text(max_size=12))}"]
    lines.append(f"\tState: {draw(st.sampled_from(['RUNNING', 'IDLE', 'SUSPENDED', '']))}")
    lines.append(f"\tDriver: {draw(driver)}")
    lines.append(f"\tSample Specification: s16le {draw(st.integers(0, 9))}ch 48000Hz")
    lines.append(f"\tMute: {draw(st.sampled_from(['yes', 'no', '', 'maybe', '是']))}")
    lines.append(f"\tVolume: {draw(volume_text())}")
    lines.append(f"\tFlags: {' '.join(draw(flags))}")
    if draw(st.booleans()):
        lines += [
            "\tProperties:",
            f'\t\tmonitor.channel-volumes = "{draw(st.sampled_from(["true", "false", "1"]))}"',
        ]
    return "\n".join(lines)


def check(sinks: list) -> None:  # type: ignore[type-arg]
    for sink in sinks:
        gain = ear_gain(sink)
        assert math.isfinite(gain.db)
        if not gain.known or gain.silent:
            assert gain.db == 0.0
        elif not sink.pipewire:
            assert gain.db <= 0.0  # PulseAudio: only the hardware part, at most full volume


@FUZZ
@given(st.lists(sink_block(), max_size=3), st.text(max_size=50))
def test_text_listing_never_raises_and_never_invents_a_gain(blocks: list[str], noise: str) -> None:
    check(parse_sinks_long("\n".join(blocks) + "\n" + noise))


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_json_listing_never_raises(data: object) -> None:
    sinks = parse_sinks_json(json.dumps(data))
    check(sinks or [])


anything = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)


@st.composite
def json_sink(draw: st.DrawFn) -> dict[str, object]:
    volume = {
        draw(channel): {
            "value": draw(anything),
            "value_percent": draw(percent | anything),
            "db": draw(db | anything),
        }
        for _ in range(draw(st.integers(0, 3)))
    }
    return {
        "name": draw(st.text(min_size=1, max_size=10) | anything),
        "state": draw(st.sampled_from(["RUNNING", "IDLE"]) | anything),
        "driver": draw(driver | anything),
        "mute": draw(st.booleans() | anything),
        "volume": draw(st.just(volume) | anything),
        "flags": draw(flags | anything),
        "sample_specification": draw(st.sampled_from(["s16le 2ch 48000Hz", "s16le 1ch 16000Hz"]) | anything),
        "properties": draw(st.dictionaries(st.text(max_size=25), anything, max_size=3) | anything),
    }


@FUZZ
@given(st.lists(json_sink(), max_size=3))
def test_json_sinks_with_hostile_fields_never_invent_a_gain(items: list[dict[str, object]]) -> None:
    sinks = parse_sinks_json(json.dumps(items))
    assert sinks is not None
    check(sinks)

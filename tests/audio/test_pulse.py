"""What PulseAudio says (``sensors.pulse``): sources, recording streams, who records (recorded data)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sensors.pulse import match_source, parse_list, recording_applications

DATA = Path(__file__).parent / "data"

# Recorded from a desktop: a USB headset, the laptop's mic, a sink monitor, and
# four recording streams (a softphone, Deskwatch itself, a paused one, OBS
# capturing the speakers' monitor).
SOURCES = """Source #0
\tState: SUSPENDED
\tName: alsa_output.pci-0000_00_1f.3.analog-stereo.monitor
\tDescription: Monitor of Built-in Audio Analog Stereo
\tDriver: module-alsa-card.c
\tProperties:
\t\tdevice.description = "Monitor of Built-in Audio Analog Stereo"
\t\tdevice.class = "monitor"
Source #1
\tState: RUNNING
\tName: alsa_input.pci-0000_00_1f.3.analog-stereo
\tDescription: Built-in Audio Analog Stereo
\tDriver: module-alsa-card.c
\tProperties:
\t\tdevice.description = "Built-in Audio Analog Stereo"
Source #5
\tState: RUNNING
\tName: alsa_input.usb-Jabra_Jabra_EVOLVE_20_MS-00.mono-fallback
\tDescription: Jabra EVOLVE 20 MS Mono
\tDriver: module-alsa-card.c
\tProperties:
\t\tdevice.description = "Jabra EVOLVE 20 MS Mono"
\t\tdevice.bus = "usb"
"""
OUTPUTS = """Source Output #31
\tDriver: protocol-native.c
\tClient: 40
\tSource: 5
\tCorked: no
\tProperties:
\t\tapplication.name = "Zoiper5"
\t\tapplication.process.id = "2201"
\t\tapplication.process.binary = "zoiper5"
Source Output #32
\tDriver: protocol-native.c
\tClient: 41
\tSource: 5
\tCorked: no
\tProperties:
\t\tapplication.name = "ALSA plug-in [python3]"
\t\tapplication.process.id = "4242"
Source Output #33
\tDriver: protocol-native.c
\tClient: 42
\tSource: 1
\tCorked: yes
\tProperties:
\t\tapplication.name = "Firefox"
\t\tapplication.process.id = "3000"
Source Output #34
\tDriver: protocol-native.c
\tClient: 43
\tSource: 0
\tCorked: no
\tProperties:
\t\tapplication.name = "OBS"
\t\tapplication.process.id = "3100"
Source Output #35
\tDriver: protocol-native.c
\tClient: 44
\tSource: 1
\tCorked: no
\tProperties:
\t\tapplication.name = "PulseAudio Volume Control"
\t\tapplication.id = "org.PulseAudio.pavucontrol"
\t\tapplication.process.id = "3200"
"""


def test_parse_recorded_sources_and_outputs() -> None:
    sources = parse_list((DATA / "pactl-sources.txt").read_text())
    outputs = parse_list((DATA / "pactl-source-outputs.txt").read_text())
    assert [(s.kind, s.name) for s in sources] == [("Source", "headset.monitor")]
    assert sources[0].description == "Monitor of Null Output"
    assert outputs[0].kind == "Source Output" and outputs[0].properties["application.name"] == "parec"
    assert outputs[0].fields["Source"] == str(sources[0].index)
    # A monitor is a microphone only when it is the configured headset.
    assert recording_applications(outputs, sources, own_pid=1) == []
    assert recording_applications(outputs, sources, own_pid=1, headset_source="headset.monitor") == ["parec"]


def test_other_applications_exclude_ourselves_paused_meters_and_screen_recorders() -> None:
    apps = recording_applications(parse_list(OUTPUTS), parse_list(SOURCES), own_pid=4242)
    assert apps == ["Zoiper5"]


def test_source_matching_by_name_or_description() -> None:
    sources = parse_list(SOURCES)
    assert match_source(sources, "jabra") is sources[2]
    assert match_source(sources, "built-in audio analog stereo") is sources[0]  # first match wins
    assert match_source(sources, "") is None and match_source(sources, "plantronics") is None


def test_module_streams_are_not_applications() -> None:
    # Recorded from PulseAudio 16 with module-remap-source, module-loopback and
    # module-echo-cancel reading the headset, and parec (as "softphone") recording it.
    sources = parse_list((DATA / "pactl-sources-modules.txt").read_text())
    outputs = parse_list((DATA / "pactl-source-outputs-modules.txt").read_text())
    assert [o.fields["Driver"] for o in outputs] == [
        "module-remap-source.c", "module-loopback.c", "module-echo-cancel.c", "protocol-native.c",
    ]  # fmt: skip
    headset = "deskwatch_headset.monitor"
    assert recording_applications(outputs, sources, own_pid=1, headset_source=headset) == ["softphone"]
    modules_only = [o for o in outputs if o.fields["Driver"] != "protocol-native.c"]
    assert recording_applications(modules_only, sources, own_pid=1, headset_source=headset) == []


def test_applications_are_named_by_name_then_binary() -> None:
    block = "Source Output #7\n\tClient: 3\n\tSource: 1\n\tProperties:\n"
    binary_only = parse_list(block + '\t\tapplication.process.binary = "linphone"\n')
    assert recording_applications(binary_only, [], own_pid=1) == ["linphone"]
    nameless = parse_list(block + '\t\tapplication.process.id = "977"\n')
    assert recording_applications(nameless, [], own_pid=1) == ["process 977"]
    hostile = parse_list(block + '\t\tapplication.name = "soft\x1b[2Jphone\\nrm -rf"\n')
    (name,) = recording_applications(hostile, [], own_pid=1)
    assert name.isprintable() and "\x1b" not in name


def test_parse_ignores_garbage() -> None:
    assert parse_list("") == []
    assert parse_list("Failed to connect\n\tName: x\n") == []
    # Indexes are ASCII digits: Arabic-Indic digits, signs and underscores are not.
    assert parse_list("Source Output #\u0663\n\tClient: 1\n") == []
    assert parse_list("Source Output #1_0\n") == [] and parse_list("Source Output #-1\n") == []
    (odd,) = parse_list("Source Output #4\n\tClient: \u0664\n\tSource: 99999999999999999999\n")
    assert recording_applications([odd], [], own_pid=1) == []  # no client: not an application


#: Lines shaped like pactl's, for the fuzzer to recombine with noise.
PACTL_PIECES = st.sampled_from(
    [
        "Source Output #3", "Source #0", "\tClient: 7", "\tClient: n/a", "\tSource: 0", "\tCorked: yes",
        "\tProperties:", '\t\tapplication.name = "x"', '\t\tapplication.process.id = "1"',
        "\tName: a.monitor", '\t\tmedia.role = "filter"', "#", "\t\t = ", "\t:",
    ]
)  # fmt: skip


@given(st.lists(st.one_of(PACTL_PIECES, st.text(max_size=40)), max_size=30))
def test_any_pactl_output_parses_without_raising(lines: list[str]) -> None:
    text = "\n".join(lines)
    objects = parse_list(text)
    apps = recording_applications(objects, objects, own_pid=1, headset_source="a.monitor")
    assert all(isinstance(a, str) and a.isprintable() for a in apps)

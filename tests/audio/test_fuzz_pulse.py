"""Fuzz: ``pactl list`` output, which another program (and its clients' names) writes.

Random text, and blocks shaped like real ``pactl list sources`` /
``source-outputs`` output with hostile numbers and names.  Parsing and
judging who records must never raise; indices are ASCII numbers.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sensors.pulse import match_source, parse_list, recording_applications
from tests.environment.fuzz import FUZZ  # one example budget for the whole fuzz set

numbers = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.integers(300, 5000).map(lambda n: "9" * n),  # beyond Python's int-from-text limit
    st.sampled_from(["", " ", "-1", "1_000", "+3", "0x10", "٢", "２", "nan"]),
)
names = st.text(max_size=20)


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["Source", "Source Output", "Sink", "Card", ""]))
    lines = [f"{kind} #{draw(numbers)}"]
    for key in draw(
        st.lists(st.sampled_from(["Name", "Description", "Source", "Corked", "Driver"]), max_size=5)
    ):
        value = draw(st.one_of(numbers, names, st.sampled_from(["yes", "no"])))
        lines.append(f"\t{key}: {value}")
    if draw(st.booleans()):
        lines.append("\tProperties:")
        for key in draw(
            st.lists(
                st.sampled_from(
                    ["application.name", "application.id", "application.process.id",
                     "application.process.binary", "device.description"]
                ),
                max_size=5,
            )
        ):  # fmt: skip
            lines.append(f'\t\t{key} = "{draw(st.one_of(names, numbers))}"')
    return "\n".join(lines)


pactl_text = st.one_of(st.lists(block(), max_size=4).map("\n\n".join), st.text(max_size=300))


@FUZZ
@given(sources=pactl_text, outputs=pactl_text, own_pid=st.integers(0, 2**22), headset=names)
def test_parsing_and_judging_never_raise(sources: str, outputs: str, own_pid: int, headset: str) -> None:
    source_objects = parse_list(sources)
    output_objects = parse_list(outputs)
    for obj in source_objects + output_objects:
        assert isinstance(obj.index, int)
    apps = recording_applications(output_objects, source_objects, own_pid, headset)
    assert all(isinstance(name, str) and name for name in apps)
    match_source(source_objects, headset)


@FUZZ
@given(st.sampled_from(["٢", "２", "1_000", "+3"]))
def test_indices_are_ascii_numbers(number: str) -> None:
    assert parse_list(f"Source Output #{number}\n\tSource: 1\n") == []

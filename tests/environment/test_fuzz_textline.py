"""Fuzz: bytes a text-line board may send, through the same code the reader thread runs.

Random bytes in random chunks, and lines shaped like real ones (key=value,
CSV, JSON, a configured regex) carrying hostile numbers: 400-digit integers,
nan/inf, digits of other scripts.  Every complete line is one reading or one
counted bad frame; nothing raises; nothing non-finite gets through.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sensors.reader import TextLineSession
from sensors.serial_transport import SerialSettings
from sensors.textline import DEFAULT_KEYS, MAX_LINE_BYTES, LineFormat
from tests.environment.fuzz import FUZZ, assert_sound, number_texts

FORMATS = {
    "auto": LineFormat(),
    "keyvalue": LineFormat("keyvalue", keys={"tmp": "temperature"}),
    "csv": LineFormat("csv", columns=("temperature", "", "humidity")),
    "json": LineFormat("json", temperature_unit="F"),
    "regex": LineFormat("regex", pattern=r"T:(?P<temperature>\S+) H:(?P<humidity>\S+)"),
}
formats = st.sampled_from(sorted(FORMATS))


def session(kind: str) -> TextLineSession:
    # Never opened: take() is what cycle() runs on the bytes it read from the port.
    return TextLineSession(SerialSettings(port="loop://"), FORMATS[kind])


keys = st.one_of(st.sampled_from([*sorted(DEFAULT_KEYS), "tmp", "bat", "T", "Hum"]), st.text(max_size=6))
units = st.sampled_from(["", "C", " °C", "F", "%", "%RH", "ppm", "K", "℃", " ", "\u00a0C"])
values = st.builds(lambda n, u: n + u, number_texts, units)
separators = st.sampled_from([",", ";", "\t", "  ", " ", ", "])


@st.composite
def keyvalue_lines(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(keys, st.sampled_from(["=", ":", ": "]), values), max_size=5))
    sep = draw(separators)
    return sep.join(k + s + v for k, s, v in pairs)


@st.composite
def csv_lines(draw: st.DrawFn) -> str:
    return draw(separators).join(draw(st.lists(values, max_size=4)))


json_scalars = st.one_of(
    st.integers(min_value=-(10**500), max_value=10**500),
    st.integers(min_value=10**308, max_value=10**400),  # an int no float can hold
    st.integers(min_value=-(10**400), max_value=-(10**308)),
    st.floats(allow_nan=True, allow_infinity=True),
    values,
    st.booleans(),
    st.none(),
)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=4)


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    data: dict[str, Any] = draw(st.dictionaries(keys, json_values, max_size=4))
    text = json.dumps(data)  # writes NaN and Infinity, as a sloppy board would
    if draw(st.booleans()):
        text = text.replace("1", draw(st.sampled_from(["\u0661", "1" * 400, "1e999", "1"])))
    return text


@st.composite
def regex_lines(draw: st.DrawFn) -> str:
    return f"T:{draw(values)} H:{draw(values)}"


shaped_lines = st.one_of(keyvalue_lines(), csv_lines(), json_lines(), regex_lines())


@FUZZ
@given(formats, st.lists(st.binary(max_size=2 * MAX_LINE_BYTES), max_size=6))
def test_random_bytes_in_random_chunks(kind: str, chunks: list[bytes]) -> None:
    reader = session(kind)
    for chunk in chunks:
        assert_sound(reader.take(chunk))


@FUZZ
@given(formats, shaped_lines, st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_every_line_is_a_reading_or_a_counted_bad_frame(kind: str, line: str, end: bytes) -> None:
    raw = line.encode("utf-8", "surrogatepass")
    result = session(kind).take(raw + end)
    assert_sound(result)
    # Each line becomes exactly one of the two (blank lines are neither).
    assert len(result.readings) + result.bad_frames == len(non_blank_lines(raw))


def non_blank_lines(raw: bytes) -> list[bytes]:
    """The lines in ``raw`` a reader must account for: all but blank ones."""

    def blank(part: bytes) -> bool:
        try:
            return len(part) <= MAX_LINE_BYTES and not part.decode("utf-8").strip()
        except UnicodeDecodeError:
            return False  # not text: a bad frame

    return [part for part in raw.replace(b"\r", b"\n").split(b"\n") if not blank(part)]


@FUZZ
@given(formats, st.text(st.characters(categories=["Nd"], exclude_characters="0123456789"), min_size=1))
def test_digits_of_other_scripts_are_never_a_reading(kind: str, digits: str) -> None:
    for line in (f"T={digits},H=50", f"{digits},1,50", json.dumps({"t": digits}), f"T:{digits} H:50"):
        result = session(kind).take(line.encode() + b"\n")
        assert_sound(result)
        assert all("temperature" not in r for r in result.readings), (line, result.readings)


@FUZZ
@given(
    st.sampled_from(["auto", "json"]),
    st.dictionaries(st.sampled_from(["t", "temp", "h", "rh", "co2", "bat"]), json_values, min_size=1),
)
def test_json_objects_with_hostile_numbers(kind: str, data: dict[str, Any]) -> None:
    result = session(kind).take(json.dumps(data).encode() + b"\n")
    assert_sound(result)
    assert len(result.readings) + result.bad_frames == 1

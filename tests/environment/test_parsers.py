"""Pure protocol code: MH-Z19 frames, text lines, Modbus register maps.

Example tests pin the formats down; property tests (hypothesis) throw random
bytes and frames at the parsers: nothing but :class:`FrameError` may escape,
and no value that the bytes do not really carry may be accepted.
"""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors import mhz19
from sensors.measurement import CO2, HUMIDITY, TEMPERATURE, VALID_RANGE, FrameError
from sensors.modbus_env import PRESETS, RegisterField, RegisterMap, build_map
from sensors.textline import MAX_LINE_BYTES, LineFormat, LineSplitter, parse_line

FAST = settings(max_examples=300, deadline=None)


def in_range(values: dict[str, float]) -> bool:
    return all(math.isfinite(v) and VALID_RANGE[q][0] <= v <= VALID_RANGE[q][1] for q, v in values.items())


# -- MH-Z19 ---------------------------------------------------------------------------
def test_mhz19_request_and_checksum_match_the_datasheet() -> None:
    assert bytes.fromhex("ff 01 86 00 00 00 00 00 79") == mhz19.READ_REQUEST
    # Datasheet example reply: 0x02 0x60 = 608 ppm.
    reply = bytes.fromhex("ff 86 02 60 47 00 00 00")
    frame = reply + bytes([mhz19.checksum(reply + b"\x00")])
    assert frame[8] == 0xD1
    assert mhz19.parse_reply(frame) == 608


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (mhz19.encode_reply(600)[:8] + b"\x00", "checksum"),
        (mhz19.encode_reply(600)[:8], "bytes"),
        (b"\xff\x01" + mhz19.encode_reply(600)[2:], "not an MH-Z19"),
        (mhz19.encode_reply(20000), "outside"),  # valid checksum, impossible concentration
    ],
)
def test_mhz19_rejects_bad_frames(frame: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        mhz19.parse_reply(frame)


@FAST
@given(st.binary(min_size=9, max_size=9))
def test_mhz19_accepts_exactly_the_frames_that_check_out(frame: bytes) -> None:
    valid = (
        frame[0] == 0xFF
        and frame[1] == 0x86
        and mhz19.checksum(frame) == frame[8]
        and frame[2] * 256 + frame[3] <= 10_000
    )
    try:
        ppm = mhz19.parse_reply(frame)
    except FrameError:
        assert not valid
    else:
        assert valid and ppm == frame[2] * 256 + frame[3]


def _valid_windows(stream: bytes) -> set[float]:
    """Every value a 9-byte window of ``stream`` legitimately carries."""
    found = set()
    for start in range(len(stream) - 8):
        with contextlib.suppress(FrameError):
            found.add(mhz19.parse_reply(stream[start : start + 9]))
    return found


@FAST
@given(st.binary(max_size=200), st.integers(1, 40))
def test_mhz19_scanner_never_invents_values(noise: bytes, chunk: int) -> None:
    scanner = mhz19.ReplyScanner()
    values = []
    for start in range(0, len(noise), chunk):
        values += scanner.feed(noise[start : start + chunk])
    assert set(values) <= _valid_windows(noise)


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.binary(max_size=30).map(lambda b: b.replace(b"\xff", b""))),
        max_size=8,
    ),
    st.integers(1, 20),
)
def test_mhz19_scanner_finds_every_frame_between_noise(items: list[tuple[int, bytes]], chunk: int) -> None:
    stream = b"".join(noise + mhz19.encode_reply(ppm) for ppm, noise in items)
    scanner = mhz19.ReplyScanner()
    values = []
    for start in range(0, len(stream), chunk):
        values += scanner.feed(stream[start : start + chunk])
    assert values == [float(ppm) for ppm, _ in items]


@FAST
@given(st.integers(0, 5000), st.integers(0, 8), st.integers(1, 255))
def test_mhz19_single_byte_corruption_is_caught(ppm: int, index: int, flip: int) -> None:
    frame = bytearray(mhz19.encode_reply(ppm))
    frame[index] ^= flip
    with pytest.raises(FrameError):
        mhz19.parse_reply(bytes(frame))


# -- text lines -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "fmt", "expected"),
    [
        ("T=23.5,H=45.1", LineFormat(), {TEMPERATURE: 23.5, HUMIDITY: 45.1}),
        ("temp: 23.5 C; hum: 45 %", LineFormat(), {TEMPERATURE: 23.5, HUMIDITY: 45.0}),
        ("Temperature=23.5°C Humidity=45.1%RH", LineFormat(), {TEMPERATURE: 23.5, HUMIDITY: 45.1}),
        ("T=74.3F H=40%", LineFormat(), {TEMPERATURE: 23.5, HUMIDITY: 40.0}),
        ("T=74.3,H=40", LineFormat(temperature_unit="F"), {TEMPERATURE: 23.5, HUMIDITY: 40.0}),
        ("T=-5.5,H=30,Vbat=3.3,uptime=12", LineFormat(), {TEMPERATURE: -5.5, HUMIDITY: 30.0}),
        ("CO2=612ppm", LineFormat(), {CO2: 612.0}),
        ("tmp=21.0", LineFormat(keys={"tmp": TEMPERATURE}), {TEMPERATURE: 21.0}),
        ('{"temperature": 23.5, "humidity": "45 %"}', LineFormat(), {TEMPERATURE: 23.5, HUMIDITY: 45.0}),
        ('{"t": 21, "co2": 800, "id": "a"}', LineFormat("json"), {TEMPERATURE: 21.0, CO2: 800.0}),
        ("23.5,45.1", LineFormat("csv"), {TEMPERATURE: 23.5, HUMIDITY: 45.1}),
        (
            "7,45.1;23.5",
            LineFormat("csv", columns=("", HUMIDITY, TEMPERATURE)),
            {HUMIDITY: 45.1, TEMPERATURE: 23.5},
        ),
        (
            "Humidity: 45.10 %  Temperature: 23.50 *C",
            LineFormat(
                "regex", pattern=r"Humidity: (?P<humidity>\S+) %\s+Temperature: (?P<temperature>\S+) \*C"
            ),
            {TEMPERATURE: 23.5, HUMIDITY: 45.1},
        ),
    ],
)
def test_text_line_formats(line: str, fmt: LineFormat, expected: dict[str, float]) -> None:
    assert parse_line(line, fmt) == pytest.approx(expected)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage",
        "T=23.5,H=",  # cut short
        "T=23.5,H=45.1,H=46",  # twice
        "T=23.5K",  # unknown unit
        "T=nan",
        "T=inf",
        "H=101",  # impossible humidity
        "T=500",
        "Vbat=3.3",  # nothing of ours
        "T=2\x003.5",
        '{"temperature": true}',
        '{"temperature": NaN}',
        "[1, 2]",
        "{not json",
    ],
)
def test_text_lines_rejected(line: str) -> None:
    with pytest.raises(FrameError):
        parse_line(line, LineFormat())


def test_csv_needs_the_configured_number_of_columns() -> None:
    with pytest.raises(FrameError, match="columns"):
        parse_line("23.5,45.1,7", LineFormat("csv"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "xml"}, "unknown line format"),
        ({"kind": "regex", "pattern": "(unclosed"}, "invalid regular expression"),
        ({"kind": "regex", "pattern": r"(?P<temp>\d+)"}, "named group"),
        ({"columns": ("temperature", "pressure")}, "unknown quantity"),
        ({"temperature_unit": "K"}, "C or F"),
    ],
)
def test_bad_line_formats_are_explained(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineFormat(**kwargs)  # type: ignore[arg-type]


def test_splitter_handles_all_line_ends_and_drops_overlong_noise() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"T=1\r\nT=2\rT=3\nT=") == ["T=1", "T=2", "T=3"]
    assert splitter.feed(b"4\n") == ["T=4"]
    assert splitter.feed(b"x" * (MAX_LINE_BYTES + 10)) == []
    assert splitter.feed(b"still the same long line\nT=5\n") == ["T=5"]
    assert splitter.feed(b"\xff\xfe\nT=6\n") == ["T=6"]
    assert splitter.dropped == 2


ANY_FORMAT = st.sampled_from(
    [
        LineFormat(),
        LineFormat("keyvalue"),
        LineFormat("json"),
        LineFormat("csv", columns=(TEMPERATURE, HUMIDITY, CO2)),
        LineFormat("regex", pattern=r"(?P<temperature>\S+)\s+(?P<humidity>\S+)"),
    ]
)


@FAST
@given(st.binary(max_size=300), ANY_FORMAT)
def test_random_bytes_never_escape_and_never_give_impossible_values(data: bytes, fmt: LineFormat) -> None:
    splitter = LineSplitter()
    for line in splitter.feed(data + b"\n"):
        try:
            values = parse_line(line, fmt)
        except FrameError:
            continue
        assert values and in_range(values)


@FAST
@given(st.text(max_size=120), ANY_FORMAT)
def test_random_text_never_escapes(text: str, fmt: LineFormat) -> None:
    try:
        values = parse_line(text, fmt)
    except FrameError:
        return
    assert values and in_range(values)


temperatures = st.integers(-400, 1250).map(lambda n: n / 10)
humidities = st.integers(0, 1000).map(lambda n: n / 10)
#: Line noise as it arrives at a wrong baud rate or from a glitch: always holds control bytes.
noise_lines = st.binary(min_size=1, max_size=60).map(
    lambda b: bytes(c for c in b if c not in b"\r\n") + b"\x00"
)


@FAST
@given(
    st.lists(st.tuples(temperatures, humidities, noise_lines), min_size=1, max_size=10), st.integers(1, 50)
)
def test_valid_lines_survive_noise_lines_exactly(items: list[tuple[float, float, bytes]], chunk: int) -> None:
    stream = b"".join(noise + b"\r\n" + f"T={t:.1f},H={h:.1f}\r\n".encode() for t, h, noise in items)
    splitter = LineSplitter()
    accepted = []
    for start in range(0, len(stream), chunk):
        for line in splitter.feed(stream[start : start + chunk]):
            with contextlib.suppress(FrameError):
                accepted.append(parse_line(line, LineFormat()))
    assert accepted == [{TEMPERATURE: t, HUMIDITY: h} for t, h, _ in items]


@FAST
@given(temperatures, humidities, st.sampled_from(["json", "csv", "keyvalue"]))
def test_formatted_values_round_trip(t: float, h: float, kind: str) -> None:
    line = {
        "json": f'{{"temperature": {t}, "humidity": {h}}}',
        "csv": f"{t},{h}",
        "keyvalue": f"temperature={t} humidity={h}",
    }[kind]
    assert parse_line(line, LineFormat(kind)) == {TEMPERATURE: t, HUMIDITY: h}


# -- Modbus register maps -------------------------------------------------------------------
def test_register_decoding() -> None:
    assert RegisterField(0, 0.1, signed=True).decode([0xFFF6]) == pytest.approx(-1.0)
    assert RegisterField(0, 0.1, signed=False).decode([0xFFF6]) == pytest.approx(6552.6)
    assert RegisterField(0, 0.01, words=2).decode([0x0001, 0x0000]) == pytest.approx(655.36)
    assert RegisterField(0, 0.01, words=2, word_order="little").decode([0x0001, 0x0000]) == pytest.approx(
        0.01
    )
    assert RegisterField(0, 1, signed=True, words=2).decode([0xFFFF, 0xFFFE]) == -2


def test_presets_and_overrides() -> None:
    xy = PRESETS["xy-md02"]
    assert xy.function == 4 and xy.blocks() == [(1, 2)]
    assert xy.decode({1: 235, 2: 451}) == pytest.approx({TEMPERATURE: 23.5, HUMIDITY: 45.1})
    default = build_map()
    assert default.function == 3
    assert default.decode({0: 451, 1: 0xFFCE}) == pytest.approx({HUMIDITY: 45.1, TEMPERATURE: -5.0})
    custom = build_map("xy-md02", 3, humidity_register=-1, co2_register=30, co2_scale=1.0)
    assert custom.function == 3 and set(custom.fields or {}) == {TEMPERATURE, CO2}
    assert custom.blocks() == [(1, 1), (30, 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "acme"}, "unknown preset"),
        ({"function": 6}, "function code"),
        ({"temperature_register": -1, "humidity_register": -1}, "no temperature"),
        ({"temperature_scale": 0}, "scale"),
        ({"word_order": "middle"}, "word order"),
        ({"words": 3}, "1 or 2"),
    ],
)
def test_impossible_maps_are_explained(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_map(**kwargs)  # type: ignore[arg-type]


def test_missing_and_out_of_range_registers_are_frame_errors() -> None:
    with pytest.raises(FrameError, match="not read"):
        build_map().decode({0: 1})
    with pytest.raises(FrameError, match="65535"):
        RegisterField(0).decode([70000])
    with pytest.raises(FrameError, match="humidity"):
        build_map().decode({0: 1500, 1: 200})  # 150 %RH: not a humidity


fields = st.builds(
    RegisterField,
    address=st.integers(0, 20),
    scale=st.sampled_from([0.1, 0.01, 1.0, 10.0]),
    signed=st.booleans(),
    words=st.sampled_from([1, 2]),
    word_order=st.sampled_from(["big", "little"]),
)


@FAST
@given(
    st.dictionaries(st.sampled_from([TEMPERATURE, HUMIDITY, CO2]), fields, min_size=1),
    st.sampled_from([3, 4]),
    st.dictionaries(st.integers(0, 25), st.integers(-70000, 70000)),
)
def test_random_registers_never_escape_and_stay_possible(
    layout: dict[str, RegisterField], function: int, registers: dict[int, int]
) -> None:
    register_map = RegisterMap(function, layout)
    for _start, count in register_map.blocks():
        assert 1 <= count <= 16
    try:
        values = register_map.decode(registers)
    except FrameError:
        return
    assert set(values) == set(layout) and in_range(values)


@FAST
@given(st.integers(-400, 1250), st.sampled_from([1, 2]), st.sampled_from(["big", "little"]))
def test_encoded_temperatures_decode_exactly(tenths: int, words: int, order: str) -> None:
    field = RegisterField(5, 0.1, signed=True, words=words, word_order=order)
    raw = tenths & ((1 << (16 * words)) - 1)
    regs = [(raw >> 16) & 0xFFFF, raw & 0xFFFF] if words == 2 else [raw]
    if order == "little":
        regs.reverse()
    decoded = RegisterMap(3, {TEMPERATURE: field}).decode({5 + n: r for n, r in enumerate(regs)})
    assert decoded[TEMPERATURE] == pytest.approx(tenths / 10)


@pytest.mark.parametrize(
    "line",
    [
        "T=\u0663\u0662,H=50",  # Arabic-Indic digits: float() reads 32
        "T=\uff12\uff13.5,H=50",  # full-width digits
        "T=2\u0663,H=50",
        '{"t": "\u0663\u0662"}',
        '{"t": ' + "1" * 400 + "}",  # float(int) would raise OverflowError
        '{"t": -' + "9" * 5000 + "}",  # longer than Python's int-from-text limit
        '{"t": 1e999}',
        '{"t": NaN}',
        '{"t": -Infinity}',
        "T=1" + "0" * 400 + ",H=50",
    ],
)
def test_only_ascii_finite_numbers_are_readings(line: str) -> None:
    with pytest.raises(FrameError):
        parse_line(line, LineFormat())


def test_a_regex_format_with_unicode_digit_groups_still_reads_ascii_only() -> None:
    fmt = LineFormat("regex", pattern=r"temp (?P<temperature>\d+)")
    assert parse_line("temp 23", fmt) == {TEMPERATURE: 23.0}
    with pytest.raises(FrameError):
        parse_line("temp \u0663\u0662", fmt)


@pytest.mark.parametrize("scale", [math.nan, math.inf, -math.inf])
def test_register_scales_must_be_finite(scale: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        RegisterField(0, scale=scale)

"""Register maps with IEEE-754 float32 values (pure decoding)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.measurement import FrameError
from sensors.modbus_env import RegisterField, RegisterMap, build_map
from sensors.modbus_rtu import RegisterReply
from sensors.reader import ModbusSession
from sensors.serial_transport import SerialSettings

# 23.5 is 0x41BC0000 (sign 0, exponent 131, mantissa 0x3C0000); bytes A B C D = 41 BC 00 00.
# -0.15625 is 0xBE200000.
CASES = [
    ("big", False, [0x41BC, 0x0000], 23.5),  # ABCD
    ("little", False, [0x0000, 0x41BC], 23.5),  # CDAB
    ("big", True, [0xBC41, 0x0000], 23.5),  # BADC
    ("little", True, [0x0000, 0xBC41], 23.5),  # DCBA
    ("big", False, [0xBE20, 0x0000], -0.15625),
    ("little", False, [0x0000, 0xBE20], -0.15625),
]


@pytest.mark.parametrize(("order", "swap", "words", "value"), CASES)
def test_float32_in_every_word_and_byte_order(order: str, swap: bool, words: list[int], value: float) -> None:
    field = RegisterField(0, words=2, word_order=order, value_type="float32", byte_swap=swap)
    assert field.decode(words) == value


def test_a_scaled_float_and_a_swapped_integer() -> None:
    # Some transmitters send ppb as a float: scale 0.001 makes it ppm-like units.
    assert RegisterField(0, 0.001, words=2, value_type="float32").decode([0x447A, 0x0000]) == pytest.approx(
        1.0
    )
    assert RegisterField(0, 0.1, byte_swap=True).decode([0xEB00]) == pytest.approx(23.5)  # 0x00EB = 235


@pytest.mark.parametrize(
    "words", [[0x7FC0, 0x0000], [0x7F80, 0x0000], [0xFF80, 0x0000]], ids=["nan", "inf", "-inf"]
)
def test_a_non_finite_float_is_a_bad_frame(words: list[int]) -> None:
    with pytest.raises(FrameError, match="not a finite number"):
        RegisterField(0, words=2, value_type="float32").decode(words)


def test_a_float_needs_two_registers_and_a_known_type() -> None:
    with pytest.raises(ValueError, match="spans 2 registers"):
        RegisterField(0, value_type="float32")
    with pytest.raises(ValueError, match="value type"):
        RegisterField(0, words=2, value_type="float64")


#: TVOC, PM2.5 and PM10 as floats in registers 10-15, CDAB: 0.5 mg/m³, 36 and 52 µg/m³.
FLOAT_WORDS = (0x0000, 0x3F00, 0x0000, 0x4210, 0x0000, 0x4250)


def _float_map() -> RegisterMap:
    return build_map(
        "",
        value_type="float32",
        word_order="little",
        temperature_register=-1,
        humidity_register=-1,
        tvoc_register=10,
        pm25_register=12,
        pm10_register=14,
    )


def test_build_map_assigns_tvoc_and_pm_registers_as_floats() -> None:
    register_map = _float_map()
    assert set(register_map.fields or {}) == {"tvoc", "pm25", "pm10"}
    assert register_map.blocks() == [(10, 6)]
    registers = dict(enumerate(FLOAT_WORDS, 10))
    assert register_map.decode(registers) == {"tvoc": 0.5, "pm25": 36.0, "pm10": 52.0}


def test_float32_on_a_preset_drops_its_integer_scale() -> None:
    # The preset's ×0.1 was for its integers; a float carries its unit (unless a scale is given).
    register_map = build_map(
        "holding-t0-h1", value_type="float32", temperature_register=0, humidity_register=2
    )
    fields = register_map.fields or {}
    assert fields["temperature"].scale == 1.0 and fields["temperature"].words == 2
    scaled = build_map("holding-t0-h1", value_type="float32", humidity_register=2, temperature_scale=0.5)
    assert (scaled.fields or {})["temperature"].scale == 0.5


def test_an_impossible_float_reading_is_rejected() -> None:
    register_map = build_map(
        "", value_type="float32", temperature_register=-1, humidity_register=-1, tvoc_register=0
    )
    with pytest.raises(FrameError, match="tvoc"):
        register_map.decode({0: 0xC000, 1: 0x0000})  # -2.0 mg/m³


def test_one_block_decodes_as_the_register_dictionary_does() -> None:
    # The session decodes a one-request map straight from the reply's words (decode_block);
    # it must give what decode() gives from the same registers, bad values included.
    register_map, words = _float_map(), FLOAT_WORDS
    assert register_map.decode_block(10, words) == register_map.decode(dict(enumerate(words, 10)))
    nan = (0x0000, 0x7FC0, *words[2:])
    for decode in (
        lambda: register_map.decode_block(10, nan),
        lambda: register_map.decode(dict(enumerate(nan, 10))),
    ):
        with pytest.raises(FrameError, match="not a finite number"):
            decode()
    with pytest.raises(FrameError, match="register 14 was not read"):
        register_map.decode_block(10, words[:4])  # a block that ends before the last field
    with pytest.raises(FrameError, match="register 10 was not read"):
        register_map.decode_block(11, words)  # one that starts after the first


def _outcome(decode: object, *args: object) -> object:
    try:
        return decode(*args)  # type: ignore[operator]
    except FrameError as exc:
        return f"FrameError: {exc}"


@given(
    st.integers(-2, 0x10001),
    st.integers(-2, 0x10001),
    st.sampled_from([1.0, 0.001, 1000.0]),
    st.sampled_from(["tvoc", "pm25"]),
)
def test_a_block_decodes_an_abcd_float_as_the_map_does(
    high: int, low: int, scale: float, quantity: str
) -> None:
    # decode_block's memoised ABCD path must give what decode gives: value, rounding and errors
    # (out-of-range words, NaN and infinities, impossible readings), and the same again when asked twice.
    register_map = build_map(
        value_type="float32",
        temperature_register=-1,
        humidity_register=-1,
        **{f"{quantity}_register": 4, f"{quantity}_scale": scale},
    )
    expected = _outcome(register_map.decode, {4: high, 5: low})
    assert _outcome(register_map.decode_block, 4, (high, low)) == expected
    assert _outcome(register_map.decode_block, 3, (0, high, low)) == expected


class _Client:
    """A stand-in for the RTU client: hands out the replies given, one a cycle."""

    def __init__(self, *replies: RegisterReply) -> None:
        self.replies = list(replies)

    def read_registers(self, *_args: object) -> RegisterReply:
        return self.replies.pop(0)


def test_a_session_decodes_repeated_words_alike_and_never_remembers_a_bad_reading() -> None:
    # The session reuses the reading of words it saw last; a change, an impossible value (counted
    # every time) and a return to the earlier words must all come out as decoding them would.
    session = ModbusSession(SerialSettings(port="unused"), build_map(preset="holding-h0-t1"), 1, period=0)
    words = [(500, 231), (500, 231), (1500, 231), (1500, 231), (500, 231), (500, 245)]
    client = _Client(*(RegisterReply(registers=w) for w in words))
    session.client = client  # type: ignore[assignment]
    results = [session.cycle(threading.Event()) for _ in words]
    assert [r.readings for r in results] == [
        [{"humidity": 50.0, "temperature": 23.1}],
        [{"humidity": 50.0, "temperature": 23.1}],
        [],
        [],
        [{"humidity": 50.0, "temperature": 23.1}],
        [{"humidity": 50.0, "temperature": 24.5}],
    ]
    assert [r.bad_frames for r in results] == [0, 0, 1, 1, 0, 0]
    results[-1].readings[0]["temperature"] = -1.0  # a caller changing its reading changes no later one
    session.client = _Client(RegisterReply(registers=(500, 245)))  # type: ignore[assignment]
    assert session.cycle(threading.Event()).readings == [{"humidity": 50.0, "temperature": 24.5}]

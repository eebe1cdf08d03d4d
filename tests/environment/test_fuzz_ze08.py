"""Fuzz: bytes on a ZE08-CH2O UART (both modes), converted at any room temperature.

Whatever arrives and whatever the thermometer says (NaN, ±inf, −273 °C …):
only checksummed, possible formaldehyde values come out, as finite mg/m³;
every rejected candidate is counted.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sensors import ze08
from sensors.framing import WinsenScanner
from sensors.measurement import HCHO
from sensors.pollutant_sessions import Ze08Session
from sensors.reader import CycleResult
from sensors.serial_transport import SerialSettings
from tests.environment.fuzz import FUZZ, assert_sound

temperatures = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.floats(-300, 400))


def feed(scanner: WinsenScanner, data: bytes, room: float | None) -> CycleResult:
    session = Ze08Session(SerialSettings(port="fuzz"), "active", 1.0, lambda: room)  # never opened
    bad, garbage = scanner.bad_frames, scanner.garbage_bytes
    result = CycleResult(
        readings=[session.reading(ppb) for ppb in scanner.feed(data)],
        bad_frames=scanner.bad_frames - bad,
        garbage_bytes=scanner.garbage_bytes - garbage,
    )
    assert len(scanner.buffer) < ze08.FRAME_LENGTH
    return result


@FUZZ
@given(st.booleans(), st.lists(st.binary(max_size=40), max_size=8), temperatures)
def test_random_bytes_in_random_chunks(answers: bool, chunks: list[bytes], room: float | None) -> None:
    scanner = ze08.answer_scanner() if answers else ze08.upload_scanner()
    for chunk in chunks:
        assert_sound(feed(scanner, chunk, room))


@FUZZ
@given(
    st.binary(max_size=30).map(lambda b: b.replace(b"\xff", b"")),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 8),
    temperatures,
)
def test_an_upload_behind_noise_and_a_cut_frame(
    before: bytes, ppb: int, full_range: int, cut: int, room: float | None
) -> None:
    frame = ze08.encode_upload(ppb, full_range)
    result = feed(ze08.upload_scanner(), before + frame[:cut] + frame, room)
    assert_sound(result)
    possible = (ppb <= full_range or full_range == 0) and ze08.ppb_to_mg_m3(ppb, -40.0) <= 10.0
    assert len(result.readings) == (1 if possible else 0)
    if possible:
        low = ze08.ppb_to_mg_m3(ppb, 50.0)
        high = ze08.ppb_to_mg_m3(ppb, 0.0)
        assert low - 1e-4 <= result.readings[0][HCHO] <= high + 1e-4  # converted within 0…50 °C only


@FUZZ
@given(st.integers(0, 5000), st.integers(0, 8), st.integers(1, 255))
def test_one_flipped_byte_is_never_a_different_reading(ppb: int, position: int, flip: int) -> None:
    frame = bytearray(ze08.encode_upload(ppb))
    frame[position] ^= flip
    result = feed(ze08.upload_scanner(), bytes(frame), 25.0)
    assert_sound(result)
    assert result.readings == []

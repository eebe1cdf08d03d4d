"""Fuzz: bytes on an MH-Z19 UART, through the reply scanner the session feeds.

Whatever arrives: only checksummed, possible concentrations come out; every
rejected candidate is counted; the scan buffer never grows past one frame;
a valid reply between noise bytes is still found.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sensors import mhz19
from sensors.reader import CycleResult
from tests.environment.fuzz import FUZZ, assert_sound

noise = st.binary(max_size=40)
noise_without_start = noise.map(lambda b: b.replace(b"\xff", b""))


def feed(scanner: mhz19.ReplyScanner, data: bytes) -> CycleResult:
    bad, garbage = scanner.bad_frames, scanner.garbage_bytes
    values = scanner.feed(data)
    result = CycleResult(
        readings=[{"co2": v} for v in values],
        bad_frames=scanner.bad_frames - bad,
        garbage_bytes=scanner.garbage_bytes - garbage,
    )
    assert len(scanner.buffer) < mhz19.FRAME_LENGTH, "the scanner keeps at most a partial frame"
    return result


@FUZZ
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_random_bytes_in_random_chunks(chunks: list[bytes]) -> None:
    scanner = mhz19.ReplyScanner()
    for chunk in chunks:
        assert_sound(feed(scanner, chunk))


@FUZZ
@given(noise_without_start, st.integers(0, 0xFFFF), st.integers(0, 255), noise, st.integers(1, 9))
def test_a_reply_between_noise_is_found_or_counted(
    before: bytes, ppm: int, temperature: int, after: bytes, chunk: int
) -> None:
    data = before + mhz19.encode_reply(ppm, temperature) + after
    scanner = mhz19.ReplyScanner()
    found: list[float] = []
    for start in range(0, len(data), chunk):
        result = feed(scanner, data[start : start + chunk])
        assert_sound(result)
        found += [r["co2"] for r in result.readings]
    if ppm <= 10_000:
        assert found[:1] == [ppm]
    else:  # checksummed but impossible: a counted bad frame, not a reading
        assert ppm not in found and scanner.bad_frames >= 1


@FUZZ
@given(st.integers(0, 10_000), st.integers(0, 8), st.integers(1, 255))
def test_one_flipped_byte_is_never_a_different_reading(ppm: int, position: int, flip: int) -> None:
    frame = bytearray(mhz19.encode_reply(ppm))
    frame[position] ^= flip
    result = feed(mhz19.ReplyScanner(), bytes(frame))
    assert_sound(result)
    # A single corrupted byte always breaks the checksum (or the header).
    assert result.readings == []

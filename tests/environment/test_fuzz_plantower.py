"""Fuzz: bytes on a PMS5003/7003/5003T/5003ST UART, through the frame scanner and the session's readings.

Whatever arrives: only checksummed, cumulative, possible PM values come out;
every rejected candidate is counted; the buffer never holds a whole frame; a
valid frame between noise bytes (or behind a cut one) is still found.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sensors import plantower
from sensors.measurement import PM25
from sensors.pollutant_sessions import PlantowerSession
from sensors.reader import CycleResult
from sensors.serial_transport import SerialSettings
from tests.environment.fuzz import FUZZ, assert_sound

SESSION = PlantowerSession(SerialSettings(port="fuzz"), "active", 1.0)  # never opened: only its readings
words = st.integers(0, 0xFFFF)


@st.composite
def pm_triples(draw: st.DrawFn, top: int = 0xFFFF) -> tuple[int, int, int]:
    """PM1 ≤ PM2.5 ≤ PM10, as a real sensor reports them."""
    pm1, pm25, pm10 = sorted(draw(st.lists(st.integers(0, top), min_size=3, max_size=3)))
    return pm1, pm25, pm10


counts = st.tuples(words, words, words, words, words, words)


def feed(scanner: plantower.FrameScanner, data: bytes) -> CycleResult:
    bad, garbage = scanner.bad_frames, scanner.garbage_bytes
    result = CycleResult(
        readings=[SESSION.reading(sample) for sample in scanner.feed(data)],
        bad_frames=scanner.bad_frames - bad,
        garbage_bytes=scanner.garbage_bytes - garbage,
    )
    # At most a partial frame: of the longest one, a PMS5003ST's 40 bytes.
    assert len(scanner.buffer) < plantower.ST_FRAME_LENGTH, "the scanner keeps at most a partial frame"
    return result


@FUZZ
@given(st.lists(st.binary(max_size=80), max_size=8))
def test_random_bytes_in_random_chunks(chunks: list[bytes]) -> None:
    scanner = plantower.FrameScanner()
    for chunk in chunks:
        assert_sound(feed(scanner, chunk))


@FUZZ
@given(
    st.lists(st.sampled_from([b"\x42", b"\x4d", b"\x42\x4d", b"\x00\x1c", b"\x00\x04", b"\xe1"]), max_size=30)
)
def test_streams_of_false_starts(pieces: list[bytes]) -> None:
    assert_sound(feed(plantower.FrameScanner(), b"".join(pieces)))


@FUZZ
@given(
    st.binary(max_size=40).map(lambda b: b.replace(b"\x42", b"")),
    pm_triples(),
    counts,
    st.integers(0, 31),
    st.binary(max_size=40),
    st.integers(1, 33),
)
def test_a_frame_behind_noise_and_a_cut_frame_is_found_or_counted(
    before: bytes,
    pm: tuple[int, int, int],
    particles: tuple[int, int, int, int, int, int],
    cut: int,
    after: bytes,
    chunk: int,
) -> None:
    frame = plantower.encode_frame(pm, counts=particles)
    data = before + frame[:cut] + frame + after
    scanner = plantower.FrameScanner()
    found: list[float] = []
    for start in range(0, len(data), chunk):
        result = feed(scanner, data[start : start + chunk])
        assert_sound(result)
        found += [r[PM25] for r in result.readings]
    if pm[2] <= 2000:
        assert found[:1] == [pm[1]]
    else:  # checksummed but impossible: a counted bad frame, not a reading
        assert scanner.bad_frames >= 1


@FUZZ
@given(pm_triples(top=2000), st.integers(0, plantower.FRAME_LENGTH - 1), st.integers(1, 255))
def test_one_flipped_byte_is_never_a_different_reading(
    pm: tuple[int, int, int], position: int, flip: int
) -> None:
    frame = bytearray(plantower.encode_frame(pm))
    frame[position] ^= flip
    result = feed(plantower.FrameScanner(), bytes(frame))
    assert_sound(result)
    # A single corrupted byte always breaks the 16-bit sum (or the start or length).
    assert result.readings == []


@FUZZ
@given(
    st.sampled_from(plantower.MODELS),
    st.lists(
        st.one_of(
            st.binary(max_size=50),
            st.sampled_from([b"\x42\x4d\x00\x24", b"\x42\x4d\x00\x1c", b"\x42\x4d\x00\x04", b"\x42"]),
        ),
        max_size=12,
    ),
)
def test_random_bytes_and_false_starts_for_every_model(model: str, chunks: list[bytes]) -> None:
    scanner = plantower.FrameScanner(model)
    for chunk in chunks:
        assert_sound(feed(scanner, chunk))


@FUZZ
@given(
    pm_triples(top=2000),
    st.integers(0, 10_000),
    st.integers(-400, 1250),
    st.integers(0, 1000),
    st.binary(max_size=45),
    st.binary(max_size=45),
)
def test_a_valid_st_frame_between_noise_is_found_with_every_value(
    pm: tuple[int, int, int], hcho: int, tenth_celsius: int, tenth_rh: int, before: bytes, after: bytes
) -> None:
    frame = plantower.encode_frame(
        pm, model="pms5003st", hcho=hcho / 1000, temperature=tenth_celsius / 10, humidity=tenth_rh / 10
    )
    scanner = plantower.FrameScanner("pms5003st")
    # A noise tail that happens to start a frame may hold the real one back until more bytes
    # come: feed plenty of zeros after it, as the next frames would push it through.
    result = feed(scanner, before.replace(b"\x42", b"\x00") + frame + after.replace(b"\x42", b"\x00"))
    assert_sound(result)
    wanted = {
        "pm25": float(pm[1]),
        "hcho": hcho / 1000,
        "temperature": tenth_celsius / 10,
        "humidity": tenth_rh / 10,
    }
    assert any(all(r.get(k) == v for k, v in wanted.items()) for r in result.readings), result


@FUZZ
@given(
    st.sampled_from(plantower.MODELS),
    st.lists(  # reads of several pieces each: bursts of frames, cut frames, noise, false starts
        st.lists(
            st.one_of(
                st.binary(max_size=50),
                pm_triples(top=3000).map(plantower.encode_frame),
                pm_triples(top=2000).map(lambda pm: plantower.encode_frame(pm)[:20]),
                st.sampled_from([b"\x42\x4d\x00\x24", b"\x42\x4d\x00\x1c", b"\x42\x4d\x00\x04", b"\x42"]),
            ),
            max_size=6,
        ).map(b"".join),
        max_size=6,
    ),
)
def test_newest_is_the_last_of_what_feed_finds_and_counts_alike(model: str, chunks: list[bytes]) -> None:
    """The active-mode reader takes a burst with :meth:`newest` (its own scan): same result as ``feed``."""
    by_feed, by_newest = plantower.FrameScanner(model), plantower.FrameScanner(model)
    for chunk in chunks:
        values = by_feed.feed(chunk)
        newest = by_newest.newest(chunk)
        expected = values[-1] if values else None
        got = None if newest is None else SESSION.reading(newest)
        assert got == (None if expected is None else SESSION.reading(expected))
        assert (by_newest.bad_frames, by_newest.garbage_bytes) == (by_feed.bad_frames, by_feed.garbage_bytes)
        assert bytes(by_newest.buffer) == bytes(by_feed.buffer)

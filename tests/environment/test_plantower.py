"""The Plantower PMS5003/7003 frame parser and scanner (pure code)."""

from __future__ import annotations

import pytest

from sensors import plantower
from sensors.measurement import HCHO, HUMIDITY, PM1, PM10, PM25, TEMPERATURE, FrameError

#: A data frame written out byte by byte from the manual's table: CF=1 PM 10/16/19,
#: atmospheric PM 9/14/18, counts 1521/420/77/9/2/0, reserved 0x9700 (PMS7003: version and error code).
BODY = bytes.fromhex(
    "42 4D 00 1C"  # start, frame length 2×13+2
    "00 0A 00 10 00 13"  # CF=1
    "00 09 00 0E 00 12"  # atmospheric
    "05 F1 01 A4 00 4D 00 09 00 02 00 00"  # particles per 0.1 L
    "97 00"  # reserved
)
FRAME = BODY + (sum(BODY) & 0xFFFF).to_bytes(2, "big")


def test_a_frame_from_the_manual_reads_its_atmospheric_values() -> None:
    sample = plantower.parse_frame(FRAME)
    assert sample.reading() == {PM1: 9.0, PM25: 14.0, PM10: 18.0}
    assert sample.cf1 == (10, 16, 19)
    assert sample.counts == (1521, 420, 77, 9, 2, 0)


def test_the_commands_carry_the_manuals_checksums() -> None:
    # 0x42 + 0x4D + 0xE1 = 0x170; + 1 for active mode; 0xE2 read = 0x171.
    assert bytes.fromhex("42 4D E1 00 00 01 70") == plantower.SET_PASSIVE
    assert bytes.fromhex("42 4D E1 00 01 01 71") == plantower.SET_ACTIVE
    assert bytes.fromhex("42 4D E2 00 00 01 71") == plantower.READ_REQUEST
    assert plantower.parse_ack(bytes.fromhex("42 4D 00 04 E1 00 01 74")) == (0xE1, 0)
    assert plantower.parse_ack(bytes.fromhex("42 4D 00 04 E1 01 01 75")) == (0xE1, 1)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (FRAME[:-1] + bytes([FRAME[-1] ^ 1]), "checksum"),
        (FRAME[:31], "31 bytes"),
        (b"\x42\x4e" + FRAME[2:], "not a PMS frame"),
        (FRAME[:3] + b"\x14" + FRAME[4:], "length field 20"),
        # PM2.5 above PM10 with a checksum fixed up: corruption the weak sum let through.
        (
            (body := BODY[:12] + b"\x00\x20" + BODY[14:]) + (sum(body) & 0xFFFF).to_bytes(2, "big"),
            "not cumulative",
        ),
        (
            (body := BODY[:10] + b"\xff" * 6 + BODY[16:]) + (sum(body) & 0xFFFF).to_bytes(2, "big"),
            "pm1 65535 outside",
        ),
    ],
    ids=["checksum", "short", "start", "length", "not-cumulative", "impossible"],
)
def test_bad_frames_are_rejected_with_a_reason(frame: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        plantower.parse_frame(frame)


def test_the_scanner_resynchronises_on_garbage_and_partial_frames() -> None:
    scanner = plantower.FrameScanner()
    ack = bytes.fromhex("42 4D 00 04 E1 01 01 75")
    stream = b"\x00\x42junk" + FRAME[:20] + ack + FRAME + b"\x42" + FRAME[:11]
    found = [sample for n in range(0, len(stream), 5) for sample in scanner.feed(stream[n : n + 5])]
    assert [s.reading()[PM25] for s in found] == [14.0]
    assert scanner.acks == [(0xE1, 1)]
    assert scanner.bad_frames >= 1  # the cut frame
    assert scanner.garbage_bytes >= 6
    assert len(scanner.buffer) < plantower.FRAME_LENGTH
    found = scanner.feed(FRAME[11:])  # the rest of the frame split across reads
    assert [s.reading()[PM10] for s in found] == [18.0]


def _frame(pm25: int) -> bytes:
    return plantower.encode_frame((pm25 - 2, pm25, pm25 + 3))


def test_newest_of_a_burst_is_the_last_valid_frame_and_every_bad_one_is_counted() -> None:
    # A reader that takes what the tty buffered over a cycle gets several frames at once.
    corrupt = _frame(30)[:-1] + bytes([_frame(30)[-1] ^ 0x01])
    not_cumulative = plantower.encode_frame((9, 8, 10))  # a good checksum over impossible values
    burst = b"\x00\x01" + _frame(20) + corrupt + _frame(21) + not_cumulative + _frame(22)[:10]
    scanner = plantower.FrameScanner()
    newest = scanner.newest(burst)
    assert newest is not None and newest.reading()[PM25] == 21.0  # the cut frame is not whole yet
    # Two bad frames; the noise and the rest of each bad frame (after its first byte) are garbage.
    assert scanner.bad_frames == 2 and scanner.garbage_bytes == 2 + 2 * (plantower.FRAME_LENGTH - 1)
    # The same stream through feed(): the same frames accepted, the same ones counted.
    fed = plantower.FrameScanner()
    assert [s.reading()[PM25] for s in fed.feed(burst)] == [20.0, 21.0]
    assert (fed.bad_frames, fed.garbage_bytes, fed.buffer) == (2, scanner.garbage_bytes, scanner.buffer)
    # The rest of the cut frame completes it on the next cycle.
    assert scanner.newest(_frame(22)[10:]) == fed.feed(_frame(22)[10:])[0]


def test_newest_of_a_burst_whose_last_frame_is_bad_is_the_one_before() -> None:
    scanner = plantower.FrameScanner()
    bad = bytearray(_frame(40))
    bad[7] ^= 0x10  # PM2.5's low byte: the checksum no longer fits
    newest = scanner.newest(_frame(39) + bytes(bad))
    assert newest is not None and newest.reading()[PM25] == 39.0
    assert scanner.bad_frames == 1
    assert scanner.newest(bytes(bad)) is None and scanner.bad_frames == 2


# -- PMS5003ST and PMS5003T ---------------------------------------------------------
#: A PMS5003ST frame written out from the manual's appendix: length 2×17+2 = 36, the twelve
#: PM and count words, formaldehyde 0.052 mg/m³ (52), −3.4 °C (0xFFDE, signed), 45.6 %RH,
#: a reserved word and version 0x91 / error 0.
ST_BODY = bytes.fromhex(
    "42 4D 00 24"
    "00 0A 00 10 00 13"  # CF=1
    "00 09 00 0E 00 12"  # atmospheric
    "05 F1 01 A4 00 4D 00 09 00 02 00 00"  # particles per 0.1 L
    "00 34"  # formaldehyde ×1000
    "FF DE"  # temperature ×10, signed
    "01 C8"  # humidity ×10
    "00 00"  # reserved
    "91 00"  # version, error code
)
ST_FRAME = ST_BODY + (sum(ST_BODY) & 0xFFFF).to_bytes(2, "big")
#: A PMS5003T frame: the plain length 28, four counts, then 23.5 °C and 52.1 %RH.
T_BODY = bytes.fromhex(
    "42 4D 00 1C"
    "00 0A 00 10 00 13"
    "00 09 00 0E 00 12"
    "05 F1 01 A4 00 4D 00 09"  # 0.3, 0.5, 1.0, 2.5 µm
    "00 EB"  # 235: 23.5 °C
    "02 09"  # 521: 52.1 %
    "91 00"
)
T_FRAME = T_BODY + (sum(T_BODY) & 0xFFFF).to_bytes(2, "big")


def test_a_pms5003st_frame_gives_pm_formaldehyde_temperature_and_humidity() -> None:
    # Whatever model is configured: the length field says it is the 40-byte frame.
    for model in plantower.MODELS:
        sample = plantower.parse_frame(ST_FRAME, model)
        assert sample.reading() == {
            PM1: 9.0,
            PM25: 14.0,
            PM10: 18.0,
            HCHO: 0.052,
            TEMPERATURE: -3.4,
            HUMIDITY: 45.6,
        }
        assert sample.counts == (1521, 420, 77, 9, 2, 0)
    assert len(ST_FRAME) == plantower.ST_FRAME_LENGTH == 40


def test_a_pms5003t_frame_needs_its_model_to_be_read_as_one() -> None:
    sample = plantower.parse_frame(T_FRAME, "pms5003t")
    assert sample.reading() == {PM1: 9.0, PM25: 14.0, PM10: 18.0, TEMPERATURE: 23.5, HUMIDITY: 52.1}
    assert sample.counts == (1521, 420, 77, 9)
    # A PMS5003 reading the same bytes sees counts (nothing in the frame tells them apart).
    assert plantower.parse_frame(T_FRAME).counts[4:] == (235, 521)


def test_the_encoder_matches_the_manuals_frames() -> None:
    counts = (1521, 420, 77, 9, 2, 0)
    st = plantower.encode_frame(
        (9, 14, 18),
        (10, 16, 19),
        counts,
        0x9100,
        model="pms5003st",
        hcho=0.052,
        temperature=-3.4,
        humidity=45.6,
    )
    assert st == ST_FRAME
    t = plantower.encode_frame(
        (9, 14, 18), (10, 16, 19), counts, 0x9100, model="pms5003t", temperature=23.5, humidity=52.1
    )
    assert t == T_FRAME


def seal(body: bytes) -> bytes:
    return body + (sum(body) & 0xFFFF).to_bytes(2, "big")


@pytest.mark.parametrize(
    ("frame", "model", "reason"),
    [
        (ST_FRAME[:-1] + bytes([ST_FRAME[-1] ^ 1]), "pms5003st", "checksum"),
        (ST_FRAME[:32], "pms5003st", "32 bytes, its length field says 40"),
        # A 32-byte frame claiming the ST's length: the checksum cannot be where it says.
        (seal(ST_BODY[:4] + T_BODY[4:]), "pms5003st", "32 bytes, its length field says 40"),
        (seal(ST_BODY[:3] + b"\x30" + ST_BODY[4:]), "pms5003st", "length field 48"),
        # Humidity 120 % and −50 °C with their checksums fixed up: garbage, not readings.
        (seal(ST_BODY[:32] + b"\x04\xb0" + ST_BODY[34:]), "pms5003st", "humidity 120 outside"),
        (seal(ST_BODY[:30] + b"\xfe\x0c" + ST_BODY[32:]), "pms5003st", "temperature -50 outside"),
        (seal(ST_BODY[:28] + b"\xff\xff" + ST_BODY[30:]), "pms5003st", "hcho 65.535 outside"),
        (seal(T_BODY[:26] + b"\x27\x10" + T_BODY[28:]), "pms5003t", "humidity 1000 outside"),
    ],
    ids=["checksum", "short", "length-lies", "length", "humidity", "temperature", "hcho", "t-humidity"],
)
def test_bad_st_and_t_frames_are_rejected_with_a_reason(frame: bytes, model: str, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        plantower.parse_frame(frame, model)


def test_the_scanner_finds_st_frames_among_plain_ones_acks_and_broken_ones() -> None:
    scanner = plantower.FrameScanner("pms5003st")
    ack = bytes.fromhex("42 4D 00 04 E1 01 01 75")
    stream = (
        b"\x42\x4d\x00\x24junk"  # a start with the ST length and no frame behind it
        + ST_FRAME[:25]  # cut short
        + ack
        + ST_FRAME
        + ST_FRAME[:-1]
        + b"\x00"  # bad checksum
        + FRAME
        + ST_FRAME[:13]
    )
    found = [sample for n in range(0, len(stream), 7) for sample in scanner.feed(stream[n : n + 7])]
    assert [s.reading().get(HCHO) for s in found] == [0.052, None]  # the ST frame, then the plain one
    assert scanner.acks == [(0xE1, 1)]
    assert scanner.bad_frames >= 3
    assert len(scanner.buffer) < plantower.ST_FRAME_LENGTH
    assert [s.reading()[HUMIDITY] for s in scanner.feed(ST_FRAME[13:])] == [45.6]

"""The Plantower PMS5003/7003 frame parser and scanner (pure code)."""

from __future__ import annotations

import pytest

from sensors import plantower
from sensors.measurement import PM1, PM10, PM25, FrameError

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

"""The Winsen ZE08-CH2O frame parser and the ppb → mg/m³ conversion (pure code)."""

from __future__ import annotations

import pytest

from sensors import ze08
from sensors.measurement import FrameError

#: The manual's examples: an active upload of 0x25 = 37 ppb (full range 0x1388 = 5000 ppb),
#: and a question-and-answer reply of 0x2A = 42 µg/m³ and 0x20 = 32 ppb.
UPLOAD = bytes.fromhex("FF 17 04 00 00 25 13 88 25")
ANSWER = bytes.fromhex("FF 86 00 2A 00 00 00 20 30")


def test_the_manuals_example_frames() -> None:
    assert ze08.parse_upload(UPLOAD) == 37.0
    assert ze08.parse_answer(ANSWER) == 32.0
    assert ze08.encode_upload(37) == UPLOAD
    assert ze08.encode_answer(32, 42) == ANSWER


def test_the_commands_are_the_manuals() -> None:
    assert bytes.fromhex("FF 01 78 41 00 00 00 00 46") == ze08.SET_QA
    assert bytes.fromhex("FF 01 78 40 00 00 00 00 47") == ze08.SET_ACTIVE
    assert bytes.fromhex("FF 01 86 00 00 00 00 00 79") == ze08.READ_REQUEST


@pytest.mark.parametrize(
    ("celsius", "mg_m3"),
    [
        # 1 ppm × 30.03 g/mol over the molar volume R·T/p at 101.325 kPa:
        (0.0, 30.03 / 22.414),
        (20.0, 30.03 / 24.055),
        (25.0, 30.03 / 24.465),
    ],
)
def test_ppb_to_mg_m3_follows_the_ideal_gas_molar_volume(celsius: float, mg_m3: float) -> None:
    assert ze08.ppb_to_mg_m3(1000, celsius) == pytest.approx(mg_m3, rel=2e-4)


def test_gb_t_18883_limit_in_ppb() -> None:
    # 0.08 mg/m³ is 65.2 ppb at 25 °C but 63.2 ppb at 16 °C: a cold room reaches the limit sooner.
    assert 0.08 / ze08.ppb_to_mg_m3(1, 25.0) == pytest.approx(65.2, abs=0.05)
    assert 0.08 / ze08.ppb_to_mg_m3(1, 16.0) == pytest.approx(63.2, abs=0.05)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (UPLOAD[:8] + b"\x26", "checksum"),
        (UPLOAD[:8], "8 bytes"),
        (bytes.fromhex("FF 18 04 00 00 25 13 88 24"), "not a ZE08 frame"),
        (ze08.seal(bytes.fromhex("FF 17 02 00 00 25 13 88")), "unit byte"),
        (ze08.seal(bytes.fromhex("FF 17 04 01 00 25 13 88")), "decimals"),
        (ze08.encode_upload(5001), "beyond its full range"),
        (ze08.encode_upload(0xFFFF, full_range=0), "hcho .* outside"),
    ],
    ids=["checksum", "short", "gas", "unit", "decimals", "beyond-range", "impossible"],
)
def test_bad_frames_are_rejected_with_a_reason(frame: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        ze08.parse_upload(frame)


def test_the_scanner_finds_uploads_among_noise_and_cut_frames() -> None:
    scanner = ze08.upload_scanner()
    stream = b"\xff\xff\x17" + UPLOAD[:5] + b"noise" + UPLOAD + ze08.encode_upload(70)[:4]
    assert scanner.feed(stream) == [37.0]
    assert scanner.bad_frames >= 1 and scanner.garbage_bytes >= 5
    assert scanner.feed(ze08.encode_upload(70)[4:]) == [70.0]
    assert scanner.buffer == bytearray()

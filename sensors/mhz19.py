"""Winsen MH-Z19 CO₂ sensor, UART protocol (9600 8N1).

The host sends the 9-byte command ``FF 01 86 00 00 00 00 00 79`` ("read gas
concentration"); the sensor answers ``FF 86 HH LL …`` with the concentration
``HH·256 + LL`` ppm.  Byte 8 of every frame is the checksum
``0xFF − (sum of bytes 1…7) + 1`` (mod 256).  Pure code: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sensors.framing import WINSEN_FRAME_LENGTH, WINSEN_START, WinsenScanner
from sensors.measurement import CO2, FrameError, checked

FRAME_LENGTH = WINSEN_FRAME_LENGTH
START = WINSEN_START
CMD_READ_CO2 = 0x86


def checksum(frame: bytes) -> int:
    """Checksum of a 9-byte frame: 0xFF − sum(bytes 1..7) + 1, modulo 256."""
    return (0xFF - (sum(frame[1:8]) & 0xFF) + 1) & 0xFF


def _with_checksum(body: bytes) -> bytes:
    frame = bytes(body[:8]).ljust(8, b"\x00")
    return frame + bytes([checksum(frame + b"\x00")])


#: The "read CO₂ concentration" request for sensor number 1.
READ_REQUEST: bytes = _with_checksum(bytes([START, 0x01, CMD_READ_CO2]))


def encode_reply(ppm: int, temperature_byte: int = 0x40) -> bytes:
    """A sensor's reply frame for ``ppm`` (used by simulators and tests)."""
    if not 0 <= ppm <= 0xFFFF:
        raise ValueError("ppm must fit in two bytes")
    return _with_checksum(bytes([START, CMD_READ_CO2, ppm >> 8, ppm & 0xFF, temperature_byte & 0xFF]))


def parse_reply(frame: bytes) -> float:
    """CO₂ concentration in ppm from one reply frame; :class:`FrameError` if it is not valid."""
    if len(frame) != FRAME_LENGTH:
        raise FrameError(f"MH-Z19 frame has {len(frame)} bytes, expected {FRAME_LENGTH}")
    if frame[0] != START or frame[1] != CMD_READ_CO2:
        raise FrameError(f"not an MH-Z19 CO₂ reply: {frame[:2].hex(' ')}")
    if checksum(frame) != frame[8]:
        raise FrameError(f"MH-Z19 checksum mismatch: got {frame[8]:02x}, expected {checksum(frame):02x}")
    return checked(CO2, float(frame[2] * 256 + frame[3]))


@dataclass
class ReplyScanner(WinsenScanner):
    """Finds CO₂ reply frames (``FF 86`` and seven bytes) in a byte stream with noise and broken frames."""

    second: int = CMD_READ_CO2
    parse: Callable[[bytes], float] = parse_reply

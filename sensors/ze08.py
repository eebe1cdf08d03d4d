"""Winsen ZE08-CH2O formaldehyde module, UART protocol (9600 8N1).

Written from Winsen's ZE08-CH2O manual.  Every frame is 9 bytes; byte 8 is
the checksum, the two's complement of the sum of bytes 1…7 (as for the
MH-Z19).  Two modes:

* active upload (the default): about once a second the module sends
  ``FF 17 04 00 cH cL fH fL cs`` — gas CH₂O (0x17), unit ppb (0x04), no
  decimals (0x00), concentration ``cH·256 + cL`` ppb, full range
  ``fH·256 + fL`` ppb (5000);
* question and answer, entered with ``FF 01 78 41 00 00 00 00 46`` (and left
  with ``… 78 40 … 47``): the host sends ``FF 01 86 00 00 00 00 00 79`` and
  the module answers ``FF 86 uH uL 00 00 pH pL cs`` — the concentration in
  µg/m³ (converted by the module at a fixed temperature) and in ppb.  Only
  the ppb value is used: :func:`ppb_to_mg_m3` converts at the room's
  temperature.

Pure code: no I/O.
"""

from __future__ import annotations

from sensors.framing import WINSEN_FRAME_LENGTH, WINSEN_START, WinsenScanner
from sensors.measurement import HCHO, FrameError, checked
from sensors.mhz19 import checksum

FRAME_LENGTH = WINSEN_FRAME_LENGTH
START = WINSEN_START
GAS_CH2O = 0x17
UNIT_PPB = 0x04
CMD_READ = 0x86
CMD_MODE = 0x78
MODE_ACTIVE = 0x40
MODE_QA = 0x41

#: Molar mass of formaldehyde, CH₂O (g/mol).
MOLAR_MASS_HCHO = 30.03
#: Molar gas constant (J/(mol·K)) and standard atmospheric pressure (Pa).
GAS_CONSTANT = 8.314462618
STANDARD_PRESSURE = 101_325.0


def seal(body: bytes) -> bytes:
    """``body`` (bytes 0…7, padded with zeros) followed by its checksum."""
    frame = bytes(body[:8]).ljust(8, b"\x00")
    return frame + bytes([checksum(frame + b"\x00")])


#: Host commands: enter question-and-answer mode, back to active upload, read once.
SET_QA: bytes = seal(bytes([START, 0x01, CMD_MODE, MODE_QA]))
SET_ACTIVE: bytes = seal(bytes([START, 0x01, CMD_MODE, MODE_ACTIVE]))
READ_REQUEST: bytes = seal(bytes([START, 0x01, CMD_READ]))


def ppb_to_mg_m3(ppb: float, celsius: float) -> float:
    """Mass concentration of formaldehyde at ``ppb`` (mole fraction ×10⁹), ``celsius`` and 101.325 kPa.

    An ideal gas occupies V_m = R·T/p per mole (24.47 L at 25 °C), so
    c [mg/m³] = ppb / 1000 × M / V_m [L/mol] with M = 30.03 g/mol.
    """
    molar_volume_litres = GAS_CONSTANT * (celsius + 273.15) / STANDARD_PRESSURE * 1000.0
    return ppb / 1000.0 * MOLAR_MASS_HCHO / molar_volume_litres


def encode_upload(ppb: int, full_range: int = 5000) -> bytes:
    """An active-upload frame (for simulators and tests)."""
    if not (0 <= ppb <= 0xFFFF and 0 <= full_range <= 0xFFFF):
        raise ValueError("ppb and full range must fit in two bytes")
    return seal(
        bytes([START, GAS_CH2O, UNIT_PPB, 0, ppb >> 8, ppb & 0xFF, full_range >> 8, full_range & 0xFF])
    )


def encode_answer(ppb: int, ug_m3: int) -> bytes:
    """A question-and-answer reply (for simulators and tests)."""
    if not (0 <= ppb <= 0xFFFF and 0 <= ug_m3 <= 0xFFFF):
        raise ValueError("values must fit in two bytes")
    return seal(bytes([START, CMD_READ, ug_m3 >> 8, ug_m3 & 0xFF, 0, 0, ppb >> 8, ppb & 0xFF]))


def _checked_frame(frame: bytes, second: int) -> None:
    if len(frame) != FRAME_LENGTH:
        raise FrameError(f"ZE08 frame has {len(frame)} bytes, expected {FRAME_LENGTH}")
    if frame[0] != START or frame[1] != second:
        raise FrameError(f"not a ZE08 frame of this kind: {frame[:2].hex(' ')}")
    if checksum(frame) != frame[8]:
        raise FrameError(f"ZE08 checksum mismatch: got {frame[8]:02x}, expected {checksum(frame):02x}")


def _possible_ppb(ppb: int) -> float:
    # The module spans 0…5 ppm: at the coldest accepted temperature it is still a possible reading.
    checked(HCHO, ppb_to_mg_m3(ppb, -40.0))
    return float(ppb)


def parse_upload(frame: bytes) -> float:
    """Formaldehyde in ppb from an active-upload frame; :class:`FrameError` if it is not valid."""
    _checked_frame(frame, GAS_CH2O)
    if frame[2] != UNIT_PPB:
        raise FrameError(f"ZE08 unit byte {frame[2]:02x}, expected ppb (04)")
    if frame[3] != 0:
        raise FrameError(f"ZE08 decimals byte {frame[3]:02x}, expected 00")
    ppb = frame[4] * 256 + frame[5]
    full_range = frame[6] * 256 + frame[7]
    if full_range and ppb > full_range:
        raise FrameError(f"ZE08 value {ppb} ppb beyond its full range {full_range} ppb")
    return _possible_ppb(ppb)


def parse_answer(frame: bytes) -> float:
    """Formaldehyde in ppb from a question-and-answer reply; :class:`FrameError` if it is not valid."""
    _checked_frame(frame, CMD_READ)
    return _possible_ppb(frame[6] * 256 + frame[7])


def upload_scanner() -> WinsenScanner:
    """A scanner for active-upload frames (values in ppb)."""
    return WinsenScanner(GAS_CH2O, parse_upload)


def answer_scanner() -> WinsenScanner:
    """A scanner for question-and-answer replies (values in ppb)."""
    return WinsenScanner(CMD_READ, parse_answer)

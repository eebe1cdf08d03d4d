"""Byte-stream framing shared by the binary sensor protocols (Plantower, Winsen)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sensors.measurement import FrameError


def skip_to_header(buffer: bytearray, header: bytes) -> int:
    """Drop the bytes before the next ``header`` in ``buffer``; return how many were dropped.

    A tail that could be the beginning of a header split across two reads
    (its first byte) is kept, so a frame is not lost at a read boundary.
    """
    index = buffer.find(header)
    if index < 0:
        index = len(buffer) - 1 if buffer.endswith(header[:1]) else len(buffer)
    if index > 0:
        del buffer[:index]
    return max(index, 0)


#: Length of every Winsen UART frame (MH-Z19, ZE08 …), start byte ``FF`` first.
WINSEN_FRAME_LENGTH = 9
WINSEN_START = 0xFF


@dataclass
class WinsenScanner:
    """Finds one kind of 9-byte Winsen frame (``FF`` + ``second``) in a byte stream with noise.

    Bytes are fed as they arrive; every candidate frame is checked by
    ``parse``.  A bad candidate costs one byte, not the frame boundary:
    scanning resumes right after its start byte, so a valid frame hidden
    behind garbage or a truncated frame is still found.  The buffer keeps at
    most a partial frame.
    """

    second: int
    #: Value of one frame; raises :class:`sensors.measurement.FrameError` for a bad one.
    parse: Callable[[bytes], float]
    buffer: bytearray = field(default_factory=bytearray)
    #: Candidate frames rejected so far (bad checksum, impossible value).
    bad_frames: int = 0
    #: Bytes discarded because they could not start a frame.
    garbage_bytes: int = 0

    def feed(self, data: bytes) -> list[float]:
        """Add received bytes; return the values of the complete valid frames found."""
        self.buffer += data
        values: list[float] = []
        header = bytes([WINSEN_START, self.second])
        while True:
            self.garbage_bytes += skip_to_header(self.buffer, header)
            if len(self.buffer) < WINSEN_FRAME_LENGTH:
                return values
            try:
                values.append(self.parse(bytes(self.buffer[:WINSEN_FRAME_LENGTH])))
            except FrameError:
                self.bad_frames += 1
                del self.buffer[:1]
                continue
            del self.buffer[:WINSEN_FRAME_LENGTH]

    def newest(self, data: bytes) -> float | None:
        """Add received bytes; the value of the newest valid frame (each checked and counted as by
        :meth:`feed`), or ``None``."""
        values = self.feed(data)
        return values[-1] if values else None

"""Writing and checking the recorder self-test's WAV file (stdlib ``wave`` + numpy)."""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy.typing as npt
    from numpy import int16

    Samples = npt.NDArray[int16]


def write_wav(path: Path, samples: Samples, rate: int) -> None:
    """Write mono 16-bit PCM to a new file and flush it to the disk (so a full disk shows up here).

    The file must not exist: it is created ``O_EXCL|O_NOFOLLOW`` with mode
    0600, so a link planted at the name is never written through.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags, 0o600), "wb") as handle:
        with wave.open(handle, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(samples.astype("<i2").tobytes())
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file's header says, and its samples."""

    channels: int
    sample_width: int
    rate: int
    frames: int
    samples: Samples

    @property
    def seconds(self) -> float:
        """Duration according to the header."""
        return self.frames / self.rate if self.rate else 0.0


def read_wav(path: Path) -> WavInfo:
    """Read a WAV file back; raises ``wave.Error``/``EOFError``/``OSError`` when it is damaged."""
    with wave.open(str(path), "rb") as src:
        channels, width, rate, frames = (
            src.getnchannels(),
            src.getsampwidth(),
            src.getframerate(),
            src.getnframes(),
        )
        data = src.readframes(frames)
    if width != 2:
        raise wave.Error(f"expected 16-bit samples, found {8 * width}-bit")
    import numpy as np  # loaded with the recorder monitor, needed only for its self-test

    samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples[: samples.size - samples.size % channels].reshape(-1, channels)[:, 0].copy()
    if samples.size < frames:
        raise EOFError(f"header announces {frames} frames, file holds {samples.size}")
    return WavInfo(channels, width, rate, frames, samples)

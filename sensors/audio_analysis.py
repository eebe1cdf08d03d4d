"""Pure numpy analysis of headset microphone audio (16-bit PCM, mono).

Levels are in dBFS: 0 dBFS is a full-scale square wave's RMS, a full-scale
sine is −3 dBFS.  Audio arrives in blocks (the capture buffer, typically
100 ms); :func:`analyse_block` reduces each block to a few numbers right
away, so no audio is kept: :class:`WindowStats` only holds those numbers for
the last few seconds.  Nothing here stores, logs or sends samples.

Facts the defaults rest on (DESIGN.md §2): noise floor in silence ≤ −60 dBFS
is normal, > −50 a fault; active speech −40…−20 dBFS; a frame is clipped when
more than 10 % of its samples are at full scale (WebRTC); PortAudio's
``paInputUnderflow`` 0x1 / ``paInputOverflow`` 0x2 flags mark dropouts; a mic
constantly below −80 dBFS is dead, one whose maximum stays below −40 dBFS is
inaudible.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

#: PortAudio callback status flags (portaudio.h).
PA_INPUT_UNDERFLOW = 0x1
PA_INPUT_OVERFLOW = 0x2

FULL_SCALE = 32768.0
#: Level reported for digital silence (log of zero).
SILENCE_DBFS = -120.0

Samples = npt.NDArray[np.int16]


@dataclass(frozen=True)
class AnalysisSettings:
    """Tunable constants of the analysis (all configurable through the headset monitor)."""

    rate: int = 16000
    #: Frame length for levels and clipping (WebRTC uses 10 ms frames).
    frame_ms: float = 10.0
    #: A sample at or above this fraction of full scale counts as clipped.
    clip_sample_level: float = 0.99
    #: A frame is clipped when more than this fraction of its samples are.
    clip_frame_fraction: float = 0.10
    #: Exact zeros running at least this long inside a live signal are a dropout …
    zero_run_ms: float = 5.0
    #: … and at most this long: longer digital silence is a noise gate or a mute, not a gap.
    max_zero_run_ms: float = 250.0
    #: Mains frequency: 50 Hz in China, 60 Hz in the Americas.
    mains_hz: float = 50.0
    #: Mains harmonics counted as hum (50, 100, … Hz).
    hum_harmonics: int = 6
    #: A frame is speech when it is this far above the noise floor …
    vad_margin_db: float = 12.0
    #: … and above this absolute level.
    vad_min_dbfs: float = -60.0
    #: Percentile of frame levels taken as the noise floor.
    noise_percentile: float = 10.0
    #: Hum and DC are measured in blocks whose level is within this of the floor
    #: (so the fading tail of a word, with its voice harmonics, is not taken for hum).
    quiet_margin_db: float = 6.0
    #: Less speech than this in a window gives no speech level / SNR.
    min_speech_seconds: float = 0.3
    dead_dbfs: float = -80.0
    inaudible_dbfs: float = -40.0

    @property
    def frame_samples(self) -> int:
        """Samples per analysis frame."""
        return max(1, round(self.rate * self.frame_ms / 1000.0))

    @property
    def zero_run_samples(self) -> int:
        """Samples of exact zeros that make a dropout."""
        return max(2, round(self.rate * self.zero_run_ms / 1000.0))

    def is_dropout(self, zero_run: int) -> bool:
        """Whether a run of ``zero_run`` exact zeros between live samples is a dropout."""
        return self.zero_run_samples <= zero_run <= self.rate * self.max_zero_run_ms / 1000.0


def to_dbfs(power: float) -> float:
    """dBFS of a mean square (relative to full scale squared), floored at :data:`SILENCE_DBFS`."""
    if power <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * math.log10(power))


@dataclass(frozen=True)
class BlockStats:
    """What one block of audio reduces to; the samples themselves are dropped."""

    samples: int
    #: Mean square per frame, normalised to full scale (so 1.0 is 0 dBFS).
    frame_power: npt.NDArray[np.float64]
    clipped_frames: int
    sample_sum: float
    #: Exact zeros at the start and end of the block (a run may span blocks).
    leading_zeros: int
    trailing_zeros: int
    #: Zero runs entirely inside the block that are long enough to be dropouts.
    inner_zero_runs: int
    all_zero: bool
    #: Tonal power at the mains frequency and its harmonics, normalised to full scale.
    hum_power: float
    #: PortAudio status flags reported with the block.
    flags: int = 0


def _zero_runs(zero: npt.NDArray[np.bool_]) -> tuple[int, int, list[int]]:
    """Leading and trailing zero counts and the lengths of runs strictly inside."""
    n = zero.size
    if n == 0:
        return 0, 0, []
    edges = np.flatnonzero(np.diff(np.concatenate(([False], zero, [False])).astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    leading = int(ends[0]) if starts.size and starts[0] == 0 else 0
    trailing = int(n - starts[-1]) if ends.size and ends[-1] == n else 0
    inner = [int(e - s) for s, e in zip(starts, ends, strict=True) if s > 0 and e < n]
    return leading, trailing, inner


def _window(n: int) -> tuple[npt.NDArray[np.float64], float]:
    hann = np.hanning(n)
    return hann, float(hann.sum())


_WINDOWS: dict[int, tuple[npt.NDArray[np.float64], float]] = {}


def hum_power(x: npt.NDArray[np.float64], settings: AnalysisSettings) -> float:
    """Tonal power at the mains frequency and harmonics, above the local noise.

    A Hann-windowed FFT of the block; for each harmonic the power of the bin
    nearest to it, as the mean square of an equivalent sine, minus the mean
    of the bins two and three away (broadband noise), so white noise does not
    read as hum.  The result is signed: averaged over blocks, noise cancels.
    """
    n = x.size
    if n < 64:
        return 0.0
    if n not in _WINDOWS:
        _WINDOWS[n] = _window(n)
    hann, gain = _WINDOWS[n]
    spectrum = np.abs(np.fft.rfft(x * hann)) ** 2
    # A sine of amplitude A gives |X| = A·gain/2 on its bin; its mean square is A²/2.
    to_power = 2.0 / (gain * gain)
    bin_hz = settings.rate / n
    total = 0.0
    for k in range(1, settings.hum_harmonics + 1):
        centre = round(k * settings.mains_hz / bin_hz)
        if centre + 3 >= spectrum.size:
            break
        near = spectrum[[max(1, centre - 3), max(1, centre - 2), centre + 2, centre + 3]]
        total += (float(spectrum[centre]) - float(near.mean())) * to_power
    # Signed: noise averages to zero over blocks; the caller clamps the mean.
    return total


def analyse_block(block: Samples, settings: AnalysisSettings, flags: int = 0) -> BlockStats:
    """Reduce one block of int16 samples to :class:`BlockStats`."""
    frame = settings.frame_samples
    usable = block.size - block.size % frame
    x = block.astype(np.float64) / FULL_SCALE
    # Levels are AC levels: a DC bias is reported on its own, not as noise.  The
    # block's median estimates the bias: unlike the mean, a lopsided (clipped)
    # word next to a pause does not shift it, so the pause keeps its true level.
    bias = float(np.median(x)) if x.size else 0.0
    frames = x[:usable].reshape(-1, frame) if usable else x[:0].reshape(0, frame)
    ac = frames - bias
    frame_power = np.mean(ac * ac, axis=1) if frames.size else np.zeros(0)
    clip_limit = settings.clip_sample_level * (FULL_SCALE - 1) / FULL_SCALE
    clipped_share = np.mean(np.abs(frames) >= clip_limit, axis=1) if frames.size else np.zeros(0)
    zero = block == 0
    leading, trailing, inner = _zero_runs(zero)
    all_zero = bool(zero.all()) if block.size else True
    return BlockStats(
        samples=int(block.size),
        frame_power=frame_power,
        clipped_frames=int(np.count_nonzero(clipped_share > settings.clip_frame_fraction)),
        sample_sum=float(x.sum()),
        leading_zeros=leading,
        trailing_zeros=trailing,
        inner_zero_runs=sum(1 for r in inner if settings.is_dropout(r)),
        all_zero=all_zero,
        hum_power=0.0 if all_zero else hum_power(x, settings),
        flags=flags,
    )


@dataclass(frozen=True)
class AudioSummary:
    """Quality figures for a stretch of audio (``None`` where there is not enough to say)."""

    seconds: float
    noise_floor_dbfs: float
    speech_level_dbfs: float | None
    snr_db: float | None
    speech_seconds: float
    peak_dbfs: float
    #: Clipped frames as a percentage of active (non-silent) frames.
    clipped_percent: float
    dc_offset_percent: float
    #: Hum in the quiet frames; ``None`` when there were none.
    hum_dbfs: float | None
    dropouts: int
    overflows: int
    underflows: int
    dead: bool
    inaudible: bool

    @property
    def speech_present(self) -> bool:
        """Whether the window held enough speech to measure its level."""
        return self.speech_level_dbfs is not None


@dataclass
class WindowStats:
    """Rolling statistics over the last ``seconds`` of audio, fed block by block.

    Thread-safety is the caller's business (the capture service feeds it under
    its lock).  Zero runs are followed across block boundaries, so a gap that
    straddles two blocks still counts once.
    """

    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    seconds: float = 10.0
    _blocks: deque[tuple[BlockStats, int]] = field(default_factory=deque)
    _samples: int = 0
    _zero_carry: int = 0
    _seen_signal: bool = False

    def add(self, stats: BlockStats) -> None:
        """Append one block; drop blocks older than the window."""
        dropouts = stats.inner_zero_runs
        if stats.all_zero:
            self._zero_carry += stats.samples
        else:
            run = self._zero_carry + stats.leading_zeros
            # A gap counts only between two stretches of live signal.
            if self._seen_signal and self.settings.is_dropout(run):
                dropouts += 1
            self._zero_carry = stats.trailing_zeros
            self._seen_signal = True
        self._blocks.append((stats, dropouts))
        self._samples += stats.samples
        limit = self.seconds * self.settings.rate
        while self._blocks and self._samples - self._blocks[0][0].samples >= limit:
            old, _ = self._blocks.popleft()
            self._samples -= old.samples

    def clear(self) -> None:
        """Forget everything (e.g. after the stream was reopened)."""
        self._blocks.clear()
        self._samples = 0
        self._zero_carry = 0
        self._seen_signal = False

    @property
    def seconds_held(self) -> float:
        """How much audio the window currently covers."""
        return self._samples / self.settings.rate

    def summary(self, last_seconds: float | None = None) -> AudioSummary | None:
        """Summarise the window (or its last ``last_seconds``); ``None`` when empty."""
        blocks = list(self._blocks)
        if last_seconds is None:
            return summarise(blocks, self.settings)
        keep, total = [], 0
        for item in reversed(blocks):
            if total >= last_seconds * self.settings.rate:
                break
            keep.append(item)
            total += item[0].samples
        # The noise floor needs pauses, so it comes from the whole window.
        whole = summarise(blocks, self.settings)
        floor = None if whole is None else whole.noise_floor_dbfs
        return summarise(keep[::-1], self.settings, noise_floor=floor)


def summarise(
    blocks: Iterable[tuple[BlockStats, int]],
    settings: AnalysisSettings,
    noise_floor: float | None = None,
) -> AudioSummary | None:
    """Combine per-block stats (with their dropout counts) into an :class:`AudioSummary`.

    ``noise_floor`` overrides the floor measured from these blocks (for short
    stretches that may hold no pause).
    """
    items = list(blocks)
    if not items:
        return None
    powers = np.concatenate([b.frame_power for b, _ in items])
    samples = sum(b.samples for b, _ in items)
    if powers.size == 0 or samples == 0:
        return None
    levels = 10.0 * np.log10(np.maximum(powers, 10 ** (SILENCE_DBFS / 10)))
    if noise_floor is None:
        noise_floor = float(np.percentile(levels, settings.noise_percentile))
    threshold = max(noise_floor + settings.vad_margin_db, settings.vad_min_dbfs)
    speech = levels > threshold
    frame_seconds = settings.frame_samples / settings.rate
    speech_seconds = float(np.count_nonzero(speech)) * frame_seconds
    speech_level = snr = None
    if speech_seconds >= settings.min_speech_seconds:
        speech_level = to_dbfs(float(powers[speech].mean()))
        snr = speech_level - noise_floor
    peak = float(levels.max())
    active = int(np.count_nonzero(levels > settings.dead_dbfs))
    clipped = sum(b.clipped_frames for b, _ in items)
    quiet_limit = min(threshold, noise_floor + settings.quiet_margin_db)
    quiet = [b for b, _ in items if not b.all_zero and _block_is_quiet(b, quiet_limit)]
    hum = to_dbfs(max(0.0, float(np.mean([b.hum_power for b in quiet])))) if quiet else None
    # A bias shows in the pauses; speech waveforms are lopsided over short stretches.
    dc_blocks = quiet or [b for b, _ in items]
    dc = sum(b.sample_sum for b in dc_blocks) / max(1, sum(b.samples for b in dc_blocks))
    flags = [b.flags for b, _ in items]
    overflows = sum(1 for f in flags if f & PA_INPUT_OVERFLOW)
    underflows = sum(1 for f in flags if f & PA_INPUT_UNDERFLOW)
    dead = peak < settings.dead_dbfs
    return AudioSummary(
        seconds=samples / settings.rate,
        noise_floor_dbfs=round(noise_floor, 1),
        speech_level_dbfs=None if speech_level is None else round(speech_level, 1),
        snr_db=None if snr is None else round(snr, 1),
        speech_seconds=round(speech_seconds, 2),
        peak_dbfs=round(peak, 1),
        clipped_percent=round(100.0 * clipped / max(active, 1), 2),
        dc_offset_percent=round(100.0 * abs(dc), 2),
        hum_dbfs=None if hum is None else round(hum, 1),
        dropouts=sum(d for _, d in items) + overflows + underflows,
        overflows=overflows,
        underflows=underflows,
        dead=dead,
        inaudible=not dead and peak < settings.inaudible_dbfs,
    )


def _block_is_quiet(stats: BlockStats, limit_dbfs: float) -> bool:
    """The block's level is near the noise floor: its tones are background (hum).

    The block's mean, not its loudest frame: 10 ms frames of a 50 Hz hum
    (half a cycle) vary by several dB, the block's level does not.
    """
    if stats.frame_power.size == 0:
        return False
    return to_dbfs(float(stats.frame_power.mean())) <= limit_dbfs

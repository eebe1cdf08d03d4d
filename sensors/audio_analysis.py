"""Pure numpy analysis of headset microphone audio (16-bit PCM, mono).

Levels are in dBFS: 0 dBFS is a full-scale square wave's RMS, a full-scale
sine is −3 dBFS.  Audio arrives in blocks (the capture buffer, typically
100 ms); :func:`analyse_block` reduces each block to a few numbers per 10 ms
frame right away, so no audio is kept: :class:`WindowStats` only holds those
numbers for the last few seconds.  Nothing here stores, logs or sends samples.

What is measured, the way telephony measures it:

* **Band.** Speech level, noise floor and SNR are measured in the telephone
  band, 300–3400 Hz (ITU-T G.712), whatever the sampling rate: mains hum
  below 300 Hz, rumble and hiss above 3.4 kHz do not count as speech or as
  noise here (hum has its own reading).  Each block is filtered in the
  frequency domain (zero-padded FFT, so the filter does not wrap around);
  the first and last frame of a block see the block's edge and are left out
  of the noise estimate.
* **Active speech level** in the spirit of ITU-T P.56 method B: the envelope
  is |x| smoothed twice with a 30 ms time constant; speech is *active* while
  the envelope is above a threshold, and for 200 ms after (hangover, which
  bridges the gaps between syllables); the threshold is chosen 15.9 dB below
  the active level it yields.  The active level is the mean power over the
  active frames — not over the pauses, and not only over the loudest frames.
  Unlike P.56 (meant for speech at better than 20 dB SNR) the threshold is
  never below the noise floor plus a small margin, and the noise power is
  subtracted from the active frames' power, so noisy speech is measured as
  the speech alone.
* **Noise floor**: the mean in-band power of the frames with no speech near
  them (the frame and three either side within 4.5 dB of the tenth
  percentile of the frame powers), a mean of power, not of dB; with too few
  such frames, that percentile itself.
* **SNR** = active speech level − noise floor, both in band.
* **Talking time** (``speech_seconds``, what call detection reads): frames
  whose own level is above the P.56 threshold, in runs of 30 ms or more —
  no hangover, so pauses and key clicks are not talk.

Peak, clipping, dead and inaudible microphones are judged on the full-band
signal (a mic that only hums is not dead).

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from app.kernel.lazy import lazy_import

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:  # loaded with the monitors, used only once audio is analysed
    np = lazy_import("numpy", globals())

#: PortAudio callback status flags (portaudio.h).
PA_INPUT_UNDERFLOW = 0x1
PA_INPUT_OVERFLOW = 0x2
#: Not PortAudio's: the capture paused before this block (duty cycle), so the
#: audio before it is not contiguous -- no zero run or dropout spans the gap.
CONTINUITY_BREAK = 0x10000

FULL_SCALE = 32768.0
#: Level reported for digital silence (log of zero).
SILENCE_DBFS = -120.0
_SILENCE_POWER = 10 ** (SILENCE_DBFS / 10)

if TYPE_CHECKING:
    Samples = npt.NDArray[np.int16]
    Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AnalysisSettings:
    """Tunable constants of the analysis (all configurable through the headset monitor)."""

    rate: int = 16000
    #: Frame length for levels and clipping (WebRTC uses 10 ms frames).
    frame_ms: float = 10.0
    #: Analysis block: the span hum and DC are measured over, and quiet blocks are
    #: chosen by; capture buffers are cut into blocks this long (:func:`analyse_blocks`).
    block_ms: float = 100.0
    #: The band speech level, noise floor and SNR are measured in (telephone band).
    band_low_hz: float = 300.0
    band_high_hz: float = 3400.0
    #: Width of the raised-cosine band edges; hum at 250 Hz stays out.
    band_edge_low_hz: float = 50.0
    band_edge_high_hz: float = 200.0
    #: A sample at or above this fraction of full scale counts as clipped.
    clip_sample_level: float = 0.99
    #: A frame is clipped when more than this fraction of its samples are.
    clip_frame_fraction: float = 0.10
    #: Exact zeros running at least this long inside a live signal are a dropout …
    zero_run_ms: float = 5.0
    #: … and at most this long: longer digital silence is a noise gate or a mute, not a gap.
    max_zero_run_ms: float = 250.0
    #: A stream's exact zeros before its first live sample are left out for up to this long
    #: (the sound server hands out silence while the source starts); longer, they are the
    #: signal itself (a dead or muted microphone) and count from the start.
    start_zeros_ms: float = 1000.0
    #: Mains frequency: 50 Hz in China, 60 Hz in the Americas.
    mains_hz: float = 50.0
    #: Mains harmonics counted as hum (50, 100, … Hz).
    hum_harmonics: int = 6
    #: ITU-T P.56: envelope time constant, hangover and threshold margin.
    envelope_seconds: float = 0.03
    hangover_seconds: float = 0.2
    p56_margin_db: float = 15.9
    #: Speech is active only where the envelope is this far above the noise's envelope …
    vad_margin_db: float = 4.0
    #: … and above this absolute level (in-band): nothing quieter is speech.
    vad_min_dbfs: float = -70.0
    #: Percentile of in-band frame powers that seeds the noise floor.
    noise_percentile: float = 10.0
    #: A frame is noise when it and its neighbours are within this of that percentile.
    noise_margin_db: float = 4.5
    noise_guard_frames: int = 3
    #: Hum and DC are measured in blocks whose level is within this of the floor
    #: (so the fading tail of a word, with its voice harmonics, is not taken for hum).
    quiet_margin_db: float = 6.0
    #: Less speech than this in a window gives no speech level / SNR.
    min_speech_seconds: float = 0.3
    #: Talking time counts runs of frames above the threshold at least this long:
    #: a syllable lasts 100 ms or more, a key click or a cough of noise a frame or two.
    min_voiced_ms: float = 30.0
    dead_dbfs: float = -80.0
    inaudible_dbfs: float = -40.0

    @property
    def frame_samples(self) -> int:
        """Samples per analysis frame."""
        return max(1, round(self.rate * self.frame_ms / 1000.0))

    @property
    def block_samples(self) -> int:
        """Samples per analysis block (:func:`analyse_blocks` cuts capture buffers into these)."""
        return max(self.frame_samples, round(self.rate * self.block_ms / 1000.0))

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
    frame_power: Floats
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
    #: In-band (telephone band) mean square and mean magnitude per frame.
    band_power: Floats = field(default_factory=lambda: np.zeros(0))
    band_magnitude: Floats = field(default_factory=lambda: np.zeros(0))
    #: PortAudio status flags reported with the block.
    flags: int = 0


def _zero_runs(zero: npt.NDArray[np.bool_], settings: AnalysisSettings) -> npt.NDArray[np.int64]:
    """Per row of ``zero``: leading and trailing zero counts, and the dropouts strictly inside.

    Returns a ``(rows, 3)`` array.  Counted in numpy for all rows at once:
    speech near silence has hundreds of single-sample zero runs per block.
    """
    count, n = zero.shape
    out = np.zeros((count, 3), dtype=np.int64)
    if n == 0:
        return out
    padded = np.zeros((count, n + 2), dtype=np.int8)
    padded[:, 1:-1] = zero
    edges = np.flatnonzero(np.diff(padded.ravel()))
    # Each padded row starts and ends with a non-zero, so its runs open and close inside it.
    starts, ends = edges[0::2], edges[1::2]
    row = starts // (n + 2)
    start, end = starts % (n + 2), ends % (n + 2)  # in row coordinates: 0 … n
    first, last = start == 0, end == n
    out[row[first], 0] = end[first]
    out[row[last], 1] = n - start[last]
    longest = settings.rate * settings.max_zero_run_ms / 1000.0
    length = end - start
    dropout = ~first & ~last & (length >= settings.zero_run_samples) & (length <= longest)
    np.add.at(out[:, 2], row[dropout], 1)
    return out


@dataclass(frozen=True)
class _Plan:
    """Per block length: the band mask, the output decimation and the hum bins."""

    nfft: int
    #: The band-limited signal is rebuilt at rate / decimation (it has nothing above 3.5 kHz).
    decimation: int
    mask: Floats
    #: Bins of the zero-padded spectrum at each mains harmonic and two and three
    #: (block) bins either side, and the weights that take the side bins' mean off.
    hum_bins: npt.NDArray[np.intp]
    hum_weights: Floats


#: Plans by block length and settings object (settings are hashed by identity: cheap).
_PLANS: dict[tuple[int, int], tuple[AnalysisSettings, _Plan]] = {}


def _raised_cosine(z: Floats) -> Floats:
    out: Floats = 0.5 - 0.5 * np.cos(np.pi * np.clip(z, 0.0, 1.0))
    return out


def _plan(n: int, settings: AnalysisSettings) -> _Plan:
    key = (n, id(settings))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is settings:
        return cached[1]
    # Twice the block: the filter's response to the block's edges falls in the
    # padding instead of wrapping round, and Hann windowing (for hum) is exact
    # in the spectrum (a periodic Hann over n samples shifts by two bins of 2n).
    nfft = 2 * n
    rate = settings.rate
    freqs: Floats = np.fft.rfftfreq(nfft, 1.0 / rate).astype(np.float64)
    lo, lo_w = settings.band_low_hz, settings.band_edge_low_hz
    hi, hi_w = min(settings.band_high_hz, rate / 2 - settings.band_edge_high_hz), settings.band_edge_high_hz
    # Power response: raised-cosine edges centred on the nominal band edges,
    # so white noise passes exactly the power of the 300–3400 Hz band.
    rise = _raised_cosine((freqs - (lo - lo_w / 2)) / lo_w)
    fall = _raised_cosine(((hi + hi_w / 2) - freqs) / hi_w)
    power = rise * fall
    top = hi + hi_w / 2
    decimation = max(1, int(rate // (2 * top)))
    while decimation > 1 and (nfft % decimation or settings.frame_samples % decimation):
        decimation -= 1
    bin_hz = rate / n
    bins: list[int] = []
    weights: list[float] = []
    for k in range(1, settings.hum_harmonics + 1):
        centre = round(k * settings.mains_hz / bin_hz)
        if centre + 3 >= n // 2:
            break
        bins += [centre, max(1, centre - 3), max(1, centre - 2), centre + 2, centre + 3]
        weights += [1.0, -0.25, -0.25, -0.25, -0.25]
    plan = _Plan(
        nfft=nfft,
        decimation=decimation,
        mask=np.sqrt(power),
        hum_bins=2 * np.asarray(bins, dtype=np.intp),
        hum_weights=np.asarray(weights),
    )
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[key] = (settings, plan)
    return plan


def _hum_from_spectrum(spectrum: npt.NDArray[np.complex128], n: int, plan: _Plan) -> Floats:
    """Tonal power at the mains harmonics from the zero-padded spectra of blocks (one row each).

    For each harmonic the power of the Hann-windowed bin nearest to it, as the
    mean square of an equivalent sine, minus the mean of the bins two and
    three away (broadband noise), so white noise does not read as hum.  The
    result is signed: averaged over blocks, noise cancels.
    """
    if n < 64 or plan.hum_bins.size == 0:
        return np.zeros(spectrum.shape[0])
    # A periodic Hann window is 0.5 − 0.5·cos(2πt/n): in the 2n-point spectrum
    # that is 0.5·X[2k] − 0.25·(X[2k−2] + X[2k+2]).
    b = plan.hum_bins
    hann = 0.5 * spectrum[:, b] - 0.25 * (spectrum[:, b - 2] + spectrum[:, b + 2])
    power = hann.real * hann.real + hann.imag * hann.imag
    gain = n / 2.0  # sum of the periodic Hann window
    # A sine of amplitude A gives |X| = A·gain/2 on its bin; its mean square is A²/2.
    out: Floats = (power @ plan.hum_weights) * (2.0 / (gain * gain))
    return out


#: Standard errors taken off the mean hum of the quiet blocks (see :func:`_hum_lower_bound`).
HUM_CONFIDENCE_SIGMAS = 1.0


def _hum_lower_bound(per_block: list[float]) -> float:
    """The hum the quiet blocks agree on: their mean less one standard error (never below 0).

    Each block's figure is its harmonics' power less the neighbouring bins'
    (signed), so broadband noise averages out -- but over a 2 s window's few
    quiet blocks, loud noise (a −44 dBFS line) or a word's fading harmonics
    left a mean of −61 dBFS at unlucky window positions, 1 dB under the
    warning line (and over it, live: a false alarm).  Mains hum is steady: its
    blocks agree and the bound is the mean; noise's figures scatter, and the
    bound falls.  The price, only on such a line: a −57 dBFS hum may read
    −61 at an unlucky window position (it read −59 at worst before).
    """
    values = np.asarray(per_block, dtype=np.float64)
    bound = float(values.mean())
    if values.size >= 2:
        bound -= HUM_CONFIDENCE_SIGMAS * float(values.std(ddof=1)) / np.sqrt(values.size)
    return max(0.0, bound)


def hum_power(x: Floats, settings: AnalysisSettings) -> float:
    """Tonal power at the mains frequency and harmonics, above the local noise (see :func:`analyse_block`)."""
    n = x.size
    if n < 64:
        return 0.0
    plan = _plan(n, settings)
    return float(_hum_from_spectrum(np.fft.rfft(x, plan.nfft)[np.newaxis], n, plan)[0])


def analyse_block(block: Samples, settings: AnalysisSettings, flags: int = 0) -> BlockStats:
    """Reduce one block of int16 samples to :class:`BlockStats`."""
    return _analyse_rows(block.reshape(1, -1), settings, flags)[0]


def analyse_blocks(samples: Samples, settings: AnalysisSettings, flags: int = 0) -> list[BlockStats]:
    """Cut a capture buffer into blocks of ``settings.block_ms`` and analyse them all at once.

    The same figures as :func:`analyse_block` on each block in turn (the last,
    shorter one on its own), for a fraction of the cost: numpy's per-call
    overhead, not the arithmetic, is most of a 100 ms block's analysis, so a
    500 ms buffer analysed as five rows costs little more than one block.
    ``flags`` (the buffer's PortAudio status) go with the first block only,
    so an overflow counts once.
    """
    size = settings.block_samples
    whole = samples.size - samples.size % size
    stats = _analyse_rows(samples[:whole].reshape(-1, size), settings, flags) if whole else []
    if whole < samples.size:
        stats += _analyse_rows(samples[whole:].reshape(1, -1), settings, 0 if stats else flags)
    return stats


def _analyse_rows(
    rows: npt.NDArray[np.int16],
    settings: AnalysisSettings,
    flags: int,
    flagged: Mapping[int, int] | None = None,
) -> list[BlockStats]:
    """:class:`BlockStats` of each row of ``rows`` (blocks of equal length), computed together.

    ``flags`` go with the first row; ``flagged`` instead gives the flags of the rows that have any.
    """
    row_flags = {0: flags} if flagged is None else flagged
    count, n = rows.shape
    frame = settings.frame_samples
    usable = n - n % frame
    frames_per_block = usable // frame
    # Levels are AC levels: a DC bias is reported on its own, not as noise.  The
    # block's median estimates the bias: unlike the mean, a lopsided (clipped)
    # word next to a pause does not shift it, so the pause keeps its true level.
    # (The upper median, partitioned on the integers: a third of np.median's cost.)
    ac = rows.astype(np.float64)
    if n:
        bias = np.partition(rows, n // 2, axis=1)[:, n // 2 : n // 2 + 1]
        ac -= bias
    ac *= 1.0 / FULL_SCALE
    frames = ac[:, :usable].reshape(count, frames_per_block, frame)
    frame_power: Floats = np.einsum("kij,kij->ki", frames, frames) / frame
    # Clipping is of the raw samples (bias included), at either rail.
    rail = settings.clip_sample_level * (FULL_SCALE - 1)
    clipped_frames = np.zeros(count, dtype=np.intp)
    body = rows[:, :usable]
    if usable and (body.max() >= rail or body.min() <= -rail):
        raw = np.abs(body.astype(np.float64)).reshape(count, frames_per_block, frame)
        clipped = np.count_nonzero(raw >= rail, axis=2)
        clipped_frames = np.count_nonzero(clipped > settings.clip_frame_fraction * frame, axis=1)
    zero = rows == 0
    zeros_per_block = np.count_nonzero(zero, axis=1)
    hum: Floats = np.zeros(count)
    band_power: Floats = np.zeros((count, frames_per_block))
    band_magnitude: Floats = band_power
    live = np.flatnonzero(zeros_per_block < n)
    if usable and live.size:
        plan = _plan(n, settings)
        spectrum = np.fft.rfft(ac[live], plan.nfft, axis=1)
        hum[live] = _hum_from_spectrum(spectrum, n, plan)
        d = plan.decimation
        short = plan.nfft // d
        # Rebuilt at rate/d: the band holds nothing above the new Nyquist frequency.
        band = np.fft.irfft(spectrum[:, : short // 2 + 1] * plan.mask[: short // 2 + 1], short, axis=1)
        band = band[:, : usable // d].reshape(live.size, frames_per_block, frame // d)
        scale = 1.0 / (d * d * (frame // d))
        band_power = np.zeros((count, frames_per_block))
        band_magnitude = np.zeros((count, frames_per_block))
        band_power[live] = np.einsum("kij,kij->ki", band, band) * scale
        band_magnitude[live] = np.abs(band, out=band).sum(axis=2) * (1.0 / (d * (frame // d)))
    sums = rows.sum(axis=1, dtype=np.int64)
    runs = _zero_runs(zero, settings).tolist()
    out = []
    for i in range(count):
        leading, trailing, dropouts = runs[i]
        out.append(
            BlockStats(
                samples=int(n),
                frame_power=frame_power[i],
                clipped_frames=int(clipped_frames[i]),
                sample_sum=float(sums[i]) / FULL_SCALE,
                leading_zeros=leading,
                trailing_zeros=trailing,
                inner_zero_runs=dropouts,
                all_zero=bool(zeros_per_block[i] == n),
                hum_power=float(hum[i]),
                band_power=band_power[i],
                band_magnitude=band_magnitude[i],
                flags=row_flags.get(i, 0),
            )
        )
    return out


@dataclass(frozen=True)
class AudioSummary:
    """Quality figures for a stretch of audio (``None`` where there is not enough to say).

    ``noise_floor_dbfs``, ``speech_level_dbfs`` and ``snr_db`` are in the
    telephone band (see the module docstring); ``peak_dbfs`` is full band.
    """

    seconds: float
    noise_floor_dbfs: float
    speech_level_dbfs: float | None
    snr_db: float | None
    #: Time with speech: frames above the P.56 threshold (hangover not included).
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
    """Rolling statistics over the last ``seconds`` of audio, fed a capture buffer at a time
    (:meth:`add_samples`, which leaves out a stream's start-up zeros) or block by block (:meth:`add`).

    Thread-safety is the caller's business (the capture service feeds it under
    its lock).  Zero runs are followed across block boundaries, so a gap that
    straddles two blocks still counts once.

    :meth:`add_samples` only queues a buffer; the queue is analysed, in
    order and block by block exactly as it would have been on arrival, when
    the window is next read (:meth:`summary`, :attr:`seconds_held`,
    :meth:`add`) or once it holds :attr:`queue_seconds`.  Measured on the
    full seat: analysing a second of audio once a second cost 1.0–1.1 ms of
    CPU, most of it numpy's and the interpreter's code and data gone cold in
    the second between; five seconds analysed back to back at a poll cost
    0.54 ms per second.  Nothing but a read looks at the figures, so no
    reading changes.
    """

    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    seconds: float = 10.0
    _blocks: deque[tuple[BlockStats, int]] = field(default_factory=deque)
    _samples: int = 0
    _zero_carry: int = 0
    _seen_signal: bool = False
    #: Counts changes, so the whole window's summary is computed once per change
    #: (a poll asks for it and for the last few seconds, which needs its noise floor).
    _version: int = 0
    _whole: tuple[int, AudioSummary | None] | None = None
    #: Exact zeros held back since the stream started (a new window or a
    #: :data:`CONTINUITY_BREAK`) and before its first live sample, with the flags
    #: that came with them; ``None`` once the stream is past its start.
    _start_zeros: int | None = 0
    _start_flags: int = 0
    #: Zeros left out at stream starts so far (diagnostics and tests).
    start_zeros_dropped: int = field(default=0, init=False)
    #: Most audio queued before it is analysed without waiting for a read (s).
    queue_seconds: float = 10.0
    #: Blocks analysed in one call at most (the temporaries grow with them: ~60 KiB a block).
    BATCH_BLOCKS: ClassVar[int] = 20
    #: Buffers queued by :meth:`add_samples`, with their flags, not yet analysed.
    _queue: list[tuple[Samples, int]] = field(default_factory=list)
    _queued: int = 0

    def add_samples(self, samples: Samples, flags: int = 0) -> None:
        """Analyse a capture buffer (:func:`analyse_blocks`) and add its blocks.

        A stream that has just started (or resumed after a pause) may begin
        with exact zeros: silence the sound server hands out before the source
        delivers.  They are no audio from the microphone, and a window that
        held them had its noise floor at −120 dBFS and no quiet block to read
        hum from.  So the zeros before a stream's first live sample are left
        out -- only there.  Zeros after live signal are the signal (a mute, a
        noise gate, a gap) and count as ever; so does a start of zeros longer
        than ``start_zeros_ms``, counted from its beginning: an all-zero (dead)
        microphone still reads dead.
        """
        if flags & CONTINUITY_BREAK:
            self._release_start_zeros()  # a start that never met a signal was silence: it counts
            self._start_zeros = 0
        if self._start_zeros is not None:
            live = np.flatnonzero(samples)
            lead = int(live[0]) if live.size else int(samples.size)
            held = self._start_zeros + lead
            flags |= self._start_flags
            start_up = held <= self.settings.rate * self.settings.start_zeros_ms / 1000.0
            if start_up and not live.size:
                self._start_zeros, self._start_flags = held, flags
                return
            if start_up:
                self.start_zeros_dropped += held
                samples = samples[lead:]
            else:  # too long for a start: silence, from its first zero
                samples = np.concatenate((np.zeros(self._start_zeros, dtype=np.int16), samples))
            self._start_zeros, self._start_flags = None, 0
        self._enqueue(samples, flags)

    def _release_start_zeros(self) -> None:
        """Add the zeros held back at a start that ended without a live sample (a pause came first)."""
        held, flags = self._start_zeros, self._start_flags
        self._start_zeros, self._start_flags = None, 0
        if held:
            self._enqueue(np.zeros(held, dtype=np.int16), flags)

    def _enqueue(self, samples: Samples, flags: int) -> None:
        if samples.size == 0:
            return
        self._queue.append((samples, flags))
        self._queued += samples.size
        if self._queued >= self.queue_seconds * self.settings.rate:
            self._analyse_queue()

    def _analyse_queue(self) -> None:
        """Analyse the queued buffers in arrival order, each cut into blocks as on its own.

        Buffers of whole blocks (the capture's) go through one call together: the
        same rows as one call each, for less of numpy's per-call cost.
        """
        queue, self._queue, self._queued = self._queue, [], 0
        size = self.settings.block_samples
        start = 0
        while start < len(queue):
            end, blocks = start, 0
            while end < len(queue) and queue[end][0].size % size == 0 and blocks < self.BATCH_BLOCKS:
                blocks += queue[end][0].size // size
                end += 1
            if end - start > 1:
                run = queue[start:end]
                flagged: dict[int, int] = {}
                row = 0
                for samples, flags in run:
                    if flags:
                        flagged[row] = flags
                    row += samples.size // size
                batch = np.concatenate([samples for samples, _ in run]).reshape(-1, size)
                for stats in _analyse_rows(batch, self.settings, 0, flagged):
                    self._add(stats)
                start = end
                continue
            samples, flags = queue[start]
            for stats in analyse_blocks(samples, self.settings, flags):
                self._add(stats)
            start += 1

    def add(self, stats: BlockStats) -> None:
        """Append one block (after the queued buffers); drop blocks older than the window."""
        self._analyse_queue()
        self._add(stats)

    def _add(self, stats: BlockStats) -> None:
        dropouts = stats.inner_zero_runs
        if stats.flags & CONTINUITY_BREAK:
            self._zero_carry = 0
            self._seen_signal = False
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
        self._version += 1
        limit = self.seconds * self.settings.rate
        while self._blocks and self._samples - self._blocks[0][0].samples >= limit:
            old, _ = self._blocks.popleft()
            self._samples -= old.samples

    def clear(self) -> None:
        """Forget everything (e.g. after the stream was reopened)."""
        self._queue, self._queued = [], 0
        self._blocks.clear()
        self._samples = 0
        self._zero_carry = 0
        self._seen_signal = False
        if self._start_zeros is not None:
            self._start_zeros, self._start_flags = 0, 0  # still at the start: forget what it held
        self._version += 1

    @property
    def seconds_held(self) -> float:
        """How much audio the window currently covers."""
        self._analyse_queue()
        return self._samples / self.settings.rate

    def summary(self, last_seconds: float | None = None) -> AudioSummary | None:
        """Summarise the window (or its last ``last_seconds``); ``None`` when empty."""
        self._analyse_queue()
        blocks = list(self._blocks)
        if last_seconds is None:
            return self._whole_summary(blocks)
        keep, total = [], 0
        for item in reversed(blocks):
            if total >= last_seconds * self.settings.rate:
                break
            keep.append(item)
            total += item[0].samples
        # The noise floor needs pauses, so it comes from the whole window.
        whole = self._whole_summary(blocks)
        floor = None if whole is None else whole.noise_floor_dbfs
        return summarise(keep[::-1], self.settings, noise_floor=floor)

    def _whole_summary(self, blocks: list[tuple[BlockStats, int]]) -> AudioSummary | None:
        if self._whole is None or self._whole[0] != self._version:
            self._whole = (self._version, summarise(blocks, self.settings))
        return self._whole[1]


@dataclass(frozen=True)
class SpeechLevels:
    """In-band active speech level, noise floor and activity of a run of frames (powers, not dB)."""

    noise_power: float
    #: Speech power over the active frames, noise removed; ``None`` without speech.
    speech_power: float | None
    #: P.56 activity (hangover included): the frames the level is taken over.
    active: npt.NDArray[np.bool_]
    #: Frames themselves above the threshold, in runs of ``min_voiced_ms`` or more
    #: (no hangover): the time spent talking.
    voiced: int = 0


def _envelope(magnitude: Floats, settings: AnalysisSettings) -> Floats:
    """P.56's envelope: |x| smoothed twice with time constant T, here at the frame rate.

    Two cascaded one-pole smoothers have the impulse response (1−g)²(k+1)gᵏ;
    applying it as a short FIR (until gᵏ < 10⁻⁴) keeps this vectorised.
    """
    frame_s = settings.frame_samples / settings.rate
    g = math.exp(-frame_s / settings.envelope_seconds)
    taps = max(1, math.ceil(math.log(1e-4) / math.log(g)))
    k = np.arange(taps)
    kernel = (1 - g) ** 2 * (k + 1) * g**k
    out: Floats = np.convolve(magnitude, kernel)[: magnitude.size]
    return out


def _trailing_max(values: Floats, width: int) -> Floats:
    """Max over each frame and the ``width − 1`` before it (the hangover).

    Doubling: after k steps each entry holds the max of 2ᵏ entries; two
    overlapping spans of the largest power of two cover any width.
    """
    if width <= 1 or values.size == 0:
        return values
    padded = np.concatenate((np.zeros(width - 1), values))
    span, best = 1, padded
    while span * 2 <= width:
        best = np.maximum(best[span:], best[:-span])
        span *= 2
    # best[i] = max(padded[i : i + span]); the window ending at frame j starts at j.
    out: Floats = np.maximum(best[width - span :], best[: best.size - (width - span)])
    return out[: values.size]


def _long_runs(flags: npt.NDArray[np.bool_], shortest: int) -> int:
    """How many of the set entries lie in runs of at least ``shortest``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    lengths = edges[1::2] - edges[0::2]
    return int(lengths[lengths >= shortest].sum())


def _calm(near_floor: npt.NDArray[np.bool_], guard: int) -> npt.NDArray[np.bool_]:
    """Frames that are near the floor together with ``guard`` frames either side."""
    loud = np.concatenate(([0], np.cumsum(~near_floor)))
    n = near_floor.size
    index = np.arange(n)
    upper = np.minimum(index + guard + 1, n)
    lower = np.maximum(index - guard, 0)
    out: npt.NDArray[np.bool_] = (loud[upper] - loud[lower]) == 0
    return out


def speech_levels(
    power: Floats,
    magnitude: Floats,
    interior: npt.NDArray[np.bool_],
    settings: AnalysisSettings,
    noise_power: float | None = None,
) -> SpeechLevels:
    """Noise floor, active speech level and activity of in-band frames (see the module docstring).

    ``power`` and ``magnitude`` are the in-band mean square and mean |x| per
    frame; ``interior`` marks frames whose level the block edges do not
    disturb (the only ones the noise floor is taken from); ``noise_power``
    overrides the floor (for a short stretch that may hold no pause).
    """
    none = np.zeros(power.size, dtype=bool)
    if power.size == 0:
        return SpeechLevels(0.0, None, none)
    if noise_power is None:
        pool = power[interior]
        if pool.size == 0:
            pool = power
        kth = int(settings.noise_percentile / 100 * (pool.size - 1))
        seed = float(np.partition(pool, kth)[kth])
        # Noise frames: the frame and its neighbours all near the floor, so neither
        # a word nor its onset or fading tail is averaged into the noise.
        near_floor = power <= seed * 10 ** (settings.noise_margin_db / 10)
        chosen = power[_calm(near_floor, settings.noise_guard_frames) & interior]
        noise_power = float(chosen.mean()) if chosen.size >= 10 else seed
    envelope = _envelope(magnitude, settings)
    hangover = max(1, round(settings.hangover_seconds * settings.rate / settings.frame_samples))
    reach = _trailing_max(envelope, hangover + 1)
    # The envelope of the noise alone (mean |x| of Gaussian noise is √(2/π) of its RMS).
    noise_envelope = math.sqrt(max(noise_power, 0.0) * 2 / math.pi)
    lowest = max(noise_envelope * 10 ** (settings.vad_margin_db / 20), 10 ** (settings.vad_min_dbfs / 20))
    eligible = np.flatnonzero(reach >= lowest)
    if eligible.size == 0:
        return SpeechLevels(noise_power, None, none)
    # Every eligible frame's reach is a candidate threshold; for threshold c the
    # active frames are those with reach ≥ c: a suffix of the sorted order.
    order = eligible[np.argsort(reach[eligible])]
    candidates = reach[order]
    suffix = np.cumsum(power[order][::-1])[::-1]
    counts = np.arange(order.size, 0, -1)
    speech = suffix / counts - noise_power
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = 10 * np.log10(np.maximum(speech, _SILENCE_POWER)) - 20 * np.log10(candidates)
    # P.56: the lowest threshold that lies the margin (or less) below the active
    # level it gives; the gap shrinks as the threshold rises.  When even the lowest
    # allowed threshold (the noise's envelope plus a margin) is that close, it stands.
    # Every frame's reach is a candidate, so no interpolation between steps is needed.
    below = np.flatnonzero(gap <= settings.p56_margin_db)
    threshold = float(candidates[int(below[0]) if below.size else candidates.size - 1])
    active = reach >= threshold
    if not np.any(active):
        return SpeechLevels(noise_power, None, none)
    level = float(power[active].mean()) - noise_power
    run = max(1, round(settings.min_voiced_ms * settings.rate / 1000 / settings.frame_samples))
    voiced = _long_runs(magnitude >= threshold, run)
    return SpeechLevels(noise_power, level if level > 0 else None, active, voiced)


def _block_bounds(items: list[tuple[BlockStats, int]]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Index of each block's first frame in the concatenated frames, and its frame count."""
    sizes = np.fromiter((b.band_power.size for b, _ in items), dtype=np.intp, count=len(items))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
    return starts, sizes


def _interior(starts: npt.NDArray[np.intp], sizes: npt.NDArray[np.intp], total: int) -> npt.NDArray[np.bool_]:
    """Frames away from their block's edges (all of them in blocks of one or two frames)."""
    interior = np.ones(total, dtype=bool)
    wide = sizes >= 3
    interior[starts[wide]] = False
    interior[starts[wide] + sizes[wide] - 1] = False
    return interior


def summarise(
    blocks: Iterable[tuple[BlockStats, int]],
    settings: AnalysisSettings,
    noise_floor: float | None = None,
) -> AudioSummary | None:
    """Combine per-block stats (with their dropout counts) into an :class:`AudioSummary`.

    ``noise_floor`` (in-band dBFS) overrides the floor measured from these
    blocks (for short stretches that may hold no pause).
    """
    items = list(blocks)
    if not items:
        return None
    powers = np.concatenate([b.frame_power for b, _ in items])
    samples = sum(b.samples for b, _ in items)
    if powers.size == 0 or samples == 0:
        return None
    band = np.concatenate([b.band_power for b, _ in items])
    magnitude = np.concatenate([b.band_magnitude for b, _ in items])
    starts, sizes = _block_bounds(items)
    override = None if noise_floor is None else 10 ** (noise_floor / 10)
    interior = _interior(starts, sizes, band.size)
    measured = speech_levels(band, magnitude, interior, settings, override)
    noise_power = measured.noise_power
    floor_dbfs = to_dbfs(noise_power)
    frame_seconds = settings.frame_samples / settings.rate
    # Talking time counts the frames above the threshold, not the hangover after them:
    # it says whether the clerk is in a call, and a click's 200 ms hangover is not speech.
    speech_seconds = measured.voiced * frame_seconds
    speech_level = snr = None
    if measured.speech_power is not None and speech_seconds >= settings.min_speech_seconds:
        speech_level = to_dbfs(measured.speech_power)
        snr = speech_level - floor_dbfs
    levels = 10.0 * np.log10(np.maximum(powers, _SILENCE_POWER))
    peak = float(levels.max())
    audible = int(np.count_nonzero(levels > settings.dead_dbfs))
    clipped = sum(b.clipped_frames for b, _ in items)
    # Hum and DC are read in the blocks whose in-band level is near the floor: their
    # tones are background, not the harmonics of a fading word.  A block's mean, not
    # its loudest frame: short frames of a noisy pause vary by a dB or two.
    quiet_limit = noise_power * 10 ** (settings.quiet_margin_db / 10)
    filled = sizes > 0
    block_power = np.zeros(len(items))
    if np.any(filled):
        # Over the interior frames, as the floor is: the edge frames carry leaked hum into
        # the band, which (depending on where the block starts in the mains cycle) left
        # no block "near the floor" and so no hum reading at all.
        inner = np.add.reduceat(np.where(interior, band, 0.0), starts[filled])
        counts = np.add.reduceat(interior.astype(np.float64), starts[filled])
        block_power[filled] = inner / np.maximum(counts, 1.0)
    quiet_flags = filled & (block_power <= quiet_limit)
    quiet = [b for (b, _), q in zip(items, quiet_flags, strict=True) if q and not b.all_zero]
    hum = to_dbfs(_hum_lower_bound([b.hum_power for b in quiet])) if quiet else None
    # A bias shows in the pauses; speech waveforms are lopsided over short stretches.
    dc_blocks = quiet or [b for b, _ in items]
    dc = sum(b.sample_sum for b in dc_blocks) / max(1, sum(b.samples for b in dc_blocks))
    flags = [b.flags for b, _ in items]
    overflows = sum(1 for f in flags if f & PA_INPUT_OVERFLOW)
    underflows = sum(1 for f in flags if f & PA_INPUT_UNDERFLOW)
    dead = peak < settings.dead_dbfs
    return AudioSummary(
        seconds=samples / settings.rate,
        noise_floor_dbfs=round(floor_dbfs, 1),
        speech_level_dbfs=None if speech_level is None else round(speech_level, 1),
        snr_db=None if snr is None else round(snr, 1),
        speech_seconds=round(speech_seconds, 2),
        peak_dbfs=round(peak, 1),
        clipped_percent=round(100.0 * clipped / max(audible, 1), 2),
        dc_offset_percent=round(100.0 * abs(dc), 2),
        hum_dbfs=None if hum is None else round(hum, 1),
        dropouts=sum(d for _, d in items) + overflows + underflows,
        overflows=overflows,
        underflows=underflows,
        dead=dead,
        inaudible=not dead and peak < settings.inaudible_dbfs,
    )

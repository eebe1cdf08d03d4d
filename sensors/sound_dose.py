"""The clerk's sound dose: what the headset plays into the ears, as levels only (pure numpy).

Input is the 16-bit PCM the headset's playback device plays (PulseAudio: the
sink's ``.monitor`` source), mono.  Nothing here keeps, logs or sends audio:
each capture buffer is reduced at once to a few energies, and only those
numbers (per poll, per day) are kept.

**Levels.** ``dB FS`` here is relative to a full-scale *sine* (AES17: a
full-scale sine is 0 dB FS; the microphone analysis in
:mod:`sensors.audio_analysis` uses the square-wave reference, 3 dB lower).
A headset turns that into sound pressure at the ear with its *sensitivity*:
the dB SPL a full-scale sine produces at the ear reference point, so
``dB SPL = dB FS + sensitivity``.  See :data:`DEFAULT_SENSITIVITY_DB` for the
default and why.

**A-weighting** (IEC 61672-1): the analogue weighting's poles at 20.6, 107.7,
737.9 and 12194 Hz (double, single, single, double) and four zeros at 0 Hz,
mapped to the digital domain with the bilinear transform and normalised to
0 dB at 1 kHz (:func:`a_weighting`).  Below :data:`BILINEAR_HIGH_POLES_FROM_HZ`
sampling the 12194 Hz pair is close to or above the Nyquist frequency: the
bilinear transform puts its double zero at Nyquist and takes 1.5 dB off at
5 kHz and 6 dB off at 6.3 kHz at 16 kHz sampling (outside class 1).  There
the pair is mapped instead to two real digital poles whose magnitude equals
the analogue pair's at a quarter of the sampling rate (closed form, see
:func:`_high_pole`), which keeps the response within 0.3 dB of the standard
up to 5 kHz and 0.6 dB at 6.3 kHz at 16 kHz sampling (class 1 allows +1.5).
The filter is applied to each 100 ms block's spectrum (its exact frequency
response on the FFT bins): only the block's energy is wanted, and numpy has
no recursive filter (an IIR in Python would cost more than the whole
microphone analysis).

**Dose.** Equal energy (3 dB exchange rate), as GBZ 2.2-2007 (L_EX,8h limit
85 dB(A)) and ITU-T H.870 / WHO (80 dB(A) for 40 h a week) both define it:
``dose = Σ t·10^(L/10) / (T_ref·10^(L_ref/10))``.  85 dB(A) for 8 h is 100 %;
88 dB(A) for 4 h and 91 dB(A) for 2 h too.  :class:`DoseBook` keeps one
energy per day, so the weekly dose sums the last seven days.

**Acoustic shock** (:class:`ShockDetector`): a sudden burst in the receive
path -- a fax tone, feedback, a shout -- is a 4 ms frame at or above
``shock_db`` (default 102 dB SPL, the ACIF G616 acoustic-startle limit for
headsets) that rose by ``rise_db`` (10 dB) or more above the level of the
200 ms before within 16 ms, or any frame at or above ``limit_db`` (118 dB
SPL: the long-duration limit of ITU-T P.360, UL 60950-1 and ETSI EG 202 518
that telephony headset limiters enforce).  One burst is one event, with
the wall-clock time of its first loud frame and the loudest frame of the
16 ms after it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from app.kernel.lazy import lazy_import

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.int16]
    Floats = npt.NDArray[np.float64]
else:  # loaded with the monitors, used only once the headset's playback is heard
    np = lazy_import("numpy", globals())

FULL_SCALE = 32768.0
#: Mean square of a full-scale sine, in units of full scale (the 0 dB FS reference).
_SINE_MS = 0.5
#: Level given to digital silence (log of zero).
SILENCE_DB = -120.0

#: The analogue A-weighting's pole frequencies (Hz), IEC 61672-1:2013 Annex E.
A_POLES_HZ = (20.598997, 107.65265, 737.86223, 12194.217)
#: From this sampling rate up the 12194 Hz pair is bilinear-transformed too.
BILINEAR_HIGH_POLES_FROM_HZ = 40000

#: Headset sensitivity assumed when none is configured: a full-scale sine
#: gives 110 dB SPL at the ear.  Why: telephony headsets' receive limiters
#: stop at 118 dB(A) (ITU-T P.360, UL 60950-1; AS/ACIF S004 allows 118 dB(A)
#: RMS), office headsets at full volume give about 100-110 dB SPL, and nominal
#: received speech (about -26 dB FS) then reaches 84 dB SPL -- at the loud end
#: of the 70-85 dB SPL that call-centre studies measure.  Overestimating the
#: dose errs on the clerk's side; calibrate per headset model for exact figures.
DEFAULT_SENSITIVITY_DB = 110.0
#: GBZ 2.2-2007: 8 h equivalent continuous A-weighted exposure limit.
GBZ_LIMIT_DB = 85.0
GBZ_HOURS = 8.0
#: ITU-T H.870 (WHO safe listening): reference exposure per week.
H870_LIMIT_DB = 80.0
H870_HOURS = 40.0
#: Days the weekly dose sums (today and the six before).
WEEK_DAYS = 7


# -- A-weighting -------------------------------------------------------------------------
def _bilinear_pole(freq_hz: float, rate: float) -> list[float]:
    """Denominator factor (in powers of z⁻¹) of the analogue pole ``s + ω`` after the bilinear transform."""
    k, w = 2.0 * rate, 2.0 * math.pi * freq_hz
    return [k + w, -(k - w)]


def _high_pole(freq_hz: float, rate: float) -> float:
    """The real digital pole ``p`` whose ``|(1-p)/(1-p z⁻¹)|`` equals the analogue ``ω/|s+ω|`` at ``rate/4``.

    At a quarter of the rate ``z⁻¹ = -j``, so the condition is
    ``(1-p)²/(1+p²) = t`` with ``t = 1/(1+(f/freq)²)``: a quadratic in ``p``.
    """
    ratio = (rate / 4.0) / freq_hz
    u = 1.0 - 1.0 / (1.0 + ratio * ratio)
    return (1.0 - math.sqrt(1.0 - u * u)) / u


@lru_cache(maxsize=8)
def a_weighting(rate: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The digital A-weighting filter for ``rate`` Hz: numerator and denominator in powers of z⁻¹.

    Normalised to 0 dB at 1 kHz.  See the module docstring for the design.
    """
    k = 2.0 * rate
    low = A_POLES_HZ[:3]
    high = A_POLES_HZ[3]
    num: Any = np.array([1.0])
    den: Any = np.array([1.0])
    for _ in range(4):  # the four zeros at s = 0
        num = np.polymul(num, [k, -k])
    for freq, order in zip(low, (2, 1, 1), strict=True):
        for _ in range(order):
            den = np.polymul(den, _bilinear_pole(freq, rate))
    if rate >= BILINEAR_HIGH_POLES_FROM_HZ:
        for _ in range(2):
            num = np.polymul(num, [1.0, 1.0])
            den = np.polymul(den, _bilinear_pole(high, rate))
    else:
        pole = _high_pole(high, rate)
        for _ in range(2):
            den = np.polymul(den, [1.0, -pole])
    gain = 1.0 / _magnitude(num, den, np.array([1000.0]), rate)[0]
    return tuple(float(c) * gain for c in num), tuple(float(c) for c in den)


def _magnitude(num: Any, den: Any, freqs: Floats, rate: float) -> Floats:
    z_inv = np.exp(-2j * np.pi * freqs / rate)
    # np.polyval wants the highest power first; ours are in powers of z⁻¹.
    values = np.polyval(np.asarray(num)[::-1], z_inv) / np.polyval(np.asarray(den)[::-1], z_inv)
    return np.asarray(np.abs(values), dtype=np.float64)


def a_response_db(freqs: Any, rate: int) -> Floats:
    """The digital A-weighting's gain in dB at ``freqs`` (Hz) for sampling rate ``rate``."""
    num, den = a_weighting(rate)
    magnitude = _magnitude(num, den, np.atleast_1d(np.asarray(freqs, dtype=np.float64)), rate)
    return np.asarray(20.0 * np.log10(np.maximum(magnitude, 1e-30)), dtype=np.float64)


@lru_cache(maxsize=8)
def _bin_weights(rate: int, size: int) -> Floats:
    """|H|² of the A-weighting on the rfft bins of a ``size``-sample block, with Parseval's factors.

    ``sum(|rfft(x)|² · w) = Σ x_A²``: bins other than DC and Nyquist stand for
    two (the negative frequencies), and the ``1/size`` of Parseval's theorem.
    """
    freqs = np.asarray(np.fft.rfftfreq(size, 1.0 / rate), dtype=np.float64)
    num, den = a_weighting(rate)
    weights = _magnitude(num, den, freqs, rate) ** 2 * (2.0 / size)
    weights[0] /= 2.0
    if size % 2 == 0:
        weights[-1] /= 2.0
    weights.flags.writeable = False
    return weights


def to_db(mean_square: float) -> float:
    """A mean square (in units of full scale²) as dB FS re a full-scale sine."""
    if mean_square <= 0.0:
        return SILENCE_DB
    return max(SILENCE_DB, 10.0 * math.log10(mean_square / _SINE_MS))


def a_weighted_energy(samples: Samples, rate: int, block_ms: float = 100.0) -> tuple[float, int]:
    """The A-weighted energy of ``samples`` (Σ x_A², full scale = 1) and how many samples it covers.

    Cut into blocks of ``block_ms`` analysed together (one FFT call); a
    shorter tail is analysed on its own.
    """
    size = max(16, int(rate * block_ms / 1000))
    x = samples.astype(np.float64) / FULL_SCALE
    total = 0.0
    whole = x.size - x.size % size
    if whole:
        rows = x[:whole].reshape(-1, size)
        spectra = np.fft.rfft(rows, axis=1)
        power = spectra.real**2 + spectra.imag**2
        total += float(np.sum(power @ _bin_weights(rate, size)))
    if whole < x.size:
        tail = x[whole:]
        spectrum = np.fft.rfft(tail)
        total += float(np.sum((spectrum.real**2 + spectrum.imag**2) * _bin_weights(rate, tail.size)))
    return total, int(x.size)


def laeq_dbfs(samples: Samples, rate: int) -> float:
    """The A-weighted equivalent level of ``samples`` in dB FS (re a full-scale sine)."""
    energy, count = a_weighted_energy(samples, rate)
    return to_db(energy / count) if count else SILENCE_DB


# -- dose arithmetic ----------------------------------------------------------------------
def exposure_energy(level_db: float, seconds: float) -> float:
    """``seconds · 10^(L/10)``: the equal-energy exposure of ``seconds`` at ``level_db``."""
    return float(seconds * 10.0 ** (level_db / 10.0))


def dose_percent(energy: float, limit_db: float, hours: float) -> float:
    """``energy`` (see :func:`exposure_energy`) as a percentage of ``limit_db`` for ``hours``."""
    return 100.0 * energy / exposure_energy(limit_db, hours * 3600.0)


def equivalent_level(energy: float, seconds: float) -> float | None:
    """The equivalent continuous level of ``energy`` spread over ``seconds`` (``None`` for no time)."""
    if seconds <= 0.0:
        return None
    if energy <= 0.0:
        return SILENCE_DB
    return 10.0 * math.log10(energy / seconds)


@dataclass
class DayExposure:
    """One day's listening: the A-weighted energy at the ear (dB SPL basis) and the seconds measured."""

    energy: float = 0.0
    seconds: float = 0.0
    #: Of :attr:`seconds`, those heard at a volume that could not be known (counted as full volume).
    unknown_seconds: float = 0.0


@dataclass
class DoseBook:
    """Exposure per day (local dates), from which the daily and weekly doses are read.

    Kept small on purpose (one pair of numbers a day, :data:`WEEK_DAYS` + 1
    days): it is what the monitor's state file holds, so a restart during
    the day or the week loses none of the dose.
    """

    days: dict[str, DayExposure] = field(default_factory=dict)

    def add(self, day: dt.date, level_db: float, seconds: float) -> None:
        """Count ``seconds`` heard at ``level_db`` (dB(A) SPL) on ``day``."""
        self.add_energy(day, exposure_energy(level_db, seconds), seconds)

    def add_energy(self, day: dt.date, energy: float, seconds: float, unknown_seconds: float = 0.0) -> None:
        """Count ``energy`` (see :func:`exposure_energy`) over ``seconds`` on ``day``.

        ``unknown_seconds`` of them were heard at a volume that could not be known.
        """
        entry = self.days.setdefault(day.isoformat(), DayExposure())
        entry.energy += energy
        entry.seconds += seconds
        entry.unknown_seconds += unknown_seconds

    def day(self, day: dt.date) -> DayExposure:
        """The exposure recorded for ``day`` (empty when none)."""
        return self.days.get(day.isoformat(), DayExposure())

    def week_energy(self, day: dt.date) -> float:
        """The energy of ``day`` and the six days before it."""
        return sum(self.day(day - dt.timedelta(days=back)).energy for back in range(WEEK_DAYS))

    def daily_dose(self, day: dt.date, limit_db: float = GBZ_LIMIT_DB, hours: float = GBZ_HOURS) -> float:
        """``day``'s dose in % of ``limit_db`` for ``hours`` (GBZ 2.2: 85 dB(A), 8 h)."""
        return dose_percent(self.day(day).energy, limit_db, hours)

    def weekly_dose(self, day: dt.date, limit_db: float = H870_LIMIT_DB, hours: float = H870_HOURS) -> float:
        """The last seven days' dose in % of ``limit_db`` for ``hours`` a week (H.870: 80 dB(A), 40 h)."""
        return dose_percent(self.week_energy(day), limit_db, hours)

    def prune(self, today: dt.date) -> None:
        """Forget days the weekly dose no longer needs."""
        oldest = (today - dt.timedelta(days=WEEK_DAYS)).isoformat()
        for key in [k for k in self.days if k < oldest]:
            del self.days[key]

    def to_json(self) -> dict[str, Any]:
        """Plain data for the state file."""
        return {"days": {k: [v.energy, v.seconds, v.unknown_seconds] for k, v in sorted(self.days.items())}}

    @classmethod
    def from_json(cls, data: Any) -> DoseBook:
        """The book :meth:`to_json` saved; anything malformed is left out (a damaged file starts afresh)."""
        book = cls()
        days = data.get("days") if isinstance(data, dict) else None
        if not isinstance(days, dict):
            return book
        for key, value in days.items():
            try:
                dt.date.fromisoformat(str(key))
                numbers = [float(v) for v in value]
                if len(numbers) == 2:  # written before unknown volumes were counted
                    numbers.append(0.0)
                energy, seconds, unknown = numbers
            except (TypeError, ValueError):
                continue
            if all(math.isfinite(n) and n >= 0 for n in numbers):
                book.days[str(key)] = DayExposure(energy, seconds, min(unknown, seconds))
        return book


# -- acoustic shock -------------------------------------------------------------------------
@dataclass(frozen=True)
class ShockSettings:
    """What counts as an acoustic shock (dB SPL at the ear; see the module docstring)."""

    shock_db: float = 102.0
    rise_db: float = 10.0
    limit_db: float = 118.0
    frame_ms: float = 4.0
    #: The rise must happen within this time (telephony's "under 16 ms").
    rise_ms: float = 16.0
    #: The level it rose from: the energy mean over this time before the rise.
    background_ms: float = 200.0
    #: A burst ends once the level stayed below ``shock_db`` this long.
    quiet_ms: float = 1000.0


@dataclass(frozen=True)
class ShockEvent:
    """One acoustic shock: when (wall clock, s since the epoch), how loud and how sudden."""

    time: float
    level_db: float
    rise_db: float


class ShockDetector:
    """Finds acoustic shocks in a stream of frame levels (dB SPL), buffer after buffer.

    Keeps only the last :attr:`ShockSettings.background_ms` of frame levels.
    """

    def __init__(self, settings: ShockSettings, rate: int) -> None:
        self.settings = settings
        self.rate = rate
        self.frame = max(1, int(rate * settings.frame_ms / 1000))
        self._rise_frames = max(1, round(settings.rise_ms / settings.frame_ms))
        self._background_frames = max(1, round(settings.background_ms / settings.frame_ms))
        self._history: deque[float] = deque(maxlen=self._background_frames + self._rise_frames)
        self._in_burst = False
        self._quiet_frames = 0
        self._remainder: Floats = np.zeros(0)

    def reset(self) -> None:
        """Forget the past (the audio before the next buffer is not contiguous)."""
        self._history.clear()
        self._in_burst = False
        self._quiet_frames = 0
        self._remainder = np.zeros(0)

    def feed(self, levels_db: Floats, end_time: float) -> list[ShockEvent]:
        """Frame levels in dB SPL, the last ending at ``end_time``; the shocks that began in them."""
        s = self.settings
        events: list[ShockEvent] = []
        frame_s = self.frame / self.rate
        count = levels_db.size
        loud = np.flatnonzero(levels_db >= s.shock_db)
        if loud.size == 0 and not self._in_burst:
            self._history.extend(levels_db.tolist())
            return events
        quiet_needed = max(1, round(s.quiet_ms / s.frame_ms))
        for i, level in enumerate(levels_db.tolist()):
            if self._in_burst:
                if level < s.shock_db:
                    self._quiet_frames += 1
                    if self._quiet_frames >= quiet_needed:
                        self._in_burst = False
                else:
                    self._quiet_frames = 0
            elif level >= s.shock_db:
                background = self._background()
                rise = level - (background if background is not None else level)
                if level >= s.limit_db or rise >= s.rise_db:
                    when = end_time - (count - i) * frame_s
                    # The first loud frame may hold the burst's onset only: report its
                    # level as the loudest frame of the rise window that follows.
                    peak = float(levels_db[i : i + self._rise_frames + 1].max())
                    events.append(ShockEvent(when, peak, float(rise + peak - level)))
                    self._in_burst, self._quiet_frames = True, 0
            self._history.append(level)
        return events

    def _background(self) -> float | None:
        """The energy mean of the frames before the rise window, in dB SPL (floored at 0 dB SPL).

        ``None`` until :attr:`ShockSettings.background_ms` has been heard (at
        the start, or after a pause): a stream that opens on a loud moment
        did not *rise* to it as far as anyone here knows, and counting it
        would raise an alarm every time listening starts during loud audio.
        """
        history = list(self._history)
        before = history[: max(0, len(history) - self._rise_frames)]
        if len(before) < self._background_frames:
            return None
        mean = sum(10.0 ** (v / 10.0) for v in before) / len(before)
        return max(0.0, 10.0 * math.log10(mean))


def frame_levels_dbfs(samples: Samples, frame: int) -> Floats:
    """Unweighted mean-square level of each whole ``frame``-sample frame, dB FS re a full-scale sine."""
    usable = samples.size - samples.size % frame
    if not usable:
        return np.zeros(0)
    x = samples[:usable].astype(np.float64).reshape(-1, frame) / FULL_SCALE
    ms = np.einsum("ij,ij->i", x, x) / frame
    return np.asarray(10.0 * np.log10(np.maximum(ms / _SINE_MS, 10 ** (SILENCE_DB / 10))), dtype=np.float64)


# -- the meter the monitor feeds ---------------------------------------------------------------
@dataclass(frozen=True)
class MeterSettings:
    """The headset's calibration and the shock criteria."""

    sensitivity_db: float = DEFAULT_SENSITIVITY_DB
    shock: ShockSettings = field(default_factory=ShockSettings)


@dataclass
class Interval:
    """What was heard since the last :meth:`SoundDoseMeter.take`: A-weighted energy and time."""

    energy: float = 0.0
    seconds: float = 0.0
    #: Of :attr:`seconds`, those heard at a volume that could not be known (counted as full volume).
    unknown_seconds: float = 0.0
    shocks: list[ShockEvent] = field(default_factory=list)
    #: The loudest frame heard (unweighted, dB SPL), for the shock reading's detail.
    max_frame_db: float | None = None

    @property
    def laeq_db(self) -> float | None:
        """The interval's LAeq in dB(A) SPL (``None`` when nothing was heard)."""
        return equivalent_level(self.energy, self.seconds)


class SoundDoseMeter:
    """Reduces playback buffers to A-weighted energy and shock events (not thread-safe: one caller).

    :meth:`add` takes a buffer as it arrives and queues it; :meth:`take`
    analyses the queue, in order and each buffer as it came (its time, gain
    and the calibration then), and hands over what was heard since the
    previous call.  At most :attr:`QUEUE_SECONDS` of samples are kept: the
    monitor takes every poll (5 s), and a second of audio analysed once a
    second cost about twice the CPU of five analysed back to back (numpy's
    code and data gone cold in between).
    """

    #: Most audio queued before it is analysed without waiting for :meth:`take` (s).
    QUEUE_SECONDS = 10.0

    def __init__(self, settings: MeterSettings, rate: int) -> None:
        self.settings = settings
        self.rate = rate
        self._shock = ShockDetector(settings.shock, rate)
        self._interval = Interval()
        self._queue: list[tuple[Samples, int, float, bool, float, bool, MeterSettings]] = []
        self._queued_seconds = 0.0

    def add(
        self,
        samples: Samples,
        rate: int,
        end_time: float,
        contiguous: bool = True,
        gain_db: float = 0.0,
        volume_known: bool = True,
    ) -> None:
        """Analyse one buffer of ``rate`` Hz that ended at ``end_time`` (wall clock).

        ``gain_db`` is what the device applies after the recorded signal (a
        hardware volume, PipeWire's pre-volume monitor): the ear hears the
        samples ``gain_db`` louder.  A gain above 0 dB amplifies the samples
        and clips them at full scale, as the device does; below, it only scales
        the levels.  ``volume_known`` false counts the buffer as heard at an
        unknown volume.
        """
        self._queue.append((samples, rate, end_time, contiguous, gain_db, volume_known, self.settings))
        self._queued_seconds += samples.size / max(rate, 1)
        if self._queued_seconds >= self.QUEUE_SECONDS:
            self._analyse_queue()

    def _analyse_queue(self) -> None:
        queue, self._queue, self._queued_seconds = self._queue, [], 0.0
        for samples, rate, end_time, contiguous, gain_db, volume_known, settings in queue:
            self._analyse(samples, rate, end_time, contiguous, gain_db, volume_known, settings)

    def _analyse(
        self,
        samples: Samples,
        rate: int,
        end_time: float,
        contiguous: bool,
        gain_db: float,
        volume_known: bool,
        settings: MeterSettings,
    ) -> None:
        if gain_db > 0.0:
            boosted = samples.astype(np.float64) * 10.0 ** (gain_db / 20.0)
            samples = np.clip(np.round(boosted), -FULL_SCALE, FULL_SCALE - 1).astype(np.int16)
            gain_db = 0.0
        if rate != self.rate:
            self.rate = rate
            self._shock = ShockDetector(settings.shock, rate)
        elif not contiguous:
            self._shock.reset()
        if samples.size == 0:
            return
        energy, count = a_weighted_energy(samples, rate)
        seconds = count / rate
        at_ear_db = settings.sensitivity_db + gain_db
        gain = 10.0 ** (at_ear_db / 10.0)
        # Σ x_A² / rate is the energy in full-scale-units·s; over a full-scale sine's
        # mean square it is seconds·10^(L_FS/10), and the sensitivity turns it into SPL.
        self._interval.energy += energy / rate / _SINE_MS * gain
        self._interval.seconds += seconds
        if not volume_known:
            self._interval.unknown_seconds += seconds
        levels = frame_levels_dbfs(samples, self._shock.frame) + at_ear_db
        if levels.size:
            loudest = float(levels.max())
            current = self._interval.max_frame_db
            self._interval.max_frame_db = loudest if current is None else max(current, loudest)
        self._interval.shocks += self._shock.feed(levels, end_time)

    def break_continuity(self) -> None:
        """The next buffer does not follow the last one (a new stream): no rise is measured across."""
        self._analyse_queue()
        self._shock.reset()

    def take(self) -> Interval:
        """What was heard since the last call (and start a new interval)."""
        self._analyse_queue()
        interval, self._interval = self._interval, Interval()
        return interval

"""The pure sound-dose arithmetic: A-weighting, LAeq, daily and weekly dose, acoustic shock."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sensors import sound_dose as sd

#: IEC 61672-1:2013 Table 3: nominal A-weighting (dB) and the class-1 tolerance (+, −).
IEC_TABLE = {
    31.5: (-39.4, 1.5, 1.5),
    63.0: (-26.2, 1.0, 1.0),
    125.0: (-16.1, 1.0, 1.0),
    250.0: (-8.6, 1.0, 1.0),
    500.0: (-3.2, 1.0, 1.0),
    1000.0: (0.0, 0.7, 0.7),
    2000.0: (1.2, 1.0, 1.0),
    4000.0: (1.0, 1.0, 1.0),
    5000.0: (0.5, 1.5, 1.5),
    6300.0: (-0.1, 1.5, 2.0),
    8000.0: (-1.1, 1.5, 2.5),
    10000.0: (-2.5, 2.0, 3.0),
    12500.0: (-4.3, 2.0, 5.0),
    16000.0: (-6.6, 3.5, 17.0),
}


def sine(freq: float, dbfs: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 32767 * 10 ** (dbfs / 20)
    return np.round(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_a_weighting_within_class_1_of_the_standard_table(rate: int) -> None:
    # Up to 0.8 of Nyquist: at 16 kHz that is the wideband-telephony band (to 6.3 kHz).
    freqs = [f for f in IEC_TABLE if f <= 0.4 * rate]
    response = sd.a_response_db(freqs, rate)
    for freq, got in zip(freqs, response, strict=True):
        nominal, plus, minus = IEC_TABLE[freq]
        assert nominal - minus <= got <= nominal + plus, f"{freq} Hz at {rate} Hz: {got:.2f} dB"
    assert sd.a_response_db([1000.0], rate)[0] == pytest.approx(0.0, abs=1e-9)


def test_plain_bilinear_high_poles_would_fail_at_16_khz() -> None:
    """Why the 12194 Hz pair is mapped differently below 40 kHz (the fix matters)."""
    rate = 16000
    k = 2.0 * rate
    den = np.array([1.0])
    for f, order in zip(sd.A_POLES_HZ, (2, 1, 1, 2), strict=True):
        for _ in range(order):
            den = np.polymul(den, [k + 2 * np.pi * f, -(k - 2 * np.pi * f)])
    num = np.polymul(np.polymul([k, -k], [k, -k]), np.polymul([k, -k], [k, -k]))
    num = np.polymul(num, [1.0, 2.0, 1.0])
    z = np.exp(-2j * np.pi * np.array([1000.0, 6300.0]) / rate)
    mag = np.abs(np.polyval(num[::-1], z) / np.polyval(den[::-1], z))
    nominal, _plus, minus = IEC_TABLE[6300.0]
    assert 20 * np.log10(mag[1] / mag[0]) < nominal - minus  # plain bilinear: outside class 1 ...
    assert abs(sd.a_response_db([6300.0], rate)[0] - nominal) < 0.6  # ... ours: within 0.6 dB


@pytest.mark.parametrize(
    ("freq", "rate"), [(1000, 16000), (250, 16000), (4000, 16000), (1000, 48000), (8000, 48000)]
)
def test_laeq_of_a_known_sine(freq: float, rate: int) -> None:
    samples = sine(freq, -12.0, 2.0, rate)
    expected = -12.0 + sd.a_response_db([freq], rate)[0]
    assert sd.laeq_dbfs(samples, rate) == pytest.approx(expected, abs=0.1)


def test_full_scale_sine_is_0_db_fs_and_silence_is_floor() -> None:
    assert sd.laeq_dbfs(sine(1000, 0.0, 1.0, 16000), 16000) == pytest.approx(0.0, abs=0.05)
    assert sd.laeq_dbfs(np.zeros(16000, dtype=np.int16), 16000) == sd.SILENCE_DB


def test_meter_converts_to_spl_with_the_sensitivity() -> None:
    meter = sd.SoundDoseMeter(sd.MeterSettings(sensitivity_db=100.0), 16000)
    for i in range(10):  # ten 500 ms buffers
        meter.add(sine(1000, -20.0, 0.5, 16000), 16000, end_time=1000.0 + i * 0.5)
    interval = meter.take()
    assert interval.seconds == pytest.approx(5.0)
    assert interval.laeq_db == pytest.approx(80.0, abs=0.1)
    assert interval.shocks == []
    assert meter.take().laeq_db is None  # a new interval starts empty


@pytest.mark.parametrize(("level", "hours"), [(85.0, 8.0), (88.0, 4.0), (91.0, 2.0), (94.0, 1.0)])
def test_daily_dose_equal_energy(level: float, hours: float) -> None:
    book = sd.DoseBook()
    day = dt.date(2026, 12, 2)
    # Spread over many pieces, as the monitor adds it poll by poll.
    for _ in range(int(hours * 60)):
        book.add(day, level, 60.0)
    # Equal energy doubles every 10·log10(2) = 3.01 dB, so 88 dB(A) for 4 h is 99.76 %.
    assert book.daily_dose(day) == pytest.approx(100.0, abs=0.8)


def test_daily_dose_is_per_day_and_below_limit_is_less() -> None:
    book = sd.DoseBook()
    monday = dt.date(2026, 11, 30)
    book.add(monday, 82.0, 8 * 3600)
    assert book.daily_dose(monday) == pytest.approx(50.1, abs=0.1)  # 3 dB less: half
    assert book.daily_dose(monday + dt.timedelta(days=1)) == 0.0


def test_weekly_h870_dose_adds_the_days_of_the_week() -> None:
    book = sd.DoseBook()
    monday = dt.date(2026, 11, 30)
    for i in range(5):  # 80 dB(A) for 8 h, five days: the H.870 reference exactly
        book.add(monday + dt.timedelta(days=i), 80.0, 8 * 3600)
    friday = monday + dt.timedelta(days=4)
    assert book.weekly_dose(friday) == pytest.approx(100.0, rel=1e-6)
    assert book.weekly_dose(friday - dt.timedelta(days=1)) == pytest.approx(80.0, rel=1e-6)
    # Seven days later Monday has left the week.
    assert book.weekly_dose(monday + dt.timedelta(days=7)) == pytest.approx(80.0, rel=1e-6)
    assert book.daily_dose(friday) == pytest.approx(100 * 10 ** (-0.5), rel=1e-6)  # 80 dB(A) is 31.6 % of GBZ


def test_book_round_trips_and_rejects_garbage() -> None:
    book = sd.DoseBook()
    day = dt.date(2026, 12, 2)
    book.add(day, 83.0, 3600)
    again = sd.DoseBook.from_json(book.to_json())
    assert again.daily_dose(day) == pytest.approx(book.daily_dose(day))
    junk = {
        "days": {"2026-12-02": [1.0, 2.0], "yesterday": [1, 2], "2026-12-01": ["x"], "2026-11-30": [-1, 5]}
    }
    assert set(sd.DoseBook.from_json(junk).days) == {"2026-12-02"}
    assert sd.DoseBook.from_json("nonsense").days == {}
    book.add(day - dt.timedelta(days=9), 80.0, 10)
    book.prune(day)
    assert set(book.days) == {day.isoformat()}


def speech_like(seconds: float, rate: int, dbfs: float, seed: int = 1) -> np.ndarray:
    """Noise shaped like talk: syllables of 150-300 ms with pauses, onsets from silence."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    pos = 0
    while pos < out.size:
        length = int(rng.uniform(0.15, 0.3) * rate)
        envelope = np.sin(np.linspace(0, np.pi, length)) ** 0.5
        out[pos : pos + length] = (rng.standard_normal(length) * envelope)[: out.size - pos]
        pos += length + int(rng.uniform(0.05, 0.4) * rate)
    rms = np.sqrt(np.mean(out**2))
    out *= 32767 * 10 ** (dbfs / 20) / np.sqrt(2) / rms  # level re a full-scale sine
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def test_shock_on_a_sudden_burst_with_its_time() -> None:
    rate = 16000
    meter = sd.SoundDoseMeter(sd.MeterSettings(sensitivity_db=110.0), rate)
    quiet = sine(1000, -30.0, 1.0, rate)  # 80 dB SPL
    burst = sine(2100, -2.0, 0.3, rate)  # 108 dB SPL, fax-like
    signal = np.concatenate([quiet, burst, quiet])
    start = 5000.0
    for i in range(0, signal.size, rate // 2):
        chunk = signal[i : i + rate // 2]
        meter.add(chunk, rate, end_time=start + (i + chunk.size) / rate)
    shocks = meter.take().shocks
    assert len(shocks) == 1
    assert shocks[0].time == pytest.approx(start + 1.0, abs=0.01)
    assert shocks[0].level_db == pytest.approx(108.0, abs=0.5)
    assert shocks[0].rise_db >= 25


def test_buffers_analysed_at_take_give_what_buffers_analysed_on_arrival_give() -> None:
    # The meter queues what arrives and analyses it at take(): each buffer with its own time,
    # gain, volume flag and the calibration of when it came, across a new stream and a rate change.
    rate = 16000
    signal = np.concatenate(
        [sine(1000, -30.0, 1.0, rate), sine(2100, -2.0, 0.3, rate), sine(500, -20, 1.2, rate)]
    )
    meters = [sd.SoundDoseMeter(sd.MeterSettings(sensitivity_db=110.0), rate) for _ in range(2)]
    meters[1].QUEUE_SECONDS = 0.0  # analysed as each buffer arrives
    for meter in meters:
        for n, i in enumerate(range(0, signal.size, rate // 2)):
            chunk = signal[i : i + rate // 2]
            meter.add(
                chunk, rate, 100.0 + i / rate, contiguous=n != 3, gain_db=3.0 * (n % 2), volume_known=n != 2
            )
            if n == 4:
                meter.settings = sd.MeterSettings(sensitivity_db=100.0)
                meter.break_continuity()
        meter.add(sine(1000, -10.0, 0.5, 8000), 8000, 200.0)
    assert len(meters[0]._queue) == 1 and not meters[1]._queue
    lazy, eager = (meter.take() for meter in meters)
    assert lazy == eager and lazy.shocks and lazy.unknown_seconds == pytest.approx(0.5)


def test_a_meter_nobody_takes_from_queues_at_most_its_queue_seconds() -> None:
    meter = sd.SoundDoseMeter(sd.MeterSettings(), 16000)
    for i in range(30):
        meter.add(sine(1000, -30.0, 1.0, 16000), 16000, float(i))
    assert meter._queued_seconds < meter.QUEUE_SECONDS
    assert meter.take().seconds == pytest.approx(30.0)


def test_no_shock_on_speech_or_a_loud_but_steady_tone() -> None:
    rate = 16000
    meter = sd.SoundDoseMeter(sd.MeterSettings(), rate)
    talk = speech_like(20.0, rate, -20.0)  # 90 dB SPL speech, loud for a phone call
    for i in range(0, talk.size, rate // 2):
        meter.add(talk[i : i + rate // 2], rate, end_time=float(i))
    assert meter.take().shocks == []
    # A level that creeps up (a fade-in) crosses 102 dB SPL without a sudden rise.
    ramp = np.linspace(-30, -3, 3 * rate)
    t = np.arange(ramp.size) / rate
    fade = np.round(32767 * 10 ** (ramp / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    meter.add(fade, rate, end_time=100.0)
    assert meter.take().shocks == []


def test_shock_above_the_hard_limit_even_without_a_rise() -> None:
    rate = 16000
    meter = sd.SoundDoseMeter(sd.MeterSettings(sensitivity_db=125.0), rate)
    loud = sine(1000, -5.0, 2.0, rate)  # 120 dB SPL, already loud before
    meter.add(loud[:rate], rate, end_time=1.0)
    shocks = meter.take().shocks
    assert len(shocks) == 1 and shocks[0].level_db >= 118  # at its first frame
    meter.add(loud[rate:], rate, end_time=2.0)
    assert meter.take().shocks == []  # the same burst: one event


def test_a_second_burst_after_quiet_is_a_second_event() -> None:
    rate = 16000
    detector_meter = sd.SoundDoseMeter(sd.MeterSettings(), rate)
    quiet = np.zeros(int(1.5 * rate), dtype=np.int16)
    burst = sine(3000, -1.0, 0.1, rate)
    signal = np.concatenate([quiet, burst, quiet, burst, quiet])
    detector_meter.add(signal, rate, end_time=10.0)
    assert len(detector_meter.take().shocks) == 2

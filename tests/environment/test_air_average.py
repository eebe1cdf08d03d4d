"""Rolling time-weighted averages of pollutants over simulated hours (pure code, explicit times)."""

from __future__ import annotations

import math
import random

import pytest

from monitors.environment import BUCKET_S, HOUR, RollingAverage

T0 = 1_800_000_000.0  # a wall-clock time, so bucket edges are not at zero


def feed(average: RollingAverage, start: float, seconds: float, value: float, every: float = 10.0) -> float:
    """Samples of ``value`` every ``every`` s from ``start`` for ``seconds``; returns the end time."""
    steps = int(seconds / every)
    for n in range(steps):
        average.add(start + n * every, value)
    return start + steps * every


def test_constant_value_is_its_own_average_and_coverage_grows_with_time() -> None:
    average = RollingAverage(HOUR, max_hold=120)
    end = feed(average, T0, 30 * 60, 0.05)
    mean, covered = average.mean(end)
    assert mean == pytest.approx(0.05)
    assert covered == pytest.approx(30 * 60, abs=BUCKET_S)


def test_the_mean_is_weighted_by_time_not_by_sample_count() -> None:
    average = RollingAverage(HOUR, max_hold=3600)
    # 50 minutes at 10 (one sample a minute), then 10 minutes at 100 (a sample a second):
    # per sample the mean would be ~92; per time it is (50·10 + 10·100) / 60 = 25.
    t = feed(average, T0, 50 * 60, 10.0, every=60)
    t = feed(average, t, 10 * 60, 100.0, every=1)
    mean, covered = average.mean(t)
    assert covered == pytest.approx(HOUR, abs=BUCKET_S)
    assert mean == pytest.approx(25.0, rel=0.03)


def test_old_samples_leave_the_window_and_memory_stays_bounded() -> None:
    average = RollingAverage(24 * HOUR, max_hold=120)
    t = feed(average, T0, 24 * HOUR, 80.0, every=5)
    t = feed(average, t, 24 * HOUR, 20.0, every=5)
    mean, covered = average.mean(t)
    assert mean == pytest.approx(20.0)
    assert covered == pytest.approx(24 * HOUR, abs=2 * BUCKET_S)
    # Two days of samples every 5 s (34 560 of them) kept as at most a day of minutes.
    assert len(average) <= 24 * HOUR / BUCKET_S + 2


def test_window_edge_half_of_the_window_in_each_value() -> None:
    average = RollingAverage(8 * HOUR, max_hold=120)
    t = feed(average, T0, 8 * HOUR, 0.2)
    t = feed(average, t, 4 * HOUR, 1.0)
    mean, _ = average.mean(t)
    assert mean == pytest.approx(0.6, abs=0.01)


def test_a_gap_when_the_sensor_was_unplugged_is_not_covered_nor_filled_with_the_last_value() -> None:
    average = RollingAverage(HOUR, max_hold=120)
    t = feed(average, T0, 20 * 60, 0.02)
    # Unplugged for 30 minutes: no samples.  The last value holds at most max_hold.
    t += 30 * 60
    t = feed(average, t, 10 * 60, 0.10)
    mean, covered = average.mean(t)
    assert covered == pytest.approx(30 * 60 + 120, abs=2 * BUCKET_S)
    # Only observed time counts: (20 min·0.02 + 2 min·0.02 + 10 min·0.10) / 32 min.
    assert mean == pytest.approx((22 * 0.02 + 10 * 0.10) / 32, rel=0.05)


def test_the_open_sample_counts_up_to_now_but_not_past_max_hold() -> None:
    average = RollingAverage(HOUR, max_hold=120)
    average.add(T0, 5.0)
    assert average.mean(T0 + 60) == (5.0, pytest.approx(60))
    assert average.mean(T0 + 600)[1] == pytest.approx(120)


def test_a_clock_set_back_forgets_what_now_lies_in_the_future() -> None:
    average = RollingAverage(HOUR, max_hold=120)
    t = feed(average, T0, 20 * 60, 1.0)
    t = feed(average, t, 20 * 60, 3.0)
    # Set back 20 minutes: the minutes at 3.0 "have not happened"; the hour goes on from there.
    t = feed(average, t - 20 * 60, 10 * 60, 2.0)
    mean, covered = average.mean(t)
    assert covered == pytest.approx(30 * 60, abs=2 * BUCKET_S)
    # To the bucket: the minute the clock went back to keeps what it held (one minute at 3.0).
    assert (20 * 1.0 + 10 * 2.0) / 30 <= mean <= (20 * 1.0 + 3.0 + 10 * 2.0) / 31 + 1e-9


def test_the_running_total_agrees_with_adding_the_buckets_up() -> None:
    rng = random.Random(2022)
    average = RollingAverage(HOUR, max_hold=120)
    t = T0
    for _ in range(20_000):
        t += rng.choice((1.0, 10.0, 10.0, 10.0, 300.0))  # now and then the sensor is out for 5 minutes
        average.add(t, rng.uniform(0.0, 0.3))
        if rng.random() < 0.01:
            brute = average._cells(t, HOUR)
            covered = sum(c[2] for c in brute)
            mean, seconds = average.mean(t)
            assert seconds == pytest.approx(covered, abs=1e-6)
            assert mean == pytest.approx(sum(c[1] for c in brute) / covered, rel=1e-9)


def test_restart_continues_the_saved_window_and_drops_what_left_it() -> None:
    before = RollingAverage(24 * HOUR, max_hold=120)
    t = feed(before, T0, 20 * HOUR, 40.0)
    state = before.state()
    # Down for 2 hours, then the same day continues.
    after = RollingAverage(24 * HOUR, max_hold=120)
    after.restore(state, t + 2 * HOUR)
    t = feed(after, t + 2 * HOUR, 2 * HOUR, 60.0)
    mean, covered = after.mean(t)
    assert covered == pytest.approx(22 * HOUR + 120, abs=3 * BUCKET_S)
    assert mean == pytest.approx((20 * 40 + 2 * 60) / 22, rel=0.01)
    # Restored a day and a half later, nothing of it is in the window any more.
    late = RollingAverage(24 * HOUR, max_hold=120)
    late.restore(state, t + 36 * HOUR)
    assert late.mean(t + 36 * HOUR) == (None, 0.0)


def test_time_to_reach_the_limit_follows_the_windows_content() -> None:
    average = RollingAverage(HOUR, max_hold=120)
    t = feed(average, T0, HOUR, 0.04)
    # Held at 0.12 the 1 h mean of 0.04 reaches 0.08 when half the window is new: 30 min.
    eta = average.time_to_reach(t, 0.08, 0.12)
    assert eta == pytest.approx(30 * 60, abs=2 * BUCKET_S)
    assert average.time_to_reach(t, 0.08, 0.07) is None  # below the limit it never gets there
    t = feed(average, t, HOUR, 0.09)
    assert average.time_to_reach(t, 0.08, 0.09) == 0.0  # there already


def test_noise_does_not_move_a_long_average() -> None:
    rng = random.Random(18883)
    average = RollingAverage(24 * HOUR, max_hold=120)
    t = T0
    for _ in range(int(24 * HOUR / 10)):
        average.add(t, max(0.0, 30 + rng.gauss(0, 15)))
        t += 10
    mean, _ = average.mean(t)
    assert mean is not None and math.isclose(mean, 30, abs_tol=0.5)


def test_time_to_reach_waits_for_the_coverage_the_standard_asks() -> None:
    average = RollingAverage(24 * HOUR, max_hold=120)
    t = feed(average, T0, 10 * 60, 80.0)
    # Ten minutes at 80 are over 50, but a day's average is judged only once 18 h are covered.
    assert average.time_to_reach(t, 50.0, 80.0) == 0.0
    eta = average.time_to_reach(t, 50.0, 80.0, needed=18 * HOUR)
    assert eta == pytest.approx(18 * HOUR - 10 * 60, abs=2 * BUCKET_S)

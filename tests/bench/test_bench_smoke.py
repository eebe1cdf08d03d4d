"""The benchmark code runs end to end (tiny windows): a benchmark that breaks unseen is no help.

Timings here are not judged (a shared 2-core machine decides those); what
is checked is that the seat starts, every process survives the window, the
outside view counts reaped children, and the reports carry their ratios.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.bench import Usage, _tree_cpu_rss, bench_all, bench_scale, peak_rss_mib, report
from tests.bench.seat import Seat


def test_reaped_children_count_in_the_outside_view() -> None:
    # A parent that spends CPU only in a child it has reaped (as ``pactl`` helpers are).
    spender = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    script = (
        f"import subprocess, sys, time\nsubprocess.run([sys.executable, '-c', {spender!r}])\ntime.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        handle = psutil.Process(parent.pid)
        deadline = time.monotonic() + 30
        while handle.cpu_times().children_user + handle.cpu_times().children_system == 0:
            assert time.monotonic() < deadline, "the child was not reaped"
            time.sleep(0.1)
        assert not handle.children()
        cpu, peak = _tree_cpu_rss(handle)
        assert cpu >= 0.28  # the child's 0.3 s (the kernel rounds to ticks once)
        assert peak > 1 and peak == peak_rss_mib(parent.pid)
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_bench_all_runs_on_a_small_seat() -> None:
    results = bench_all.run(3.0, warmup=2.0, printers=1, sensors=3)
    names = [r.baseline.name for r in results]
    assert bench_all.BARE_CAPTURE in names and "sum of the three bare baselines" in names
    subject = results[0].subject
    assert subject.name == bench_all.SUBJECT
    assert subject.cpu_seconds_per_minute > 0 and subject.peak_rss_mib > 20
    assert "ratio (Deskwatch / baseline)" in report(results)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_bench_scale_runs_with_small_counts() -> None:
    results = bench_scale.run(3.0, warmup=2.0, printers=(1, 2), sensors=(1, 2), pollutants=(1, 3))
    subjects = [r.subject.name for r in results]
    assert subjects == [
        "headset", "printers: 1", "printers: 2", "sensors: 1", "sensors: 2", "pollutants: 1", "pollutants: 3",
    ]  # fmt: skip
    assert all(r.baseline.name == "floor: no monitor" for r in results)
    notes = " ".join(r.notes for r in results)
    assert "printers: first over the floor" in notes and "sensors: first over the floor" in notes
    assert "pollutants: first over the floor" in notes
    assert "/ headset" in notes


def test_the_per_thread_view_names_threads_and_counts_their_wake_ups() -> None:
    from tests.bench.threads import NAME_THREADS, measure, report

    ticker = (
        "import threading, time\n"
        "def tick():\n    for _ in range(200): time.sleep(0.02)\n"
        "threading.Thread(target=tick, name='deskwatch-ticker').start()\n"
        "time.sleep(30)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", NAME_THREADS + ticker])
    try:
        time.sleep(0.5)
        usages, totals = measure(child.pid, 1.5)
    finally:
        child.kill()
        child.wait()
    by_name = {u.name: u for u in usages}
    assert set(by_name) == {"MainThread (GUI)", "ticker"}, by_name
    assert by_name["ticker"].wakes_per_second > 20  # 50 sleeps a second
    assert by_name["MainThread (GUI)"].wakes_per_second < 5  # one long sleep
    printed = report({"threads": [u.__dict__ for u in usages], "totals": totals})
    assert totals["process"] >= 0 and "ticker" in printed


def _environment_round(pollutant_reader: float = 0.018, second_co2: float = 0.008) -> dict[str, Usage]:
    """Fake usage of one round: process CPU floor 0.010, CO₂ 0.020 (0.010 over), each pollutant
    0.015 (0.005 over); threads: the floor's poll 0.001, the first CO₂ sensor's reader 0.008 and
    the second's ``second_co2``, a pollutant's ``pollutant_reader``, each with a poll of 0.001."""
    from tests.bench import bench_environment

    def usage(name: str, cpu: float, threads: dict[str, float]) -> Usage:
        return Usage(name, cpu, 30.0, threads)

    fake = {bench_environment.FLOOR: usage(bench_environment.FLOOR, 0.010, {"poll-environmen": 0.001})}
    for label in bench_environment.SENSORS:
        co2 = label == bench_environment.CO2
        for n, name in enumerate(bench_environment.processes(label)):
            reader = (second_co2 if n else 0.008) if co2 else pollutant_reader
            threads = {f"sensor-x{n}": reader, "poll-environmen": 0.001}
            fake[name] = usage(name, 0.020 if co2 else 0.015, threads)
    fake[bench_environment.MONITOR] = usage(bench_environment.MONITOR, 0.03, {})
    fake[bench_environment.BARE] = usage(bench_environment.BARE, 0.04, {})
    return fake


def _environment_results(
    rounds: list[dict[str, Usage]], phases: list[dict[str, float]] | None = None
) -> list[Any]:
    from tests.bench import bench_environment

    return bench_environment.summarise_rounds(
        [bench_environment.Round(u, p) for u, p in zip(rounds, phases or [{}] * len(rounds), strict=True)]
    )


def test_environment_sensors_are_reported_over_the_floor_against_both_co2_sensors_pooled() -> None:
    from tests.bench import bench_environment

    # The two MH-Z19s' threads cost 0.008 and 0.010 over the floor's poll: the reference is 0.009.
    results = bench_environment.summarise(_environment_round(second_co2=0.010))
    process = [r for r in results if r.bench == "environment-sensor"]
    threads = [r for r in results if r.bench == "environment-sensor-threads"]
    assert len(process) == len(threads) == len(bench_environment.SENSORS) - 1
    assert all(abs(r.cpu_ratio - 0.5) < 1e-9 for r in process)
    assert all(abs(r.cpu_ratio - 18 / 9) < 1e-9 for r in threads)
    assert all("reader 0.0180, poll +0.0000" in r.notes for r in threads), threads[0].notes
    # The noise: the second MH-Z19 against the first, and so the two TVOC transmitters.
    noise = [r for r in results if r.bench == "environment-noise-threads"]
    assert [round(r.cpu_ratio, 6) for r in noise] == [1.25, 1.0]
    assert results[-1].bench == "environment" and abs(results[-1].cpu_ratio - 0.75) < 1e-9


def test_environment_rounds_are_pooled_and_each_rounds_range_is_noted() -> None:
    # Over the floor's poll a pollutant's threads cost 0.008 in one round and 0.016 in the
    # other, the CO₂ sensors' 0.008 in both: the pooled ratio is that of the means.
    phases = [{"a": 0.1, "b": 1.9}, {"a": 0.5, "b": 1.0, "c": 1.2}]
    results = _environment_results([_environment_round(0.008), _environment_round(0.016)], phases)
    threads = [r for r in results if r.bench == "environment-sensor-threads"]
    assert all(abs(r.cpu_ratio - 1.5) < 1e-9 for r in threads)
    assert all(r.notes.endswith("[2 rounds: 1.00–2.00]") for r in threads), threads[0].notes
    # 0.1 and 1.9 s are 0.2 s apart across the cycle's end; 1.0 and 1.2 s as far.
    assert "at least 0.20 s apart" in results[0].notes and "0.20, 0.20 s" in results[0].notes
    assert "warnings" not in results[0].notes


def test_a_round_whose_sensors_logged_warnings_says_so() -> None:
    from tests.bench import bench_environment

    rounds = [
        bench_environment.Round(_environment_round(), {}, {"TVOC #1": 3}),
        bench_environment.Round(_environment_round()),
    ]
    notes = bench_environment.summarise_rounds(rounds)[0].notes
    assert "round 1: sensor warnings logged (TVOC #1: 3)" in notes and "round 2" not in notes


def test_phases_are_circular_means_of_the_request_times_in_the_window() -> None:
    from tests.bench import bench_environment

    # Requests at 1.95 s and 0.05 s into successive cycles average to 0, not to 1.
    times = [10.0 + 1.95, 12.0 + 0.05, 14.0 + 1.95, 16.0 + 0.05, 30.0 + 1.0]
    phase = bench_environment._phase(times, 10.0, 20.0)
    assert phase is not None and min(phase, 2.0 - phase) < 1e-6
    assert bench_environment._phase(times, 40.0, 50.0) is None
    assert abs(bench_environment.closest_phases({"a": 0.3, "b": 1.0, "c": 1.8}) - 0.5) < 1e-9


def test_the_seat_turns_the_hearing_monitor_off_and_keeps_the_headset(tmp_path: Path) -> None:
    on = Seat(tmp_path, printers=0, sensors=0, phone=False).config_text()
    off = Seat(tmp_path, printers=0, sensors=0, phone=False, hearing=False).config_text()
    assert '[monitors.hearing]\nsink = "' in on
    assert "[monitors.hearing]\nenabled = false\n" in off and "[monitors.hearing]\nsink" not in off
    assert '[monitors.headset]\ndevice = "' in off  # the microphone is still analysed

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


def _environment_round(pollutant_reader: float = 0.018) -> dict[str, Usage]:
    """Fake usage of one round: process CPU floor 0.010, CO₂ 0.020 (0.010 over), each pollutant
    0.015 (0.005 over); threads: the floor's poll 0.001, CO₂'s reader + poll 0.009, a pollutant's
    ``pollutant_reader`` + 0.001."""
    from tests.bench import bench_environment

    def usage(name: str, cpu: float, threads: dict[str, float]) -> Usage:
        return Usage(name, cpu, 30.0, threads)

    fake = {bench_environment.FLOOR: usage(bench_environment.FLOOR, 0.010, {"poll-environmen": 0.001})}
    for label in bench_environment.SENSORS:
        co2 = label == bench_environment.CO2
        reader = 0.008 if co2 else pollutant_reader
        fake[label] = usage(label, 0.020 if co2 else 0.015, {"sensor-x": reader, "poll-environmen": 0.001})
    fake[bench_environment.MONITOR] = usage(bench_environment.MONITOR, 0.03, {})
    fake[bench_environment.BARE] = usage(bench_environment.BARE, 0.04, {})
    return fake


def test_environment_sensors_are_reported_over_the_floor_against_the_co2_sensor() -> None:
    from tests.bench import bench_environment

    results = bench_environment.summarise(_environment_round())
    process = [r for r in results if r.bench == "environment-sensor"]
    threads = [r for r in results if r.bench == "environment-sensor-threads"]
    assert len(process) == len(threads) == len(bench_environment.SENSORS) - 1
    assert all(abs(r.cpu_ratio - 0.5) < 1e-9 for r in process)
    assert all(abs(r.cpu_ratio - 18 / 8) < 1e-9 for r in threads)
    assert results[-1].bench == "environment" and abs(results[-1].cpu_ratio - 0.75) < 1e-9


def test_environment_rounds_are_pooled_and_each_rounds_range_is_noted() -> None:
    from tests.bench import bench_environment

    # Over the floor's poll a pollutant's threads cost 0.008 in one round and 0.016 in the
    # other, the CO₂ sensor's 0.008 in both: the pooled ratio is that of the means.
    results = bench_environment.summarise_rounds([_environment_round(0.008), _environment_round(0.016)])
    threads = [r for r in results if r.bench == "environment-sensor-threads"]
    assert all(abs(r.cpu_ratio - 1.5) < 1e-9 for r in threads)
    assert all(r.notes.endswith("[2 rounds: 1.00–2.00]") for r in threads), threads[0].notes


def test_the_seat_turns_the_hearing_monitor_off_and_keeps_the_headset(tmp_path: Path) -> None:
    on = Seat(tmp_path, printers=0, sensors=0, phone=False).config_text()
    off = Seat(tmp_path, printers=0, sensors=0, phone=False, hearing=False).config_text()
    assert '[monitors.hearing]\nsink = "' in on
    assert "[monitors.hearing]\nenabled = false\n" in off and "[monitors.hearing]\nsink" not in off
    assert '[monitors.headset]\ndevice = "' in off  # the microphone is still analysed

"""Environment monitoring: what one sensor of each kind costs, and the monitor next to a bare loop.

One run, side by side, seen from outside (children counted, see
:func:`tests.bench.measure_side_by_side`), every process ``deskwatch run
--headless`` with only the environment monitor, each reading its own
simulated sensor on a real pty, at the config's defaults (``period = 2``):

- the floor: the environment monitor with no sensor configured;
- one MH-Z19 CO₂ sensor (asked every 2 s), the reference;
- one Plantower PMS5003 in active mode at both of the manual's paces: its
  stable mode (a 32-byte frame every 2.3 s) and the fast mode it switches
  to when the concentration changes (every 200–800 ms: 0.2 s, the worst);
- one ZE08-CH2O in active upload (a 9-byte frame every second, its manual);
- one RS-485 TVOC transmitter sending an IEEE-754 float32 in two registers.

Each is reported as CPU above the floor and as a ratio to the CO₂ sensor
(issue 18: a pollutant sensor must cost no more than it); a second MH-Z19,
reported the same way, shows how far apart two equal sensors come out in
the same run.  A sensor costs about 0.01 CPU-s/min, so one run's ratios
move by ±0.1: the run is repeated (:data:`ROUNDS` rounds, fresh processes
each time, every round with all of them side by side); the ratios are those
of the rounds pooled, with each round's range in the notes.  In the same run,
as before: a text board (``T=…,H=…`` every 2 s, the DHT22's fastest pace)
and an MH-Z19 read by Deskwatch, next to a bare pyserial loop reading and
parsing the same kinds of sensors.
"""

from __future__ import annotations

import itertools
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench import Result, Usage, measure_side_by_side, python
from tests.bench.bench_scale import headless_commands, only
from tests.bench.seat import PMS_FAST_S, PMS_STABLE_S, ZE08_S, sensor
from tests.environment.simulators import Mhz19Responder, TextLineBoard

BARE_LOOP = """
import sys, time, serial
board = serial.Serial(sys.argv[1], 9600, timeout=0.2)
co2 = serial.Serial(sys.argv[2], 9600, timeout=1.0)
request = bytes.fromhex("ff 01 86 00 00 00 00 00 79")
buffer, last = b"", 0.0
while True:
    buffer += board.read(max(1, board.in_waiting))
    *lines, buffer = buffer.split(b"\\n")
    for line in lines:
        fields = dict(p.split("=") for p in line.decode().strip().split(","))
        float(fields["T"]), float(fields["H"])
    if time.monotonic() - last >= 2.0:
        last = time.monotonic()
        co2.write(request)
        reply = co2.read(9)
        reply[2] * 256 + reply[3]
"""

FLOOR = "floor: no sensor"
CO2 = "MH-Z19 CO₂, every 2 s"
TVOC = "Modbus TVOC float32, every 2 s"
#: The sensors' read period (the config's default), the cycle the phases are taken in.
PERIOD = 2.0
#: One sensor per process: label → (kind, processes) (see :func:`tests.bench.seat.sensor`).
#: Two MH-Z19s make the reference, pooled, and how far apart the two come out is the
#: run's noise; two TVOC transmitters, pooled, are judged against them.
SENSORS: dict[str, tuple[str, int]] = {
    CO2: ("mhz19", 2),
    f"PMS5003 active, stable ({PMS_STABLE_S:g} s)": ("pms", 1),
    f"PMS5003 active, fast ({PMS_FAST_S:g} s)": ("pms-fast", 1),
    f"ZE08-CH2O active ({ZE08_S:g} s)": ("ze08", 1),
    TVOC: ("tvoc", 2),
}


def processes(label: str) -> list[str]:
    """The process names of one sensor label: the label itself, or ``label #1``, ``label #2``…"""
    _, count = SENSORS[label]
    return [label] if count == 1 else [f"{label} #{n + 1}" for n in range(count)]


def _sensor(name: str, protocol: str, port: Path) -> str:
    return f'[[monitors.environment.sensors]]\nname = "{name}"\nprotocol = "{protocol}"\nport = "{port}"\n'


MONITOR = "deskwatch run --headless (environment)"
#: Kernel names of the threads a sensor costs in: its reader and the monitor's poll.
THREADS = ("sensor-", "poll-environmen")
READER, POLL = THREADS
BARE = "bare pyserial loop, same sensors"


#: Rounds of a run (each ``seconds`` long after its warm-up).
ROUNDS = 3


@dataclass
class Round:
    """One round's usage by process, and where in the cycle each asked sensor is asked (s)."""

    usage: dict[str, Usage]
    phases: dict[str, float] = field(default_factory=dict)
    #: Per process, the sensor warnings it logged (a lost link, no answer), which a figure
    #: costing many times its usual is read with.
    warnings: dict[str, int] = field(default_factory=dict)


def run(seconds: float, warmup: float = 15.0, rounds: int = ROUNDS) -> list[Result]:
    """``rounds`` rounds of ``seconds`` after ``warmup`` each (smaller values only for the smoke test).

    ``seconds`` should be a multiple of the monitor's 10 s poll (and so of the
    readers' 2 s): a window then holds the same number of cycles of every
    process, whatever their phases, and no process gains or loses one.
    """
    return summarise_rounds([measure(seconds, warmup) for _ in range(rounds)])


def _phase(times: list[float], start: float, end: float) -> float | None:
    """Where in the :data:`PERIOD` the requests in ``[start, end]`` fell (circular mean, s)."""
    angles = [2 * math.pi * (t % PERIOD) / PERIOD for t in times if start <= t <= end]
    if not angles:
        return None
    angle = math.atan2(sum(map(math.sin, angles)), sum(map(math.cos, angles)))
    return (angle / (2 * math.pi) * PERIOD) % PERIOD


def closest_phases(phases: dict[str, float]) -> float:
    """The shortest time (s) between two of ``phases`` on the :data:`PERIOD` circle."""
    ordered = sorted(phases.values())
    if len(ordered) < 2:
        return PERIOD
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    return min(*gaps, ordered[0] + PERIOD - ordered[-1])


def measure(seconds: float, warmup: float) -> Round:
    """One round: every process side by side, measured for ``seconds`` after ``warmup``.

    Started at once, every reader would ask its sensor at about the same
    moment of each 2 s cycle, and all of them (with the simulators, one
    process here) would run in one burst on the two cores.  So the
    processes' starts are spread over a period (each sleeps its share before
    it imports anything), and each asked sensor's phase is noted from its
    simulator's request times.
    """
    with tempfile.TemporaryDirectory(prefix="dw-bench-env-") as tmp:
        folder = Path(tmp)
        devices: list[Any] = []
        asked: dict[str, Any] = {}
        configs = {FLOOR: only("environment", "[monitors.environment]\nenabled = true\n")}
        n = 0
        for label, (kind, _) in SENSORS.items():
            for name in processes(label):
                device, table = sensor(kind, folder, n)
                n += 1
                devices.append(device)
                configs[name] = only("environment", table)
                if hasattr(device, "request_times"):
                    asked[name] = device
        pair = [
            TextLineBoard(folder / "ttyDesk", interval=2.0),
            Mhz19Responder(folder / "ttyDeskCO2"),
            TextLineBoard(folder / "ttyBareDesk", interval=2.0),
            Mhz19Responder(folder / "ttyBareCO2"),
        ]
        devices += pair
        configs[MONITOR] = only(
            "environment", _sensor("desk", "text", pair[0].link) + _sensor("co2", "mhz19", pair[1].link)
        )
        for device in devices:
            device.plug()
        try:
            headless = headless_commands(configs, folder, "env", named_threads=True)
            commands: dict[str, Sequence[str]] = {}
            for k, (name, command) in enumerate(headless.items()):
                # [python, "-c", prelude, "run", …]: each process first sleeps its share of a period.
                delay = f"import time; time.sleep({k * PERIOD / len(headless):.3f})\n"
                commands[name] = [command[0], command[1], delay + command[2], *command[3:]]
            commands[BARE] = [python(), "-c", BARE_LOOP, str(pair[2].link), str(pair[3].link)]
            began = time.monotonic()
            logged: dict[str, str] = {}
            usage = measure_side_by_side(
                commands, seconds, warmup=warmup, thread_prefix=THREADS, stderr=logged
            )
            window = (began + warmup, began + warmup + seconds)
            phases = {name: _phase(list(d.request_times), *window) for name, d in asked.items()}
        finally:
            for device in devices:
                device.unplug()
    warnings = {name: text.count(" WARNING sensors.") for name, text in logged.items()}
    return Round(
        usage,
        {name: phase for name, phase in phases.items() if phase is not None},
        {name: count for name, count in warnings.items() if count},
    )


def summarise_rounds(rounds: list[Round]) -> list[Result]:
    """:func:`summarise` of the rounds pooled (each process's mean), each round's range in the notes."""
    pooled = {}
    for name, first in rounds[0].usage.items():
        same = [r.usage[name] for r in rounds]
        threads = {t: sum(u.threads.get(t, 0.0) for u in same) / len(same) for t in first.threads}
        cpu = sum(u.cpu_seconds_per_minute for u in same) / len(same)
        pooled[name] = Usage(name, cpu, max(u.peak_rss_mib for u in same), threads)
    results = summarise(pooled)
    gaps = [closest_phases(r.phases) for r in rounds if r.phases]
    if gaps:
        results[0].notes += (
            f"; the asked sensors' requests at least {min(gaps):.2f} s apart in the {PERIOD:g} s cycle"
            f" (closest pair per round: {', '.join(f'{g:.2f}' for g in gaps)} s)"
        )
    for n, one in enumerate(rounds, start=1):
        if one.warnings:
            logged = ", ".join(f"{name}: {count}" for name, count in one.warnings.items())
            results[0].notes += f"; round {n}: sensor warnings logged ({logged})"
    if len(rounds) > 1:
        each = [summarise(r.usage) for r in rounds]
        for n, result in enumerate(results[1:], start=1):
            ratios = [round_results[n].cpu_ratio for round_results in each]
            result.notes += f" [{len(rounds)} rounds: {min(ratios):.2f}–{max(ratios):.2f}]"
    return results


def _mean(name: str, usage: list[Usage]) -> Usage:
    """One :class:`Usage` for equal processes: the mean of each figure (threads by kind)."""
    threads: dict[str, float] = {}
    for one in usage:
        for thread, cpu in one.threads.items():
            kind = READER if thread.startswith(READER) else thread
            threads[kind] = threads.get(kind, 0.0) + cpu / len(usage)
    cpu = sum(u.cpu_seconds_per_minute for u in usage) / len(usage)
    return Usage(name, cpu, max(u.peak_rss_mib for u in usage), threads)


def summarise(usage: dict[str, Usage]) -> list[Result]:
    """Each sensor against the CO₂ sensors, twice: its processes over the floor, and their threads.

    The process over the floor is the issue's outside view; the floor's own
    noise (other threads' timers) is of the size of one sensor's cost, so the
    same run also counts only the threads a sensor costs in -- its reader
    and the monitor's poll, less the floor's poll thread -- which has no
    such noise.  A sensor run in two processes is their mean, the reference
    too (both MH-Z19s); then each such pair's second against its first (two
    equal sensors: the run's noise).  Last, the monitor with two sensors
    against the bare loop.
    """
    floor = usage[FLOOR]
    floor_poll = sum(floor.threads.values())

    def over(own: Usage) -> tuple[Usage, Usage]:
        process = own.cpu_seconds_per_minute - floor.cpu_seconds_per_minute
        threads = sum(own.threads.values()) - floor_poll
        rss = own.peak_rss_mib
        return (Usage(f"{own.name}: process over the floor", process, rss, own.threads),
                Usage(f"{own.name}: reader + poll threads", threads, rss, own.threads))  # fmt: skip

    def split(own: Usage) -> str:
        reader = sum(c for t, c in own.threads.items() if t.startswith(READER))
        return f"reader {reader:.4f}, poll {own.threads.get(POLL, 0.0) - floor_poll:+.4f} over the floor's"

    def pooled(label: str) -> Usage:
        names = processes(label)
        shown = label if len(names) == 1 else f"{label} ({len(names)} processes, mean)"
        return _mean(shown, [usage[n] for n in names])

    co2_process, co2_threads = over(pooled(CO2))
    note = f"over the floor {co2_process.cpu_seconds_per_minute:.4f}; {split(co2_threads)}"
    results = [Result("environment-co2", pooled(CO2), floor, note)]
    for label in SENSORS:
        if label == CO2:
            continue
        process, threads = over(pooled(label))
        results += [
            Result("environment-sensor", process, co2_process, "CPU ratio: pollutant / CO₂ (≤ 1 wanted)"),
            Result(
                "environment-sensor-threads", threads, co2_threads, f"same, threads only; {split(threads)}"
            ),
        ]
    for label in SENSORS:
        names = processes(label)
        if len(names) < 2:
            continue
        (first_process, first_threads), (second_process, second_threads) = (
            over(usage[names[0]]),
            over(usage[names[1]]),
        )
        results += [
            Result("environment-noise", second_process, first_process, "two equal sensors: #2 / #1"),
            Result("environment-noise-threads", second_threads, first_threads, "same, threads only"),
        ]
    results.append(
        Result("environment", usage[MONITOR], usage[BARE], notes="1 text board + 1 MH-Z19 each, every 2 s")
    )
    return results

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

import tempfile
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
NOISE = "a second MH-Z19 (the run's noise)"
#: One sensor per process: label → kind (see :func:`tests.bench.seat.sensor`).
SENSORS: dict[str, str] = {
    CO2: "mhz19",
    f"PMS5003 active, stable ({PMS_STABLE_S:g} s)": "pms",
    f"PMS5003 active, fast ({PMS_FAST_S:g} s)": "pms-fast",
    f"ZE08-CH2O active ({ZE08_S:g} s)": "ze08",
    "Modbus TVOC float32, every 2 s": "tvoc",
    #: The same as the reference in another process: how far apart two equal sensors come
    #: out in one run, i.e. the run's resolution for the ratios above.
    NOISE: "mhz19",
}


def _sensor(name: str, protocol: str, port: Path) -> str:
    return f'[[monitors.environment.sensors]]\nname = "{name}"\nprotocol = "{protocol}"\nport = "{port}"\n'


MONITOR = "deskwatch run --headless (environment)"
#: Kernel names of the threads a sensor costs in: its reader and the monitor's poll.
THREADS = ("sensor-", "poll-environmen")
BARE = "bare pyserial loop, same sensors"


#: Rounds of a run (each ``seconds`` long after its warm-up).
ROUNDS = 3


def run(seconds: float, warmup: float = 15.0, rounds: int = ROUNDS) -> list[Result]:
    """``rounds`` rounds of ``seconds`` after ``warmup`` each (smaller values only for the smoke test)."""
    return summarise_rounds([measure(seconds, warmup) for _ in range(rounds)])


def measure(seconds: float, warmup: float) -> dict[str, Usage]:
    """One round: every process side by side, measured for ``seconds`` after ``warmup``."""
    with tempfile.TemporaryDirectory(prefix="dw-bench-env-") as tmp:
        folder = Path(tmp)
        devices: list[Any] = []
        configs = {FLOOR: only("environment", "[monitors.environment]\nenabled = true\n")}
        for n, (label, kind) in enumerate(SENSORS.items()):
            device, table = sensor(kind, folder, n)
            devices.append(device)
            configs[label] = only("environment", table)
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
            commands: dict[str, list[str]] = headless_commands(configs, folder, "env", named_threads=True)
            commands[BARE] = [python(), "-c", BARE_LOOP, str(pair[2].link), str(pair[3].link)]
            usage = measure_side_by_side(commands, seconds, warmup=warmup, thread_prefix=THREADS)
        finally:
            for device in devices:
                device.unplug()
    return usage


def summarise_rounds(rounds: list[dict[str, Usage]]) -> list[Result]:
    """:func:`summarise` of the rounds pooled (each process's mean), each round's range in the notes."""
    pooled = {}
    for name, first in rounds[0].items():
        same = [r[name] for r in rounds]
        threads = {t: sum(u.threads.get(t, 0.0) for u in same) / len(same) for t in first.threads}
        cpu = sum(u.cpu_seconds_per_minute for u in same) / len(same)
        pooled[name] = Usage(name, cpu, max(u.peak_rss_mib for u in same), threads)
    results = summarise(pooled)
    if len(rounds) > 1:
        each = [summarise(r) for r in rounds]
        for n, result in enumerate(results):
            ratios = [round_results[n].cpu_ratio for round_results in each]
            result.notes += f" [{len(rounds)} rounds: {min(ratios):.2f}–{max(ratios):.2f}]"
    return results


def summarise(usage: dict[str, Usage]) -> list[Result]:
    """Each sensor against the CO₂ sensor, twice: its process over the floor, and its threads.

    The process over the floor is the issue's outside view; the floor's own
    noise (other threads' timers) is of the size of one sensor's cost, so the
    same run also counts only the threads a sensor costs in -- its reader
    and the monitor's poll, less the floor's poll thread -- which has no
    such noise.  Last, the monitor with two sensors against the bare loop.
    """
    floor = usage[FLOOR]
    floor_poll = sum(floor.threads.values())

    def over(label: str) -> tuple[Usage, Usage]:
        own = usage[label]
        process = own.cpu_seconds_per_minute - floor.cpu_seconds_per_minute
        threads = sum(own.threads.values()) - floor_poll
        return (Usage(f"{label}: process over the floor", process, own.peak_rss_mib, own.threads),
                Usage(f"{label}: reader + poll threads", threads, own.peak_rss_mib, own.threads))  # fmt: skip

    co2_process, co2_threads = over(CO2)
    note = f"over the floor {co2_process.cpu_seconds_per_minute:.4f}"
    results = [Result("environment-co2", usage[CO2], floor, note)]
    for label in SENSORS:
        if label == CO2:
            continue
        process, threads = over(label)
        results += [
            Result("environment-sensor", process, co2_process, "CPU ratio: pollutant / CO₂ (≤ 1 wanted)"),
            Result("environment-sensor-threads", threads, co2_threads, "same run, threads only: / CO₂"),
        ]
    results.append(
        Result("environment", usage[MONITOR], usage[BARE], notes="1 text board + 1 MH-Z19 each, every 2 s")
    )
    return results

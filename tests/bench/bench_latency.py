"""Alert latency per device: from a fault injected to the alert raised, at default cadence.

Runs the real runtime in this process with each device's default poll
interval and debounce (only what the device needs to be found is
configured), injects a real fault, and times the alert.  The figure is what a
clerk waits, so it includes the cadence: halving an interval halves it.  The
headset's two: unplugged outside a call (Deskwatch listening in spells) until
the *connected* alert, and a softphone opening the microphone until the call
state says "in a call" (what holds a break).  ``python -m tests.bench.bench_latency
headset call`` runs only those.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from app.core.alerts import AlertEvent, AlertEventKind
from app.kernel.model import Level
from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.signals import noise, to_pcm
from tests.bench import RESULTS_DIR, Result
from tests.environment.simulators import TextLineBoard
from tests.faults.seat import Seat
from tests.printer.conftest import PrivateCups

REPEATS = 3


def time_alert(seat: Seat, key_prefix: str, inject: Callable[[], None], timeout: float = 180.0) -> float:
    """Seconds from ``inject()`` to the first alert raised on a key starting with ``key_prefix``."""
    raised = threading.Event()

    def listener(event: AlertEvent) -> None:
        if event.kind is AlertEventKind.RAISED and event.alert.key.startswith(key_prefix):
            raised.set()

    seat.engine.add_alert_listener(listener)
    started = time.monotonic()
    inject()
    if not raised.wait(timeout):
        raise RuntimeError(f"no alert on {key_prefix} within {timeout:g} s")
    return time.monotonic() - started


def computer(root: Path) -> list[float]:
    """A forbidden program starts (process scans run every slow_interval)."""
    binary = root / "dw-latency-game"
    shutil.copy("/bin/sleep", binary)
    results = []
    for n in range(REPEATS):
        seat = Seat(
            root / f"pc{n}", f'[monitors.computer]\nforbidden_processes = ["{binary.name}"]\n', ["computer"]
        )
        try:
            seat.wait_level("computer.cpu", Level.OK, Level.WARNING, Level.CRITICAL, timeout=30)
            time.sleep(n * 7.0)  # start at different points of the scan cycle
            started: list[subprocess.Popen[bytes]] = []

            def start_game(into: list[subprocess.Popen[bytes]] = started) -> None:
                into.append(subprocess.Popen([str(binary), "300"]))

            results.append(time_alert(seat, "computer.forbidden", start_game))
            for game in started:
                game.kill()
                game.wait()
        finally:
            seat.stop()
    return results


def printer(root: Path) -> list[float]:
    """A paper jam on a CUPS queue."""
    cups = PrivateCups(root / "cups")
    cups.start()
    results = []
    try:
        for n in range(REPEATS):
            queue = cups.add_queue("lat")
            config = f'[monitors.printer]\nserver = "{cups.server}"\nprinters = ["{queue}"]\n'
            seat = Seat(root / f"pr{n}", config, ["printer"])
            try:
                seat.wait_level(f"printer.status[{queue}]", Level.OK, timeout=60)
                time.sleep(n * 2.0)

                def jam(q: str = queue) -> None:
                    cups.set_mode(q, "jam")
                    cups.submit(q)

                results.append(time_alert(seat, f"printer.status[{queue}]", jam))
            finally:
                seat.stop()
    finally:
        cups.stop()
    return results


def environment(root: Path) -> list[float]:
    """A serial sensor unplugged."""
    (root / "dev").mkdir()
    results = []
    for n in range(REPEATS):
        board = TextLineBoard(root / "dev" / f"tty{n}", interval=1.0)
        board.plug()
        config = (
            f'[[monitors.environment.sensors]]\nname = "desk"\nprotocol = "text"\nport = "{board.link}"\n'
        )
        seat = Seat(root / f"env{n}", config, ["environment"])
        try:
            seat.wait_level("environment.temperature[desk]", Level.OK, timeout=60)
            time.sleep(n * 3.0)
            results.append(time_alert(seat, "environment.sensor[desk]", board.unplug))
        finally:
            seat.stop()
            board.unplug()
    return results


@contextlib.contextmanager
def _headset_server(root: Path) -> Iterator[PulseServer]:
    """A private PulseAudio whose "headset" hears room noise (no call), this process its client."""
    pulse = PulseServer(root / "pulse")
    pulse.start()
    saved = {key: os.environ.get(key) for key in (*pulse.env, "PULSE_SOURCE")}
    os.environ.update(pulse.env)
    try:
        yield pulse
    finally:
        pulse.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _headset_seat(root: Path, pulse: PulseServer) -> Seat:
    if pulse.module is None:
        pulse.plug()
    pulse.stop_players()
    pulse.play(np.asarray(to_pcm(noise(600, -65))))
    seat = Seat(root, f'[monitors.headset]\ndevice = "{SINK}"\n', ["headset"])
    seat.wait_level("headset.connected", Level.OK, timeout=60)
    return seat


def headset(root: Path) -> list[float]:
    """The headset unplugged outside a call (the sink of the private PulseAudio unloaded)."""
    results = []
    with _headset_server(root) as pulse:
        for n in range(REPEATS):
            seat = _headset_seat(root / f"hs{n}", pulse)
            try:
                time.sleep(n * 2.0)  # at different points of the listening spells and presence checks
                results.append(time_alert(seat, "headset.connected", pulse.unplug))
            finally:
                seat.stop()
    return results


def call_start(root: Path) -> list[float]:
    """A softphone opens the headset microphone outside a call: seconds until Deskwatch is in a call."""
    results = []
    with _headset_server(root) as pulse:
        for n in range(REPEATS):
            seat = _headset_seat(root / f"call{n}", pulse)
            try:
                time.sleep(n * 2.0)
                call_state = seat.runtime.context.call_state
                in_call = threading.Event()
                call_state.add_listener(lambda on, flag=in_call: flag.set() if on else None)
                started = time.monotonic()
                phone = subprocess.Popen(
                    ["parec", f"--device={SOURCE}", "--client-name=softphone"],
                    env={**os.environ, **pulse.env},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    if not in_call.wait(60):
                        raise RuntimeError("the softphone's call was not noticed within 60 s")
                    results.append(time.monotonic() - started)
                finally:
                    phone.terminate()
                    phone.wait(5)
            finally:
                seat.stop()
    return results


SCENARIOS: dict[str, Callable[[Path], list[float]]] = {
    "computer (forbidden program)": computer,
    "printer (paper jam)": printer,
    "environment (sensor unplugged)": environment,
    "headset (unplugged, no call)": headset,
    "call start (softphone opens the mic)": call_start,
}


def run(seconds: float, only: tuple[str, ...] = ()) -> list[Result]:
    """Each scenario ``REPEATS`` times (``only``: the scenarios whose names start so)."""
    del seconds  # each scenario runs until its alerts are raised
    rows = {}
    for name, scenario in SCENARIOS.items():
        if only and not name.startswith(only):
            continue
        with tempfile.TemporaryDirectory(prefix="dw-latency-") as tmp:
            latencies = scenario(Path(tmp))
        rows[name] = {
            "median_s": round(statistics.median(latencies), 2),
            "max_s": round(max(latencies), 2),
            "runs": [round(v, 2) for v in latencies],
        }
        print(
            f"  {name:<34} median {rows[name]['median_s']:6.2f} s   max {rows[name]['max_s']:6.2f} s",
            flush=True,
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latency.json").write_text(json.dumps(rows, indent=2), "utf-8")
    return []


if __name__ == "__main__":
    import sys

    run(0.0, tuple(sys.argv[1:]))

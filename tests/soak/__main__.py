"""Soak: ``./.ci/bootstrap soak [--minutes 20]``.

Runs the full tray application on a real X server with a tray, every monitor
at fast cadence against real services (private cupsd, a serial sensor on a
pty, and whatever device services the areas provide), cycles faults through
them, and records RSS, threads and open file descriptors every few seconds.
Results: ``soak-results/`` (samples.csv, curves.svg, summary.json, app.log).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import psutil

import monitors
from tests.audio.conftest import SINK, PulseServer
from tests.environment.simulators import TextLineBoard
from tests.printer.conftest import PrivateCups
from tests.realseat import ROOT, Phone, app_command, app_env
from tests.soak import Sample, sample, summarise, write_results
from tests.xserver import xvfb

#: Poll intervals for the soak: far faster than the defaults, to age the app quickly.
FAST_INTERVALS = {"computer": 1.0, "printer": 1.0, "environment": 1.0, "headset": 1.0, "telephone": 1.0}

Fault = tuple[str, Callable[[], None], Callable[[], None]]


def build_faults(
    cups: PrivateCups,
    queue: str,
    board: TextLineBoard,
    pulse: PulseServer | None = None,
    phone: Phone | None = None,
) -> list[Fault]:
    """Each fault: name, inject, recover."""

    def jam() -> None:
        cups.set_mode(queue, "jam")
        cups.submit(queue)

    def unjam() -> None:
        cups.set_mode(queue, "ok")
        subprocess.run(["cupsenable", queue], env=cups.env, check=False)
        subprocess.run(["cancel", "-a", queue], env=cups.env, check=False, capture_output=True)
        cups.submit(queue)

    def garbage() -> None:
        for _ in range(50):
            board.write(os.urandom(128) + b"\r\nT=1e9,H=nan\r\n")
            time.sleep(0.01)

    faults: list[Fault] = [
        ("printer-jam", jam, unjam),
        ("cupsd-stopped", cups.stop, cups.start),
        ("sensor-unplugged", board.unplug, board.plug),
        ("serial-garbage", garbage, lambda: None),
    ]
    if pulse is not None:
        faults += [
            ("headset-unplugged", pulse.unplug, pulse.plug),
            ("pulseaudio-restarted", pulse.restart, lambda: None),
        ]
    if phone is not None:
        faults.append(("sip-server-gone", phone.stop, phone.start))
    return faults


def config_text(cups: PrivateCups, queue: str, board: TextLineBoard, phone: Phone | None = None) -> str:
    available = monitors.discover()
    parts = [f"[monitors.{mid}]\ninterval = {FAST_INTERVALS.get(mid, 1.0)}\n" for mid in available]
    text = "".join(parts)
    text = text.replace(
        "[monitors.printer]\n", f'[monitors.printer]\nserver = "{cups.server}"\nprinters = ["{queue}"]\n'
    )
    text = text.replace("[monitors.environment]\n", "[monitors.environment]\nstale_after = 5\n")
    text = text.replace("[monitors.headset]\n", f'[monitors.headset]\ndevice = "{SINK}"\n')
    if phone is not None:
        text = text.replace(
            "[monitors.telephone]\n",
            f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {phone.port}\nreply_timeout = 0.5\n',
        )
    text += (
        f'[[monitors.environment.sensors]]\nname = "desk"\nprotocol = "text"\nport = "{board.link}"\n'
        "period = 0.5\n"
    )
    return "[alerts]\nnotifications = true\n" + text


def main() -> int:
    parser = argparse.ArgumentParser(prog="make soak")
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--fault-seconds", type=float, default=30.0, help="how long each fault lasts")
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=ROOT / "soak-results")
    parser.add_argument("--headless", action="store_true", help="soak `run --headless` (no Qt) instead")
    parser.add_argument(
        "--probe", type=Path, help="append in-process snapshots (tests.soak.probe) to this file"
    )
    args = parser.parse_args()

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="dw-soak-") as tmp_name:
        tmp = Path(tmp_name)
        x = stack.enter_context(xvfb(with_tray=True))
        cups = PrivateCups(tmp / "cups")
        cups.start()
        stack.callback(cups.stop)
        queue = cups.add_queue("soak")
        (tmp / "dev").mkdir()
        board = TextLineBoard(tmp / "dev" / "ttyUSB0", interval=0.2)
        board.plug()
        stack.callback(board.unplug)
        pulse = PulseServer(tmp / "pulse")
        pulse.start()
        stack.callback(pulse.stop)
        phone = Phone(tmp)
        phone.start()
        stack.callback(phone.stop)
        faults = build_faults(cups, queue, board, pulse, phone)

        config = tmp / "deskwatch.toml"
        config.write_text(config_text(cups, queue, board, phone), "utf-8")
        env = app_env(x, pulse, tmp)
        args.out.mkdir(parents=True, exist_ok=True)
        log_path = args.out / "app.log"
        log = stack.enter_context(open(log_path, "w"))
        entry = ["tests.soak.probe", str(args.probe)] if args.probe else ["app.cli"]
        command = app_command(entry, config, tmp / "data")
        if args.headless:
            command.append("--headless")
        app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(app.kill)
        proc = psutil.Process(app.pid)

        started = time.monotonic()
        end = started + args.minutes * 60
        samples: list[Sample] = []
        cycle = itertools.cycle(faults)
        current: Fault | None = None
        fault_until = started + 60.0  # one quiet minute first: the warm-up baseline
        next_sample = started
        print(f"soak: {args.minutes:g} min, faults every {args.fault_seconds:g} s: {[f[0] for f in faults]}")
        while time.monotonic() < end:
            now = time.monotonic()
            if app.poll() is not None:
                raise SystemExit(f"soak: Deskwatch exited with {app.returncode}; see {log_path}")
            if now >= fault_until:
                if current is not None:
                    current[2]()
                    current = None
                    fault_until = now + args.fault_seconds  # quiet period between faults
                else:
                    current = next(cycle)
                    current[1]()
                    fault_until = now + args.fault_seconds
            if now >= next_sample:
                samples.append(sample(proc, started, current[0] if current else ""))
                next_sample = now + args.sample_seconds
                last = samples[-1]
                print(
                    f"  {last.t:7.0f} s  rss {last.rss_mib:6.1f} MiB  threads {last.threads:3d}  "
                    f"fds {last.fds:3d}  {last.fault}",
                    flush=True,
                )
            time.sleep(0.2)
        if current is not None:
            current[2]()
        app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
        log.flush()
        text = log_path.read_text("utf-8", errors="replace")
        exceptions = text.count("Traceback (most recent call last)")
        summary = summarise(samples, exceptions) | {"exit_code": app.returncode}
        write_results(args.out, samples, summary)
        print(json.dumps(summary, indent=2))
        return 0 if exceptions == 0 and app.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

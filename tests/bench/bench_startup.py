"""Start-up and peak memory of the tray app on a full seat, next to the bare PySide6 tray app.

The seat has every kit device configured: two printers on a private cupsd,
three serial sensors (a text board, an MH-Z19 and a Modbus RTU
transmitter, each on its own pty), a PBX (SIPp) and the headset on a
private PulseAudio playing speech.  Two figures, each against the bare tray
app of :mod:`tests.bench.bench_tray` in the same run:

- start-up to the tray icon embedded in the tray (median of three launches
  each, after one launch to warm the file cache);
- peak RSS: the kernel's own high-water mark (``VmHWM`` in
  ``/proc/PID/status``, exact rather than sampled), read after ``seconds``
  of running side by side, with the process's thread count.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.bench import ROOT, Result, Usage, python
from tests.bench.bench_tray import BARE_TRAY, _startup_seconds
from tests.environment.simulators import Mhz19Responder, ModbusTransmitter, TextLineBoard
from tests.printer.conftest import PrivateCups
from tests.realseat import Phone
from tests.xserver import xvfb


def seat_config(cups: PrivateCups, queues: Sequence[str], phone: Phone, ports: dict[str, Path]) -> str:
    """The config of a seat with every kit device (``ports``: sensor name → its pty link)."""
    printers = ", ".join(f'"{q}"' for q in queues)
    return (
        f'[monitors.printer]\nserver = "{cups.server}"\nprinters = [{printers}]\n'
        f'[monitors.headset]\ndevice = "{SINK}"\n'
        f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {phone.port}\n'
        f'[[monitors.environment.sensors]]\nname = "desk"\nprotocol = "text"\nport = "{ports["desk"]}"\n'
        f'[[monitors.environment.sensors]]\nname = "co2"\nprotocol = "mhz19"\nport = "{ports["co2"]}"\n'
        f'[[monitors.environment.sensors]]\nname = "wall"\nprotocol = "modbus"\nport = "{ports["wall"]}"\n'
        'preset = "xy-md02"\nslave = 1\n'
    )


@contextmanager
def full_seat(root: Path, seconds: float) -> Iterator[tuple[Path, dict[str, str]]]:
    """Start a whole seat's services; yields the config file and the app's environment."""
    with ExitStack() as stack:
        x = stack.enter_context(xvfb(with_tray=True))
        cups = PrivateCups(root / "cups")
        cups.start()
        stack.callback(cups.stop)
        queues = [cups.add_queue("front"), cups.add_queue("back")]
        pulse = PulseServer(root / "pulse")
        pulse.start()
        stack.callback(pulse.stop)
        pulse.play(np.asarray(to_pcm(speech_like(seconds + 120, -30) + noise(seconds + 120, -70))))
        phone = Phone(root)
        phone.start()
        stack.callback(phone.stop)
        dev = root / "dev"
        dev.mkdir()
        board = TextLineBoard(dev / "ttyUSB0", interval=2.0)
        co2 = Mhz19Responder(dev / "ttyS0")
        wall = ModbusTransmitter(dev / "ttyUSB1-device", dev / "ttyUSB1")
        wall.set_registers(4, 1, [235, 451])
        for device in (board, co2, wall):
            device.plug()
            stack.callback(device.unplug)
        ports = {"desk": board.link, "co2": co2.link, "wall": wall.host_link}
        config = root / "deskwatch.toml"
        config.write_text(seat_config(cups, queues, phone, ports), "utf-8")
        (root / "qt-tmp").mkdir()
        env = {**x.env, **pulse.env, "PULSE_SOURCE": SOURCE, "TMPDIR": str(root / "qt-tmp")}
        env["BENCH_DISPLAY"] = x.display
        yield config, env


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def peak_side_by_side(
    commands: dict[str, list[str]], seconds: float, env: dict[str, str]
) -> dict[str, Usage]:
    """Run every command at once for ``seconds``; each one's VmHWM (MiB) and thread count."""
    with ExitStack() as stack:
        procs = {
            name: stack.enter_context(
                subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            for name, cmd in commands.items()
        }
        # Runs before each Popen's own exit, which waits for the process (it stops within 10 s).
        stack.callback(lambda: [proc.terminate() for proc in procs.values()])
        time.sleep(seconds)
        usage = {}
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited early with {proc.returncode}")
            status = _status(proc.pid)
            hwm = int(status["VmHWM"].split()[0]) / 1024
            usage[name] = Usage(f"{name} ({status['Threads']} threads)", 0.0, hwm)
        return usage


def run(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="dw-bench-startup-") as tmp:
        root = Path(tmp)
        with full_seat(root, seconds) as (config, env):
            display = env["BENCH_DISPLAY"]
            full_env = {**os.environ, **env}
            commands = {
                "deskwatch, full seat": [
                    python(), "-m", "app.cli", "run",
                    "--config", str(config), "--data-dir", str(root / "data"),
                ],
                "bare PySide6 tray app": [python(), "-c", BARE_TRAY],
            }  # fmt: skip
            startup: dict[str, float] = {}
            for name, command in commands.items():
                _startup_seconds(command, full_env, display)  # warm the file cache once
                runs = [_startup_seconds(command, full_env, display) for _ in range(3)]
                startup[name] = statistics.median(runs)
            usage = peak_side_by_side(commands, seconds, full_env)
    subject_name, baseline_name = commands
    ratio = startup[subject_name] / max(startup[baseline_name], 1e-9)
    notes = (
        f"start-up to tray icon (median of 3): deskwatch {startup[subject_name]:.2f} s, "
        f"bare {startup[baseline_name]:.2f} s, ratio {ratio:.2f}; RSS is VmHWM, CPU not measured here"
    )
    return [Result("startup-full-seat", usage[subject_name], usage[baseline_name], notes)]

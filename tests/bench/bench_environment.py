"""Environment monitoring next to a bare pyserial loop reading the same kinds of sensors.

Each side reads its own pair of simulated sensors on real ptys: a text-line
board printing ``T=…,H=…`` every 2 s (the DHT22's fastest pace) and an
MH-Z19 asked for CO₂ every 2 s.  Deskwatch runs headless with only the
environment monitor (reader threads, judging, alerts, history); the baseline
reads and parses the same bytes in one plain loop.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench import Result, measure_side_by_side, python
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


def run(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        devices = [
            TextLineBoard(folder / "ttyDesk", interval=2.0),
            Mhz19Responder(folder / "ttyCO2"),
            TextLineBoard(folder / "ttyBareDesk", interval=2.0),
            Mhz19Responder(folder / "ttyBareCO2"),
        ]
        for device in devices:
            device.plug()
        try:
            import monitors

            config = folder / "bench.toml"
            text = "".join(
                f"[monitors.{mid}]\nenabled = false\n" for mid in monitors.discover() if mid != "environment"
            )
            text += (
                "[monitors.environment]\nenabled = true\n"
                f'[[monitors.environment.sensors]]\nname = "desk"\nport = "{devices[0].link}"\n'
                '[[monitors.environment.sensors]]\nname = "co2"\nprotocol = "mhz19"\n'
                f'port = "{devices[1].link}"\n'
            )
            config.write_text(text, "utf-8")
            usage = measure_side_by_side(
                {
                    "deskwatch run --headless (environment)": [
                        python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(config), "--data-dir", tmp,
                    ],
                    "bare pyserial loop, same sensors": [
                        python(), "-c", BARE_LOOP, str(devices[2].link), str(devices[3].link),
                    ],
                },
                seconds,
            )  # fmt: skip
        finally:
            for device in devices:
                device.unplug()
    subject, baseline = usage.values()
    return [Result("environment", subject, baseline, notes="1 text board + 1 MH-Z19 each, every 2 s")]

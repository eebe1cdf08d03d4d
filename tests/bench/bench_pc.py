"""Headless PC monitoring at default cadence next to a bare psutil loop reading the same metrics."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench import Result, measure_side_by_side, python

# The baseline reads what the computer monitor reads, at its default 5 s, and
# nothing else: no judging, no history, no alerts.
BARE_LOOP = """
import os, time, psutil
psutil.cpu_percent(None)
while True:
    psutil.cpu_percent(None)
    psutil.virtual_memory(); psutil.swap_memory()
    psutil.disk_usage('/'); psutil.disk_usage('/tmp')
    os.getloadavg()
    time.sleep(5)
"""


def run(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        # Only the PC monitor: the device monitors have their own benchmarks.
        enabled = "[monitors.computer]\nenabled = true\n"
        import monitors

        for monitor_id in monitors.discover():
            if monitor_id != "computer":
                enabled += f"[monitors.{monitor_id}]\nenabled = false\n"
        config.write_text(enabled, "utf-8")
        usage = measure_side_by_side(
            {
                "deskwatch run --headless (computer)": [
                    python(), "-m", "app.cli", "run", "--headless",
                    "--config", str(config), "--data-dir", tmp,
                ],
                "bare psutil loop, every 5 s": [python(), "-c", BARE_LOOP],
            },
            seconds,
        )  # fmt: skip
    subject, baseline = usage.values()
    return [Result("pc-monitoring", subject, baseline)]

"""The whole tray app, every monitor at default cadence on real devices, next to all three baselines.

One run, side by side on one X server with a tray: Deskwatch (computer,
headset on a PulseAudio null sink playing speech, recorder, telephone pinging
SIPp, printer on a private cupsd, a serial sensor on a pty, breaks, exporter
off) against a bare psutil loop, a bare PyAudio capture of the same stream and
a bare PySide6 tray app.  The ratio that matters is Deskwatch against the sum
of the three baselines: what it costs over doing the same raw work by hand.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.bench import Result, Usage, measure_side_by_side, python
from tests.bench.bench_audio import BARE_CALLBACK
from tests.bench.bench_pc import BARE_LOOP
from tests.bench.bench_tray import BARE_TRAY
from tests.environment.simulators import TextLineBoard
from tests.printer.conftest import PrivateCups
from tests.soak.__main__ import Phone
from tests.xserver import xvfb


def run(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="dw-bench-all-") as tmp, xvfb(with_tray=True) as x:
        root = Path(tmp)
        cups = PrivateCups(root / "cups")
        cups.start()
        pulse = PulseServer(root / "pulse")
        pulse.start()
        phone = Phone(root)
        phone.start()
        (root / "dev").mkdir()
        board = TextLineBoard(root / "dev" / "ttyUSB0", interval=2.0)  # a DHT22 board's pace
        board.plug()
        try:
            queue = cups.add_queue("bench")
            pulse.play(np.asarray(to_pcm(speech_like(seconds + 60, -30) + noise(seconds + 60, -70))))
            config = root / "deskwatch.toml"
            config.write_text(
                f'[monitors.printer]\nserver = "{cups.server}"\nprinters = ["{queue}"]\n'
                f'[monitors.headset]\ndevice = "{SINK}"\n'
                f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {phone.port}\n'
                '[[monitors.environment.sensors]]\nname = "desk"\nprotocol = "text"\n'
                f'port = "{board.link}"\n',
                "utf-8",
            )
            (root / "qt-tmp").mkdir()
            env = {**x.env, **pulse.env, "PULSE_SOURCE": SOURCE, "TMPDIR": str(root / "qt-tmp")}
            subject = "deskwatch tray app, all monitors, default cadence"
            usage = measure_side_by_side(
                {
                    subject: [python(), "-m", "app.cli", "run", "--config", str(config),
                              "--data-dir", str(root / "data")],
                    "bare psutil loop, every 5 s": [python(), "-c", BARE_LOOP],
                    "bare PyAudio capture, callback 100 ms": [python(), "-c", BARE_CALLBACK],
                    "bare PySide6 app with one tray icon": [python(), "-c", BARE_TRAY],
                },
                seconds,
                warmup=10.0,
                env=env,
            )  # fmt: skip
        finally:
            board.unplug()
            phone.stop()
            pulse.stop()
            cups.stop()
    main = usage.pop(subject)
    results = [Result("all-monitors", main, baseline) for baseline in usage.values()]
    total = Usage(
        "sum of the three bare baselines",
        sum(u.cpu_seconds_per_minute for u in usage.values()),
        sum(u.peak_rss_mib for u in usage.values()),
    )
    results.append(
        Result("all-monitors", main, total, "RSS of separate processes adds shared libraries twice")
    )
    return results

"""The whole tray app on a full seat, next to a bare capture of the same microphone and the other baselines.

One run, side by side on one X server with a tray, seen from outside each
process (utime+stime of the process and of the children it reaped --
``pactl``, ``lpstat`` and other helpers count -- over the window after a
15 s warm-up; peak RSS = ``VmHWM``): Deskwatch on the seat of issue 16 (two
printers on a private cupsd, three sensors, SIPp as the PBX, continuous
headset capture of a PulseAudio null sink playing speech; see
:mod:`tests.bench.seat`) against

* a bare PyAudio capture of the *same source*, 16 kHz mono, 100 ms
  callbacks -- the target: the whole app costs no more CPU than that loop;
* a bare psutil loop and a bare PySide6 tray app, and the sum of all three.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench import Result, Usage, measure_side_by_side, python
from tests.bench.bench_audio import BARE_CALLBACK
from tests.bench.bench_pc import BARE_LOOP
from tests.bench.bench_tray import BARE_TRAY
from tests.bench.seat import Seat
from tests.xserver import xvfb

SUBJECT = "deskwatch tray app, full seat"
BARE_CAPTURE = "bare PyAudio capture, same source, 100 ms"

#: The warm-up of issue 16's outside view.
WARMUP_S = 15.0


def run(
    seconds: float, warmup: float = WARMUP_S, printers: int = 2, sensors: int = 3, hearing: bool = True
) -> list[Result]:
    """Measure for ``seconds`` after ``warmup`` (smaller values only for the smoke test).

    ``hearing=False``: the same seat with the hearing monitor off (``bench all_hearing_off``).
    """
    with tempfile.TemporaryDirectory(prefix="dw-bench-all-") as tmp, xvfb(with_tray=True) as x:
        root = Path(tmp)
        play = warmup + seconds + 120
        with Seat(root, printers=printers, sensors=sensors, play_seconds=play, hearing=hearing) as seat:
            config = seat.write_config(root / "deskwatch.toml")
            (root / "qt-tmp").mkdir()
            env = {**x.env, **seat.env(), "TMPDIR": str(root / "qt-tmp")}
            usage = measure_side_by_side(
                {
                    SUBJECT: [python(), "-m", "app.cli", "run", "--config", str(config),
                              "--data-dir", str(root / "data")],
                    BARE_CAPTURE: [python(), "-c", BARE_CALLBACK],
                    "bare psutil loop, every 5 s": [python(), "-c", BARE_LOOP],
                    "bare PySide6 app with one tray icon": [python(), "-c", BARE_TRAY],
                },
                seconds,
                warmup=warmup,
                env=env,
            )  # fmt: skip
    main = usage.pop(SUBJECT)
    ears = "hearing monitor on" if hearing else "hearing monitor off"
    seat_note = f"seat: {printers} printers, {sensors} sensors, PBX, headset, {ears}"
    seat_note += "; CPU counts reaped children"
    label = "all-monitors" if hearing else "all-monitors, hearing off"
    results = [
        Result(label, main, baseline, seat_note if name == BARE_CAPTURE else "")
        for name, baseline in usage.items()
    ]
    total = Usage(
        "sum of the three bare baselines",
        sum(u.cpu_seconds_per_minute for u in usage.values()),
        sum(u.peak_rss_mib for u in usage.values()),
    )
    results.append(Result(label, main, total, "RSS of separate processes adds shared libraries twice"))
    return results

"""Screenshots of a real seat: ``python -m tests.screenshots --seat real``.

The demo scene is tidy; a real seat is not.  This mode starts the test
fixtures' real components — a private cupsd with two queues, ``Back`` out
of paper; PulseAudio with a null sink as the headset and speech-like test
audio over room noise playing into it; SIPp answering OPTIONS on UDP and
TCP; three pty sensors (two text boards and an MH-Z19 reading 1250 ppm CO₂,
over its 1000 ppm limit) — writes the configuration a clerk's seat would
have for them, and runs the real tray app (:mod:`tests.screenshots.real_app`)
on an Xvfb screen of each size with a tray.  The runs share one data folder
(each is a restart of the same seat, so the chart's history grows).  Once
every part of the seat has a reading the app grabs the status panel (the
screen, and every card at full height), the alert centre and the CO₂ chart:
``<out>/real/<W>x<H>/{panel,panel_all,alerts,detail}_<lang>.png``.

Every service is stopped on the way out, also on error, and the whole run is
bounded (:data:`TIME_LIMIT`); a missing program is named with its package.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tests.audio.conftest import SINK, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.environment.simulators import Mhz19Responder, PtyDevice, TextLineBoard
from tests.printer.conftest import PrivateCups
from tests.realseat import ROOT, Phone, app_command, app_env, require_seat
from tests.screenshots.real_app import SHOTS
from tests.services import ServiceError, tail
from tests.xserver import XServer, xvfb

log = logging.getLogger("tests.screenshots")

SIZES = ("1280x800", "1366x768")
#: The whole command, services included, ends within this (seconds).
TIME_LIMIT = 180.0
#: How long one app run waits for every part of the seat to report before it shoots anyway.
SETTLE_SECONDS = 40.0
#: What one app run may take beyond settling: start-up, three grabs, shutdown.
RUN_MARGIN = 25.0
#: The CO₂ sensor's reading: over GB/T 18883's 1000 ppm, the alert still debouncing.
CO2_PPM = 1250
#: Test audio played into the headset: long enough for every run.
AUDIO_SECONDS = TIME_LIMIT + 30
#: The room under the clerk's voice (dBFS): quiet office background.
ROOM_NOISE_DBFS = -62.0
#: The device whose detail chart is shot, and the indicator charted: CO₂, over its limit.
DETAIL_DEVICE = "environment"
DETAIL_CHART = ".co2[co2]"


@dataclass
class Seat:
    """The running components of one seat."""

    cups: PrivateCups
    front: str
    back: str
    pulse: PulseServer
    phone: Phone
    sensors: dict[str, PtyDevice]

    @property
    def instances(self) -> list[str]:
        """Names that must show up as ``indicator[name]`` before the seat has settled."""
        return [self.front, self.back, *self.sensors, *self.phone.transports]


def start_seat(stack: ExitStack, tmp: Path) -> Seat:
    """Start every component, each one's stop registered on ``stack`` as soon as it runs."""
    cups = PrivateCups(tmp / "cups")
    cups.start()
    stack.callback(cups.stop)
    front, back = cups.add_queue("Front"), cups.add_queue("Back")
    cups.set_mode(back, "empty")  # the next job finds tray 1 empty: the queue stops, paper out
    cups.submit(back)
    cups.submit(front)
    (tmp / "dev").mkdir()
    desk = TextLineBoard(tmp / "dev" / "ttyUSB0", interval=1.0)
    window = TextLineBoard(tmp / "dev" / "ttyUSB1", interval=1.0)
    window.values = {"t": 26.8, "h": 38.5}
    co2 = Mhz19Responder(tmp / "dev" / "ttyS0", ppm=CO2_PPM)
    sensors: dict[str, PtyDevice] = {"desk": desk, "window": window, "co2": co2}
    for sensor in sensors.values():
        sensor.plug()
        stack.callback(sensor.unplug)
    pulse = PulseServer(tmp / "pulse")
    stack.callback(pulse.stop)  # also stops the players
    pulse.start()
    # A clerk talking over a quiet room: a real microphone never delivers the
    # digital zeros between the synthetic syllables, which read as dropouts.
    pulse.play(to_pcm(speech_like(AUDIO_SECONDS, -30.0) + noise(AUDIO_SECONDS, ROOM_NOISE_DBFS)))
    phone = Phone(tmp)
    stack.callback(phone.stop)
    phone.start()
    return Seat(cups, front, back, pulse, phone, sensors)


def config_text(seat: Seat) -> str:
    """The seat's deskwatch.toml: default cadences, every device configured as a site would."""
    front, back = seat.front, seat.back
    transports = ", ".join(f'"{t}"' for t in seat.phone.transports)
    text = (
        'user = "王丽"\n'
        '[alerts]\nit_email = "it@example.com"\n'
        # Five-second trend points: the chart has a line after the seat's first minute.
        "[history]\nsample_seconds = 5\n"
        # A seat already in use: no first-login offer of the start-of-shift check over the panel.
        "[selftest]\noffer_at_first_login = false\n"
        f'[monitors.printer]\nserver = "{seat.cups.server}"\nprinters = ["{front}", "{back}"]\n'
        f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {seat.phone.port}\n'
        f"transports = [{transports}]\n"
        f'[monitors.headset]\ndevice = "{SINK}"\n'
    )
    for name, sensor in seat.sensors.items():
        protocol = "mhz19" if isinstance(sensor, Mhz19Responder) else "text"
        text += (
            f'[[monitors.environment.sensors]]\nname = "{name}"\nprotocol = "{protocol}"\n'
            f'port = "{sensor.link}"\nperiod = 2\n'
        )
    return text


def shoot_real(
    outdir: Path, sizes: list[str], langs: list[str], settle_seconds: float = SETTLE_SECONDS
) -> int:
    """Shoot every size × language from one running seat; 0 when every PNG was written."""
    deadline = time.monotonic() + TIME_LIMIT
    failures = 0
    try:
        require_seat()
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dw-shots-real-")))
            seat = start_seat(stack, tmp)
            config = tmp / "deskwatch.toml"
            config.write_text(config_text(seat), "utf-8")
            for size in sizes:
                with xvfb(with_tray=True, size=f"{size}x24") as x:
                    for lang in langs:
                        run = _AppRun(seat, tmp, config, x, outdir / "real" / size, size, lang)
                        failures += not run.shoot(settle_seconds, deadline)
    except ServiceError as exc:
        log.error("real seat: a component could not start:\n%s", exc)
        return 2
    return 1 if failures else 0


@dataclass
class _AppRun:
    """One tray app on one X server, in one language, shooting into ``out``."""

    seat: Seat
    tmp: Path
    config: Path
    x: XServer
    out: Path
    size: str
    lang: str

    def shoot(self, settle: float, deadline: float) -> bool:
        """Run the app until it has shot (or the time is up); True when every PNG exists."""
        seat, tmp, out, size, lang = self.seat, self.tmp, self.out, self.size, self.lang
        left = deadline - time.monotonic() - 5.0  # keep time to stop the services
        if left <= RUN_MARGIN:
            log.error("real seat %s [%s]: skipped, the %g s limit is reached", size, lang, TIME_LIMIT)
            return False
        settle = min(settle, left - RUN_MARGIN)
        plan = tmp / f"plan-{size}-{lang}.json"
        plan.write_text(
            json.dumps(
                {
                    "out": str(out),
                    "lang": lang,
                    "instances": seat.instances,
                    "detail": DETAIL_DEVICE,
                    "chart": DETAIL_CHART,
                    "settle_seconds": settle,
                }
            ),
            "utf-8",
        )
        shots = [out / f"{name}_{lang}.png" for name in SHOTS]
        for stale in shots:  # a PNG from an earlier run must not pass for this one's
            stale.unlink(missing_ok=True)
        started = time.monotonic()
        log_path = tmp / f"app-{size}-{lang}.log"
        command = app_command(
            ["tests.screenshots.real_app", str(plan)], self.config, tmp / "data", "--lang", lang
        )
        with log_path.open("wb") as app_log:
            app = subprocess.Popen(
                command,
                cwd=ROOT,
                env=app_env(self.x, seat.pulse, tmp, lang),
                stdout=app_log,
                stderr=subprocess.STDOUT,
            )
            try:
                code = app.wait(settle + RUN_MARGIN)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                if app.poll() is None:
                    app.kill()
                    app.wait(5)
        took = time.monotonic() - started
        if code != 0 or not all(p.exists() for p in shots):
            problem = "did not finish in time" if code is None else f"exited with {code}"
            log.error(
                "real seat %s [%s]: the app %s (%.0f s):\n%s", size, lang, problem, took, tail(log_path)
            )
            return False
        log.info("real seat %s [%s] done in %.1f s", size, lang, took)
        return True

"""Screenshots of a real seat: ``python -m tests.screenshots --seat real``.

The demo scene is tidy; a real seat is not.  This mode starts the test
fixtures' real components — a private cupsd with two queues, ``Back`` out
of paper; PulseAudio with a null sink as the headset and speech-like test
audio over room noise playing into it; SIPp answering OPTIONS on UDP and
TCP; five pty sensors (two text boards, an MH-Z19 reading 1250 ppm CO₂,
over its 1000 ppm limit, a Plantower PMS5003ST giving PM, formaldehyde,
temperature and humidity, and a Winsen ZE08-CH2O by a new cabinet reading
formaldehyde over its 0.08 mg/m³ limit) — writes the configuration a clerk's
seat would have for them, with the averages the app saved after a morning
on the seat (``air_windows.json``: so the rolling averages have a value, as
after any restart), and runs the real tray app (:mod:`tests.screenshots.real_app`)
on an Xvfb screen of each size with a tray.  The runs share one data folder
(each is a restart of the same seat, so the chart's history grows).  Once
every part of the seat has a reading the app grabs the status panel (the
screen, and every card at full height), the alert centre, the CO₂ chart and
the 环境监控 and 耳机 cards on their own (opened):
``<out>/real/<W>x<H>/{panel,panel_all,alerts,detail,card_environment,card_headset}_<lang>.png``.
The hearing monitor listens to the headset sink the test audio plays into.

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

from monitors.environment import WINDOWS_FILE
from sensors.measurement import HCHO, PM10, PM25
from tests.audio.conftest import SINK, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.environment.pollutant_simulators import Pms5003, Ze08
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
#: The PMS5003ST on the desk: PM (µg/m³) under the limits, formaldehyde under 0.08 mg/m³.
AIR_PM = (14, 31, 42)
AIR_HCHO = 0.045
#: The ZE08 by the new filing cabinet: 85 ppb, about 0.104 mg/m³ at 25 °C, over the 0.08 limit.
CABINET_PPB = 85
#: The early warning's hold in the seat's config (s): the default 10 min would outlast the run.
HCHO_RAISE_AFTER = 15
#: The morning the saved averages cover (s) and the levels in it: formaldehyde by the
#: cabinet already near its limit (the 1 h average 0.07 mg/m³), PM well under.
MORNING_S = 20 * 3600.0
MORNING = {"air": {PM25: 28.0, PM10: 40.0, HCHO: 0.04}, "cabinet": {HCHO: 0.064}}
#: The cabinet's last minutes of the morning (its doors were opened): over the limit, the
#: 1 h average rising to 0.07 — what the early warning is for.
LATE_MINUTES, LATE_HCHO = 10, 0.10


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
    air = Pms5003(tmp / "dev" / "ttyS1", interval=1.0, model="pms5003st")
    air.atmospheric, air.hcho, air.temperature, air.humidity = AIR_PM, AIR_HCHO, 23.2, 47.0
    cabinet = Ze08(tmp / "dev" / "ttyS2", interval=1.0)
    cabinet.ppb = CABINET_PPB
    sensors: dict[str, PtyDevice] = {
        "desk": desk,
        "window": window,
        "co2": co2,
        "air": air,
        "cabinet": cabinet,
    }
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
        f'[monitors.hearing]\nsink = "{SINK}"\n'
        f'[indicators."environment.hcho_now"]\nraise_after = {HCHO_RAISE_AFTER}\n'
    )
    for name, sensor in seat.sensors.items():
        protocol = {Mhz19Responder: "mhz19", Pms5003: "pms", Ze08: "ze08"}.get(type(sensor), "text")
        text += (
            f'[[monitors.environment.sensors]]\nname = "{name}"\nprotocol = "{protocol}"\n'
            f'port = "{sensor.link}"\nperiod = 2\n'
        )
        if isinstance(sensor, Pms5003):
            text += f'model = "{sensor.model}"\n'
    return text


def saved_morning(now: float) -> str:
    """``air_windows.json`` as the app leaves it after :data:`MORNING_S` of :data:`MORNING` levels."""
    first, last = int((now - MORNING_S) // 60), int(now // 60) - 1

    def late(sensor: str, minute: int, value: float) -> float:
        return LATE_HCHO if sensor == "cabinet" and minute > last - LATE_MINUTES else value

    sensors = {
        sensor: {
            quantity: {
                "buckets": [
                    [index, late(sensor, index, value) * 60.0, 60.0] for index in range(first, last + 1)
                ],
                "last": [last * 60.0 + 59.0, late(sensor, last, value)],
            }
            for quantity, value in quantities.items()
        }
        for sensor, quantities in MORNING.items()
    }
    return json.dumps({"version": 1, "sensors": sensors})


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
            (tmp / "data").mkdir()
            (tmp / "data" / WINDOWS_FILE).write_text(saved_morning(time.time()), "utf-8")
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
                    # The formaldehyde early warning needs its hold first (and a poll after it).
                    "at_least_seconds": min(settle, HCHO_RAISE_AFTER + 12.0),
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

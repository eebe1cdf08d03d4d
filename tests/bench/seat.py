"""A whole seat's real devices for the benchmarks: printers, sensors, a PBX and a headset.

``bench all`` measures the seat of issue 16 (two printers on the private
cupsd, three sensors, SIPp as the PBX, continuous headset capture of a
PulseAudio null sink playing speech); ``bench scale`` varies the number of
printers and sensors.  :class:`Seat` starts the services, writes the config
and gives the environment the app (and a bare capture of the same source)
runs with.  Sensors cycle through the three kinds a site has: a text board
(DHT22 pace, a line every 2 s), an MH-Z19 and an RS-485 Modbus transmitter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.environment.simulators import Mhz19Responder, ModbusTransmitter, TextLineBoard
from tests.printer.conftest import PrivateCups
from tests.realseat import Phone

SENSOR_KINDS = ("text", "mhz19", "modbus")


class Seat:
    """The services of one seat, started together (use as a context manager)."""

    def __init__(
        self,
        root: Path,
        printers: int = 2,
        sensors: int = 3,
        headset: bool = True,
        phone: bool = True,
        play_seconds: float = 600.0,
        hearing: bool = True,
    ) -> None:
        self.root = root
        self.n_printers = printers
        self.n_sensors = sensors
        self.headset = headset
        self.with_phone = phone
        #: The hearing monitor (a second capture, of the sink's monitor, while it plays) on or off.
        self.hearing = hearing
        self.play_seconds = play_seconds
        self.cups: PrivateCups | None = None
        self.pulse: PulseServer | None = None
        self.phone: Phone | None = None
        self.queues: list[str] = []
        self.devices: list[Any] = []
        self.sensor_tables: list[str] = []
        self._stack = contextlib.ExitStack()

    # -- services ----------------------------------------------------------------------
    def __enter__(self) -> Seat:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        stack = self._stack
        if self.n_printers:
            cups = self.cups = PrivateCups(self.root / "cups")
            cups.start()
            stack.callback(cups.stop)
            self.queues = [cups.add_queue(f"bench{n}") for n in range(self.n_printers)]
        if self.headset:
            pulse = self.pulse = PulseServer(self.root / "pulse")
            pulse.start()
            stack.callback(pulse.stop)
            seconds = self.play_seconds
            pulse.play(np.asarray(to_pcm(speech_like(seconds, -30) + noise(seconds, -70))))
        if self.with_phone:
            phone = self.phone = Phone(self.root)
            phone.start()
            stack.callback(phone.stop)
        ports = self.root / "dev"
        ports.mkdir(parents=True, exist_ok=True)
        for n in range(self.n_sensors):
            kind = SENSOR_KINDS[n % len(SENSOR_KINDS)]
            name = f"{kind}{n}"
            device: Any
            if kind == "text":
                device = TextLineBoard(ports / f"ttyUSB{n}", interval=2.0)  # a DHT22 board's pace
                table = f'protocol = "text"\nport = "{device.link}"\n'
            elif kind == "mhz19":
                device = Mhz19Responder(ports / f"ttyS{n}")
                table = f'protocol = "mhz19"\nport = "{device.link}"\n'
            else:
                device = ModbusTransmitter(ports / f"rs485-dev{n}", ports / f"ttyRS485-{n}")
                device.set_registers(4, 1, [235, 456])
                table = f'protocol = "modbus"\nport = "{device.host_link}"\npreset = "xy-md02"\n'
            device.plug()
            stack.callback(device.unplug)
            self.devices.append(device)
            self.sensor_tables.append(f'[[monitors.environment.sensors]]\nname = "{name}"\n{table}')

    # -- what the app is given --------------------------------------------------------
    def config_text(self) -> str:
        """The seat's ``deskwatch.toml``: every configured device, the rest at defaults."""
        text = ""
        if self.cups is not None:
            names = ", ".join(f'"{q}"' for q in self.queues)
            text += f'[monitors.printer]\nserver = "{self.cups.server}"\nprinters = [{names}]\n'
        else:
            text += "[monitors.printer]\nenabled = false\n"
        if self.headset:
            text += f'[monitors.headset]\ndevice = "{SINK}"\n'
            hearing = f'sink = "{SINK}"' if self.hearing else "enabled = false"
            text += f"[monitors.hearing]\n{hearing}\n"
        else:
            text += "[monitors.headset]\nenabled = false\n[monitors.recorder]\nenabled = false\n"
            text += "[monitors.hearing]\nenabled = false\n"
        if self.phone is not None:
            text += f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {self.phone.port}\n'
        return text + "".join(self.sensor_tables)

    def write_config(self, path: Path) -> Path:
        """Write :meth:`config_text` to ``path``; returns it."""
        path.write_text(self.config_text(), "utf-8")
        return path

    def env(self) -> dict[str, str]:
        """PulseAudio's client environment with the headset source (empty without a headset)."""
        if self.pulse is None:
            return {}
        return {**self.pulse.env, "PULSE_SOURCE": SOURCE}


@contextlib.contextmanager
def seat(root: Path, **options: Any) -> Iterator[Seat]:
    """A started :class:`Seat` under ``root`` (stopped on the way out)."""
    with Seat(root, **options) as started:
        yield started

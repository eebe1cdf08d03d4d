"""A whole seat's real devices for the benchmarks: printers, sensors, a PBX and a headset.

``bench all`` measures the seat of issue 16 (two printers on the private
cupsd, three sensors, SIPp as the PBX, continuous headset capture of a
PulseAudio null sink playing speech); ``bench scale`` varies the number of
printers and sensors.  :class:`Seat` starts the services, writes the config
and gives the environment the app (and a bare capture of the same source)
runs with.  Sensors cycle through the three kinds a site has: a text board
(DHT22 pace, a line every 2 s), an MH-Z19 and an RS-485 Modbus transmitter;
or through the pollutant sensors (:data:`POLLUTANT_KINDS`).
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tests.audio.conftest import SINK, SOURCE, PulseServer
from tests.audio.signals import noise, speech_like, to_pcm
from tests.environment.pollutant_simulators import Pms5003, Ze08
from tests.environment.simulators import Mhz19Responder, ModbusTransmitter, TextLineBoard
from tests.printer.conftest import PrivateCups
from tests.realseat import Phone

SENSOR_KINDS = ("text", "mhz19", "modbus")
#: The pollutant sensors of issue 18, at their manuals' paces: a PMS5003 in active mode
#: (stable: a frame every 2.3 s), a ZE08-CH2O (a frame a second), a float32 TVOC transmitter.
POLLUTANT_KINDS = ("pms", "ze08", "tvoc")
#: The PMS5003 manual: active stable mode every 2.3 s, fast mode every 200-800 ms.
PMS_STABLE_S, PMS_FAST_S = 2.3, 0.2
#: The ZE08-CH2O manual: active upload once a second.
ZE08_S = 1.0
#: A TVOC transmitter's reading (mg/m³), an IEEE-754 float32 in holding registers 0-1 (ABCD).
TVOC_MG_M3 = 0.35


def sensor(kind: str, ports: Path, n: int) -> tuple[Any, str]:
    """A simulated sensor of ``kind`` (not plugged yet) and its config table, named ``<kind><n>``.

    Kinds: ``text`` (a board's line every 2 s, a DHT22's pace), ``mhz19``,
    ``modbus`` (an XY-MD02), ``pms`` / ``pms-fast`` (a PMS5003 in active
    mode, stable or fast), ``ze08`` and ``tvoc`` (a Modbus float32 transmitter).
    """
    device: Any
    if kind == "text":
        device = TextLineBoard(ports / f"ttyUSB{n}", interval=2.0)
        table = f'protocol = "text"\nport = "{device.link}"\n'
    elif kind == "mhz19":
        device = Mhz19Responder(ports / f"ttyS{n}")
        table = f'protocol = "mhz19"\nport = "{device.link}"\n'
    elif kind in ("pms", "pms-fast"):
        device = Pms5003(ports / f"ttyPMS{n}", interval=PMS_FAST_S if kind == "pms-fast" else PMS_STABLE_S)
        table = f'protocol = "pms"\nport = "{device.link}"\nmode = "active"\n'
    elif kind == "ze08":
        device = Ze08(ports / f"ttyHCHO{n}", interval=ZE08_S)
        table = f'protocol = "ze08"\nport = "{device.link}"\nmode = "active"\n'
    elif kind in ("modbus", "tvoc"):
        device = ModbusTransmitter(ports / f"rs485-dev{n}", ports / f"ttyRS485-{n}")
        if kind == "modbus":
            device.set_registers(4, 1, [235, 456])
            table = f'protocol = "modbus"\nport = "{device.host_link}"\npreset = "xy-md02"\n'
        else:
            device.set_registers(3, 0, list(struct.unpack(">HH", struct.pack(">f", TVOC_MG_M3))))
            table = (
                f'protocol = "modbus"\nport = "{device.host_link}"\nvalue_type = "float32"\n'
                "temperature_register = -1\nhumidity_register = -1\ntvoc_register = 0\n"
            )
    else:
        raise ValueError(f"unknown sensor kind {kind!r}")
    return device, f'[[monitors.environment.sensors]]\nname = "{kind}{n}"\n{table}'


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
        kinds: tuple[str, ...] = SENSOR_KINDS,
        hearing: bool = True,
    ) -> None:
        self.root = root
        #: The sensors' kinds in turn (see :func:`sensor`).
        self.kinds = kinds
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
            kind = self.kinds[n % len(self.kinds)]
            device, table = sensor(kind, ports, n)
            device.plug()
            stack.callback(device.unplug)
            self.devices.append(device)
            self.sensor_tables.append(table)

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

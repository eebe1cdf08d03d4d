"""Fixtures for the environment area: sensor simulators on real pty pairs.

Every simulator is unplugged at the end of its test, and every monitor is
closed, so no reader thread outlives the test that started it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from app.core.config import load_config
from app.core.engine import Engine, IndicatorState
from app.kernel.model import Reading
from app.kernel.monitor import MonitorContext
from monitors.environment import EnvironmentMonitor
from tests.environment.pollutant_simulators import Pms5003, Ze08
from tests.environment.simulators import Mhz19Responder, ModbusTransmitter, TextLineBoard


class MakeMonitor(Protocol):
    def __call__(self, toml: str, config_errors: int = 0) -> EnvironmentMonitor: ...


@pytest.fixture(autouse=True)
def no_reader_left_running() -> Iterator[None]:
    """Fail a test that leaves a sensor reader thread behind (closing must end them)."""
    yield
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        left = [t.name for t in threading.enumerate() if t.name.startswith("deskwatch-sensor-")]
        if not left:
            return
        time.sleep(0.05)
    pytest.fail(f"sensor reader threads still running: {left}")


@pytest.fixture
def ports(tmp_path: Path) -> Path:
    """A folder for the simulators' port links (short names, like /dev/ttyUSB0)."""
    folder = tmp_path / "dev"
    folder.mkdir()
    return folder


Device = TypeVar("Device", TextLineBoard, Mhz19Responder, ModbusTransmitter, Pms5003, Ze08)


def plugged(device: Device) -> Iterator[Device]:
    """Plug a simulator in for one test and pull it out afterwards."""
    device.plug()
    yield device
    device.unplug()


@pytest.fixture
def text_board(ports: Path) -> Iterator[TextLineBoard]:
    yield from plugged(TextLineBoard(ports / "ttyUSB0"))


@pytest.fixture
def mhz19_sensor(ports: Path) -> Iterator[Mhz19Responder]:
    yield from plugged(Mhz19Responder(ports / "ttyS1"))


@pytest.fixture
def pms(ports: Path) -> Iterator[Pms5003]:
    yield from plugged(Pms5003(ports / "ttyAMA0"))


@pytest.fixture
def formaldehyde(ports: Path) -> Iterator[Ze08]:
    yield from plugged(Ze08(ports / "ttyAMA1"))


@pytest.fixture
def pms_st(ports: Path) -> Iterator[Pms5003]:
    """A PMS5003ST: PM, formaldehyde, temperature and humidity in one 40-byte frame."""
    yield from plugged(Pms5003(ports / "ttyAMA3", model="pms5003st"))


@pytest.fixture
def modbus_transmitter(ports: Path) -> Iterator[ModbusTransmitter]:
    if shutil.which("socat") is None:
        pytest.fail("socat is missing: install the Debian package socat (.ci/bootstrap does)")
    yield from plugged(ModbusTransmitter(ports / "rs485-device", ports / "ttyRS485"))


@pytest.fixture
def make_monitor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeMonitor]:
    """Build the environment monitor from a TOML snippet, the way the app does."""
    monkeypatch.setattr(EnvironmentMonitor, "reconnect_delays", (0.05, 0.3))
    made: list[EnvironmentMonitor] = []

    def make(toml: str, config_errors: int = 0) -> EnvironmentMonitor:
        path = tmp_path / f"deskwatch-{len(made)}.toml"
        path.write_text(toml, "utf-8")
        config = load_config({"environment": EnvironmentMonitor}, path, shipped_path=Path("/nonexistent"))
        assert len(config.errors) == config_errors, config.errors
        monitor = EnvironmentMonitor(config.monitor("environment"), MonitorContext(data_dir=tmp_path))
        made.append(monitor)
        return monitor

    yield make
    for monitor in made:
        monitor.close()


@pytest.fixture
def engine() -> Engine:
    """An engine judging environment readings without debounce (like ``deskwatch check``)."""
    config = load_config({"environment": EnvironmentMonitor}, None, shipped_path=Path("/nonexistent"))
    return Engine(config, EnvironmentMonitor.indicators, debounce=False, user="tester")


def judged(engine: Engine, readings: Iterable[Reading]) -> dict[str, IndicatorState]:
    """Feed readings to the engine and return its states by key (the engine judges the ranges)."""
    engine.ingest(readings)
    return {s.key: s for s in engine.states()}


def by_key(readings: list[Any]) -> dict[str, Any]:
    """Readings by state key, e.g. ``environment.temperature[desk]``."""
    return {r.key: r for r in readings}

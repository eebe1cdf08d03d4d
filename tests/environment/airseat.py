"""A simulated seat for the pollutant tests: the environment monitor and an engine on one injected clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.core.config import load_config
from app.core.engine import Engine
from app.core.history import History
from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.environment import EnvironmentMonitor
from sensors.reader import CONNECTED, SensorStatus

T0 = 1_800_000_000.0
SENSOR = '[[monitors.environment.sensors]]\nname = "desk"\nport = "/nonexistent/ttyUSB9"\n'


class Seat:
    """One environment monitor and a debouncing engine on a simulated clock."""

    def __init__(
        self,
        tmp_path: Path,
        toml: str = "",
        mode: str = "check",
        history: History | None = None,
        t0: float = T0,
    ) -> None:
        path = tmp_path / "deskwatch.toml"
        path.write_text(toml + SENSOR, "utf-8")
        config = load_config({"environment": EnvironmentMonitor}, path, shipped_path=Path("/nonexistent"))
        assert not config.errors, config.errors
        self.t = 0.0
        self.monitor = EnvironmentMonitor(config.monitor("environment"), MonitorContext(tmp_path, mode=mode))
        self.monitor.clock = lambda: self.t  # type: ignore[method-assign]
        self.t0 = t0
        self.monitor.wall = lambda: self.t0 + self.t  # type: ignore[method-assign]
        self.engine = Engine(
            config, EnvironmentMonitor.indicators, history, clock=lambda: self.t0 + self.t, user="tester"
        )
        #: Level changes seen per state key: (time, level).
        self.changes: dict[str, list[tuple[float, Level]]] = {}

    def run(
        self,
        seconds: float,
        value: Callable[[float], float],
        quantity: str,
        every: float = 10.0,
        silent: bool = False,
    ) -> None:
        """Poll every ``every`` s for ``seconds``, the sensor reading ``value(t)`` just before each poll.

        ``silent``: the sensor says nothing new (its last reading keeps its time).
        """
        end, taken = self.t + seconds, self.t
        while self.t < end:
            self.t += every
            taken = taken if silent else self.t
            status = SensorStatus(
                "desk", CONNECTED, values={quantity: value(taken)}, times={quantity: taken}, last_valid=taken
            )
            readings = self.monitor._sensor_readings(status, "sim", "winter")
            for state in self.engine.ingest(readings, self.t0 + self.t):
                seen = self.changes.setdefault(state.key, [])
                if not seen or seen[-1][1] is not state.level:
                    seen.append((self.t, state.level))

    def level(self, key: str) -> Level:
        state = self.engine.state(key)
        assert state is not None, key
        return state.level

    def first(self, key: str, level: Level) -> float | None:
        return next((t for t, seen in self.changes.get(key, []) if seen is level), None)

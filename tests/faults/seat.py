"""A Deskwatch seat for fault tests: the real runtime, real monitors, fast cadence."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import monitors as monitor_package
from app.core.alerts import Alert
from app.core.engine import IndicatorState
from app.core.runtime import Runtime, build_runtime
from app.kernel.model import Level
from tests.printer.conftest import wait_for

__all__ = ["Seat", "wait_for"]


class Seat:
    """One workstation's Deskwatch (headless runtime, history on) in this process."""

    def __init__(self, root: Path, config: str, monitors: Iterable[str]) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "deskwatch.toml"
        self.config_path.write_text(config, "utf-8")
        self.data_dir = root / "data"
        self.runtime: Runtime = build_runtime(
            monitor_classes=monitor_package.discover(),
            config_path=self.config_path,
            data_dir=self.data_dir,
            only=list(monitors),
        )
        assert not self.runtime.config.errors, self.runtime.config.errors
        self.runtime.start()

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.runtime.engine

    def state(self, key: str) -> IndicatorState | None:
        return self.runtime.engine.state(key)

    def level(self, key: str) -> Level | None:
        state = self.state(key)
        return None if state is None else state.level

    def wait_level(self, key: str, *levels: Level, timeout: float = 20.0) -> IndicatorState:
        """Wait until ``key`` is at one of ``levels``; return its state."""

        def reached() -> bool:
            return self.level(key) in levels

        try:
            wait_for(reached, timeout, f"{key} to be {'/'.join(lv.name for lv in levels)}")
        except AssertionError as exc:
            state = self.state(key)
            seen = (
                None
                if state is None
                else (state.level.name, state.value, state.message and state.message("en"))
            )
            raise AssertionError(f"{exc}; last seen {seen}") from None
        state = self.state(key)
        assert state is not None
        return state

    def alerts(self, key_prefix: str) -> list[Alert]:
        return [a for a in self.runtime.engine.alerts.visible() if a.key.startswith(key_prefix)]

    def stop(self) -> None:
        self.runtime.stop()

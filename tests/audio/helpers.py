"""Shared helpers for the audio tests."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from typing import Any

from app.core.config import monitor_common_settings
from app.kernel.model import Level, Reading
from app.kernel.monitor import Monitor


def monitor_settings(cls: type[Monitor], **overrides: Any) -> dict[str, Any]:
    """A monitor's declared defaults with some values changed (what the config layer would pass)."""
    declared = monitor_common_settings(cls) + cls.settings
    values = {s.key: s.default for s in declared}
    unknown = set(overrides) - set(values)
    assert not unknown, f"not settings of {cls.id}: {unknown}"
    return values | overrides


def levels(cls: type[Monitor], readings: list[Reading]) -> dict[str, Level]:
    """Each reading's level as the engine would judge it (ignoring debounce)."""
    declared = {i.id: i for i in cls.indicators}
    result: dict[str, Level] = {}
    for reading in readings:
        level = reading.level
        if level is None:
            thresholds = declared[reading.indicator_id].thresholds
            assert isinstance(reading.value, int | float), reading
            level = thresholds.judge(float(reading.value)) if thresholds else Level.OK
        result[declared[reading.indicator_id].name] = level
    return result


def values(readings: list[Reading]) -> Mapping[str, Any]:
    """Reading values by indicator name."""
    return {r.indicator_id.split(".", 1)[1]: r.value for r in readings}


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a helper process (kill it if it lingers) and close its stderr pipe."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    if process.stderr:
        process.stderr.close()

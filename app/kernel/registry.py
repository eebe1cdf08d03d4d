"""The registry: every device and indicator one Deskwatch knows of, read from the declarations.

Monitors declare their device and indicators (:mod:`app.kernel.monitor`); the
services add the few they feed themselves (Deskwatch's own records, breaks).
Configuration, the engine, the panel, the self-check, reports, the exporter
and the generated Prometheus rules all read this one registry, so a new
monitor — even in a new device group — is seen everywhere from its one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from app.kernel.model import Device, Indicator
from app.kernel.monitor import Monitor


class Registry:
    """Devices, monitors and indicators by id, in the procedure's order.

    Additions (:meth:`add`) replace the tables instead of changing them, so a
    reader on another thread always sees a complete table.
    """

    def __init__(
        self, monitor_classes: Iterable[type[Monitor]] = (), indicators: Iterable[Indicator] = ()
    ) -> None:
        self._monitors: dict[str, type[Monitor]] = {}
        self._indicators: Mapping[str, Indicator] = MappingProxyType({})
        self._devices: tuple[Device, ...] = ()
        for cls in monitor_classes:
            self._monitors[cls.id] = cls
        self.add([ind for cls in self._monitors.values() for ind in cls.indicators] + list(indicators))

    def add(self, indicators: Iterable[Indicator]) -> None:
        """Register indicators (and their devices); an id declared again keeps its first place."""
        table = dict(self._indicators)
        for indicator in indicators:
            table[indicator.id] = indicator
        devices = {cls.device for cls in self._monitors.values()} | {i.device for i in table.values()}
        self._devices = tuple(sorted(devices, key=lambda d: (d.order, d.id)))
        self._indicators = MappingProxyType(table)

    @property
    def indicators(self) -> Mapping[str, Indicator]:
        """Every indicator by id (read-only)."""
        return self._indicators

    @property
    def devices(self) -> tuple[Device, ...]:
        """Every device group something is declared for, in the procedure's order."""
        return self._devices

    @property
    def monitors(self) -> Mapping[str, type[Monitor]]:
        """The monitor classes by id."""
        return MappingProxyType(self._monitors)

    def indicator(self, indicator_id: str) -> Indicator | None:
        """One indicator by id, or ``None``."""
        return self._indicators.get(indicator_id)

    def with_thresholds(self) -> dict[str, Indicator]:
        """The indicators that have thresholds (the ones ``[indicators]`` may override)."""
        return {iid: ind for iid, ind in self._indicators.items() if ind.thresholds is not None}

    def monitors_of(self, device: Device) -> list[type[Monitor]]:
        """The monitor classes of one device group, in declaration order."""
        return [cls for cls in self._monitors.values() if cls.device is device]


__all__ = ["Registry"]

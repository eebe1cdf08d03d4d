"""The registry in force: the monitors' declarations plus the indicators the services feed.

:func:`registry_of` is the one place that knows which indicators exist
besides the monitors' own: Deskwatch's records (fed by the engine) and the
break service's ``breaks.*``.  :class:`app.core.config.Config` builds one per
configuration; the engine, reports, promfiles and the UI read that one.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core import breaks
from app.kernel.i18n import Text
from app.kernel.model import Device, Indicator
from app.kernel.monitor import Monitor
from app.kernel.registry import Registry

#: The engine's own indicator: can Deskwatch still write its records?
HISTORY_STORAGE = Indicator(
    "computer.history_storage",
    Device.COMPUTER,
    Text("Deskwatch records", "本程序记录存储"),
    numeric=False,
)

#: Indicators fed by a service rather than a polled monitor.
SERVICE_INDICATORS: tuple[Indicator, ...] = (HISTORY_STORAGE, *breaks.INDICATORS)


def registry_of(monitor_classes: Iterable[type[Monitor]]) -> Registry:
    """The registry of these monitors and of the services' own indicators."""
    return Registry(monitor_classes, SERVICE_INDICATORS)


__all__ = ["HISTORY_STORAGE", "SERVICE_INDICATORS", "Registry", "registry_of"]

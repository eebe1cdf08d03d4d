"""Monitors: one module per monitored device, discovered automatically.

To add a monitor, add one module here that defines a subclass of
:class:`app.kernel.monitor.Monitor`; nothing else needs to change.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from app.kernel.monitor import Monitor

log = logging.getLogger(__name__)


def discover() -> dict[str, type[Monitor]]:
    """Every monitor class in this package, by id, in device order.

    A module that fails to import (say, a missing optional library) is logged
    and skipped so that the other monitors still run.
    """
    found: dict[str, type[Monitor]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except Exception:
            log.exception("monitor module %s could not be loaded", info.name)
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Monitor)
                and value.__module__ == module.__name__
                and "id" in vars(value)
            ):
                found[value.id] = value
    return dict(sorted(found.items(), key=lambda item: (item[1].device.order, item[0])))

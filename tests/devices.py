"""The device groups the shipped monitors declare, for tests that need one of them."""

from __future__ import annotations

from app.kernel.model import Device
from monitors.environment import ENVIRONMENT
from monitors.headset import HEADSET
from monitors.printer import PRINTER
from monitors.recorder import RECORDER
from monitors.telephone import TELEPHONE

COMPUTER = Device.COMPUTER
BREAKS = Device.BREAKS

__all__ = ["BREAKS", "COMPUTER", "ENVIRONMENT", "HEADSET", "PRINTER", "RECORDER", "TELEPHONE"]

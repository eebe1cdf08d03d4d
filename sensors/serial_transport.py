"""Serial ports for sensors: open by path, pyserial URL or USB VID:PID; back off and reopen.

USB serial adapters vanish when unplugged and come back, sometimes under
another name; :func:`resolve_port` finds them again by VID:PID, and
:class:`Backoff` spaces reopening attempts so an absent sensor costs nothing.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass

import serial
import serial.tools.list_ports

log = logging.getLogger(__name__)

PARITIES: tuple[str, ...] = ("N", "E", "O", "M", "S")


def _transport_errors() -> tuple[type[Exception], ...]:
    errors: tuple[type[Exception], ...] = (OSError, serial.SerialException)
    if sys.platform != "win32":
        import termios

        # pyserial lets termios.error (not an OSError) through from tcflush/tcsetattr
        # when the tty is gone, e.g. reset_input_buffer() on an unplugged adapter.
        errors += (termios.error,)
    return errors


#: What a failing port raises: these, and only these, mean the link is lost.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = _transport_errors()
_USB_ID = re.compile(r"^\s*([0-9a-fA-F]{1,4})\s*:\s*([0-9a-fA-F]{1,4})\s*$")


class PortUnavailable(OSError):
    """The configured port does not exist now or cannot be opened."""


@dataclass(frozen=True)
class SerialSettings:
    """Where a sensor is attached and how its line is set up (default 9600 8N1)."""

    port: str = ""
    #: ``"VID:PID"`` in hex (e.g. ``"1a86:7523"``); used when ``port`` is empty.
    usb_id: str = ""
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    #: Seconds a read waits for data; keeps reader threads responsive to stop requests.
    timeout: float = 0.2

    def __post_init__(self) -> None:
        if not self.port and not self.usb_id:
            raise ValueError("set port (a device path or pyserial URL) or usb_id (VID:PID)")
        if self.usb_id:
            parse_usb_id(self.usb_id)
        if self.parity not in PARITIES:
            raise ValueError(f"parity must be one of {', '.join(PARITIES)}")
        if self.bytesize not in (5, 6, 7, 8):
            raise ValueError("bytesize must be 5, 6, 7 or 8")
        if self.stopbits not in (1, 1.5, 2):
            raise ValueError("stopbits must be 1, 1.5 or 2")

    @property
    def where(self) -> str:
        """The port as the user configured it, for messages."""
        return self.port or f"USB {self.usb_id}"


def parse_usb_id(text: str) -> tuple[int, int]:
    """``"1a86:7523"`` → ``(0x1A86, 0x7523)``; ``ValueError`` for anything else."""
    match = _USB_ID.match(text)
    if match is None:
        raise ValueError(f"usb_id {text!r} is not VID:PID in hex, e.g. 1a86:7523")
    return int(match.group(1), 16), int(match.group(2), 16)


def find_usb_port(usb_id: str) -> str | None:
    """Device path of the first serial port with this USB VID:PID, or ``None``."""
    vid, pid = parse_usb_id(usb_id)
    for info in sorted(serial.tools.list_ports.comports(), key=lambda p: p.device):
        if info.vid == vid and info.pid == pid:
            return str(info.device)
    return None


def resolve_port(settings: SerialSettings) -> str:
    """The path or URL to open now; :class:`PortUnavailable` when a USB device is absent."""
    if settings.port:
        return settings.port
    found = find_usb_port(settings.usb_id)
    if found is None:
        raise PortUnavailable(f"no serial device with USB id {settings.usb_id} is plugged in")
    return found


def open_port(settings: SerialSettings) -> serial.SerialBase:
    """Open the sensor's port (exclusively where the OS allows); :class:`PortUnavailable` on failure."""
    url = resolve_port(settings)
    try:
        return serial.serial_for_url(
            url,
            baudrate=settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=settings.timeout,
            write_timeout=max(settings.timeout, 1.0),
            **({"exclusive": True} if "://" not in url else {}),
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        # pyserial repeats the path and errno in its text; the OS reason alone reads better.
        errno = getattr(exc, "errno", None)
        reason = os.strerror(errno) if isinstance(errno, int) else str(exc)
        raise PortUnavailable(f"cannot open {url}: {reason}") from exc


@dataclass
class Backoff:
    """Exponential delays between reconnection attempts: 0.5 s, 1 s, 2 s … up to ``maximum``."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    _next: float = 0.0

    def next_delay(self) -> float:
        """The delay before the next attempt (grows each call)."""
        delay = self._next or self.initial
        self._next = min(delay * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        """Back to the shortest delay (after a successful connection)."""
        self._next = 0.0

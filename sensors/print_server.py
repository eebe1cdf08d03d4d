"""The print-server interface every printer transport implements, and its two errors.

One module per transport: :mod:`sensors.cups_printer` (CUPS over IPP,
Linux/macOS), :mod:`sensors.windows_printer` (the Windows spooler through
pywin32); :mod:`sensors.snmp_printer` reads network printers beside them.
Each turns what its system reports into :class:`~sensors.printing.PrinterSnapshot`
values in the IPP vocabulary; judging them is the printer monitor's job.  The
transports are thin: connection handling, attribute fetching, and the test
page.  All calls block and are meant for the monitor's poll thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from sensors import printing as p


class PrintServerUnreachable(Exception):
    """The print server (cupsd, the spooler, an SNMP agent) cannot be reached."""


class PrintServerRefused(Exception):
    """The print server answers but refuses us: authentication required, or forbidden."""


class PrintServerFault(Exception):
    """The print server answered with something malformed, truncated or oversized: its fault."""


class PrinterMissing(Exception):
    """The named printer does not exist on the print server."""


class PrintServer(ABC):
    """One print server; every method may block and may raise :class:`PrintServerUnreachable`."""

    #: Human description of the server ("CUPS at 127.0.0.1:631") for messages.
    description: str = ""

    @abstractmethod
    def printer_names(self) -> list[str]:
        """Names of every printer the server knows."""

    @abstractmethod
    def default_printer(self) -> str | None:
        """The default printer, if one is set."""

    @abstractmethod
    def snapshots(self, names: Iterable[str], finished_since: float) -> dict[str, p.PrinterSnapshot | None]:
        """State of each named printer (``None`` for one that does not exist).

        ``finished_since`` (epoch seconds) limits the finished jobs returned.
        """

    def submit_test_page(self, name: str) -> int:
        """Print a test page on ``name``; returns the job id."""
        raise NotImplementedError(f"{type(self).__name__} cannot print a test page")

    def job(self, name: str, job_id: int) -> p.Job | None:
        """The current state of one job, ``None`` if the server no longer knows it."""
        raise NotImplementedError(f"{type(self).__name__} cannot follow jobs")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Drop connections; safe to call more than once."""

"""The monitor contract: declare indicators and settings, implement ``poll()``.

A monitor lives in one file under ``monitors/``; it is discovered by
:func:`monitors.discover`.  ``poll()`` runs on a worker thread with a
timeout, so it may block on I/O; it must not touch Qt.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from app.kernel.callstate import CallState
from app.kernel.i18n import Text
from app.kernel.model import Device, Indicator, Reading
from app.kernel.settings import Setting


@dataclass(frozen=True)
class CheckResult:
    """One line of the start-of-shift checklist produced by a monitor's active check."""

    name: Text
    status: str  # "pass" | "fail" | "skipped"
    message: Text
    #: What the clerk should do about a failure (or how to set the device up when skipped).
    advice: Text | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class LoopLatencyProbe:
    """Collects the GUI event loop's timer lateness for the freeze indicator.

    The Qt layer calls :meth:`report` from its heartbeat timer; the computer
    monitor calls :meth:`take_max` from its worker thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._max_ms: float | None = None

    def report(self, lateness_ms: float) -> None:
        """Record one measurement of how late a timer fired, in milliseconds."""
        with self._lock:
            if self._max_ms is None or lateness_ms > self._max_ms:
                self._max_ms = lateness_ms

    def take_max(self) -> float | None:
        """The worst lateness since the last call, or ``None`` if nothing was reported."""
        with self._lock:
            value, self._max_ms = self._max_ms, None
            return value


@dataclass
class MonitorContext:
    """What a monitor gets besides its settings.

    ``mode`` is ``"app"`` for the long-running application (tray or
    headless) and ``"check"`` for one-shot runs, where monitors skip
    bookkeeping such as restart detection.  ``services`` lets monitors share
    objects between them (e.g. the audio capture used by headset and
    recorder) without importing each other; what the app itself shares with
    every monitor is a typed field.
    """

    data_dir: Path
    mode: str = "app"
    loop_probe: LoopLatencyProbe | None = None
    #: Whether the clerk is in a call: the headset monitor feeds it; break
    #: reminders and alert sounds read it.
    call_state: CallState = field(default_factory=CallState)
    services: dict[str, Any] = field(default_factory=dict)
    #: Application-wide settings (``config.app``), e.g. ``app[""]["recordings_dir"]``.
    app: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def recordings_dir(self) -> Path:
        """The configured recordings folder, or ``<data dir>/recordings``."""
        configured = str(self.app.get("", {}).get("recordings_dir") or "")
        return Path(configured) if configured else self.data_dir / "recordings"

    @property
    def recordings_dir_is_default(self) -> bool:
        """True when the recordings folder is Deskwatch's own (so it may create it)."""
        return not self.app.get("", {}).get("recordings_dir")


class Monitor(ABC):
    """Base class of every monitor.

    Class attributes declare everything the rest of Deskwatch needs to know;
    instances are created with their validated settings.
    """

    #: Short identifier, also the prefix of its indicator ids and config section.
    id: ClassVar[str]
    #: Device group the monitor's card appears under.
    device: ClassVar[Device]
    #: Human name.
    title: ClassVar[Text]
    #: The indicators its readings refer to.
    indicators: ClassVar[tuple[Indicator, ...]]
    #: Monitor-specific settings (``[monitors.<id>]`` in the config file).
    settings: ClassVar[tuple[Setting, ...]] = ()
    #: Default seconds between polls.
    interval: ClassVar[float] = 5.0
    #: Default seconds a poll may take before the monitor is reported unknown.
    timeout: ClassVar[float] = 10.0
    #: Whether the monitor runs without being switched on in the config.
    enabled_by_default: ClassVar[bool] = True
    #: Keys this monitor's ``[monitors.<id>]`` section once had that now live
    #: under ``[indicators."<id>"]``: old key → (indicator id, threshold key).
    #: An older config file is still read from the old place (with a notice),
    #: so an upgrade loses none of the site's settings.
    moved_settings: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __init__(self, settings: Mapping[str, Any], context: MonitorContext) -> None:
        self.options: dict[str, Any] = dict(settings)
        self.context = context

    def setup_hint(self) -> Text | None:
        """Why the monitor cannot observe anything yet and how to set it up.

        ``None`` means it is configured.  The panel shows the hint on the
        device card instead of values.
        """
        return None

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start background resources (streams, ports). Called once, off the GUI thread."""

    @abstractmethod
    def poll(self) -> list[Reading]:
        """Observe the device now and return readings. May block; may raise."""

    def self_test(self, options: Mapping[str, Any]) -> list[CheckResult] | None:
        """Active start-of-shift check (record and play back, ping, test page …).

        ``options`` carries what the clerk chose (e.g. ``{"test_page": True}``).
        ``None`` (the default) means "no active check": the self-check then
        polls the monitor once and judges its readings.  May block; runs off
        the GUI thread.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources. Must be safe to call more than once."""

"""The monitor contract: declare indicators and settings, implement ``poll()``.

A monitor lives in one file under ``monitors/``; it is discovered by
:func:`monitors.discover`.  ``poll()`` runs on a worker thread with a
timeout, so it may block on I/O; it must not touch Qt.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
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
    """Collects how long the GUI event loop kept work waiting, for the freeze indicator.

    The Qt layer measures the loop from the work it does anyway (no timer
    wakes it to find out): a thread that queues work for the loop calls
    :meth:`queued`, the loop calls :meth:`dequeued` when it takes the work up
    and :meth:`report` with how long the work held it.  The computer monitor
    calls :meth:`take_max` from its worker thread, which also counts work
    still waiting -- a loop that hangs right now is seen while it hangs, not
    only once it is free again.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._max_ms: float | None = None
        #: When each piece of queued work still waiting was queued, oldest first.
        self._waiting: deque[float] = deque()
        self._watching = False

    def watch(self, on: bool) -> None:
        """Start (or stop) counting queued work; the loop is running (or no longer is)."""
        with self._lock:
            self._watching = on
            self._waiting.clear()

    def queued(self) -> float:
        """Note that work was queued for the loop now (any thread); returns its stamp."""
        now = self._clock()
        with self._lock:
            if self._watching:
                self._waiting.append(now)
        return now

    def dequeued(self, stamp: float) -> float:
        """The loop took up the work queued at ``stamp``: how long it waited (ms, also reported)."""
        now = self._clock()
        with self._lock:
            if self._waiting and self._waiting[0] == stamp:
                self._waiting.popleft()
            elif stamp in self._waiting:
                self._waiting.remove(stamp)
        waited = max(0.0, (now - stamp) * 1000.0)
        self.report(waited)
        return waited

    def report(self, lateness_ms: float) -> None:
        """Record one measurement of how late (or how long busy) the loop was, in milliseconds."""
        with self._lock:
            if self._max_ms is None or lateness_ms > self._max_ms:
                self._max_ms = lateness_ms

    def take_max(self) -> float | None:
        """The worst lateness since the last call (work still waiting included), or ``None``."""
        now = self._clock()
        with self._lock:
            value, self._max_ms = self._max_ms, None
            if self._waiting:
                oldest = (now - self._waiting[0]) * 1000.0
                value = oldest if value is None else max(value, oldest)
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

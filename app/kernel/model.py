"""Declarations every monitor is built from: devices, levels, indicators, readings.

A monitor declares its indicators once; the panel, history, settings dialog,
CLI table and Prometheus exporter all read these declarations, which is why
adding a monitor touches only its own file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from typing import Any

from app.kernel.i18n import Text


class Level(IntEnum):
    """Health level of an indicator; the values are Nagios plugin exit codes.

    The state model (README, "What the states mean"):

    * ``OK`` — observed and within its normal range;
    * ``WARNING``/``CRITICAL`` — observed and out of range;
    * ``UNKNOWN`` — Deskwatch tried and could not observe (the message says why);
    * ``NOT_SET_UP`` — nothing is configured to observe.  Shown grey, never an
      alert, and left out of :func:`worst` (so out of exit codes and banners).
      Its value 4 is no Nagios code; it never becomes an exit code.
    """

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
    NOT_SET_UP = 4

    @property
    def rank(self) -> int:
        """Severity order for "worst of": ok < unknown < warning < critical.

        Unknown ranks above ok (a failed monitor is never "fine") but below a
        confirmed fault, like monitoring-plugins' ``max_state_alt``.
        """
        return _RANK[self]

    @property
    def text(self) -> Text:
        """Localised name of the level."""
        return _LEVEL_TEXT[self]

    @property
    def is_problem(self) -> bool:
        """True for the levels that open an alert (warning, critical, unknown)."""
        return self in (Level.WARNING, Level.CRITICAL, Level.UNKNOWN)

    @property
    def slug(self) -> str:
        """Lower-case machine name (``"not_set_up"``) used in JSON, CSV and metrics."""
        return self.name.lower()


_RANK = {Level.NOT_SET_UP: -1, Level.OK: 0, Level.UNKNOWN: 1, Level.WARNING: 2, Level.CRITICAL: 3}
_LEVEL_TEXT = {
    Level.OK: Text("OK", "正常"),
    Level.WARNING: Text("Warning", "警告"),
    Level.CRITICAL: Text("Critical", "严重"),
    Level.UNKNOWN: Text("Unknown", "未知"),
    Level.NOT_SET_UP: Text("Not set up", "未设置"),
}


def worst(levels: Iterable[Level]) -> Level:
    """The most severe level of ``levels`` (``OK`` when empty).

    ``NOT_SET_UP`` is left out: a device nobody configured is not a problem.
    """
    return max(
        (level for level in levels if level is not Level.NOT_SET_UP),
        key=lambda level: level.rank,
        default=Level.OK,
    )


class Device(Enum):
    """Device groups, in the order of the procedure's section 四."""

    TELEPHONE = "telephone"
    HEADSET = "headset"
    COMPUTER = "computer"
    PRINTER = "printer"
    RECORDER = "recorder"
    ENVIRONMENT = "environment"
    BREAKS = "breaks"

    @property
    def label(self) -> Text:
        """The procedure's own name for the device group."""
        return _DEVICE_LABELS[self]

    @property
    def order(self) -> int:
        """Position in the procedure's order, for sorting cards and tables."""
        return list(Device).index(self)


_DEVICE_LABELS = {
    Device.TELEPHONE: Text("Telephone", "电话系统"),
    Device.HEADSET: Text("Headset", "耳机"),
    Device.COMPUTER: Text("Computer", "电脑系统"),
    Device.PRINTER: Text("Printer", "打印机"),
    Device.RECORDER: Text("Recorder", "录音设备"),
    Device.ENVIRONMENT: Text("Environment", "环境监控"),
    Device.BREAKS: Text("Breaks", "工间休息"),
}


class Direction(Enum):
    """Which way a numeric value goes bad."""

    HIGH_IS_BAD = "high"
    LOW_IS_BAD = "low"


@dataclass(frozen=True)
class Thresholds:
    """Warning and critical limits with separate clear levels and debounce times.

    A level is entered when the value crosses ``warning``/``critical`` and left
    only when it is back past ``warning_clear``/``critical_clear`` (hysteresis).
    ``raise_after``/``clear_after`` are how many seconds a new level must hold
    before it takes effect (debounce, both directions).
    """

    direction: Direction = Direction.HIGH_IS_BAD
    warning: float | None = None
    critical: float | None = None
    warning_clear: float | None = None
    critical_clear: float | None = None
    raise_after: float = 0.0
    clear_after: float = 0.0

    def clear_level(self, level: Level) -> float | None:
        """The value that must be passed to leave ``level`` (defaults to its limit)."""
        if level is Level.CRITICAL:
            return self.critical if self.critical_clear is None else self.critical_clear
        if level is Level.WARNING:
            return self.warning if self.warning_clear is None else self.warning_clear
        return None

    def judge(self, value: float, previous: Level = Level.OK) -> Level:
        """Level of ``value`` given the level it had before (for hysteresis)."""
        sign = 1.0 if self.direction is Direction.HIGH_IS_BAD else -1.0

        def beyond(limit: float | None, strict: bool = False) -> bool:
            if limit is None:
                return False
            diff = sign * (value - limit)
            return diff > 0 if strict else diff >= 0

        if beyond(self.critical):
            return Level.CRITICAL
        # Stay critical until the value is back past the critical clear level.
        if previous is Level.CRITICAL and beyond(self.clear_level(Level.CRITICAL), strict=True):
            return Level.CRITICAL
        if beyond(self.warning):
            return Level.WARNING
        if previous in (Level.WARNING, Level.CRITICAL) and beyond(
            self.clear_level(Level.WARNING), strict=True
        ):
            return Level.WARNING
        return Level.OK

    def replace(self, **changes: Any) -> Thresholds:
        """A copy with some fields changed (used for config overrides)."""
        return replace(self, **changes)


#: Threshold fields a config file may set per indicator.
THRESHOLD_KEYS: tuple[str, ...] = (
    "warning",
    "critical",
    "warning_clear",
    "critical_clear",
    "raise_after",
    "clear_after",
)


@dataclass(frozen=True)
class Indicator:
    """One thing Deskwatch watches, declared by its monitor.

    ``id`` is ``"<monitor>.<name>"``.  Indicators that exist once per instance
    (a printer, a sensor, a disk) share one declaration; readings name the
    instance.  ``metric_scale`` converts ``unit`` to the Prometheus base unit
    named by ``metric_unit`` (e.g. percent → ratio is 0.01).
    """

    id: str
    device: Device
    label: Text
    unit: str = ""
    description: Text | None = None
    thresholds: Thresholds | None = None
    numeric: bool = True
    metric_unit: str = ""
    metric_scale: float = 1.0

    @property
    def name(self) -> str:
        """The part of the id after the monitor's prefix."""
        return self.id.split(".", 1)[-1]


class IndicatorMaker:
    """Declares a monitor's indicators with its id prefix and device filled in.

    ``CPU = IndicatorMaker("computer", Device.COMPUTER)("cpu", Text(...), "%")``
    """

    def __init__(self, monitor_id: str, device: Device) -> None:
        self.monitor_id = monitor_id
        self.device = device

    def __call__(self, name: str, label: Text, unit: str = "", **kwargs: Any) -> Indicator:
        """An :class:`Indicator` ``<monitor_id>.<name>`` of this monitor's device."""
        return Indicator(f"{self.monitor_id}.{name}", self.device, label, unit, **kwargs)


def make_key(indicator_id: str, instance: str = "") -> str:
    """The key an indicator state is tracked under: ``id`` or ``id[instance]``."""
    return f"{indicator_id}[{instance}]" if instance else indicator_id


def split_key(key: str) -> tuple[str, str]:
    """Inverse of :func:`make_key`."""
    if key.endswith("]") and "[" in key:
        indicator_id, instance = key[:-1].split("[", 1)
        return indicator_id, instance
    return key, ""


Value = float | int | str | bool | None


@dataclass(frozen=True)
class Reading:
    """One observation of an indicator.

    ``level`` is set by monitors that judge state themselves (a printer jam,
    a missing process); when it is ``None`` the engine judges ``value``
    against the indicator's thresholds.  ``detail`` holds raw data kept in
    history and fault reports (e.g. the raw IPP keyword).
    """

    indicator_id: str
    value: Value
    level: Level | None = None
    message: Text | None = None
    instance: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: Key of the reading that explains this one when it is unknown (the headset's
    #: "connected" for its noise floor): while that one is a problem, this one is
    #: shown unknown but opens no alert of its own — one unplug, one alert.
    caused_by: str = ""

    @property
    def key(self) -> str:
        """State key: indicator id plus instance."""
        return make_key(self.indicator_id, self.instance)


def format_value(value: Value, unit: str) -> str:
    """Human form of a value with its unit (``"42.5 %"``, ``"—"`` for none)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return (Text("yes", "是") if value else Text("no", "否"))()
    if isinstance(value, float):
        text = f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip() if unit else text

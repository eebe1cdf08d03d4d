"""Declarations every monitor is built from: devices, levels, indicators, readings.

A monitor declares its indicators once; the panel, history, settings dialog,
CLI table and Prometheus exporter all read these declarations, which is why
adding a monitor touches only its own file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from typing import Any, ClassVar

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


class Direction(Enum):
    """Which way a numeric value goes bad."""

    HIGH_IS_BAD = "high"
    LOW_IS_BAD = "low"


@dataclass(frozen=True)
class DemoSignal:
    """One indicator a device shows in ``deskwatch run --demo`` (see :mod:`app.core.demo`).

    Numeric signals walk from ``ok`` past ``warning`` to ``critical`` and are
    judged by the engine; a signal with ``states`` is judged by its monitor and
    shows the message of each phase ("ok", "warning", "critical").
    """

    name: str
    label: Text
    unit: str = ""
    direction: Direction = Direction.HIGH_IS_BAD
    warning: float = 0.0
    critical: float = 0.0
    ok: float = 0.0
    states: Mapping[str, Text] | None = None


@dataclass(frozen=True, eq=False)
class Device:
    """A device group: one card on the panel, one section of the procedure's 四.

    Declared once, by the monitor module that watches it (the services declare
    the two they feed themselves, :attr:`COMPUTER` and :attr:`BREAKS`); the
    panel, self-check, reports, exporter and demo read the declaration, so a
    new device group needs no table anywhere else.  Devices compare by identity;
    :meth:`named` finds a declared one by its id (history stores ids).
    """

    #: Machine name, used in history, JSON and the ``device`` metric label.
    id: str
    #: The procedure's own name for the device group.
    label: Text
    #: Position in the procedure's order, for sorting cards and tables (lower first).
    order: int
    #: What the clerk should check when its self-check fails.
    advice: Text | None = None
    #: What ``run --demo`` simulates for it, and its phase offset (so devices are not in step).
    demo: tuple[DemoSignal, ...] = ()
    demo_offset: int = 0

    #: Deskwatch's own records and the computer monitor.
    COMPUTER: ClassVar[Device]
    #: Fed by the break service, not by a polled monitor.
    BREAKS: ClassVar[Device]

    def __post_init__(self) -> None:
        _DECLARED[self.id] = self

    @staticmethod
    def named(device_id: str) -> Device:
        """The declared device with this id; an undeclared one (a monitor since removed) sorts last."""
        found = _DECLARED.get(device_id)
        return found if found is not None else Device(device_id, Text.same(device_id), _UNDECLARED_ORDER)

    def __repr__(self) -> str:
        return f"Device({self.id!r})"


#: Every device declared in this process, by id (filled as modules declare them).
_DECLARED: dict[str, Device] = {}
_UNDECLARED_ORDER = 10_000

# The two device groups Deskwatch's own services report on (its records, the break
# service); every other device is declared by the monitor module that watches it.
Device.COMPUTER = Device(
    "computer",
    Text("Computer", "电脑系统"),
    30,
    advice=Text(
        "Start the required programs, close forbidden ones, free disk space; "
        "if the computer stays slow or unstable, report it to IT",
        "启动必需程序、关闭禁止程序、清理磁盘空间;电脑仍然缓慢或不稳定请报告信息技术部门",
    ),
    demo=(
        DemoSignal("cpu", Text("CPU usage", "CPU 使用率"), "%", Direction.HIGH_IS_BAD, 85, 95, 23),
        DemoSignal("memory", Text("Memory available", "可用内存"), "%", Direction.LOW_IS_BAD, 15, 7, 46),
    ),
    demo_offset=2,
)
Device.BREAKS = Device(
    "breaks",
    Text("Breaks", "工间休息"),
    70,
    advice=Text("Check the break settings", "检查工间休息设置"),
    demo=(DemoSignal("work", Text("Screen work", "连续用屏"), "min", Direction.HIGH_IS_BAD, 50, 60, 18),),
    demo_offset=3,
)


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

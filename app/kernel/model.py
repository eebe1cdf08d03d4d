"""Declarations every monitor is built from: devices, levels, indicators, readings.

A monitor declares its indicators once; the panel, history, settings dialog,
CLI table and Prometheus exporter all read these declarations, which is why
adding a monitor touches only its own file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum, IntEnum
from typing import Any, ClassVar

from app.kernel.i18n import Text


class Level(IntEnum):
    """Health level of an indicator; the values are Nagios plugin exit codes.

    The state model (README, "What the states mean"):

    * ``OK`` — observed and within its normal range;
    * ``WARNING``/``CRITICAL`` — observed and out of range;
    * ``UNKNOWN`` — Deskwatch tried and could not observe (the message says why);
    * ``NOT_SET_UP`` — nothing is configured to observe, or nothing to measure
      right now (no speech for the headset's speech level: "Not observed", the
      message says why).  Shown grey, never an alert, and left out of
      :func:`worst` (so out of exit codes and banners).  Its value 4 is no
      Nagios code; it never becomes an exit code.
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
    Level.NOT_SET_UP: Text("Not observed", "未观测"),
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
    #: Two-sided: normal from ``low`` to ``high`` (both included), bad on either side.
    OUTSIDE_IS_BAD = "outside"


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
class Band:
    """A named normal range of a two-sided threshold (GB/T 18883's summer and winter ranges).

    A reading names the band that applies to it (:attr:`Reading.band`), e.g.
    the season its monitor chose; config keys are ``<name>_low``/``<name>_high``.
    """

    name: str
    label: Text
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Thresholds:
    """Warning and critical limits with separate clear levels and debounce times.

    One-sided (``HIGH_IS_BAD``/``LOW_IS_BAD``): a level is entered when the
    value reaches ``warning``/``critical`` and left only when it is back past
    ``warning_clear``/``critical_clear`` (hysteresis).

    Two-sided (``OUTSIDE_IS_BAD``): normal from ``low`` to ``high`` (or the
    range of the reading's :class:`Band`); warning outside, critical
    ``critical_margin`` or more outside; a value must come ``clear_margin``
    back inside to leave a level, so readings at the edge do not flap.

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
    low: float | None = None
    high: float | None = None
    critical_margin: float | None = None
    clear_margin: float = 0.0
    bands: tuple[Band, ...] = ()
    #: Id of the indicator whose ``warning`` is this one's too (an early warning judged against
    #: the same limit): set there, it moves both, and this one's ``warning_clear`` is
    #: ``follows_clear`` × it.  Neither key can then be set here: one limit, one key.
    follows: str = ""
    follows_clear: float = 0.9

    @property
    def two_sided(self) -> bool:
        """Whether this is a range (bad on both sides)."""
        return self.direction is Direction.OUTSIDE_IS_BAD

    def config_keys(self) -> tuple[str, ...]:
        """The fields a config file may set for this threshold (``[indicators."<id>"]``)."""
        if not self.two_sided:
            if self.follows:
                return tuple(k for k in THRESHOLD_KEYS if k not in FOLLOWED_KEYS)
            return THRESHOLD_KEYS
        ranges = tuple(f"{b.name}_{side}" for b in self.bands for side in ("low", "high"))
        return (ranges or ("low", "high")) + ("critical_margin", "clear_margin", "raise_after", "clear_after")

    def value(self, key: str) -> float | None:
        """The value of one of :meth:`config_keys`."""
        for band in self.bands:
            if key in (f"{band.name}_low", f"{band.name}_high"):
                return band.low if key.endswith("_low") else band.high
        result: float | None = getattr(self, key)
        return result

    def with_values(self, values: Mapping[str, float | None]) -> Thresholds:
        """A copy with some of :meth:`config_keys` changed (config overrides)."""
        bands = tuple(
            replace(
                band,
                low=values.get(f"{band.name}_low", band.low),
                high=values.get(f"{band.name}_high", band.high),
            )
            for band in self.bands
        )
        plain: dict[str, Any] = {k: v for k, v in values.items() if k in {f.name for f in fields(self)}}
        return replace(self, bands=bands, **plain)

    def for_band(self, name: str) -> Thresholds:
        """The threshold with ``low``/``high`` of the named band (the first band when unknown)."""
        if not self.bands:
            return self
        band = next((b for b in self.bands if b.name == name), self.bands[0])
        return replace(self, low=band.low, high=band.high, bands=(band,))

    def band(self, name: str) -> Band | None:
        """The band that ``name`` selects (see :meth:`for_band`), or ``None`` without bands."""
        return self.for_band(name).bands[0] if self.bands else None

    def clear_level(self, level: Level) -> float | None:
        """The value that must be passed to leave ``level`` (defaults to its limit; one-sided only)."""
        if level is Level.CRITICAL:
            return self.critical if self.critical_clear is None else self.critical_clear
        if level is Level.WARNING:
            return self.warning if self.warning_clear is None else self.warning_clear
        return None

    def judge(self, value: float, previous: Level = Level.OK, band: str = "") -> Level:
        """Level of ``value`` given the level it had before (for hysteresis) and the band in force."""
        if self.two_sided:
            return self.for_band(band)._judge_range(value, previous)
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

    def _judge_range(self, value: float, previous: Level) -> Level:
        sides = [d for d in (None if self.low is None else self.low - value,
                             None if self.high is None else value - self.high) if d is not None]  # fmt: skip
        if not sides:
            return Level.OK
        distance = max(sides)  # > 0 outside the range
        margin, back = self.critical_margin, self.clear_margin
        if margin is not None and distance >= margin:
            return Level.CRITICAL
        if margin is not None and previous is Level.CRITICAL and distance > margin - back:
            return Level.CRITICAL
        if distance > 0:
            return Level.WARNING
        if previous in (Level.WARNING, Level.CRITICAL) and distance > -back:
            return Level.WARNING
        return Level.OK

    def describe(self, value: float, level: Level, unit: str, band: str = "") -> Text | None:
        """Where a two-sided value lies ("Above the summer range 22–28 °C"); ``None`` if one-sided."""
        if not self.two_sided:
            return None
        th = self.for_band(band)
        label = th.bands[0].label if th.bands else None
        chosen = Text(f"{label.en} ", label.zh) if label is not None else Text("", "")
        low, high = th.low, th.high
        template = _IN_RANGE
        if level is not Level.OK:
            above = high is not None and (low is None or value > (low + high) / 2)
            template = _ABOVE_RANGE if above else _BELOW_RANGE
        return template.format(
            band=chosen,
            low="…" if low is None else f"{low:g}",
            high="…" if high is None else f"{high:g}",
            unit=unit,
        )

    def replace(self, **changes: Any) -> Thresholds:
        """A copy with some fields changed (used for config overrides)."""
        return replace(self, **changes)


_IN_RANGE = Text("Within the {band}range {low}–{high} {unit}", "在{band}范围 {low}–{high} {unit} 内")
_ABOVE_RANGE = Text("Above the {band}range {low}–{high} {unit}", "高于{band}范围 {low}–{high} {unit}")
_BELOW_RANGE = Text("Below the {band}range {low}–{high} {unit}", "低于{band}范围 {low}–{high} {unit}")


#: Threshold fields a config file may set per one-sided indicator (see :meth:`Thresholds.config_keys`).
#: The keys a threshold that :attr:`Thresholds.follows` another takes from it.
FOLLOWED_KEYS: tuple[str, ...] = ("warning", "warning_clear")
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
    #: Which :class:`Band` of a two-sided threshold applies (the season); ``""`` for the first.
    band: str = ""

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
    if isinstance(value, float) and 0 < abs(value) < 1:
        # Small concentrations keep two significant digits: 0.08, 0.55 mg/m³, not "0.1", "0.6".
        text = f"{value:.2g}"
    elif isinstance(value, float):
        text = f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip() if unit else text

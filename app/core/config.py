"""Configuration: declared defaults, shipped defaults, the site file, the user's TOML file.

Layers, later wins: defaults declared in code (app sections, monitor settings,
indicator thresholds) → ``resources/deskwatch.toml`` → the site file IT puts
on every seat (:func:`app.kernel.paths.site_config_paths`) → the user's file.
Every value is validated against its declaration; an invalid one yields a
:class:`ConfigError` naming the file, the key and what is allowed, and the
previous layer's value stays in force, so a typo never stops Deskwatch.

The site file's top-level ``locked = ["monitors.telephone.pbx_host",
"exporter"]`` lists keys and whole sections the user's file cannot change:
such a value in the user's file is ignored with a notice naming the lock,
and the settings dialog shows the field read-only.  Every value remembers
the layer it came from (:attr:`Config.origins`, shown by ``config show``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.breaks import BREAK_SETTINGS
from app.core.registry import registry_of
from app.kernel.i18n import Text
from app.kernel.model import Indicator, Thresholds
from app.kernel.monitor import Monitor
from app.kernel.paths import resources_dir, site_config_paths
from app.kernel.registry import Registry
from app.kernel.settings import Setting, refusal

log = logging.getLogger(__name__)

#: Application-wide sections: ``""`` is the top level of the file.
APP_SECTIONS: dict[str, tuple[Setting, ...]] = {
    "": (
        Setting(
            "language",
            "auto",
            Text("Language", "界面语言"),
            choices=("auto", "zh_CN", "en"),
            help=Text("auto follows the system locale", "auto 表示跟随系统区域设置"),
        ),
        Setting("user", "", Text("Clerk name for acknowledgements", "确认人姓名")),
        Setting(
            "recordings_dir",
            "",
            Text("Recordings folder", "录音文件夹"),
            help=Text("empty: Deskwatch's data folder/recordings", "留空:Deskwatch 数据目录下的 recordings"),
        ),
    ),
    "alerts": (
        Setting(
            "reannounce_minutes",
            10.0,
            Text("Re-announce unacknowledged critical alerts (min)", "未确认的严重告警重复提醒间隔(分钟)"),
            minimum=0,
            maximum=1440,
        ),
        Setting("notifications", True, Text("Desktop notifications", "桌面通知")),
        Setting("sounds", False, Text("Alert sounds (never during a call)", "告警提示音(通话中从不播放)")),
        Setting("it_email", "", Text("IT department e-mail for fault reports", "信息技术部门邮箱")),
    ),
    "history": (
        Setting("retention_days", 90, Text("Keep history (days)", "历史保留天数"), minimum=1, maximum=3650),
        Setting(
            "sample_seconds",
            60,
            Text("Trend resolution (s)", "趋势采样间隔(秒)"),
            minimum=5,
            maximum=3600,
        ),
    ),
    "selftest": (
        Setting(
            "offer_at_first_login",
            True,
            Text(
                "Offer the start-of-shift check at the first login of the day",
                "每天首次登录时提示进行班前检查",
            ),
        ),
        Setting("test_page", False, Text("Print a test page during the check", "检查时打印测试页")),
    ),
    "reports": (
        Setting(
            "shifts",
            ["08:00-16:00", "16:00-24:00", "00:00-08:00"],
            Text("Shifts (HH:MM-HH:MM, optionally name=…)", "班次(HH:MM-HH:MM,可写为 名称=…)"),
            type=list,
        ),
    ),
    "exporter": (
        Setting("enabled", False, Text("Prometheus /metrics endpoint", "Prometheus 指标端点")),
        Setting(
            "address",
            "127.0.0.1",
            Text("Listen address", "监听地址"),
            help=Text(
                "127.0.0.1 keeps it on this computer; 0.0.0.0 opens it to the network",
                "127.0.0.1 仅本机可访问;0.0.0.0 对网络开放",
            ),
        ),
        Setting("port", 9858, Text("Listen port", "监听端口"), minimum=0, maximum=65535),
        Setting(
            "textfile",
            "",
            Text("node_exporter textfile (.prom) path", "node_exporter 文本文件(.prom)路径"),
            help=Text(
                "set it to write metrics to a file instead of (or as well as) the endpoint",
                "设置后将指标写入文件(可与端点同时使用)",
            ),
        ),
        Setting(
            "textfile_interval",
            15.0,
            Text("Textfile write interval (s)", "文本文件写入间隔(秒)"),
            minimum=1,
            maximum=3600,
        ),
    ),
    "breaks": BREAK_SETTINGS,
}


#: Keys every ``[monitors.<id>]`` section has besides the monitor's own.
def monitor_common_settings(monitor: type[Monitor]) -> tuple[Setting, ...]:
    """``enabled``, ``interval`` and ``timeout`` with the monitor's defaults."""
    return (
        Setting("enabled", monitor.enabled_by_default, Text("Enabled", "启用")),
        Setting(
            "interval",
            float(monitor.interval),
            Text("Poll interval (s)", "轮询间隔(秒)"),
            minimum=0.1,
            maximum=86400,
        ),
        Setting(
            "timeout",
            float(monitor.timeout),
            Text("Poll timeout (s)", "轮询超时(秒)"),
            minimum=0.1,
            maximum=600,
        ),
    )


_THRESHOLD_LABELS = {
    "warning": Text("Warning at", "警告值"),
    "critical": Text("Critical at", "严重值"),
    "warning_clear": Text("Warning clears at", "警告解除值"),
    "critical_clear": Text("Critical clears at", "严重解除值"),
    "raise_after": Text("Raise after (s)", "持续多久后告警(秒)"),
    "clear_after": Text("Clear after (s)", "持续多久后解除(秒)"),
    "low": Text("Normal from", "正常范围下限"),
    "high": Text("Normal up to", "正常范围上限"),
    "critical_margin": Text("Critical this far outside the range", "超出范围多少为严重"),
    "clear_margin": Text("Clears this far back inside the range", "回到范围内多少才解除"),
}
_BAND_LABELS = {
    "low": Text("Normal from, {band}", "{band}正常范围下限"),
    "high": Text("Normal up to, {band}", "{band}正常范围上限"),
}
#: Keys that are durations or margins: never negative.
_NOT_NEGATIVE = ("raise_after", "clear_after", "critical_margin", "clear_margin")


def threshold_settings(indicator: Indicator) -> tuple[Setting, ...]:
    """Settings for an indicator's thresholds (only for indicators that have them)."""
    th = indicator.thresholds
    if th is None:
        return ()
    bands = {f"{b.name}_{side}": (b, side) for b in th.bands for side in ("low", "high")}
    result = []
    for key in th.config_keys():
        if key in bands:
            band, side = bands[key]
            label = _BAND_LABELS[side].format(band=band.label)
        else:
            label = _THRESHOLD_LABELS[key]
        minimum = 0.0 if key in _NOT_NEGATIVE else None
        result.append(Setting(key, th.value(key), label, type=float, minimum=minimum))
    return tuple(result)


#: A key's place in the file: ``("monitors", "telephone", "pbx_host")``,
#: ``("indicators", "pc.cpu", "warning")``.
KeyPath = tuple[str, ...]

#: The key IT lists the locked settings under, at the top of the site file.
LOCKED_KEY = "locked"
SITE_READABLE = "a file every user can read (e.g. owned by root, mode 0644, in folders mode 0755)"
LOCK_EXAMPLE = 'a list of keys or sections, e.g. locked = ["monitors.telephone.pbx_host", "exporter"]'

_BARE_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def format_key(path: KeyPath) -> str:
    """A key path as written in TOML and in messages: ``indicators."pc.cpu".warning``."""
    return ".".join(part if part and set(part) <= _BARE_KEY_CHARACTERS else f'"{part}"' for part in path)


def _close_matches(word: str, names: list[str]) -> list[str]:
    """Up to three of ``names`` that ``word`` may be a typo of."""
    import difflib  # only for a file with a mistake in it: not loaded in every tray app

    return difflib.get_close_matches(word, names, n=3)


def parse_key(text: str) -> KeyPath | None:
    """A dotted TOML key (bare or quoted parts) as a key path; ``None`` when it is not one."""
    parts: list[str] = []
    rest = text.strip()
    while True:
        if rest[:1] in ('"', "'"):
            end = rest.find(rest[0], 1)
            if end < 0:
                return None
            parts.append(rest[1:end])
            rest = rest[end + 1 :].lstrip()
        else:
            length = 0
            while length < len(rest) and rest[length] in _BARE_KEY_CHARACTERS:
                length += 1
            if not length:
                return None
            parts.append(rest[:length])
            rest = rest[length:].lstrip()
        if not rest:
            return tuple(parts)
        if rest[0] != ".":
            return None
        rest = rest[1:].lstrip()


@dataclass(frozen=True)
class Origin:
    """The layer a value came from: ``default`` (declared or shipped), ``site`` or ``user``."""

    layer: str
    #: The file it was read from; ``""`` for a default declared in code.
    file: str = ""

    def __str__(self) -> str:
        return f"{self.layer} ({self.file})" if self.file else self.layer


DECLARED = Origin("default")


@dataclass(frozen=True)
class ConfigError:
    """A config problem, phrased for the person who edits the file."""

    file: str
    key: str
    message: str
    allowed: str = ""

    def __str__(self) -> str:
        suffix = f" (allowed: {self.allowed})" if self.allowed else ""
        return f"{self.file}: {self.key}: {self.message}{suffix}"


@dataclass
class Config:
    """The merged, validated configuration in force."""

    monitor_classes: dict[str, type[Monitor]]
    app: dict[str, dict[str, Any]] = field(default_factory=dict)
    monitors: dict[str, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    errors: list[ConfigError] = field(default_factory=list)
    #: Not errors: settings read from a place they have moved from (``config check`` shows them).
    notices: list[ConfigError] = field(default_factory=list)
    user_path: Path | None = None
    shipped_path: Path | None = None
    #: Where a site file was looked for, most important first (the first that exists is read).
    site_search: tuple[Path, ...] = ()
    #: The site file in force (``None``: there is none).
    site_path: Path | None = None
    #: Locked key paths (a section's path locks everything in it) → the entry as IT wrote it.
    locks: dict[KeyPath, str] = field(default_factory=dict)
    #: Where each value that is not a declared default came from (``config show``).
    origins: dict[KeyPath, Origin] = field(default_factory=dict)
    #: Every device and indicator of these monitors and of the services (one registry for all).
    registry: Registry = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.registry = registry_of(self.monitor_classes.values())

    def get(self, section: str, key: str) -> Any:
        """An application setting (``section`` ``""`` is the top level)."""
        return self.app[section][key]

    def monitor(self, monitor_id: str) -> dict[str, Any]:
        """All settings of one monitor, including ``enabled``/``interval``/``timeout``."""
        return self.monitors[monitor_id]

    def enabled_monitors(self) -> list[type[Monitor]]:
        """Monitor classes switched on, in device order."""
        chosen = [cls for mid, cls in self.monitor_classes.items() if self.monitors[mid]["enabled"]]
        return sorted(chosen, key=lambda cls: (cls.device.order, cls.id))

    def indicator_thresholds(self, indicator: Indicator) -> Thresholds | None:
        """The thresholds in force for an indicator (declared, overridden by config)."""
        return self.thresholds.get(indicator.id, indicator.thresholds)

    def lock_for(self, path: KeyPath) -> KeyPath | None:
        """The site file's lock that covers ``path`` (the key itself or a section around it)."""
        return next((lock for lock in self.locks if path[: len(lock)] == lock), None)

    def origin(self, path: KeyPath) -> Origin:
        """The layer the value at ``path`` came from."""
        return self.origins.get(path, DECLARED)

    def key_paths(self) -> list[KeyPath]:
        """Every setting's key path, in file order: top level, app sections, monitors, thresholds."""
        paths: list[KeyPath] = []
        for section, settings in APP_SECTIONS.items():
            base: KeyPath = () if section == "" else (section,)
            paths += [(*base, s.key) for s in settings]
        for mid in self.monitor_classes:
            paths += [("monitors", mid, key) for key in self.monitors[mid]]
        for iid, th in self.thresholds.items():
            paths += [("indicators", iid, key) for key in th.config_keys()]
        return paths

    def value(self, path: KeyPath) -> Any:
        """The value in force at a key path of :meth:`key_paths` (``KeyError`` for another)."""
        if path[0] == "monitors" and len(path) == 3:
            return self.monitors[path[1]][path[2]]
        if path[0] == "indicators" and len(path) == 3:
            th = self.thresholds[path[1]]
            if path[2] not in th.config_keys():
                raise KeyError(path)
            return th.value(path[2])
        if len(path) == 1:
            return self.app[""][path[0]]
        if len(path) == 2:
            return self.app[path[0]][path[1]]
        raise KeyError(path)


def _defaults(config: Config) -> None:
    for section, settings in APP_SECTIONS.items():
        config.app[section] = {s.key: s.default for s in settings}
    for mid, cls in config.monitor_classes.items():
        declared = monitor_common_settings(cls) + cls.settings
        config.monitors[mid] = {s.key: s.default for s in declared}
    for ind in config.registry.with_thresholds().values():
        if ind.thresholds is not None:
            config.thresholds[ind.id] = ind.thresholds


def _apply_settings(
    target: dict[str, Any],
    values: Any,
    settings: Iterable[Setting],
    file: str,
    base: KeyPath,
    errors: list[ConfigError],
) -> list[str]:
    """Validate ``values`` into ``target``; the keys that were taken (bad ones are reported and skipped)."""
    declared = {s.key: s for s in settings}
    prefix = format_key(base) + "."
    if not isinstance(values, Mapping):
        errors.append(ConfigError(file, format_key(base), "must be a table", "a [section]"))
        return []
    taken: list[str] = []
    for key, value in values.items():
        setting = declared.get(key)
        if setting is None:
            errors.append(
                ConfigError(file, prefix + key, "unknown key", "one of " + ", ".join(sorted(declared)))
            )
            continue
        if setting.fields is not None:
            tables, problems = setting.coerce_tables(value)
            for suffix, message, allowed in problems:
                errors.append(ConfigError(file, prefix + key + suffix, message, allowed))
            if tables or not problems:
                target[key] = tables
                taken.append(key)
            continue
        try:
            target[key] = setting.coerce(value)
            taken.append(key)
        except ValueError as exc:
            errors.append(ConfigError(file, prefix + key, refusal(value, exc), setting.allowed()))
    return taken


def _moved_to_indicators(config: Config, data: Mapping[str, Any], file: str) -> Mapping[str, Any]:
    """``data`` with the monitors' moved keys read into ``[indicators]`` (the new place wins)."""
    sections = data.get("monitors")
    if not isinstance(sections, Mapping):
        return data
    indicators = data.get("indicators", {})
    if not isinstance(indicators, Mapping):
        return data  # reported as "must be a table" by the caller
    moved_in: dict[str, dict[str, Any]] = {
        iid: dict(v) for iid, v in indicators.items() if isinstance(v, Mapping)
    }
    new_sections: dict[str, Any] = {}
    for mid, section in sections.items():
        cls = config.monitor_classes.get(mid)
        if cls is None or not isinstance(section, Mapping) or not cls.moved_settings:
            new_sections[mid] = section
            continue
        kept = {}
        for key, value in section.items():
            target = cls.moved_settings.get(key)
            if target is None:
                kept[key] = value
                continue
            iid, new_key = target
            place = f'indicators."{iid}".{new_key}'
            here = moved_in.setdefault(iid, {})
            if new_key in here:
                config.notices.append(ConfigError(file, f"monitors.{mid}.{key}", f"ignored: {place} is set"))
                continue
            here[new_key] = value
            config.notices.append(
                ConfigError(file, f"monitors.{mid}.{key}", f"has moved to {place}; read from here for now")
            )
        new_sections[mid] = kept
    merged = {**data, "monitors": new_sections}
    if moved_in:
        merged["indicators"] = {**indicators, **moved_in}
    return merged


def _lock_notice(config: Config, file: str, path: KeyPath, lock: KeyPath) -> ConfigError:
    try:
        in_force = f"; in force: {config.value(path)!r}"
    except (KeyError, IndexError):
        in_force = ""  # not a key Deskwatch knows: nothing is in force for it
    return ConfigError(
        file,
        format_key(path),
        f"ignored: locked by your IT department (lock {config.locks[lock].strip()}"
        f" in the site file {config.site_path}){in_force}",
    )


def _without_locked(config: Config, data: Mapping[str, Any], file: str, base: KeyPath = ()) -> dict[str, Any]:
    """``data`` without the keys the site file locks, each dropped key noted (the user's file only)."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        path = (*base, key)
        lock = config.lock_for(path)
        if lock is not None:
            config.notices += [_lock_notice(config, file, leaf, lock) for leaf in _leaves(value, path)]
        elif isinstance(value, Mapping) and any(lock[: len(path)] == path for lock in config.locks):
            kept[key] = _without_locked(config, value, file, path)
        else:
            kept[key] = value
    return kept


def _leaves(value: Any, path: KeyPath) -> list[KeyPath]:
    if not isinstance(value, Mapping) or not value:
        return [path]
    return [leaf for key, inner in value.items() for leaf in _leaves(inner, (*path, key))]


def _read_locks(config: Config, value: Any, file: str) -> None:
    """Take the site file's ``locked`` list; entries that name no setting are reported and skipped."""
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        config.errors.append(ConfigError(file, LOCKED_KEY, "must be a list of strings", LOCK_EXAMPLE))
        return
    known = config.key_paths()
    sections = {path[:n] for path in known for n in range(1, len(path))}
    for number, entry in enumerate(value, start=1):
        where = f"{LOCKED_KEY}[{number}]"
        path = parse_key(entry)
        if path is None:
            config.errors.append(ConfigError(file, where, f"{entry!r} is not a dotted key", LOCK_EXAMPLE))
            continue
        path = _moved_lock(config, path, file, where)
        if path not in sections and path not in known:
            names = [format_key(p) for p in (*sorted(sections), *known)]
            close = _close_matches(format_key(path), names)
            allowed = ("did you mean " + ", ".join(close)) if close else LOCK_EXAMPLE
            config.errors.append(ConfigError(file, where, f"{entry!r} names no setting or section", allowed))
            continue
        config.locks[path] = entry


def _moved_lock(config: Config, path: KeyPath, file: str, where: str) -> KeyPath:
    """A lock on a monitor key that has moved to ``[indicators]`` locks the new place (with a notice)."""
    cls = config.monitor_classes.get(path[1]) if len(path) == 3 and path[0] == "monitors" else None
    target = cls.moved_settings.get(path[2]) if cls is not None else None
    if target is None:
        return path
    moved = ("indicators", *target)
    config.notices.append(
        ConfigError(file, where, f"{format_key(path)} has moved to {format_key(moved)}; locked there")
    )
    return moved


def _apply_layer(config: Config, data: Mapping[str, Any], origin: Origin) -> None:
    errors = config.errors
    file = origin.file
    data = _moved_to_indicators(config, data, file)
    if origin.layer == "user":
        data = _without_locked(config, data, file)
    top_settings = APP_SECTIONS[""]
    indicators = config.registry.indicators

    def took(base: KeyPath, keys: Iterable[str]) -> None:
        config.origins.update({(*base, key): origin for key in keys})

    for key, value in data.items():
        if key in APP_SECTIONS and key != "":
            took((key,), _apply_settings(config.app[key], value, APP_SECTIONS[key], file, (key,), errors))
        elif key == LOCKED_KEY:
            where = config.site_path or next(iter(config.site_search), None)
            errors.append(
                ConfigError(
                    file,
                    key,
                    "ignored: only the site file can lock settings",
                    f"no {LOCKED_KEY} here; IT locks keys in {where}" if where else f"no {LOCKED_KEY} here",
                )
            )
        elif key == "monitors":
            if not isinstance(value, Mapping):
                errors.append(ConfigError(file, key, "must be a table", "[monitors.<id>] sections"))
                continue
            for mid, section in value.items():
                cls = config.monitor_classes.get(mid)
                if cls is None:
                    allowed = ", ".join(sorted(config.monitor_classes))
                    errors.append(ConfigError(file, f"monitors.{mid}", "unknown monitor", allowed))
                    continue
                declared = monitor_common_settings(cls) + cls.settings
                base = ("monitors", mid)
                took(base, _apply_settings(config.monitors[mid], section, declared, file, base, errors))
        elif key == "indicators":
            if not isinstance(value, Mapping):
                errors.append(ConfigError(file, key, "must be a table", '[indicators."<id>"] sections'))
                continue
            for iid, section in value.items():
                ind = indicators.get(iid)
                if ind is None or ind.thresholds is None:
                    with_thresholds = sorted(i for i, d in indicators.items() if d.thresholds)
                    errors.append(
                        ConfigError(
                            file,
                            f'indicators."{iid}"',
                            "unknown indicator or one without thresholds",
                            ", ".join(with_thresholds),
                        )
                    )
                    continue
                current = config.thresholds[iid]
                if current.follows and isinstance(section, Mapping):
                    section = _without_followed_keys(section, current.follows, file, iid, errors)
                fields = {k: current.value(k) for k in current.config_keys()}
                base = ("indicators", iid)
                taken = _apply_settings(fields, section, threshold_settings(ind), file, base, errors)
                candidate = current.with_values(fields)
                problem = _threshold_problem(candidate)
                if problem:
                    errors.append(ConfigError(file, f'indicators."{iid}"', problem, _order_hint(candidate)))
                else:
                    config.thresholds[iid] = candidate
                    took(base, taken)
        else:
            setting = next((s for s in top_settings if s.key == key), None)
            if setting is None:
                names = [s.key for s in top_settings] + [f"[{s}]" for s in APP_SECTIONS if s]
                names += ["[monitors.<id>]", '[indicators."<id>"]']
                errors.append(ConfigError(file, key, "unknown key", ", ".join(names)))
                continue
            try:
                config.app[""][key] = setting.coerce(value)
                took((), [key])
            except ValueError as exc:
                errors.append(ConfigError(file, key, refusal(value, exc), setting.allowed()))


def _without_followed_keys(
    section: Mapping[str, Any], follows: str, file: str, iid: str, errors: list[ConfigError]
) -> dict[str, Any]:
    """``section`` less the keys an early warning takes from the limit it follows (each one an error)."""
    from app.kernel.model import FOLLOWED_KEYS

    for key in FOLLOWED_KEYS:
        if key in section:
            errors.append(
                ConfigError(
                    file,
                    f'indicators."{iid}".{key}',
                    f"the early warning follows the limit of {follows}: set the limit there, once",
                    f'[indicators."{follows}"] warning = … (moves both)',
                )
            )
    return {k: v for k, v in section.items() if k not in FOLLOWED_KEYS}


def _follow_limits(config: Config) -> None:
    """Give every early warning the limit in force of the indicator it follows."""
    for iid, th in config.thresholds.items():
        lead = config.thresholds.get(th.follows) if th.follows else None
        if lead is not None and lead.warning is not None:
            clear = round(lead.warning * th.follows_clear, 6)
            config.thresholds[iid] = replace(th, warning=lead.warning, warning_clear=clear)


def _threshold_problem(th: Thresholds) -> str | None:
    """Check that warning/critical/clear levels are in a sensible order."""
    from app.kernel.model import Direction

    if th.two_sided:
        ranges = [(b.low, b.high) for b in th.bands] or [(th.low, th.high)]
        if any(low is not None and high is not None and low > high for low, high in ranges):
            return "the low end of a range must not be above its high end"
        if th.critical_margin is not None and th.clear_margin >= th.critical_margin:
            return "a clear margin must be smaller than the critical margin"
        return None
    sign = 1.0 if th.direction is Direction.HIGH_IS_BAD else -1.0
    if th.warning is not None and th.critical is not None and sign * (th.critical - th.warning) < 0:
        return "critical must be beyond warning"
    for limit, clear in ((th.warning, th.warning_clear), (th.critical, th.critical_clear)):
        if limit is not None and clear is not None and sign * (limit - clear) < 0:
            return "a clear level must be on the normal side of its limit"
    return None


def _order_hint(th: Thresholds) -> str:
    from app.kernel.model import Direction

    if th.two_sided:
        return "low ≤ high; clear_margin < critical_margin"
    if th.direction is Direction.HIGH_IS_BAD:
        return "warning_clear ≤ warning ≤ critical, critical_clear ≤ critical"
    return "warning_clear ≥ warning ≥ critical, critical_clear ≥ critical"


def read_toml(path: Path, errors: list[ConfigError]) -> dict[str, Any] | None:
    """Parse a TOML file, turning every failure into a :class:`ConfigError`."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return None
    except tomllib.TOMLDecodeError as exc:
        errors.append(ConfigError(str(path), "(file)", f"not valid TOML: {exc}", "TOML syntax"))
    except OSError as exc:
        errors.append(ConfigError(str(path), "(file)", f"cannot be read: {exc.strerror}", "a readable file"))
    except UnicodeDecodeError:
        errors.append(ConfigError(str(path), "(file)", "is not UTF-8 text", "a UTF-8 TOML file"))
    return None


def _exists(path: Path) -> bool:
    """``True`` also for a file that is there but cannot be looked at (reading it then says why)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True


def _find_site_file(config: Config) -> Path | None:
    """The first site file that exists; the ones after it are not read, and a notice says so.

    XDG Base Directory: the first directory of ``$XDG_CONFIG_DIRS`` is the most
    important.  Reading only that file keeps one answer to "which file did IT
    mean", for the values and for the locks alike.
    """
    found = [path for path in config.site_search if _exists(path)]
    for shadowed in found[1:]:
        config.notices.append(
            ConfigError(str(shadowed), "(file)", f"not read: the site file {found[0]} comes first")
        )
    return found[0] if found else None


def load_config(
    monitor_classes: Mapping[str, type[Monitor]],
    user_path: Path | None,
    shipped_path: Path | None = None,
    site_paths: Iterable[Path] | None = None,
) -> Config:
    """Build the configuration in force from all layers (never raises for user errors).

    ``site_paths``: where to look for the site file, most important first
    (``None``: this computer's places, :func:`site_config_paths`; empty: no site file).
    A site file that cannot be read or parsed is skipped as a whole (the error
    names it); a bad key in it is skipped alone, and the rest, locks included,
    stays in force.
    """
    config = Config(monitor_classes=dict(monitor_classes), user_path=user_path)
    config.site_search = tuple(site_config_paths() if site_paths is None else site_paths)
    _defaults(config)
    shipped = shipped_path if shipped_path is not None else resources_dir() / "deskwatch.toml"
    config.shipped_path = shipped
    config.site_path = _find_site_file(config)
    layers = (("default", shipped), ("site", config.site_path), ("user", user_path))
    for layer, path in layers:
        if path is None:
            continue
        before = len(config.errors)
        data = read_toml(path, config.errors)
        if layer == "site" and len(config.errors) > before and "cannot be read" in config.errors[-1].message:
            # Every clerk's Deskwatch reads it: say what IT has to change.
            config.errors[-1] = replace(config.errors[-1], allowed=SITE_READABLE)
        if data is None:
            continue
        if layer == "site":
            data = dict(data)
            if LOCKED_KEY in data:
                _read_locks(config, data.pop(LOCKED_KEY), str(path))
        _apply_layer(config, data, Origin(layer, str(path)))
    _follow_limits(config)
    for error in config.errors:
        log.warning("config: %s", error)
    for notice in config.notices:
        log.info("config: %s", notice)
    return config


def check_file(monitor_classes: Mapping[str, type[Monitor]], path: Path) -> list[ConfigError]:
    """Validate one file on its own; a missing file is an error here."""
    return check_file_notes(monitor_classes, path)[0]


def check_file_notes(
    monitor_classes: Mapping[str, type[Monitor]],
    path: Path,
    *,
    site_paths: Iterable[Path] = (),
    as_site: bool = False,
) -> tuple[list[ConfigError], list[ConfigError]]:
    """Validate one file: its errors, and its notices (moved keys still read, locked keys ignored).

    By default the file is checked on its own, as a user's file.  With
    ``site_paths`` it is checked under the site file found there, so the keys
    IT locked are named; with ``as_site`` it is checked as a site file (its
    ``locked`` list too).
    """
    if not _exists(path):
        return [ConfigError(str(path), "(file)", "does not exist", "an existing file")], []
    nowhere = Path("/nonexistent")
    if as_site:
        config = load_config(monitor_classes, None, shipped_path=nowhere, site_paths=[path])
    else:
        site_paths = tuple(site_paths)
        shipped = None if site_paths else nowhere  # a lock keeps the shipped value: say which
        config = load_config(monitor_classes, path, shipped_path=shipped, site_paths=site_paths)
    ours = str(path)
    return [e for e in config.errors if e.file == ours], [n for n in config.notices if n.file == ours]


def save_user_values(path: Path, changes: Mapping[tuple[str, ...], Any]) -> None:
    """Write values into the user's TOML file, keeping its comments and layout.

    ``changes`` maps key paths such as ``("monitors", "computer", "interval")``
    to new values; ``None`` removes the key (back to the default).
    """
    # Reading is tomllib's; tomlkit (about 0.7 MiB of objects) is needed only to write.
    import tomlkit

    document = tomlkit.parse(path.read_text("utf-8")) if path.exists() else tomlkit.document()
    for key_path, value in changes.items():
        table: Any = document
        for part in key_path[:-1]:
            if part not in table:
                table[part] = tomlkit.table(is_super_table=part in ("monitors", "indicators"))
            table = table[part]
        if value is None:
            table.pop(key_path[-1], None)
        else:
            table[key_path[-1]] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file may hold an SNMP community: keep the mode it has (a 0600 file
    # stays 0600); a new file is 0600.  The temporary file is created with
    # O_EXCL|O_NOFOLLOW under a random name, so no planted link is followed.
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(tomlkit.dumps(document))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

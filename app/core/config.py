"""Configuration: declared defaults, shipped defaults, the user's TOML file.

Layers, later wins: defaults declared in code (app sections, monitor settings,
indicator thresholds) → ``resources/deskwatch.toml`` → the user's file.  Every
value is validated against its declaration; an invalid one yields a
:class:`ConfigError` naming the file, the key and what is allowed, and the
previous layer's value stays in force, so a typo never stops Deskwatch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from app.core.breaks import BREAK_SETTINGS
from app.core.registry import registry_of
from app.kernel.i18n import Text
from app.kernel.model import Indicator, Thresholds
from app.kernel.monitor import Monitor
from app.kernel.paths import resources_dir
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
    prefix: str,
    errors: list[ConfigError],
) -> None:
    declared = {s.key: s for s in settings}
    if not isinstance(values, Mapping):
        errors.append(ConfigError(file, prefix.rstrip("."), "must be a table", "a [section]"))
        return
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
            continue
        try:
            target[key] = setting.coerce(value)
        except ValueError as exc:
            errors.append(ConfigError(file, prefix + key, refusal(value, exc), setting.allowed()))


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


def _apply_layer(config: Config, data: Mapping[str, Any], file: str) -> None:
    errors = config.errors
    data = _moved_to_indicators(config, data, file)
    top_settings = APP_SECTIONS[""]
    indicators = config.registry.indicators
    for key, value in data.items():
        if key in APP_SECTIONS and key != "":
            _apply_settings(config.app[key], value, APP_SECTIONS[key], file, f"{key}.", errors)
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
                _apply_settings(config.monitors[mid], section, declared, file, f"monitors.{mid}.", errors)
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
                fields = {k: current.value(k) for k in current.config_keys()}
                _apply_settings(
                    fields, section, threshold_settings(ind), file, f'indicators."{iid}".', errors
                )
                candidate = current.with_values(fields)
                problem = _threshold_problem(candidate)
                if problem:
                    errors.append(ConfigError(file, f'indicators."{iid}"', problem, _order_hint(candidate)))
                else:
                    config.thresholds[iid] = candidate
        else:
            setting = next((s for s in top_settings if s.key == key), None)
            if setting is None:
                names = [s.key for s in top_settings] + [f"[{s}]" for s in APP_SECTIONS if s]
                names += ["[monitors.<id>]", '[indicators."<id>"]']
                errors.append(ConfigError(file, key, "unknown key", ", ".join(names)))
                continue
            try:
                config.app[""][key] = setting.coerce(value)
            except ValueError as exc:
                errors.append(ConfigError(file, key, refusal(value, exc), setting.allowed()))


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


def load_config(
    monitor_classes: Mapping[str, type[Monitor]],
    user_path: Path | None,
    shipped_path: Path | None = None,
) -> Config:
    """Build the configuration in force from all layers (never raises for user errors)."""
    config = Config(monitor_classes=dict(monitor_classes), user_path=user_path)
    _defaults(config)
    shipped = shipped_path if shipped_path is not None else resources_dir() / "deskwatch.toml"
    for path in (shipped, user_path):
        if path is None:
            continue
        data = read_toml(path, config.errors)
        if data is not None:
            _apply_layer(config, data, str(path))
    for error in config.errors:
        log.warning("config: %s", error)
    for notice in config.notices:
        log.info("config: %s", notice)
    return config


def check_file(monitor_classes: Mapping[str, type[Monitor]], path: Path) -> list[ConfigError]:
    """Validate one file on its own; a missing file is an error here."""
    return check_file_notes(monitor_classes, path)[0]


def check_file_notes(
    monitor_classes: Mapping[str, type[Monitor]], path: Path
) -> tuple[list[ConfigError], list[ConfigError]]:
    """Validate one file on its own: its errors, and its notices (moved keys still read)."""
    if not path.exists():
        return [ConfigError(str(path), "(file)", "does not exist", "an existing file")], []
    config = load_config(monitor_classes, path, shipped_path=Path("/nonexistent"))
    return config.errors, config.notices


def save_user_values(path: Path, changes: Mapping[tuple[str, ...], Any]) -> None:
    """Write values into the user's TOML file, keeping its comments and layout.

    ``changes`` maps key paths such as ``("monitors", "computer", "interval")``
    to new values; ``None`` removes the key (back to the default).
    """
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

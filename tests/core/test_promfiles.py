"""The shipped Prometheus rules and Grafana dashboard: current, valid, and meaning what Deskwatch means."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import monitors
from app.core.config import load_config
from app.core.engine import Engine
from app.core.exporter import Exporter
from app.core.promfiles import generate_dashboard, generate_rules
from app.kernel.model import Indicator, Reading
from tests.fleet.conftest import ROOT, RULES, require

DASHBOARD = ROOT / "resources" / "grafana" / "deskwatch-room.json"
REGENERATE = "deskwatch export-rules --defaults --out resources/prometheus/deskwatch-rules.yml " \
    "--dashboard resources/grafana/deskwatch-room.json"  # fmt: skip


MEMORY_SERIES = (
    'deskwatch_computer_memory_available_ratio{instance="seat1", job="deskwatch", device="computer"}'
)
CPU_SERIES = 'deskwatch_computer_cpu_ratio{instance="seat1", job="deskwatch", device="computer"}'


def _defaults() -> object:
    return load_config(monitors.discover(), None)


def test_committed_rules_equal_the_generator_output() -> None:
    assert RULES.read_text("utf-8") == generate_rules(_defaults()), f"rules are stale: run `{REGENERATE}`"  # type: ignore[arg-type]


def test_committed_dashboard_equals_the_generator_output() -> None:
    assert DASHBOARD.read_text("utf-8") == generate_dashboard(_defaults()), f"stale: run `{REGENERATE}`"  # type: ignore[arg-type]


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        [require("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _level_series(device: str, indicator: str, values: str, item: str = "") -> dict[str, str]:
    labels = f'instance="seat1", job="deskwatch", device="{device}", indicator="{indicator}", item="{item}"'
    return {"series": f"deskwatch_indicator_level{{{labels}}}", "values": values}


def _promtool_test(tmp_path: Path, tests: list[dict[str, object]]) -> None:
    """Run ``tests`` against the shipped rules with Prometheus's own rule engine (promtool test rules)."""
    spec = {"rule_files": [str(RULES)], "evaluation_interval": "15s", "tests": tests}
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(json.dumps(spec), "utf-8")  # JSON is YAML
    result = subprocess.run(
        [require("promtool"), "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_keep_deskwatch_hysteresis_and_debounce(tmp_path: Path) -> None:
    """Evaluated by Prometheus's own rule engine (promtool test rules).

    CPU warning: raise at 90 % after 60 s, clear only below 80 % and after 30 s.
    85 % after firing keeps it firing (it would resolve without hysteresis).
    """
    _promtool_test(
        tmp_path,
        [
            {
                "interval": "15s",
                "input_series": [
                    {
                        "series": CPU_SERIES,
                        # t=0 50 %, 15 s–2 min 95 %, 2:15–4 min 85 %, from 4:15 50 %
                        "values": "0.5 0.95x7 0.85x7 0.5x7",
                    }
                ],
                "alert_rule_test": [
                    {"eval_time": "45s", "alertname": "DeskwatchComputerCpuWarning", "exp_alerts": []},
                    {
                        "eval_time": "3m",
                        "alertname": "DeskwatchComputerCpuWarning",
                        "exp_alerts": [_cpu_alert("85%")],
                    },
                    # keep_firing_for: still firing 15 s after the drop (annotations keep the last value)
                    {
                        "eval_time": "4m15s",
                        "alertname": "DeskwatchComputerCpuWarning",
                        "exp_alerts": [_cpu_alert("85%")],
                    },
                    {"eval_time": "6m", "alertname": "DeskwatchComputerCpuWarning", "exp_alerts": []},
                    {"eval_time": "3m", "alertname": "DeskwatchComputerCpuCritical", "exp_alerts": []},
                ],
            },
            {
                # Low is bad: memory critical at ≤ 7 % for 30 s, cleared above 10 %; warning at ≤ 15 %.
                "interval": "15s",
                "input_series": [
                    {
                        "series": MEMORY_SERIES,
                        # t=0 50 %, 15 s–1:30 5 %, 1:45–3 min 12 %, then 50 %
                        "values": "0.5 0.05x6 0.12x6 0.5x6",
                    }
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "30s",
                        "alertname": "DeskwatchComputerMemoryAvailableCritical",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "1m",
                        "alertname": "DeskwatchComputerMemoryAvailableCritical",
                        "exp_alerts": [_memory_alert("critical", "严重", "5%", "7 %")],
                    },
                    {
                        "eval_time": "2m30s",
                        "alertname": "DeskwatchComputerMemoryAvailableCritical",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "2m30s",
                        "alertname": "DeskwatchComputerMemoryAvailableWarning",
                        "exp_alerts": [_memory_alert("warning", "警告", "12%", "15 %")],
                    },
                ],
            },
        ],
    )


def _memory_alert(severity: str, severity_zh: str, value: str, limit: str) -> dict[str, object]:
    return {
        "exp_labels": {
            "severity": severity,
            "deskwatch_indicator": "computer.memory_available",
            "instance": "seat1",
            "seat": "seat1",
            "job": "deskwatch",
            "device": "computer",
        },
        "exp_annotations": {
            "summary": f"Memory available: {severity} on seat1",
            "summary_zh": f"可用内存:{severity_zh}(seat1)",
            "description": f"Computer — Memory available is {value} (at or below {limit}).",
        },
    }


def _cpu_alert(value: str) -> dict[str, object]:
    return {
        "exp_labels": {
            "severity": "warning",
            "deskwatch_indicator": "computer.cpu",
            "instance": "seat1",
            "seat": "seat1",
            "job": "deskwatch",
            "device": "computer",
        },
        "exp_annotations": {
            "summary": "CPU usage: warning on seat1",
            "summary_zh": "CPU 使用率:警告(seat1)",
            "description": f"Computer — CPU usage is {value} (at or above 90 %).",
        },
    }


def test_rules_follow_configured_thresholds(tmp_path: Path) -> None:
    config_file = tmp_path / "site.toml"
    config_file.write_text('[indicators."computer.cpu"]\nwarning = 70\nwarning_clear = 60\n', "utf-8")
    text = generate_rules(load_config(monitors.discover(), config_file))
    assert "deskwatch_computer_cpu_ratio >= 0.7\n" in text
    assert "deskwatch_computer_cpu_ratio > 0.6\n" in text


def test_every_metric_in_rules_and_dashboard_is_exported(clock) -> None:  # type: ignore[no-untyped-def]
    """Names used by the shipped files exist in a scrape of a Deskwatch with readings for all indicators."""
    config = load_config(monitors.discover(), None)
    indicators = list(config.registry.indicators.values())
    engine = Engine(config, None, None, clock=clock)
    # Two-sided ranges are judged in a band (the season): the seat exports which one.
    engine.ingest([Reading(i.id, 1.0, band=_first_band(i)) for i in indicators])
    exported = set(re.findall(r"^(deskwatch_\w+?)(?:\{| )", Exporter(engine, None).scrape(), re.MULTILINE))
    exported |= {"deskwatch_selftest_passed", "deskwatch_selftest_timestamp_seconds"}  # need a stored check
    text = RULES.read_text("utf-8") + DASHBOARD.read_text("utf-8")
    used = set(re.findall(r"\b(deskwatch_[a-z0-9_]+)\s*(?:\{|\)|==|>|<|$)", text, re.MULTILINE))
    assert "deskwatch_computer_cpu_ratio" in used
    used.discard("deskwatch_indicator")  # a label the rules attach, not a metric
    assert used - exported == set()
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    assert dashboard["uid"] == "deskwatch-room"
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "room", "seat"}
    assert all(p["gridPos"]["w"] <= 24 for p in dashboard["panels"])


def _first_band(indicator: Indicator) -> str:
    bands = indicator.thresholds.bands if indicator.thresholds is not None else ()
    return bands[0].name if bands else ""


TEMPERATURE_SERIES = (
    "deskwatch_environment_temperature_celsius"
    '{instance="seat1", job="deskwatch", device="environment", item="desk"}'
)


def _band_series(band: str, values: str) -> dict[str, str]:
    labels = 'instance="seat1", job="deskwatch", device="environment", item="desk"'
    return {
        "series": f'deskwatch_indicator_band{{{labels}, indicator="environment.temperature", band="{band}"}}',
        "values": values,
    }


def _temperature_alert(season: str, level: str, value: str, where: str) -> dict[str, object]:
    return {
        "exp_labels": {
            "severity": level,
            "deskwatch_indicator": "environment.temperature",
            "instance": "seat1",
            "seat": "seat1",
            "job": "deskwatch",
            "device": "environment",
            "item": "desk",
        },
        "exp_annotations": {
            "summary": f"Room temperature: {level} on seat1",
            "summary_zh": f"室内温度:{'警告' if level == 'warning' else '严重'}(seat1)",
            "description": f"Environment — Room temperature is {value} ({where} the {season} range 22–28 °C)"
            " on desk.".replace("22–28", "22–28" if season == "summer" else "16–24"),
        },
    }


def test_seasonal_ranges_alert_in_their_season_with_hysteresis(tmp_path: Path) -> None:
    """The environment's two-sided ranges, per season, as Thresholds.judge decides (promtool test rules).

    25 °C is normal in summer (22–28) and too warm in winter (16–24); 23.8 °C
    after a winter warning stays a warning (0.5 °C back inside to clear).
    """
    _promtool_test(
        tmp_path,
        [
            {
                "interval": "15s",
                "input_series": [
                    # 0–1:45 25 °C, 2:00–3:45 23.8 °C, from 4:00 20 °C; summer first, winter from 1 min
                    {"series": TEMPERATURE_SERIES, "values": "25x7 23.8x7 20x7"},
                    _band_series("summer", "1x3 _x18"),
                    _band_series("winter", "_x3 1x18"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "30s",
                        "alertname": "DeskwatchEnvironmentTemperatureSummerWarning",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "30s",
                        "alertname": "DeskwatchEnvironmentTemperatureWinterWarning",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "1m30s",
                        "alertname": "DeskwatchEnvironmentTemperatureWinterWarning",
                        "exp_alerts": [_temperature_alert("winter", "warning", "25.00", "outside")],
                    },
                    {
                        "eval_time": "3m",
                        "alertname": "DeskwatchEnvironmentTemperatureWinterWarning",
                        "exp_alerts": [_temperature_alert("winter", "warning", "23.80", "outside")],
                    },
                    {
                        "eval_time": "5m",
                        "alertname": "DeskwatchEnvironmentTemperatureWinterWarning",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "3m",
                        "alertname": "DeskwatchEnvironmentTemperatureWinterCritical",
                        "exp_alerts": [],
                    },
                ],
            },
        ],
    )


def test_not_set_up_never_alerts_but_unknown_does(tmp_path: Path) -> None:
    """Level 4 (nothing configured to observe) for half an hour fires nothing; level 3 for 15 min does."""
    _promtool_test(
        tmp_path,
        [
            {
                "interval": "15s",
                "input_series": [
                    _level_series("telephone", "telephone.sip_reply", "4x120"),
                    _level_series("printer", "printer.state", "3x120", item="desk1"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "20m",
                        "alertname": "DeskwatchIndicatorUnknown",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "info",
                                    "instance": "seat1",
                                    "seat": "seat1",
                                    "job": "deskwatch",
                                    "device": "printer",
                                    "indicator": "printer.state",
                                    "item": "desk1",
                                },
                                "exp_annotations": {
                                    "summary": "Deskwatch cannot observe printer.state on seat1",
                                    "summary_zh": "Deskwatch 无法监测 printer.state(seat1)",
                                    "description": "Deskwatch tried and could not observe it for 15 minutes "
                                    "(the monitor failed or the device does not answer).",
                                },
                            }
                        ],
                    },
                    *(
                        {"eval_time": "20m", "alertname": name, "exp_alerts": []}
                        for name in ("DeskwatchDeviceCritical", "DeskwatchDeviceWarning")
                    ),
                ],
            }
        ],
    )


def test_dashboard_device_level_is_the_worst_in_deskwatch_order(tmp_path: Path) -> None:
    """The state timeline: critical outranks unknown, and "not set up" hides nothing."""
    panel = next(
        p for p in json.loads(DASHBOARD.read_text("utf-8"))["panels"] if p["type"] == "state-timeline"
    )
    expr = panel["targets"][0]["expr"].replace("$room", ".*").replace("$seat", ".*")
    mappings = panel["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert mappings["4"]["text"] == "Not observed 未观测"

    def sample(device: str, value: int) -> dict[str, object]:
        return {"labels": f'{{device="{device}", instance="seat1"}}', "value": value}

    _promtool_test(
        tmp_path,
        [
            {
                "interval": "15s",
                "input_series": [
                    _level_series("computer", "computer.cpu", "2x4"),
                    _level_series("computer", "computer.required_processes", "3x4"),
                    _level_series("computer", "computer.temperature", "4x4"),
                    _level_series("printer", "printer.state", "0x4", item="desk1"),
                    _level_series("printer", "printer.supplies", "4x4", item="desk1"),
                    _level_series("telephone", "telephone.sip_reply", "4x4"),
                ],
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": "30s",
                        "exp_samples": [sample("computer", 2), sample("printer", 0), sample("telephone", 4)],
                    }
                ],
            }
        ],
    )


def test_every_alert_carries_the_seat_for_alertmanager(tmp_path: Path) -> None:
    """``seat``: the target's own ``seat`` label, else the scrape target's host; ``room`` passes through."""
    ported = 'instance="10.3.1.27:9858", job="deskwatch", room="3F-east"'
    named = 'instance="10.3.1.28:9858", job="deskwatch", room="3F-east", seat="3F-east-07"'
    level = 'device="printer", indicator="printer.status", item="desk1"'
    _promtool_test(
        tmp_path,
        [
            {
                "interval": "15s",
                "input_series": [
                    {"series": f"deskwatch_indicator_level{{{ported}, {level}}}", "values": "2x4"},
                    {"series": f"deskwatch_indicator_level{{{named}, {level}}}", "values": "2x4"},
                    {"series": f"up{{{ported}}}", "values": "0x30"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "30s",
                        "alertname": "DeskwatchDeviceCritical",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "critical",
                                    "seat": seat,
                                    **_labels(target, level),
                                },
                                "exp_annotations": _device_critical_annotations(_labels(target)["instance"]),
                            }
                            for seat, target in (("10.3.1.27", ported), ("3F-east-07", named))
                        ],
                    },
                    {
                        "eval_time": "6m",
                        "alertname": "DeskwatchSeatDown",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "seat": "10.3.1.27", **_labels(ported)},
                                "exp_annotations": {
                                    "summary": "Deskwatch on 10.3.1.27:9858 cannot be scraped",
                                    "summary_zh": "无法采集 10.3.1.27:9858 上的 Deskwatch",
                                    "description": "The seat is off, Deskwatch is not running, "
                                    "or its exporter is not reachable.",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    )


def _device_critical_annotations(instance: str) -> dict[str, str]:
    return {
        "summary": f"printer: printer.status critical on {instance}",
        "summary_zh": f"printer:printer.status 严重({instance})",
        "description": "Deskwatch judged printer.status (desk1) critical.",
    }


def _labels(*selectors: str) -> dict[str, str]:
    """``a="1", b="2"`` as a dict."""
    return dict(re.findall(r'(\w+)="([^"]*)"', ", ".join(selectors)))

"""Config layers, validation messages naming file/key/allowed values, write-back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.cli import main
from app.core.config import check_file, load_config, save_user_values
from tests.core.fakes import CLASSES, GAUGE, fake_config


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_defaults_come_from_declarations() -> None:
    config = fake_config()
    assert config.monitor("fake") == {
        "enabled": True,
        "interval": 0.05,
        "timeout": 1.0,
        "name": "x",
        "count": 3,
    }
    assert config.indicator_thresholds(GAUGE) == GAUGE.thresholds
    assert config.get("", "language") == "auto"
    assert config.errors == []


def test_valid_overrides_apply(tmp_path: Path) -> None:
    file = write(
        tmp_path / "c.toml",
        'language = "zh_CN"\n[monitors.fake]\ninterval = 2\ncount = 7\n'
        '[indicators."fake.gauge"]\nwarning = 60\nwarning_clear = 55\nraise_after = 0\n'
        "[history]\nretention_days = 30\n",
    )
    config = fake_config(file)
    assert config.errors == []
    assert config.get("", "language") == "zh_CN"
    assert config.monitor("fake")["interval"] == 2.0 and config.monitor("fake")["count"] == 7
    th = config.indicator_thresholds(GAUGE)
    assert th is not None and (th.warning, th.warning_clear, th.critical, th.raise_after) == (60, 55, 90, 0)
    assert config.get("history", "retention_days") == 30


def test_invalid_values_name_file_key_and_allowed_values_and_keep_defaults(tmp_path: Path) -> None:
    file = write(
        tmp_path / "bad.toml",
        'language = "fr"\n[monitors.fake]\ninterval = -1\ncount = "many"\ncolour = 1\n'
        "[monitors.nosuch]\nenabled = true\n"
        '[indicators."fake.gauge"]\nwarning = 95\n',
    )
    config = fake_config(file)
    messages = [str(e) for e in config.errors]
    assert f"{file}: language: invalid value 'fr' (allowed: one of 'auto', 'zh_CN', 'en')" in messages
    assert any("monitors.fake.interval" in m and "a number from 0.1 to 86400" in m for m in messages)
    assert any("monitors.fake.count" in m and "a whole number" in m for m in messages)
    assert any("monitors.fake.colour: unknown key" in m and "count, enabled" in m for m in messages)
    assert any("monitors.nosuch: unknown monitor" in m and "boom, fake, hang" in m for m in messages)
    assert any('indicators."fake.gauge": critical must be beyond warning' in m for m in messages)
    assert all(m.startswith(str(file)) for m in messages)
    # Each bad key falls back to its default; the rest of the file still applies.
    assert config.get("", "language") == "auto"
    assert config.monitor("fake")["interval"] == 0.05
    assert config.indicator_thresholds(GAUGE) == GAUGE.thresholds


def test_broken_toml_is_reported_not_raised(tmp_path: Path) -> None:
    file = write(tmp_path / "broken.toml", "[monitors.fake\ninterval = 1\n")
    config = fake_config(file)
    assert len(config.errors) == 1
    assert str(config.errors[0]).startswith(f"{file}: (file): not valid TOML")
    assert config.monitor("fake")["interval"] == 0.05


def test_save_user_values_keeps_comments(tmp_path: Path) -> None:
    file = write(tmp_path / "u.toml", "# my settings\n[monitors.fake]\ncount = 4 # four\n")
    save_user_values(file, {("monitors", "fake", "interval"): 3.0, ("language",): "en"})
    text = file.read_text("utf-8")
    assert "# my settings" in text and "# four" in text
    config = load_config(CLASSES, file, shipped_path=Path("/nonexistent"))
    assert config.errors == []
    assert config.monitor("fake")["interval"] == 3.0 and config.monitor("fake")["count"] == 4
    save_user_values(file, {("monitors", "fake", "count"): None})
    assert load_config(CLASSES, file, shipped_path=Path("/nonexistent")).monitor("fake")["count"] == 3


def test_check_file_and_cli(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert check_file(CLASSES, tmp_path / "missing.toml")[0].message == "does not exist"
    good = write(tmp_path / "good.toml", "[monitors.computer]\ninterval = 10\n")
    assert main(["config", "check", str(good)]) == 0
    bad = write(tmp_path / "bad.toml", "[monitors.computer]\ninterval = 'soon'\n")
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: monitors.computer.interval: invalid value 'soon' (allowed: a number" in err


def test_shipped_defaults_file_is_valid() -> None:
    import monitors
    from app.kernel.paths import resources_dir

    assert check_file(monitors.discover(), resources_dir() / "deskwatch.toml") == []


NON_FINITE = (
    "[monitors.fake]\ninterval = nan\ntimeout = inf\ncount = 1" + "0" * 30 + "\n"
    '[indicators."fake.gauge"]\nwarning = nan\ncritical = -inf\nraise_after = nan\n'
    "[alerts]\nreannounce_minutes = nan\n"
    "[history]\nsample_seconds = 1" + "0" * 400 + "\n"
)


def test_non_finite_numbers_are_refused_by_key_and_defaults_stay(tmp_path: Path) -> None:
    # NaN passes every range check (each comparison is false): interval = nan would
    # poll in a busy loop and a NaN threshold would never alarm.
    file = write(tmp_path / "nan.toml", NON_FINITE)
    config = fake_config(file)
    refused = {e.key: e.message for e in config.errors}
    assert set(refused) == {
        "monitors.fake.interval",
        "monitors.fake.timeout",
        "monitors.fake.count",
        'indicators."fake.gauge".warning',
        'indicators."fake.gauge".critical',
        'indicators."fake.gauge".raise_after',
        "alerts.reannounce_minutes",
        "history.sample_seconds",
    }
    assert refused["monitors.fake.interval"].startswith("nan is not a finite number")
    assert "不是有限数值" in refused["monitors.fake.interval"]
    assert "-inf is not a finite number" in refused['indicators."fake.gauge".critical']
    assert (
        "too large" in refused["history.sample_seconds"]
        and "超出整数范围" in refused["history.sample_seconds"]
    )
    assert len(refused["history.sample_seconds"]) < 200, "a 400-digit value is not echoed whole"
    assert (config.monitor("fake")["interval"], config.monitor("fake")["timeout"]) == (0.05, 1.0)
    assert config.monitor("fake")["count"] == 3
    assert config.indicator_thresholds(GAUGE) == GAUGE.thresholds
    assert config.get("alerts", "reannounce_minutes") == 10.0
    assert config.get("history", "sample_seconds") == 60


def test_config_check_refuses_nan_and_inf_in_real_monitor_settings(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = write(
        tmp_path / "nan.toml",
        "[monitors.computer]\ninterval = nan\n"
        '[indicators."computer.cpu"]\nwarning = inf\n'
        '[[monitors.environment.sensors]]\nprotocol = "modbus"\nport = "/dev/ttyUSB0"\n'
        "temperature_scale = nan\nperiod = -inf\n",
    )
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    for key, value in (
        ("monitors.computer.interval", "nan"),
        ('indicators."computer.cpu".warning', "inf"),
        ("monitors.environment.sensors[1].temperature_scale", "nan"),
        ("monitors.environment.sensors[1].period", "-inf"),
    ):
        assert f"{bad}: {key}: {value} is not a finite number" in err, err
    assert f"{bad}: 4 error(s)" in err


def test_break_indicators_are_overridable_like_any_other(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # breaks.* come from the break service, not a monitor: the one registry still declares them.
    from app.core import breaks, promfiles

    file = write(tmp_path / "c.toml", '[indicators."breaks.stretch"]\nwarning = 45\nwarning_clear = 3\n')
    config = fake_config(file)
    assert config.errors == []
    th = config.indicator_thresholds(breaks.STRETCH)
    assert th is not None and (th.warning, th.warning_clear, th.critical) == (45, 3, 90)
    assert "deskwatch_breaks_stretch_seconds >= 2700" in promfiles.generate_rules(config)
    assert main(["config", "check", str(file)]) == 0
    bad = write(tmp_path / "bad.toml", '[indicators."breaks.next_break"]\nwarning = 1\n')
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert 'indicators."breaks.next_break": unknown indicator or one without thresholds' in err
    assert "breaks.skipped_today, breaks.stretch" in err


#: Loads and saves a configuration in a fresh interpreter, printing whether tomlkit was imported after each.
TOMLKIT_WHEN = """
import sys
import subprocess
import sys
from pathlib import Path
from app.core.config import load_config, save_user_values
from tests.core.fakes import CLASSES
path = Path(sys.argv[1])
path.write_text("# kept\\n[monitors.fake]\\ncount = 4\\n", "utf-8")
load_config(CLASSES, path, shipped_path=Path("/nonexistent"))
print("tomlkit" in sys.modules)
save_user_values(path, {("monitors", "fake", "interval"): 2.0})
print("tomlkit" in sys.modules)
"""


def test_tomlkit_is_imported_only_to_write(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", TOMLKIT_WHEN, str(tmp_path / "u.toml")],
        cwd=root, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.split() == ["False", "True"]
    assert "# kept" in (tmp_path / "u.toml").read_text("utf-8")

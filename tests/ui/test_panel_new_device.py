"""Adding a monitor touches one file, even for a device group Deskwatch has never heard of.

A throwaway UPS monitor (device, indicator, thresholds, demo: all in its own
file) is written into a temporary folder that is handed to the ``monitors``
package as one more place to discover modules from.  Nothing else changes,
and the new device shows up in ``deskwatch check``, ``deskwatch config
check``, a panel card, the exporter's ``/metrics``, the generated rules and
the demo.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import monitors
from app.core.config import load_config
from app.core.demo import demo_monitor_classes
from app.core.promfiles import generate_dashboard, generate_rules
from app.kernel.model import Device, Level
from app.kernel.monitor import Monitor
from tests.cli import ROOT

MODULE = "throwaway_ups"
UPS_MONITOR = '''\
"""不间断电源: the seat's UPS (a throwaway monitor for a test)."""

from __future__ import annotations

from app.kernel.i18n import Text
from app.kernel.model import DemoSignal, Device, Direction, IndicatorMaker, Reading, Thresholds
from app.kernel.monitor import Monitor
from app.kernel.settings import Setting

UPS = Device(
    "ups",
    Text("UPS", "不间断电源"),
    65,
    advice=Text("Check that the UPS is switched on and charging", "检查不间断电源是否开启并在充电"),
    demo=(DemoSignal("charge", Text("Battery charge", "电池电量"), "%", Direction.LOW_IS_BAD, 50, 20, 95),),
)
_ind = IndicatorMaker("ups", UPS)
CHARGE = _ind(
    "battery_charge",
    Text("Battery charge", "电池电量"),
    "%",
    thresholds=Thresholds(Direction.LOW_IS_BAD, warning=50, critical=20, warning_clear=55),
    metric_unit="ratio",
    metric_scale=0.01,
)


class UpsMonitor(Monitor):
    """Reports the charge its setting says (a real one would ask the UPS)."""

    id = "ups"
    device = UPS
    title = Text("UPS", "不间断电源")
    indicators = (CHARGE,)
    interval = 0.2
    settings = (Setting("charge", 35.0, Text("Charge (%)", "电量(%)"), minimum=0, maximum=100),)

    def poll(self) -> list[Reading]:
        return [Reading(CHARGE.id, float(self.options["charge"]))]
'''
#: ``deskwatch ARGS`` with the temporary folder as one more place monitors are discovered from.
BOOT = (
    "import sys, monitors; monitors.__path__.append(sys.argv.pop(1)); "
    "from app.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the one new file."""
    where = tmp_path / "site-monitors"
    where.mkdir()
    (where / f"{MODULE}.py").write_text(UPS_MONITOR, "utf-8")
    return where


@pytest.fixture
def discovered(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, type[Monitor]]]:
    """``monitors.discover()`` with the folder added, in this process."""
    monkeypatch.setattr(monitors, "__path__", [*monitors.__path__, str(folder)])
    found = monitors.discover()
    yield found
    sys.modules.pop(f"monitors.{MODULE}", None)


def deskwatch(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BOOT, str(folder), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_the_cli_checks_the_new_device(folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = deskwatch(folder, "check", "--json", "--only", "ups", "--data-dir", str(data))
    payload = json.loads(result.stdout)
    [charge] = payload["indicators"]
    assert charge["id"] == "ups.battery_charge" and charge["device"] == "ups"
    assert charge["value"] == 35.0 and charge["level"] == "warning"
    assert result.returncode == 1  # a warning, like any other monitor's
    table = deskwatch(folder, "check", "--only", "ups", "--data-dir", str(data))
    assert "UPS" in table.stdout and "Battery charge" in table.stdout


def test_config_check_knows_its_settings_and_thresholds(folder: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[monitors.ups]\ncharge = 80\n[indicators."ups.battery_charge"]\nwarning = 40\n', "utf-8")
    result = deskwatch(folder, "config", "check", str(good))
    assert result.returncode == 0, result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[monitors.ups]\ncharge = "full"\n[indicators."ups.battery_charge"]\nwarnin = 40\n', "utf-8"
    )
    result = deskwatch(folder, "config", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}: monitors.ups.charge: invalid value 'full'" in result.stderr
    assert f'{bad}: indicators."ups.battery_charge".warnin: unknown key' in result.stderr


def test_the_panel_gives_the_new_device_a_card(discovered: dict[str, type[Monitor]], make_app: Any) -> None:
    ups = discovered["ups"]
    app = make_app(monitor_classes={"ups": ups})
    device = ups.device
    assert device is Device.named("ups") and device.label.zh == "不间断电源"
    # Procedure order: its declared place (65) puts it after the computer and before breaks.
    assert list(app.panel.cards) == [Device.COMPUTER, device, Device.BREAKS]
    monitor = next(m for m in app.runtime.monitors if m.id == "ups")
    app.engine.ingest(monitor.poll())
    app.panel.flush_pending()
    card = app.panel.cards[device]
    row = card.rows["ups.battery_charge"]
    assert row.value.text() == "35.0 %" and card.level is Level.WARNING
    # ``run --demo`` simulates it from its declaration too.
    assert "demo_ups" in demo_monitor_classes(discovered)


def test_the_exporter_serves_it_and_the_rules_alert_on_it(
    discovered: dict[str, type[Monitor]], make_runtime: Any
) -> None:
    ups = {"ups": discovered["ups"]}
    runtime = make_runtime("[exporter]\nenabled = true\nport = 0\n", monitor_classes=ups)
    runtime.start()
    exporter = runtime.exporter
    assert exporter is not None and exporter.bound_port
    deadline = time.monotonic() + 10
    while runtime.engine.state("ups.battery_charge") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{exporter.bound_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        scrape = response.read().decode("utf-8")
    assert 'deskwatch_ups_battery_charge_ratio{device="ups",item=""} 0.35' in scrape
    assert 'deskwatch_indicator_level{device="ups",indicator="ups.battery_charge",item=""} 1.0' in scrape
    config = load_config(ups, None)
    rules = generate_rules(config)
    assert "- alert: DeskwatchUpsBatteryChargeWarning" in rules
    assert "deskwatch_ups_battery_charge_ratio <= 0.5\n" in rules
    assert "deskwatch_ups_battery_charge_ratio <= 0.2\n" in rules
    assert "UPS — Battery charge 电池电量" in generate_dashboard(config)

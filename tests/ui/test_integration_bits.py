"""Feature hook, single instance, start at login, translations, demo monitors, tooltip."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from app.core.demo import PHASES, DemoMonitor, SimulatedFault, demo_monitor_classes
from app.core.status import format_duration, tooltip_summary
from app.kernel.i18n import Text
from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from app.ui import autostart as autostart_mod
from app.ui.main import FEATURES, load_features
from tests.ui.conftest import CPU, reading

ROOT = Path(__file__).resolve().parents[2]
TS_FILE = ROOT / "resources" / "i18n" / "deskwatch_zh_CN.ts"
QM_FILE = ROOT / "resources" / "i18n" / "deskwatch_zh_CN.qm"


# -- feature hook ---------------------------------------------------------------
def test_features_are_installed_missing_ones_skipped_broken_ones_logged(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    assert FEATURES == ("app.ui.breaks", "app.ui.selftest")
    calls: list[Any] = []
    good = types.ModuleType("dw_test_good")
    good.install = lambda a: calls.append(a)  # type: ignore[attr-defined]
    bad = types.ModuleType("dw_test_bad")

    def explode(_app: Any) -> None:
        raise RuntimeError("boom")

    bad.install = explode  # type: ignore[attr-defined]
    broken_import = types.ModuleType("dw_test_broken")
    monkeypatch.setitem(sys.modules, "dw_test_good", good)
    monkeypatch.setitem(sys.modules, "dw_test_bad", bad)
    # a feature whose own import fails on a missing dependency is an error, not "absent"
    monkeypatch.setattr(
        "importlib.import_module",
        _importer({"dw_test_good": good, "dw_test_bad": bad, "dw_test_broken": broken_import}),
    )
    with caplog.at_level(logging.DEBUG, logger="app.ui.main"):
        installed = load_features(app, ["dw_test_missing", "dw_test_good", "dw_test_bad", "dw_test_broken"])
    assert installed == ["dw_test_good"]
    assert calls == [app.surface]  # features install into the surface, not the app
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert {r.getMessage() for r in errors} == {
        "feature dw_test_bad failed to install",
        "feature dw_test_broken could not be loaded",
    }


def _importer(modules: dict[str, Any]) -> Any:
    def import_module(name: str) -> Any:
        if name == "dw_test_broken":
            raise ModuleNotFoundError("No module named 'numpy_missing'", name="numpy_missing")
        if name in modules:
            return modules[name]
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    return import_module


def test_request_signals_reach_features_and_enable_menu_items(make_app: Any) -> None:
    app = make_app()
    app._update_menu()
    assert not app.action("break").isEnabled()
    got: list[Any] = []
    app.surface.take_break_requested.connect(lambda: got.append("break"))
    app.surface.pause_reminders_requested.connect(lambda m: got.append(m))
    app._update_menu()
    assert app.action("break").isEnabled() and app.pause_menu.isEnabled()
    app.action("break").trigger()
    app.action("pause_30").trigger()
    assert got == ["break", 30]
    assert app.action("pause_60").text() == "For 60 minute(s)"


# -- single instance ------------------------------------------------------------
def test_second_launch_brings_the_first_forward(qtbot: Any) -> None:
    from app.ui.single import SingleInstance, ask_running_instance, server_name

    name = server_name(f"-test-{time.monotonic_ns()}")
    assert ask_running_instance(name, 200) is False
    first = SingleInstance(name)
    assert first.listen()
    with qtbot.waitSignal(first.show_requested, timeout=3000):
        assert ask_running_instance(name) is True
    first.close()


def test_second_launch_of_the_real_command_exits_at_once(qtbot: Any, make_app: Any) -> None:
    from app.ui.single import SingleInstance, server_name

    first = SingleInstance(server_name("-demo"))
    assert first.listen()
    shown: list[bool] = []
    first.show_requested.connect(lambda: shown.append(True))
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--demo"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=20000)
    proc.communicate()
    assert proc.returncode == 0
    qtbot.waitUntil(lambda: bool(shown), timeout=3000)
    first.close()


# -- start at login -------------------------------------------------------------
def test_xdg_autostart_entry(tmp_path: Path) -> None:
    entry = autostart_mod.XdgAutostart(tmp_path, ["/opt/desk watch/deskwatch"], system_dirs=[])
    assert not entry.is_enabled()
    entry.set_enabled(True)
    text = entry.path.read_text("utf-8")
    assert entry.path == tmp_path / "autostart" / "deskwatch.desktop"
    assert "Exec='/opt/desk watch/deskwatch'" in text and "Type=Application" in text
    assert entry.is_enabled()
    entry.path.write_text(text + "Hidden=true\n", "utf-8")
    assert not entry.is_enabled()
    entry.set_enabled(False)
    assert not entry.path.exists() and not entry.is_enabled()


def test_xdg_autostart_follows_and_overrides_the_packages_system_entry(tmp_path: Path) -> None:
    """The .deb installs /etc/xdg/autostart/deskwatch.desktop; the clerk's checkbox must tell the truth."""
    system = tmp_path / "etc-xdg"
    (system / "autostart").mkdir(parents=True)
    system_entry = system / "autostart" / "deskwatch.desktop"
    system_entry.write_text("[Desktop Entry]\nType=Application\nName=Deskwatch\nExec=deskwatch\n", "utf-8")
    home = tmp_path / "home-config"
    entry = autostart_mod.XdgAutostart(home, ["deskwatch"], system_dirs=[tmp_path / "empty", system])
    assert entry.is_enabled()  # the system entry starts it although the user has none
    entry.set_enabled(False)
    assert not entry.is_enabled()
    assert "Hidden=true" in entry.path.read_text("utf-8")  # the spec's way to switch a system entry off
    assert system_entry.exists()  # never touches IT's file
    # A second reader (the next login's settings dialog) sees the same.
    assert not autostart_mod.XdgAutostart(home, ["deskwatch"], system_dirs=[system]).is_enabled()
    entry.set_enabled(True)
    assert entry.is_enabled() and not entry.path.exists()  # follows the system entry again, no duplicate
    system_entry.write_text(system_entry.read_text("utf-8") + "Hidden=true\n", "utf-8")
    assert not entry.is_enabled()  # IT switched it off: a user entry is then a real one
    entry.set_enabled(True)
    assert entry.is_enabled() and "Hidden=true" not in entry.path.read_text("utf-8")


class FakeRegistry:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get(self, key: str, name: str) -> str | None:
        return self.values.get((key, name))

    def set(self, key: str, name: str, value: str) -> None:
        self.values[(key, name)] = value

    def delete(self, key: str, name: str) -> None:
        self.values.pop((key, name), None)


def test_windows_run_key_with_a_fake_registry() -> None:
    registry = FakeRegistry()
    run = autostart_mod.WindowsRunKey(registry, [r"C:\Program Files\Deskwatch\deskwatch.exe", "run"])
    assert not run.is_enabled()
    run.set_enabled(True)
    assert registry.values == {
        (autostart_mod.RUN_KEY, "Deskwatch"): r'"C:\Program Files\Deskwatch\deskwatch.exe" run'
    }
    assert run.is_enabled()
    run.set_enabled(False)
    assert registry.values == {} and not run.is_enabled()
    assert isinstance(autostart_mod.autostart_for_platform("win32"), autostart_mod.WindowsRunKey)
    assert isinstance(autostart_mod.autostart_for_platform("linux"), autostart_mod.XdgAutostart)


# -- translations ---------------------------------------------------------------
def test_catalogue_is_complete_and_compiled(tmp_path: Path) -> None:
    """Every tr() string in app/ui is in the .ts, translated, and the .qm is built from it."""
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (ROOT / "app" / "ui").rglob("*.py"))
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run([str(lupdate), *sources, "-ts", str(fresh)], check=True, capture_output=True)

    def messages(path: Path) -> set[tuple[str, str]]:
        root = ET.parse(path).getroot()
        return {
            (c.findtext("name") or "", m.findtext("source") or "") for c in root for m in c.findall("message")
        }

    assert messages(fresh) <= messages(TS_FILE), (
        "run pyside6-lupdate (see README) and translate the new strings"
    )
    root = ET.parse(TS_FILE).getroot()
    unfinished = [
        m.findtext("source") for c in root for m in c.findall("message")
        if (m.find("translation") is not None and m.find("translation").get("type") == "unfinished")
    ]  # fmt: skip
    assert unfinished == []
    # Compare contents, not file times: a fresh clone gives both files arbitrary mtimes.
    compiled = tmp_path / "fresh.qm"
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    subprocess.run([str(lrelease), str(TS_FILE), "-qm", str(compiled)], check=True, capture_output=True)
    assert QM_FILE.read_bytes() == compiled.read_bytes(), "the shipped .qm is stale: run pyside6-lrelease"


def test_chinese_catalogue_loads(make_app: Any) -> None:
    app = make_app()
    app.set_language("zh_CN")
    assert app.action("quit").text() == "退出 Deskwatch(&Q)"
    assert app.action("pause_15").text() == "15 分钟"
    app.engine.ingest([reading(CPU, 99.0)])
    app.panel.flush_pending()
    assert app.panel.tabs.tabText(app.panel.ALERTS_TAB) == "告警 (1)"
    app.set_language("en")
    assert app.action("quit").text() == "&Quit Deskwatch"


# -- Qt-free helpers ------------------------------------------------------------
def test_tooltip_and_durations(make_app: Any) -> None:
    app = make_app()
    now = time.time()
    assert tooltip_summary([], [], now) == "Deskwatch — Starting — waiting for the first readings…"
    app.engine.ingest([reading(CPU, 10.0)])
    assert tooltip_summary(app.engine.states(), [], now) == "Deskwatch — All equipment normal"
    app.engine.ingest([reading(CPU, 99.0)])
    assert tooltip_summary(app.engine.states(), app.engine.alerts.visible(), now).splitlines() == [
        "Deskwatch — 1 alert needs attention",
        "Computer: CPU usage 99.0 % — Critical",
    ]
    assert format_duration(42, "en") == "42 s"
    assert format_duration(3 * 3600 + 300, "en") == "3 h 5 min"
    assert format_duration(3 * 3600 + 300, "zh_CN") == "3小时5分钟"
    assert format_duration(2 * 86400 + 7200, "en") == "2 d 2 h"


def test_demo_devices_walk_through_every_level(tmp_path: Path) -> None:
    import monitors
    from app.core.registry import registry_of

    shipped = monitors.discover()
    demo_classes = demo_monitor_classes(shipped)
    # Every device group the shipped monitors and the services declare has a demo.
    assert [cls.device for cls in demo_classes.values()] == list(registry_of(shipped.values()).devices)
    assert len(demo_classes) == 7
    t = [0.0]
    for cls in demo_classes.values():
        assert issubclass(cls, DemoMonitor)
        monitor = cls({"phase_seconds": 1.0}, MonitorContext(tmp_path), clock=lambda: t[0])
        seen: set[Level] = set()
        for step in range(len(PHASES)):
            t[0] = step + 0.5
            try:
                readings = monitor.poll()
            except SimulatedFault:
                seen.add(Level.UNKNOWN)
                continue
            for r in readings:
                indicator = next(i for i in cls.indicators if i.id == r.indicator_id)
                level = r.level or (
                    indicator.thresholds.judge(float(r.value)) if indicator.thresholds else Level.OK
                )
                seen.add(level)
        # Demo devices are configured by definition: every level but "not set up".
        assert seen == set(Level) - {Level.NOT_SET_UP}, cls.id
    assert Text("a", "b")("en") == "a"


def test_a_tray_that_appears_after_start_up_is_adopted(make_runtime: Any, qtbot: Any) -> None:
    from app.ui.main import DeskwatchApp

    app = DeskwatchApp(make_runtime())  # offscreen: no tray at start
    qtbot.addWidget(app.panel)
    try:
        assert not app.has_tray and app.tray is None
        assert app.panel.notice.isVisibleTo(app.panel)
        app._look_for_tray(available=False)
        assert app.tray is None
        app._look_for_tray(available=True)
        assert app.has_tray and app.tray is not None
        assert not app.panel.notice.isVisibleTo(app.panel)
    finally:
        app.stop()

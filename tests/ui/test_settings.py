"""The settings dialog: generated from declarations, validated like the file, applied live."""

from __future__ import annotations

import tomllib
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from app.core.config import APP_SECTIONS, monitor_common_settings, threshold_settings
from app.kernel.model import Level
from tests.ui.conftest import CLASSES, CPU, reading


def _dialog(app: Any, qtbot: Any) -> Any:
    dialog = app.open_settings()
    qtbot.addWidget(dialog)
    return dialog


def test_every_declared_setting_has_a_field(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    dialog = _dialog(app, qtbot)
    paths = {f.path for f in dialog.fields}
    for section, settings in APP_SECTIONS.items():
        for s in settings:
            assert ((s.key,) if section == "" else (section, s.key)) in paths
    for mid, cls in CLASSES.items():
        for s in monitor_common_settings(cls) + cls.settings:
            assert ("monitors", mid, s.key) in paths
        for ind in cls.indicators:
            for s in threshold_settings(ind):
                assert ("indicators", ind.id, s.key) in paths
    assert isinstance(dialog.field(("alerts", "sounds")).widget, QCheckBox)
    assert isinstance(dialog.field(("language",)).widget, QComboBox)
    assert dialog.pages.count() == len(APP_SECTIONS) + len(CLASSES)


def test_invalid_values_are_refused_with_what_is_allowed(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    path = app.runtime.config.user_path
    before = path.read_text("utf-8")
    dialog = _dialog(app, qtbot)
    field = dialog.field(("monitors", "pc", "interval"))
    assert isinstance(field.widget, QLineEdit)
    field.widget.setText("0")  # below the declared minimum of 0.1
    assert dialog.apply() is False
    assert "a number from 0.1 to 86400" in dialog.errors.text()
    assert "border" in field.widget.styleSheet()
    assert path.read_text("utf-8") == before
    # thresholds in the wrong order are caught by the same check as the config file
    field.widget.setText("5")
    dialog.field(("indicators", "pc.cpu", "warning")).widget.setText("99")
    assert dialog.apply() is False
    assert (
        "Thresholds: CPU usage: the critical level must be beyond the warning level" in dialog.errors.text()
    )
    assert path.read_text("utf-8") == before


def test_what_is_allowed_is_the_declarations_own_text_in_the_ui_language(make_app: Any, qtbot: Any) -> None:
    """The dialog says what a field takes with ``Setting.allowed``, in Chinese under zh_CN."""
    app = make_app()
    app.set_language("zh_CN")
    try:
        dialog = _dialog(app, qtbot)
        field = dialog.field(("monitors", "pc", "interval"))
        field.widget.setText("0")
        assert dialog.apply() is False
        expected = field.setting.allowed("zh_CN")
        assert expected == "0.1 到 86400 之间的数字"
        assert expected in dialog.errors.text()
        dialog.close()
    finally:
        app.set_language("en")
    # The config file's checker keeps its English wording.
    assert field.setting.allowed() == "a number from 0.1 to 86400"


def test_valid_changes_are_saved_and_applied_without_restart(make_app: Any, qtbot: Any) -> None:
    app = make_app("# my settings\n[alerts]\nsounds = false\n")
    app.runtime.start()
    old_scheduler = app.runtime.scheduler
    dialog = _dialog(app, qtbot)
    dialog.field(("indicators", "pc.cpu", "warning")).widget.setText("60")
    dialog.field(("monitors", "pc", "interval")).widget.setText("0.5")
    dialog.field(("alerts", "sounds")).widget.setChecked(True)
    dialog.autostart_box.setChecked(True)
    applied: list[Any] = []
    assert dialog.apply(applied.append) is True
    qtbot.waitUntil(lambda: bool(applied), timeout=10000)
    text = app.runtime.config.user_path.read_text("utf-8")
    assert text.startswith("# my settings")  # comments kept
    data = tomllib.loads(text)
    assert data["indicators"]["pc.cpu"]["warning"] == 60.0
    assert data["monitors"]["pc"]["interval"] == 0.5
    assert data["alerts"]["sounds"] is True
    assert app.autostart.enabled is True
    # in force now: thresholds judge the next reading, the monitor was rebuilt with its new interval
    assert app.runtime.config.get("alerts", "sounds") is True
    app.engine.ingest([reading(CPU, 70.0)])
    assert app.engine.state("pc.cpu").level is Level.WARNING
    assert app.runtime.scheduler is not old_scheduler
    assert app.runtime.monitors[0].options["interval"] == 0.5


def test_clearing_a_threshold_goes_back_to_the_default(make_app: Any, qtbot: Any) -> None:
    app = make_app('[indicators."pc.cpu"]\nwarning = 70\n')
    dialog = _dialog(app, qtbot)
    field = dialog.field(("indicators", "pc.cpu", "warning"))
    assert field.widget.text() == "70"
    field.widget.setText("")
    applied: list[Any] = []
    assert dialog.apply(applied.append)
    qtbot.waitUntil(lambda: bool(applied), timeout=5000)
    assert (
        "warning"
        not in tomllib.loads(app.runtime.config.user_path.read_text("utf-8"))["indicators"]["pc.cpu"]
    )
    assert app.runtime.config.indicator_thresholds(CPU).warning == 80


def test_language_change_applies_at_once(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    dialog = _dialog(app, qtbot)
    combo = dialog.field(("language",)).widget
    combo.setCurrentIndex(combo.findData("zh_CN"))
    languages: list[str] = []
    app.surface.language_changed.connect(languages.append)
    applied: list[Any] = []
    assert dialog.apply(applied.append)
    qtbot.waitUntil(lambda: bool(applied), timeout=5000)
    assert languages == ["zh_CN"]
    assert app.panel.settings_button.text() == "设置"
    app.set_language("en")


def test_config_errors_are_shown_on_the_panel(make_app: Any) -> None:
    app = make_app("[alerts]\nreannounce_minutes = -3\n")
    assert app.panel.errors.isVisibleTo(app.panel)
    assert "reannounce_minutes" in app.panel.errors.text()


def test_dialog_over_every_real_monitor_accepts_its_own_defaults(make_app: Any, qtbot: Any) -> None:
    """Whatever settings other areas declare (lists of tables …), an untouched dialog applies cleanly."""
    import monitors

    app = make_app(monitor_classes=monitors.discover())
    dialog = _dialog(app, qtbot)
    changes, problems = dialog.changes()
    assert problems == [] and changes == {}
    assert dialog.apply() is True
    assert dialog.errors.isHidden()


def test_problems_are_explained_in_chinese(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.set_language("zh_CN")
    try:
        dialog = _dialog(app, qtbot)
        dialog.field(("monitors", "pc", "interval")).widget.setText("0")
        assert dialog.apply() is False
        assert "轮询间隔(秒):允许的值为 0.1 到 86400 之间的数" in dialog.errors.text()
        dialog.field(("monitors", "pc", "interval")).widget.setText("5")
        dialog.field(("indicators", "pc.cpu", "warning")).widget.setText("99")
        assert dialog.apply() is False
        assert "阈值:CPU 使用率:严重值必须比警告值更偏离正常范围" in dialog.errors.text()
    finally:
        app.set_language("en")


def test_a_range_upside_down_is_explained_in_chinese(make_app: Any, qtbot: Any) -> None:
    """The environment's seasonal ranges are thresholds: their own problems are translated too."""
    import monitors

    app = make_app(monitor_classes=monitors.discover())
    app.set_language("zh_CN")
    try:
        dialog = _dialog(app, qtbot)
        dialog.field(("indicators", "environment.temperature", "winter_low")).widget.setText("30")
        assert dialog.apply() is False
        assert "阈值:室内温度:范围的下限不能高于上限" in dialog.errors.text(), dialog.errors.text()
    finally:
        app.set_language("en")

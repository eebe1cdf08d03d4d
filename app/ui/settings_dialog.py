"""The settings dialog, generated from the same declarations the config file is checked against.

Every page and field comes from :data:`app.core.config.APP_SECTIONS`,
:func:`monitor_common_settings`, each monitor's ``settings`` and
:func:`threshold_settings`.  A change is first checked field by field with
``Setting.coerce`` and then as a whole by loading a scratch copy of the
user's file with :func:`load_config` — exactly what happens at start-up — so
the dialog accepts precisely what the file would.  Accepted changes are
written with :func:`save_user_values` and applied without a restart.

A key the site file locks (:attr:`Config.locks`) is shown with the value in
force, read-only, with "set by your IT department"; it is never part of the
changes, so it is never written to the user's file.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.config import (
    APP_SECTIONS,
    Config,
    ConfigError,
    load_config,
    monitor_common_settings,
    save_user_values,
    threshold_settings,
)
from app.kernel.i18n import current_language
from app.kernel.settings import Setting
from app.ui.autostart import Autostart
from app.ui.keys import label as label_button
from app.ui.keys import name
from app.ui.surface import Surface

log = logging.getLogger(__name__)

KeyPath = tuple[str, ...]
INT_LIMIT = 2_000_000_000


@dataclass
class Field:
    """One generated input: its declaration, where it lives in the TOML file, and its widget."""

    setting: Setting
    path: KeyPath
    current: Any
    widget: QWidget
    optional: bool = False  # an empty entry means "back to the default"
    #: What a screen reader says after the name: the help and the allowed values.
    description: str = ""
    # Set by IT in the site file: shown, never edited or saved.
    locked: bool = False

    def read(self) -> Any:
        """The entered value as a Python value (``None``: empty optional field); may raise ValueError."""
        widget, kind = self.widget, self.setting.kind
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QSpinBox):
            return widget.value()
        if isinstance(widget, QLabel):
            return self.current  # lists of tables are edited in the file
        assert isinstance(widget, QLineEdit)
        text = widget.text().strip()
        if kind is list:
            parts = text.replace("；", ";").replace("，", ";").replace(",", ";").split(";")
            return [part.strip() for part in parts if part.strip()]
        if kind is float:
            if not text:
                if self.optional:
                    return None
                raise ValueError
            return float(text.replace("，", ".").replace(",", "."))
        return widget.text()

    def mark(self, problem: str | None) -> None:
        """Show (or clear) a problem on the widget."""
        self.widget.setStyleSheet("border: 1px solid #d63b3b; background: #fdecec;" if problem else "")
        if not self.locked:  # a locked field's tooltip names the site file
            self.widget.setToolTip(problem or (self.setting.help() if self.setting.help else ""))
        # The problem, when there is one, is what a screen reader should say first.
        spoken = f"{problem}. {self.description}" if problem else self.description
        self.widget.setAccessibleDescription(spoken)


def _tables_summary(setting: Setting, value: Any) -> str:
    """One line per table (``port=/dev/ttyUSB0, protocol=modbus``) for a list-of-tables setting."""
    lines = []
    for table in value or []:
        lines.append(", ".join(f"{k}={v}" for k, v in table.items()) or "{}")
    return "\n".join(lines) or "—"


def _widget_for(setting: Setting, value: Any, parent: QWidget, choice_names: dict[str, str]) -> QWidget:
    kind = setting.kind
    if getattr(setting, "fields", None) is not None:
        label = QLabel(_tables_summary(setting, value), parent)
        label.setObjectName("muted")
        label.setWordWrap(True)
        label.setTextInteractionFlags(
            label.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        return label
    if kind is bool:
        box = QCheckBox(parent)
        box.setChecked(bool(value))
        return box
    if setting.choices is not None:
        combo = QComboBox(parent)
        for choice in setting.choices:
            combo.addItem(choice_names.get(choice, choice), choice)
        combo.setCurrentIndex(max(0, list(setting.choices).index(value) if value in setting.choices else 0))
        return combo
    if kind is int:
        spin = QSpinBox(parent)
        spin.setRange(
            int(setting.minimum) if setting.minimum is not None else -INT_LIMIT,
            int(setting.maximum) if setting.maximum is not None else INT_LIMIT,
        )
        spin.setValue(int(value))
        return spin
    edit = QLineEdit(parent)
    if kind is list:
        edit.setText(", ".join(value or []))
    elif kind is float:
        edit.setText("" if value is None else f"{value:g}")
    else:
        edit.setText(str(value))
    return edit


def error_key_path(key: str) -> KeyPath:
    """The key path a :class:`ConfigError` key names (``indicators."cpu.x".warning`` → 3 parts)."""
    if key.startswith('indicators."'):
        indicator_id, _, rest = key[len('indicators."') :].partition('"')
        return ("indicators", indicator_id, *[part for part in rest.split(".") if part])
    return tuple(key.split("."))


class SettingsDialog(QDialog):
    """Pages: general, alerts, history, then one per monitor with its thresholds."""

    applied = Signal(object)  # the new Config

    def __init__(
        self,
        surface: Surface,
        autostart: Autostart | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.surface = surface
        self.autostart = autostart
        self.fields: list[Field] = []
        self.setWindowTitle(self.tr("Deskwatch settings"))
        self.resize(860, 620)
        config = surface.runtime.config
        layout = QVBoxLayout(self)
        body = QHBoxLayout()
        self.pages = QListWidget(self)
        self.pages.setFixedWidth(190)
        self.stack = QStackedWidget(self)
        self.pages.currentRowChanged.connect(self.stack.setCurrentIndex)
        name(
            self.pages,
            self.tr("Settings pages"),
            self.tr("Up and down arrows choose a page; Tab goes to its fields"),
        )
        body.addWidget(self.pages)
        body.addWidget(self.stack, 1)
        layout.addLayout(body, 1)
        self.errors = QLabel(self)
        self.errors.setObjectName("errors")
        self.errors.setWordWrap(True)
        name(self.errors, self.tr("Problems"))
        self.errors.hide()
        layout.addWidget(self.errors)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        # Enter is OK (the default button) and Esc is Cancel; Alt+A applies and stays.
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        label_button(ok, self.tr("OK"), self.tr("Save, apply and close (Enter)"))
        ok.setDefault(True)
        label_button(buttons.button(QDialogButtonBox.StandardButton.Apply), self.tr("&Apply"))
        label_button(
            buttons.button(QDialogButtonBox.StandardButton.Cancel),
            self.tr("Cancel"),
            self.tr("Close without saving (Esc)"),
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(lambda: self.apply())
        layout.addWidget(buttons)
        self.buttons = buttons
        self.autostart_box: QCheckBox | None = None
        self._build_pages(config)
        self.pages.setCurrentRow(0)
        if not config.user_path:
            self._show_errors([self.tr("No user configuration file: settings cannot be saved.")])

    # -- pages ----------------------------------------------------------------
    def _page(self, title: str) -> QVBoxLayout:
        scroll = QScrollArea(self.stack)
        scroll.setWidgetResizable(True)
        inner = QWidget(scroll)
        layout = QVBoxLayout(inner)
        heading = QLabel(title, inner)
        heading.setObjectName("cardTitle")
        layout.addWidget(heading)
        scroll.setWidget(inner)
        name(scroll, title)
        self.stack.addWidget(scroll)
        self.pages.addItem(title)
        return layout

    def _form(self, layout: QVBoxLayout, title: str | None = None) -> QFormLayout:
        box = QGroupBox(title or "", layout.parentWidget())
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addWidget(box)
        return form

    def _add(
        self, form: QFormLayout, setting: Setting, path: KeyPath, value: Any, optional: bool = False
    ) -> None:
        parent = form.parentWidget()
        assert parent is not None
        names = {"auto": self.tr("Follow the system"), "zh_CN": "中文 (简体)", "en": "English"}
        widget = _widget_for(setting, value, parent, names if setting.key == "language" else {})
        if optional and isinstance(widget, QLineEdit):
            widget.setPlaceholderText(self.tr("default"))
        group = parent.title() if isinstance(parent, QGroupBox) else ""
        allowed = self.tr("Allowed: {0}").format(setting.allowed(current_language()))
        if optional:
            allowed += " " + self.tr("(empty: the default)")
        help_text = setting.help() if setting.help is not None else ""
        name(widget, f"{group}: {setting.label()}" if group else setting.label())
        config = self.surface.runtime.config
        locked = config.lock_for(path) is not None
        note = self.tr("set by your IT department") if locked else ""
        described = " ".join(p for p in (note, help_text, "" if locked else allowed) if p)
        field = Field(setting, path, value, widget, optional, described, locked)
        field.mark(None)
        if isinstance(widget, QLabel) and not locked:
            where = str(config.user_path or "deskwatch.toml")
            widget.setToolTip(self.tr("Edit these entries in {0}").format(where))
        label = QLabel(setting.label(), parent)
        label.setWordWrap(True)
        label.setBuddy(widget)
        if setting.help is not None:
            label.setToolTip(setting.help())
        form.addRow(label, self._locked_row(widget, note, str(config.site_path)) if locked else widget)
        self.fields.append(field)

    def _locked_row(self, widget: QWidget, note: str, site_file: str) -> QWidget:
        """``widget`` read-only, with the note that IT set it (the tooltip names the site file)."""
        row = QWidget(widget.parentWidget())
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        widget.setParent(row)
        widget.setEnabled(False)
        widget.setToolTip(self.tr("Locked in the site file {0}").format(site_file))
        line.addWidget(widget, 1)
        label = QLabel(note, row)
        label.setObjectName("muted")
        label.setToolTip(widget.toolTip())
        line.addWidget(label)
        return row

    def _build_pages(self, config: Config) -> None:
        titles = {
            "": self.tr("General"),
            "alerts": self.tr("Alerts"),
            "history": self.tr("History"),
            "breaks": self.tr("Break reminders"),
            "selftest": self.tr("Start-of-shift check"),
            "reports": self.tr("Reports"),
            "exporter": self.tr("Prometheus metrics"),
        }
        for section, settings in APP_SECTIONS.items():
            layout = self._page(titles.get(section, section.replace("_", " ").capitalize()))
            form = self._form(layout)
            for setting in settings:
                path = (setting.key,) if section == "" else (section, setting.key)
                self._add(form, setting, path, config.app[section][setting.key])
            if section == "" and self.autostart is not None:
                self.autostart_box = QCheckBox(self.tr("Start Deskwatch when I log in"), form.parentWidget())
                try:
                    self.autostart_box.setChecked(self.autostart.is_enabled())
                except OSError as exc:
                    log.warning("cannot read autostart state: %s", exc)
                form.addRow("", self.autostart_box)
            layout.addStretch(1)
        for monitor_id, cls in config.monitor_classes.items():
            layout = self._page(cls.title())
            form = self._form(layout, self.tr("Monitoring"))
            values = config.monitor(monitor_id)
            for setting in monitor_common_settings(cls) + cls.settings:
                self._add(form, setting, ("monitors", monitor_id, setting.key), values[setting.key])
            for indicator in cls.indicators:
                declared = threshold_settings(indicator)
                if not declared:
                    continue
                unit = f" ({indicator.unit})" if indicator.unit else ""
                form = self._form(layout, self.tr("Thresholds: {0}").format(indicator.label() + unit))
                current = config.indicator_thresholds(indicator)
                for setting in declared:
                    value = current.value(setting.key) if current is not None else setting.default
                    self._add(form, setting, ("indicators", indicator.id, setting.key), value, optional=True)
            layout.addStretch(1)

    # -- checking and applying ------------------------------------------------
    def field(self, path: KeyPath) -> Field:
        """The field that edits ``path`` (for tests and for jumping to an error)."""
        return next(f for f in self.fields if f.path == path)

    def changes(self) -> tuple[dict[KeyPath, Any], list[str]]:
        """Changed values by key path, and per-field problems (same wording as the config check)."""
        changes: dict[KeyPath, Any] = {}
        problems: list[str] = []
        for field in self.fields:
            if field.locked:  # IT's value: never the clerk's to save
                continue
            try:
                value = field.read()
                if value is not None:
                    value = field.setting.coerce(value)
            except (ValueError, TypeError):
                problem = self.tr("{0}: allowed is {1}").format(
                    field.setting.label(), field.setting.allowed(current_language())
                )
                field.mark(problem)
                problems.append(problem)
                continue
            field.mark(None)
            if value is None:
                if field.current is not None:
                    changes[field.path] = None
            elif value != field.current:
                changes[field.path] = value
        return changes, problems

    def check(self, changes: dict[KeyPath, Any]) -> tuple[Config | None, list[ConfigError]]:
        """Load a scratch copy of the user's file with ``changes`` applied, as Deskwatch would."""
        config = self.surface.runtime.config
        user_path = config.user_path
        if user_path is None:
            return None, []
        with tempfile.TemporaryDirectory(prefix="deskwatch-settings-") as tmp:
            scratch = Path(tmp) / user_path.name
            if user_path.exists():
                shutil.copyfile(user_path, scratch)
            save_user_values(scratch, changes)
            # The same site file as the running configuration: its values and locks hold.
            candidate = load_config(config.monitor_classes, scratch, site_paths=config.site_search)
        errors = [
            ConfigError(str(user_path), e.key, e.message, e.allowed)
            for e in candidate.errors
            if e.file == str(scratch)
        ]
        candidate.user_path = user_path
        return candidate, errors

    def apply(self, on_done: Callable[[Config], None] | None = None) -> bool:
        """Validate, save and apply; ``False`` (with the problems shown) when something is wrong."""
        changes, problems = self.changes()
        if problems:
            self._show_errors(problems)
            return False
        candidate, errors = self.check(changes) if changes else (None, [])
        if errors:
            for error in errors:
                prefix = error_key_path(error.key)
                for field in self.fields:
                    if field.path[: len(prefix)] == prefix:
                        field.mark(str(error))
            self._show_errors([self.describe(e) for e in errors])
            return False
        self._show_errors([])
        if self.autostart_box is not None and self.autostart is not None:
            try:
                if self.autostart_box.isChecked() != self.autostart.is_enabled():
                    self.autostart.set_enabled(self.autostart_box.isChecked())
            except OSError as exc:
                self._show_errors([self.tr("Cannot change start at login: {0}").format(exc)])
                return False
        if not changes or candidate is None:
            if on_done is not None:
                on_done(self.surface.runtime.config)
            return True
        user_path = self.surface.runtime.config.user_path
        assert user_path is not None
        try:
            save_user_values(user_path, changes)
        except OSError as exc:
            self._show_errors([self.tr("Cannot write {0}: {1}").format(str(user_path), exc.strerror or exc)])
            return False
        for field in self.fields:
            if field.path in changes:
                field.current = changes[field.path]
        self.surface.apply_config(candidate, on_done)
        self.applied.emit(candidate)
        return True

    def describe(self, error: ConfigError) -> str:
        """A whole-file check problem, in the UI language where the message is a known one."""
        known = {
            "critical must be beyond warning": self.tr("the critical level must be beyond the warning level"),
            "a clear level must be on the normal side of its limit": self.tr(
                "a clear level must be on the normal side of its limit"
            ),
            "the low end of a range must not be above its high end": self.tr(
                "the low end of a range must not be above its high end"
            ),
            "a clear margin must be smaller than the critical margin": self.tr(
                "a clear margin must be smaller than the critical margin"
            ),
        }
        message = known.get(error.message)
        if message is None:
            return str(error)
        path = error_key_path(error.key)
        fields = [f for f in self.fields if f.path[: len(path)] == path]
        where = error.key
        if path[:1] == ("indicators",) and fields:
            where = self.tr("Thresholds: {0}").format(path[1])
            indicator = self.surface.runtime.config.registry.indicators.get(path[1])
            if indicator is not None:
                where = self.tr("Thresholds: {0}").format(indicator.label())
        text = self.tr("{0}: {1}").format(where, message)
        return text + (f" ({error.allowed})" if error.allowed else "")

    def _ok(self) -> None:
        if self.apply():
            self.accept()

    def _show_errors(self, problems: list[str]) -> None:
        self.errors.setText("\n".join(f"• {p}" for p in problems))
        self.errors.setVisible(bool(problems))

    def error_text(self) -> str:
        """What the error box says (for tests)."""
        return self.errors.text() if self.errors.isVisible() or self.errors.text() else ""

"""The settings dialog and the site file's locks: shown read-only, never written to the user's file."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

SITE = """\
locked = ["monitors.pc.port", "alerts"]
[monitors.pc]
port = "/dev/ttyS-site"
[alerts]
sounds = true
"""


@pytest.fixture
def site(site_file: Path) -> Path:
    """A real site file in the test's ``$XDG_CONFIG_DIRS`` folder."""
    site_file.parent.mkdir(parents=True)
    site_file.write_text(SITE, "utf-8")
    return site_file


def notes_beside(widget: Any) -> list[str]:
    """Texts of the labels that share ``widget``'s parent (a locked field's row holds its note)."""
    row = widget.parentWidget()
    labels = row.findChildren(QLabel, options=Qt.FindChildOption.FindDirectChildrenOnly)
    return [label.text() for label in labels if label is not widget]


def test_locked_fields_are_read_only_with_the_note_and_never_saved(
    site: Path, make_app: Any, qtbot: Any
) -> None:
    app = make_app("# mine\n[monitors.pc]\ninterval = 1.0\n")
    user = app.runtime.config.user_path
    user.chmod(0o600)
    assert app.runtime.config.site_path == site
    dialog = app.open_settings()
    qtbot.addWidget(dialog)

    port = dialog.field(("monitors", "pc", "port"))
    assert isinstance(port.widget, QLineEdit)
    assert port.locked and not port.widget.isEnabled()
    assert port.widget.text() == "/dev/ttyS-site"
    assert notes_beside(port.widget) == ["set by your IT department"]
    assert str(site) in port.widget.toolTip()
    assert "set by your IT department" in port.widget.accessibleDescription()
    sounds = dialog.field(("alerts", "sounds"))  # a whole locked section
    assert sounds.locked and not sounds.widget.isEnabled() and sounds.widget.isChecked()
    interval = dialog.field(("monitors", "pc", "interval"))
    assert not interval.locked and interval.widget.isEnabled()
    assert "set by your IT department" not in notes_beside(interval.widget)

    # Even if a locked widget's value changes (a script, an accessibility tool), it is not saved.
    port.widget.setText("/dev/ttyUSB9")
    sounds.widget.setChecked(False)
    interval.widget.setText("2.5")
    applied: list[Any] = []
    assert dialog.apply(applied.append) is True
    qtbot.waitUntil(lambda: bool(applied), timeout=10000)
    text = user.read_text("utf-8")
    assert text.startswith("# mine")
    saved = tomllib.loads(text)
    assert saved == {"monitors": {"pc": {"interval": 2.5}}}
    assert stat.S_IMODE(user.stat().st_mode) == 0o600
    config = app.runtime.config
    assert config.monitor("pc")["interval"] == 2.5
    assert config.monitor("pc")["port"] == "/dev/ttyS-site" and config.get("alerts", "sounds") is True
    assert config.site_path == site and config.lock_for(("alerts", "sounds")) == ("alerts",)


def test_the_note_is_translated(site: Path, make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.set_language("zh_CN")
    try:
        dialog = app.open_settings()
        qtbot.addWidget(dialog)
        port = dialog.field(("monitors", "pc", "port"))
        assert notes_beside(port.widget) == ["由信息部门设定"]
        dialog.close()
    finally:
        app.set_language("en")

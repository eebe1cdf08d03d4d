"""Device cards: one per device group, a row per indicator, feature widgets at the bottom."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.core.engine import IndicatorState
from app.core.status import format_duration, pending_note, shown_level
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, format_value
from app.ui.charts import Sparkline
from app.ui.panel.widgets import LevelChip
from app.ui.theme import dot_pixmap

LABEL_MIN_WIDTH, VALUE_MAX_WIDTH = 150, 150


class IndicatorRow:
    """The widgets of one indicator on a card (cells of the card's grid)."""

    def __init__(self, grid: QGridLayout, row: int, state: IndicatorState, parent: QWidget) -> None:
        self.key = state.key
        self.dot = QLabel(parent)
        self.label = QLabel(state.label(), parent)
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(LABEL_MIN_WIDTH)
        self.value = QLabel(parent)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setMinimumWidth(72)
        self.chip = LevelChip(parent)
        self.since = QLabel(parent)
        self.since.setObjectName("muted")
        self.spark = Sparkline(parent)
        self.message = QLabel(parent)
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        for column, widget in enumerate(
            (self.dot, self.label, self.value, self.chip, self.since, self.spark)
        ):
            grid.addWidget(widget, row, column)
        grid.addWidget(self.message, row + 1, 1, 1, 5)
        self.state = state
        self.update(state)

    def update(self, state: IndicatorState) -> None:
        """Show a new state."""
        self.state = state
        level, pending = shown_level(state)
        self.dot.setPixmap(dot_pixmap(level))
        message = state.message() if state.message else ""
        # A state indicator (printer status …) reads best as its message, not its raw keyword.
        as_text = not state.indicator.numeric and bool(message) and state.value is not None
        text = message if as_text else format_value(state.value, state.indicator.unit)
        # Long status texts are shortened so they do not squeeze the labels; the tooltip has it all.
        self.value.setText(
            self.value.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, VALUE_MAX_WIDTH)
        )
        self.chip.set_level(level, pending)
        self.label.setToolTip(message)
        self.value.setToolTip(message)
        self.message.setText(message)
        # Not set up: the card's setup note explains it once, not on every row.
        self.message.setVisible((bool(message) and not as_text and state.level.is_problem) or pending)
        self.spark.setVisible(state.indicator.numeric)
        self.refresh_since(time.time())

    def refresh_since(self, now: float) -> None:
        """Update "how long in this state" and a pending value's countdown ("alert in 40 s")."""
        if self.state.since:
            self.since.setText(format_duration(now - self.state.since))
        note = pending_note(self.state, now)
        if note is not None:
            self.message.setText(note())
            self.label.setToolTip(note())
            self.value.setToolTip(note())


class DeviceCard(QFrame):
    """One device group: its indicators, or why it is not set up."""

    clicked = Signal(object)  # Device

    def __init__(self, device: Device, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.setObjectName("card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(6)
        header = QHBoxLayout()
        self.dot = QLabel(self)
        self.title = QLabel(device.label(), self)
        self.title.setObjectName("cardTitle")
        self.chip = LevelChip(self)
        header.addWidget(self.dot)
        header.addWidget(self.title, 1)
        header.addWidget(self.chip)
        layout.addLayout(header)
        self.note = QLabel(self)
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        layout.addLayout(self.grid)
        self.extra = QVBoxLayout()
        layout.addLayout(self.extra)
        self.rows: dict[str, IndicatorRow] = {}
        self.level: Level | None = None
        self._set_level(None)

    def _set_level(self, level: Level | None) -> None:
        self.level = level
        shown = Level.UNKNOWN if level is None else level
        self.dot.setPixmap(dot_pixmap(shown, 14))
        self.chip.set_level(shown)
        self.chip.setVisible(level is not None)

    def update_states(self, states: list[IndicatorState]) -> None:
        """Show the latest states of this device's indicators."""
        for state in states:
            row = self.rows.get(state.key)
            if row is None:
                self.rows[state.key] = IndicatorRow(self.grid, self.grid.rowCount(), state, self)
            else:
                row.update(state)
        if self.rows:
            worst = max((r.state.level for r in self.rows.values()), key=lambda lv: lv.rank)
            self._set_level(worst)
            self.show_pending(time.time())
        self._explain_not_set_up()

    def show_pending(self, now: float) -> None:
        """While the card is otherwise ok, its chip says "Pending" and its tooltip what and when."""
        notes = [(r.state, pending_note(r.state, now)) for r in self.rows.values()]
        pending = [(state, note) for state, note in notes if note is not None]
        if self.level is not Level.OK or not pending:
            self.chip.setToolTip("")
            return
        raw = max((state.raw_level for state, _ in pending), key=lambda lv: lv.rank)
        self.dot.setPixmap(dot_pixmap(raw, 14))  # like a pending row: the raw level's colour
        self.chip.set_level(raw, pending=True)
        self.chip.setToolTip("\n".join(f"{state.label()}: {note()}" for state, note in pending))

    def _explain_not_set_up(self) -> None:
        """Say once why rows are not set up, unless the card's setup note already does."""
        said: set[str] = set()
        for row in self.rows.values():
            if row.state.level is not Level.NOT_SET_UP:
                continue
            text = row.state.message() if row.state.message else ""
            row.message.setVisible(bool(text) and text not in said and self.note.isHidden())
            said.add(text)

    def remove_missing(self, keys: set[str]) -> None:
        """Drop rows whose indicator is no longer reported (a monitor switched off)."""
        for key in [k for k in self.rows if k not in keys]:
            row = self.rows.pop(key)
            for widget in (row.dot, row.label, row.value, row.chip, row.since, row.spark, row.message):
                widget.deleteLater()
        if not self.rows:
            self._set_level(None)

    def set_setup_note(self, note: Text | None) -> None:
        """Say why the device is not observed and how to set it up (``None``: hide)."""
        self.note.setText(note() if note else "")
        self.note.setVisible(note is not None)
        self._explain_not_set_up()

    def add_widget(self, widget: QWidget) -> None:
        """Put another feature's widget at the bottom of the card."""
        widget.setParent(self)
        self.extra.addWidget(widget)
        widget.show()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.device)
        super().mouseReleaseEvent(event)

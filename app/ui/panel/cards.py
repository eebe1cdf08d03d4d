"""Device cards: one per device group, its summary first, the rows of every indicator on demand.

A closed card shows its state, one line per problem and what to do, and one
compact line per healthy item (:mod:`app.core.summary`); a click, or Enter /
Space on the focused card, opens the full rows; "Charts" opens the detail view.
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import IndicatorState
from app.core.status import format_duration, pending_note, shown_level
from app.core.summary import CardSummary, card_summary, spoken_card, spoken_row
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, format_value
from app.ui.charts import Sparkline
from app.ui.panel.widgets import ElidedLabel, LevelChip
from app.ui.theme import dot_pixmap

# A row's label keeps up to this much width (its instance tells rows apart); the value gives way first.
LABEL_KEEP_WIDTH = 230
# Property of a label meant to wrap onto several lines (the fit test lets those wrap).
WRAPS = "wraps"


def wrapping_label(text: str, parent: QWidget, muted: bool = False) -> QLabel:
    """A label that wraps on purpose (messages, advice, notes)."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setProperty(WRAPS, True)
    if muted:
        label.setObjectName("muted")
    return label


class IndicatorRow:
    """The widgets of one indicator on a card (cells of the card's grid of rows)."""

    def __init__(self, grid: QGridLayout, row: int, state: IndicatorState, parent: QWidget) -> None:
        self.key = state.key
        self.dot = QLabel(parent)
        # One line each: a label or value too long for its cell is shortened, whole in its tooltip.
        self.label = ElidedLabel(state.label(), parent, keep_after=" — ")
        self.label.setMinimumWidth(min(self.label.sizeHint().width(), LABEL_KEEP_WIDTH))
        self.value = ElidedLabel("", parent)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.chip = LevelChip(parent)
        self.since = QLabel(parent)
        self.since.setObjectName("muted")
        self.spark = Sparkline(parent)
        self.message = wrapping_label("", parent, muted=True)
        for column, widget in enumerate(
            (self.dot, self.label, self.value, self.chip, self.since, self.spark)
        ):
            grid.addWidget(widget, row, column)
        grid.addWidget(self.message, row + 1, 1, 1, 5)
        self.state = state
        self.update(state)

    def widgets(self) -> tuple[QWidget, ...]:
        """Every widget of the row."""
        return (self.dot, self.label, self.value, self.chip, self.since, self.spark, self.message)

    def update(self, state: IndicatorState) -> None:
        """Show a new state."""
        self.state = state
        level, pending = shown_level(state)
        self.dot.setPixmap(dot_pixmap(level))
        message = state.message() if state.message else ""
        # A state indicator (printer status …) reads best as its message, not its raw keyword.
        as_text = not state.indicator.numeric and bool(message) and state.value is not None
        text = message if as_text else format_value(state.value, state.indicator.unit)
        self.value.setText(text)
        # A number is never cut: its unit is part of it ("0.04 m…" would read as metres). A long
        # state text (a port's path …) gives way first, whole in its tooltip.
        self.value.setMinimumWidth(0 if as_text else self.value.sizeHint().width())
        self.chip.set_level(level, pending)
        self.label.set_tip(message)
        self.value.set_tip(message)
        self.message.setText(message)
        # Not set up: the card's setup note explains it once, not on every row.
        self.message.setVisible((bool(message) and not as_text and state.level.is_problem) or pending)
        self.spark.setVisible(state.indicator.numeric)
        spoken = spoken_row(state)()
        for widget in (self.label, self.value):
            widget.setAccessibleName(spoken)
        self.refresh_since(time.time())

    def refresh_since(self, now: float) -> None:
        """Update "how long in this state" and a pending value's countdown ("alert in 40 s")."""
        if self.state.since:
            self.since.setText(format_duration(now - self.state.since))
        note = pending_note(self.state, now)
        if note is not None:
            self.message.setText(note())
            self.label.set_tip(note())
            self.value.set_tip(note())


def _clear(layout: QLayout) -> None:
    """Delete every widget and sub-layout of ``layout``, and the layout items that held them.

    ``takeAt`` hands the item to the caller and Qt never deletes it: a
    ``QWidgetItem`` per widget, and a taken sub-layout is left with no parent.
    A card refills its summary whenever a value changes, so keeping them
    leaked some 40 bytes a line, several times a second, all shift long
    (found with heaptrack on the soak: ``QLayoutPrivate::createWidgetItem``).
    """
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget, inner = item.widget(), item.layout()
        if widget is not None:
            widget.hide()  # deleted later: gone from view now
            widget.deleteLater()
            shiboken6.delete(item)  # the QWidgetItem only: the widget goes with deleteLater
        elif inner is not None:
            _clear(inner)
            shiboken6.delete(inner)  # the item *is* the sub-layout, now empty and parentless
        else:
            shiboken6.delete(item)  # a spacer


class DeviceCard(QFrame):
    """One device group: its summary (state, problems, one line per item), its rows on demand."""

    # "Charts" pressed: open this device's detail view.
    clicked = Signal(object)  # Device
    # The card was opened or closed (its rows shown or hidden).
    toggled = Signal(bool)

    def __init__(self, device: Device, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.setObjectName("card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.arrow = QLabel(self)
        self.dot = QLabel(self)
        self.title = ElidedLabel(device.label(), self)
        self.title.setObjectName("cardTitle")
        self.chip = LevelChip(self)
        self.charts_button = QPushButton(self.tr("Charts"), self)
        self.charts_button.setObjectName("cardButton")
        self.charts_button.setCursor(Qt.CursorShape.ArrowCursor)
        self.charts_button.clicked.connect(lambda: self.clicked.emit(self.device))
        header.addWidget(self.arrow)
        header.addWidget(self.dot)
        header.addWidget(self.title, 1)
        header.addWidget(self.chip)
        header.addWidget(self.charts_button)
        layout.addLayout(header)
        self.note = wrapping_label("", self, muted=True)
        self.note.hide()
        layout.addWidget(self.note)
        # The summary: state line, problems and what to do, one compact line per healthy item.
        self.state_line = ElidedLabel("", self)
        self.state_line.setObjectName("allNormal")
        layout.addWidget(self.state_line)
        self.problem_box = QVBoxLayout()
        self.problem_box.setSpacing(2)
        layout.addLayout(self.problem_box)
        # Closed only: an opened card's rows say it all.
        self.lines = QWidget(self)
        self.line_box = QVBoxLayout(self.lines)
        self.line_box.setContentsMargins(0, 0, 0, 0)
        self.line_box.setSpacing(1)
        layout.addWidget(self.lines)
        # The full rows, shown when the card is opened.
        self.rows_box = QWidget(self)
        self.grid = QGridLayout(self.rows_box)
        self.grid.setContentsMargins(0, 4, 0, 0)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        self.rows_box.hide()
        layout.addWidget(self.rows_box)
        self.extra = QVBoxLayout()
        layout.addLayout(self.extra)
        self.rows: dict[str, IndicatorRow] = {}
        self.level: Level | None = None
        self.expanded = False
        self.summary: CardSummary | None = None
        self._shown: tuple[object, ...] = ()
        # What _fill built, so a changed value rewrites its words instead of new widgets.
        self._filled_shape: tuple[int, bool, int, int] | None = None
        self._problem_widgets: list[tuple[QLabel, QLabel]] = []
        self._advice_label: QLabel | None = None
        self._reason_labels: list[QLabel] = []
        self._line_labels: list[ElidedLabel] = []
        self._set_level(None)
        self._show_arrow()

    # -- open / close ------------------------------------------------------------
    def set_expanded(self, expanded: bool) -> None:
        """Show (``True``) or hide the full rows under the summary."""
        if expanded == self.expanded:
            return
        self.expanded = expanded
        self.rows_box.setVisible(expanded)
        self.lines.setVisible(not expanded)
        self._show_arrow()
        self._explain_not_set_up()
        self.toggled.emit(expanded)

    def _show_arrow(self) -> None:
        self.arrow.setText("▾" if self.expanded else "▸")
        self.setAccessibleDescription(
            self.tr("Open: press Enter to hide the rows")
            if self.expanded
            else self.tr("Closed: press Enter to show every row")
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.set_expanded(not self.expanded)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.set_expanded(not self.expanded)
            event.accept()
            return
        super().keyPressEvent(event)

    # -- states ------------------------------------------------------------------
    def _set_level(self, level: Level | None) -> None:
        self.level = level
        shown = Level.UNKNOWN if level is None else level
        self.dot.setPixmap(dot_pixmap(shown, 14))
        self.chip.set_level(shown)
        self.chip.setVisible(level is not None)

    def states(self) -> list[IndicatorState]:
        """The latest state of every row, in row order."""
        return [row.state for row in self.rows.values()]

    def update_states(self, states: list[IndicatorState]) -> None:
        """Show the latest states of this device's indicators."""
        for state in states:
            row = self.rows.get(state.key)
            if row is None:
                self.rows[state.key] = IndicatorRow(self.grid, self.grid.rowCount(), state, self.rows_box)
            else:
                row.update(state)
        if self.rows:
            worst = max((r.state.level for r in self.rows.values()), key=lambda lv: lv.rank)
            self._set_level(worst)
        self.show_pending(time.time())
        self._explain_not_set_up()

    def show_pending(self, now: float) -> None:
        """Refresh the summary; while the card is otherwise ok, its chip says "Pending" and why."""
        notes = [(r.state, pending_note(r.state, now)) for r in self.rows.values()]
        pending = [(state, note) for state, note in notes if note is not None]
        self.refresh_summary(now)
        if self.level is not Level.OK or not pending:
            self.chip.setToolTip("")
            return
        raw = max((state.raw_level for state, _ in pending), key=lambda lv: lv.rank)
        self.dot.setPixmap(dot_pixmap(raw, 14))  # like a pending row: the raw level's colour
        self.chip.set_level(raw, pending=True)
        self.chip.setToolTip("\n".join(f"{state.label()}: {note()}" for state, note in pending))

    def refresh_summary(self, now: float) -> None:
        """Redraw the summary lines (only the widgets whose text changed)."""
        states = self.states()
        summary = card_summary(self.device, states, now)
        self.summary = summary
        self.state_line.setText(summary.all_normal() if summary.all_normal else "")
        self.state_line.setVisible(summary.all_normal is not None)
        shown = (
            tuple((level, text()) for level, text in summary.problems),
            summary.advice() if summary.advice else "",
            tuple((line.text(), line.full()) for line in summary.lines),
            tuple(reason() for reason in summary.not_set_up) if self.note.isHidden() else (),
        )
        if shown != self._shown:
            self._shown = shown
            self._fill(summary)
        self.setAccessibleName(spoken_card(self.device, states)())

    def _fill(self, summary: CardSummary) -> None:
        reasons = list(summary.not_set_up) if self.note.isHidden() else []
        shape = (len(summary.problems), summary.advice is not None, len(reasons), len(summary.lines))
        if shape == self._filled_shape:
            # Same lines, new words (a value changed): rewrite them in place.  Rebuilding
            # made and deleted widgets several times a second on a busy seat, and
            # every widget polished costs Qt memory and the GUI thread time.
            self._refill(summary, reasons)
            return
        _clear(self.problem_box)
        _clear(self.line_box)
        self._problem_widgets = []
        self._advice_label = None
        self._reason_labels = []
        self._line_labels = []
        for level, text in summary.problems:
            line = QHBoxLayout()
            line.setSpacing(6)
            dot = QLabel(self)
            dot.setPixmap(dot_pixmap(level))
            dot.setAlignment(Qt.AlignmentFlag.AlignTop)
            dot.setContentsMargins(0, 4, 0, 0)
            label = wrapping_label(text(), self)
            label.setObjectName("problem")
            line.addWidget(dot)
            line.addWidget(label, 1)
            dot.show()
            label.show()
            self.problem_box.addLayout(line)
            self._problem_widgets.append((dot, label))
        if summary.advice is not None:
            self._advice_label = wrapping_label(summary.advice(), self, muted=True)
            self._add(self.problem_box, self._advice_label)
        for reason in reasons:
            reason_label = wrapping_label(reason(), self, muted=True)
            self._reason_labels.append(reason_label)
            self._add(self.line_box, reason_label)
        for compact in summary.lines:
            line_label = ElidedLabel(compact.text(), self)
            line_label.setObjectName("muted")
            line_label.set_tip(compact.full())
            self._line_labels.append(line_label)
            self._add(self.line_box, line_label)
        self._filled_shape = shape

    def _refill(self, summary: CardSummary, reasons: list[Text]) -> None:
        for (dot, label), (level, text) in zip(self._problem_widgets, summary.problems, strict=True):
            dot.setPixmap(dot_pixmap(level))
            label.setText(text())
        if self._advice_label is not None and summary.advice is not None:
            self._advice_label.setText(summary.advice())
        for reason_label, reason in zip(self._reason_labels, reasons, strict=True):
            reason_label.setText(reason())
        for line_label, compact in zip(self._line_labels, summary.lines, strict=True):
            line_label.setText(compact.text())
            line_label.set_tip(compact.full())

    @staticmethod
    def _add(layout: QVBoxLayout, widget: QWidget) -> None:
        layout.addWidget(widget)
        widget.show()  # at once: a card already on screen would show it only at the next event loop pass

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
            for widget in row.widgets():
                widget.deleteLater()
        if not self.rows:
            self._set_level(None)
        self.refresh_summary(time.time())

    def set_setup_note(self, note: Text | None) -> None:
        """Say why the device is not observed and how to set it up (``None``: hide)."""
        self.note.setText(note() if note else "")
        self.note.setVisible(note is not None)
        self._explain_not_set_up()
        self.refresh_summary(time.time())

    def add_widget(self, widget: QWidget) -> None:
        """Put another feature's widget at the bottom of the card."""
        widget.setParent(self)
        self.extra.addWidget(widget)
        widget.show()

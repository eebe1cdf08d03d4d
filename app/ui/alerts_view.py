"""The alert centre: active, cleared-but-unacknowledged and acknowledged alerts."""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.alerts import Alert, AlertEvent, AlertState
from app.core.palette import LEVEL_TINTS
from app.core.status import format_duration
from app.kernel.model import format_value
from app.ui.keys import label, name, with_key
from app.ui.surface import Surface
from app.ui.theme import dot_pixmap

#: How far back the "acknowledged" group reaches into closed alerts.
RECENT_SECONDS = 24 * 3600.0
ALERT_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _clock(ts: float | None) -> str:
    if ts is None:
        return ""
    fmt = "%H:%M:%S" if time.time() - ts < 86400 else "%m-%d %H:%M"
    return time.strftime(fmt, time.localtime(ts))


class AlertCentre(QWidget):
    """Lists alerts in three groups and acknowledges them, with an optional note."""

    ACTIVE, CLEARED, ACKED = 0, 1, 2

    def __init__(self, surface: Surface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface = surface
        self._closed: list[Alert] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 8, 2, 2)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(7)
        self.tree.setHeaderLabels(
            [
                self.tr("Level"),
                self.tr("Device"),
                self.tr("Indicator"),
                self.tr("Value"),
                self.tr("Since"),
                self.tr("Duration"),
                self.tr("Details"),
            ]
        )
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        name(
            self.tree,
            self.tr("Alerts"),
            self.tr("Arrow keys choose an alert; Enter acknowledges it, Ctrl+R reports it to IT"),
        )
        # Enter on the list acknowledges what is selected, as the button does.
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.tree)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.acknowledge_selected)
        report = QShortcut(QKeySequence("Ctrl+R"), self)
        report.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        report.activated.connect(self.report_selected)
        layout.addWidget(self.tree, 1)
        self.groups: list[QTreeWidgetItem] = []
        for _ in range(3):
            group = QTreeWidgetItem(self.tree)
            font = QFont(group.font(0))
            font.setBold(True)
            group.setFont(0, font)
            group.setFirstColumnSpanned(True)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setExpanded(True)
            self.groups.append(group)
        bottom = QHBoxLayout()
        self.note_edit = QLineEdit(self)
        self.note_edit.setPlaceholderText(self.tr("Note for the acknowledgement (optional)"))
        name(self.note_edit, self.tr("Note for the acknowledgement (optional)"))
        # Enter in the note acknowledges with it: type, Enter, done.
        self.note_edit.returnPressed.connect(self.acknowledge_selected)
        self.ack_button = QPushButton(self)
        label(
            self.ack_button,
            self.tr("&Acknowledge"),
            self.tr("Acknowledge the selected alerts, with the note"),
        )
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button = QPushButton(self)
        label(
            self.ack_all_button,
            self.tr("Acknowledge a&ll"),
            self.tr("Acknowledge every alert that needs attention, with the note"),
        )
        self.ack_all_button.clicked.connect(lambda: self.surface.acknowledge_all(self.note()))
        self.report_button = QPushButton(self)
        label(
            self.report_button,
            self.tr("&Report to IT…"),
            with_key(
                self.tr("Copy a fault report to the clipboard, save it, and optionally e-mail it to IT"),
                "Ctrl+R",
            ),
        )
        self.report_button.clicked.connect(self.report_selected)
        note_label = QLabel(self.tr("&Note:"), self)
        note_label.setBuddy(self.note_edit)  # Alt+N goes to the note
        bottom.addWidget(note_label)
        bottom.addWidget(self.note_edit, 1)
        for button in (self.ack_button, self.ack_all_button, self.report_button):
            bottom.addWidget(button)
        QWidget.setTabOrder(self.tree, self.note_edit)
        QWidget.setTabOrder(self.note_edit, self.ack_button)
        QWidget.setTabOrder(self.ack_button, self.ack_all_button)
        QWidget.setTabOrder(self.ack_all_button, self.report_button)
        layout.addLayout(bottom)
        surface.bridge.alert_event.connect(self._on_event)
        self.refresh()
        self.load_recent()

    def note(self) -> str:
        """The note typed for the next acknowledgement."""
        return self.note_edit.text().strip()

    # -- data -----------------------------------------------------------------
    def _on_event(self, event: AlertEvent) -> None:
        if event.kind.value == "closed":
            # Older than the "acknowledged" group reaches: dropped, or a week of
            # uptime keeps every closed alert of the week in memory.
            cutoff = time.time() - RECENT_SECONDS
            kept = [a for a in self._closed if a.id != event.alert.id and (a.ended or 0) >= cutoff]
            self._closed = [*kept, event.alert]
        self.refresh()

    def load_recent(self) -> None:
        """Fetch alerts closed in the last day from history (off the GUI thread)."""
        history = self.surface.runtime.history
        if history is None:
            return
        now = time.time()

        def load() -> list[Alert]:
            return [
                a
                for a in history.alerts_between(now - RECENT_SECONDS, now)
                if a.acked_at is not None and a.ended is not None
            ]

        def show(alerts: list[Alert]) -> None:
            known = {a.id for a in self._closed}
            self._closed += [a for a in alerts if a.id not in known]
            self.refresh()

        self.surface.worker.submit(load, show)

    def grouped(self) -> tuple[list[Alert], list[Alert], list[Alert]]:
        """(active, cleared-unacknowledged, acknowledged) alerts, as shown."""
        visible = self.surface.engine.alerts.visible()
        active = [a for a in visible if a.state is AlertState.ACTIVE]
        cleared = [a for a in visible if a.state is AlertState.CLEARED]
        present_ids = {a.id for a in visible}
        acked = [a for a in visible if a.state is AlertState.ACKNOWLEDGED]
        cutoff = time.time() - RECENT_SECONDS
        recent = [a for a in self._closed if a.id not in present_ids and (a.ended or 0) >= cutoff]
        acked += sorted(recent, key=lambda a: -(a.acked_at or 0))
        return active, cleared, acked

    def refresh(self) -> None:
        """Rebuild the lists, keeping the selection."""
        selected = set(self.selected_ids())
        titles = (
            self.tr("Active"),
            self.tr("Cleared, not yet acknowledged"),
            self.tr("Acknowledged"),
        )
        for group, title, alerts in zip(self.groups, titles, self.grouped(), strict=True):
            # takeChildren() hands the items to Python without deleting them
            # (PySide6 keeps the C++ objects alive): delete them explicitly, or
            # every refresh leaks a whole list of items (found by the soak).
            for old in group.takeChildren():
                shiboken6.delete(old)
            group.setText(0, f"{title} ({len(alerts)})")
            group.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{title}: {len(alerts)}")
            for alert in alerts:
                item = self._item(alert)
                group.addChild(item)
                item.setSelected(alert.id in selected)
        self._update_buttons()

    def _item(self, alert: Alert) -> QTreeWidgetItem:
        engine = self.surface.engine
        indicator = engine.indicators.get(alert.indicator_id)
        label = indicator.label() if indicator else alert.indicator_id
        if alert.instance:
            label += f" — {alert.instance}"
        unit = indicator.unit if indicator else ""
        state = engine.state(alert.key)
        value = state.value if state is not None and alert.ended is None else alert.last_value
        end = alert.ended if alert.ended is not None else time.time()
        message_text = alert.message() if alert.message else ""
        as_text = indicator is not None and not indicator.numeric and bool(message_text) and value is not None
        details = alert.message() if alert.message else ""
        if alert.acked_at is not None:
            who = self.tr("acknowledged {0} by {1}").format(_clock(alert.acked_at), alert.acked_by or "")
            details = f"{details}  ·  {who}" if details else who
            if alert.note:
                details += f" — {alert.note}"
        if alert.raises > 1:
            # A flapping device is one episode; say how often it came back.
            flaps = self.tr("raised {0} times, last {1}").format(alert.raises, _clock(alert.last_raised or 0))
            details = f"{flaps}  ·  {details}" if details else flaps
        if alert.ended is not None:
            details = self.tr("cleared {0}").format(_clock(alert.ended)) + (
                f"  ·  {details}" if details else ""
            )
        item = QTreeWidgetItem(
            [
                alert.level.text() if alert.ended is None else alert.peak.text(),
                alert.device.label(),
                label,
                message_text if as_text else format_value(value, unit),
                _clock(alert.started),
                format_duration(end - alert.started),
                details,
            ]
        )
        shown_level = alert.level if alert.ended is None else alert.peak
        item.setIcon(0, dot_pixmap(shown_level))
        item.setData(0, ALERT_ID_ROLE, alert.id)
        item.setToolTip(6, details)
        # What a screen reader says for the row: "Printer Back, Critical, Printer state: out of paper".
        shown_value = message_text if as_text else format_value(value, unit)
        spoken = ", ".join(
            part for part in (alert.device.label(), item.text(0), f"{label}: {shown_value}", details) if part
        )
        for column in range(7):
            item.setData(column, Qt.ItemDataRole.AccessibleTextRole, spoken)
        if alert.needs_attention:
            tint = QBrush(QColor(LEVEL_TINTS[shown_level]))
            for column in range(7):
                item.setBackground(column, tint)
        return item

    # -- actions --------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """Ids of the selected alerts."""
        ids = []
        for item in self.tree.selectedItems():
            value = item.data(0, ALERT_ID_ROLE)
            if value is not None:
                ids.append(int(value))
        return ids

    def select(self, alert_id: int) -> None:
        """Select one alert (e.g. when the clerk clicked its notification)."""
        self.tree.clearSelection()
        for group in self.groups:
            for n in range(group.childCount()):
                item = group.child(n)
                if item is not None and item.data(0, ALERT_ID_ROLE) == alert_id:
                    item.setSelected(True)
                    self.tree.scrollToItem(item)

    def focus_list(self) -> None:
        """Put the keyboard in the list, on the first alert when none is chosen yet."""
        self.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.selected_ids():
            return
        for group in self.groups:
            first = group.child(0) if group.childCount() else None
            if first is not None:
                self.tree.setCurrentItem(first)
                first.setSelected(True)
                return

    def _alert(self, alert_id: int) -> Alert | None:
        for alert in self.surface.engine.alerts.visible() + self._closed:
            if alert.id == alert_id:
                return alert
        return None

    def acknowledge_selected(self) -> None:
        """Acknowledge the selected alerts with the note."""
        self.surface.acknowledge(self.selected_ids(), self.note())
        self.note_edit.clear()

    def report_selected(self) -> None:
        """Send the first selected alert to IT."""
        ids = self.selected_ids()
        alert = self._alert(ids[0]) if ids else None
        if alert is not None:
            self.surface.fault_report_requested.emit(alert)

    def _update_buttons(self) -> None:
        alerts = [self._alert(i) for i in self.selected_ids()]
        self.ack_button.setEnabled(any(a is not None and a.needs_attention for a in alerts))
        self.report_button.setEnabled(bool(alerts))
        self.ack_all_button.setEnabled(any(a.needs_attention for a in self.surface.engine.alerts.visible()))

"""The status panel window: overall banner, device cards, detail view, alert centre."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import IndicatorState
from app.core.palette import LEVEL_COLOURS, LEVEL_TINTS
from app.core.status import attention, device_setup_notes
from app.kernel.i18n import Text
from app.kernel.model import Device, Level
from app.ui.alerts_view import AlertCentre
from app.ui.panel.cards import WRAPS, DeviceCard
from app.ui.panel.detail import DetailView
from app.ui.surface import Surface
from app.ui.theme import level_icon

SPARK_SECONDS = 3600.0
#: Longest slice of GUI-thread time spent applying state changes per event-loop pass.
UPDATE_BUDGET_S = 0.02
# How often times in state are redrawn (ms), and how often while a value is pending.
TICK_MS, PENDING_TICK_MS = 5_000, 1_000


class StatusPanel(QMainWindow):
    """The main window: overall banner, device cards, detail view, alert centre."""

    STATUS_TAB, ALERTS_TAB = 0, 1

    alerts: AlertCentre

    def __init__(self, surface: Surface) -> None:
        super().__init__()
        self.surface = surface
        self._notices: dict[str, str] = {}
        self.setWindowIcon(level_icon(None))
        self.resize(1080, 760)
        self._spark_timer = QTimer(self)
        self._spark_timer.setInterval(60_000)
        self._spark_timer.timeout.connect(self.refresh_sparklines)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._refresh_times)
        self._setup_timer = QTimer(self)
        self._setup_timer.setInterval(30_000)
        self._setup_timer.timeout.connect(self.refresh_setup_notes)
        # State changes are applied in slices of at most UPDATE_BUDGET_S per
        # event-loop pass, so a burst (many monitors reporting at once, or a
        # first reading creating dozens of rows) never freezes the window.
        # Hidden (in the tray all day), the panel only notes what changed: the
        # latest state per indicator waits here and is drawn when it is shown.
        self._pending: dict[str, IndicatorState] = {}
        self._header_stale = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self._build()
        surface.bridge.states_changed.connect(self._queue_states)
        surface.bridge.states_removed.connect(self._remove_states)
        surface.card_widget_added.connect(self._card_widget_added)
        # Alert transitions are rare (readings are the steady stream): the header and
        # the alert centre follow them hidden or not, so the counts always agree.
        surface.bridge.alert_event.connect(lambda _event: self._update_header())

    # -- construction ---------------------------------------------------------
    def _build(self) -> None:
        """(Re)create every widget; used again when the language changes."""
        self.setWindowTitle(self.tr("Deskwatch — workstation status"))
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(10)
        top = QHBoxLayout()
        self.banner = QLabel(central)
        self.banner.setObjectName("banner")
        # The headline can name three things at once; wrap rather than widen the window.
        self.banner.setWordWrap(True)
        self.banner.setProperty(WRAPS, True)
        top.addWidget(self.banner, 1)
        self.ack_all_button = QPushButton(self.tr("Acknowledge all"), central)
        self.ack_all_button.clicked.connect(lambda: self.surface.acknowledge_all(self.alerts.note()))
        self.selftest_button = QPushButton(self.tr("Start-of-shift check"), central)
        self.selftest_button.clicked.connect(self.surface.selftest_requested)
        self.report_button = QPushButton(self.tr("Reports"), central)
        self.report_button.clicked.connect(self.surface.report_requested)
        self.settings_button = QPushButton(self.tr("Settings"), central)
        self.settings_button.clicked.connect(self.surface.settings_requested)
        for button in (self.ack_all_button, self.selftest_button, self.report_button, self.settings_button):
            top.addWidget(button)
        outer.addLayout(top)
        self.notice = QLabel(central)
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setProperty(WRAPS, True)
        outer.addWidget(self.notice)
        self.errors = QLabel(central)
        self.errors.setObjectName("errors")
        self.errors.setWordWrap(True)
        self.errors.setProperty(WRAPS, True)
        self.errors.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.errors)
        self.tabs = QTabWidget(central)
        outer.addWidget(self.tabs, 1)
        # status tab: cards, or one device's detail
        self.stack = QStackedWidget(self.tabs)
        scroll = QScrollArea(self.stack)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget(scroll)
        grid = QGridLayout(holder)
        grid.setSpacing(12)
        grid.setContentsMargins(2, 6, 2, 6)
        self.cards: dict[Device, DeviceCard] = {}
        for n, device in enumerate(self.surface.engine.registry.devices):
            card = DeviceCard(device, holder)
            card.clicked.connect(self.show_detail)
            grid.addWidget(card, n // 2, n % 2, Qt.AlignmentFlag.AlignTop)
            self.cards[device] = card
            for widget in self.surface.card_widgets(device):
                card.add_widget(widget)
        grid.setRowStretch(grid.rowCount(), 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        scroll.setWidget(holder)
        self.stack.addWidget(scroll)
        self.detail = DetailView(self.surface, self.stack)
        self.detail.back.connect(lambda: self.stack.setCurrentIndex(0))
        self.stack.addWidget(self.detail)
        self.tabs.addTab(self.stack, self.tr("Status"))
        self.alerts = AlertCentre(self.surface, self.tabs)
        self.tabs.addTab(self.alerts, self.tr("Alerts"))
        old = self.centralWidget()
        self.setCentralWidget(central)
        if old is not None:
            old.deleteLater()
        self._update_header()
        self._queue_states(self.surface.engine.states())
        self._show_notices()
        self.show_config_errors()
        self.refresh_setup_notes()

    def retranslate(self) -> None:
        """Rebuild in the new language, keeping the tab the clerk was on."""
        tab = self.tabs.currentIndex()
        for widgets in self.surface.card_slots().values():
            for widget in widgets:
                widget.setParent(None)
        self._build()
        self.tabs.setCurrentIndex(tab)

    # -- public API -----------------------------------------------------------
    def _card_widget_added(self, device: Device, widget: QWidget) -> None:
        self.cards[device].add_widget(widget)

    def show_detail(self, device: Device) -> None:
        """Open the detail view of one device group."""
        self.tabs.setCurrentIndex(self.STATUS_TAB)
        self.detail.show_device(device)
        self.stack.setCurrentIndex(1)

    def show_alerts(self) -> None:
        """Switch to the alert centre."""
        self.tabs.setCurrentIndex(self.ALERTS_TAB)

    def set_notice(self, name: str, text: str | None) -> None:
        """Show (or with ``None`` remove) a notice line above the tabs."""
        if text:
            self._notices[name] = text
        else:
            self._notices.pop(name, None)
        self._show_notices()

    def _show_notices(self) -> None:
        self.notice.setText("\n".join(self._notices.values()))
        self.notice.setVisible(bool(self._notices))

    def show_config_errors(self) -> None:
        """List config problems (the default stays in force for each bad key)."""
        errors = self.surface.runtime.config.errors
        if errors:
            head = self.tr("Configuration problems (defaults are used for these keys):")
            self.errors.setText(head + "\n" + "\n".join(f"• {e}" for e in errors))
        self.errors.setVisible(bool(errors))

    # -- updates --------------------------------------------------------------
    def _queue_states(self, changed: list[IndicatorState]) -> None:
        for state in changed:
            self._pending[state.key] = state
        if not self.isVisible():
            self._header_stale = True  # drawn by showEvent
        elif not self._flush_timer.isActive():
            self._flush_timer.start()

    def _remove_states(self, keys: frozenset[str]) -> None:
        """Drop the rows (and queued changes) of states that are gone: nobody observes them now."""
        for key in keys:
            self._pending.pop(key, None)
        current = {s.key for s in self.surface.engine.states()}
        for card in self.cards.values():
            if keys & card.rows.keys():
                card.remove_missing(current)
        self._update_header()  # rare, like alert transitions: hidden or not, the counts agree

    def _flush(self) -> None:
        started = time.perf_counter()
        batch: list[IndicatorState] = []
        while self._pending:
            key = next(iter(self._pending))
            state = self._pending.pop(key)
            batch.append(state)
            # Creating a row costs far more than updating one: count it so.
            created = state.key not in self.cards[state.indicator.device].rows
            if created or len(batch) % 16 == 0:
                self._on_states(batch)
                batch = []
                if time.perf_counter() - started > UPDATE_BUDGET_S:
                    break
        if batch:
            self._on_states(batch)
        if self._pending:
            self._flush_timer.start()

    def flush_pending(self) -> None:
        """Apply every queued change now (tests, screenshots), hidden or not."""
        while self._pending:
            self._flush()
        self._header_stale = False

    def _on_states(self, changed: list[IndicatorState]) -> None:
        by_device: dict[Device, list[IndicatorState]] = {}
        for state in changed:
            by_device.setdefault(state.indicator.device, []).append(state)
        for device, states in by_device.items():
            card = self.cards[device]
            had_rows = bool(card.rows)
            card.update_states(states)
            if not had_rows and card.rows:
                card.set_setup_note(None)
        self._update_header()

    def sync_all(self) -> None:
        """Re-read every state (after settings changed which monitors run)."""
        states = self.surface.engine.states()
        keys = {s.key for s in states}
        for card in self.cards.values():
            card.remove_missing(keys)
        self._on_states(states)
        self.refresh_setup_notes()
        self.show_config_errors()

    def _update_header(self) -> None:
        engine = self.surface.engine
        count = attention(engine.states(), engine.alerts.visible())
        headline = count.headline()()
        colour = Level.UNKNOWN if count.level is None else count.level
        self.banner.setText(headline)
        style = (
            f"background: {LEVEL_TINTS[colour]}; color: {LEVEL_COLOURS[colour]};"
            f" border: 1px solid {LEVEL_COLOURS[colour]};"
        )
        # Only on a change: every setStyleSheet re-parses the sheet and re-polishes
        # the banner, and this runs on every batch of readings.
        if self.banner.styleSheet() != style:
            self.banner.setStyleSheet(style)
        label = self.tr("Alerts")
        # The badge's number, and the banner's words as the tab's tooltip: one count everywhere.
        self.tabs.setTabText(self.ALERTS_TAB, f"{label} ({count.badge})" if count.badge else label)
        self.tabs.setTabToolTip(self.ALERTS_TAB, headline)
        # A pending value counts down ("alert in 40 s"): redraw it every second meanwhile.
        interval = PENDING_TICK_MS if count.pending else TICK_MS
        if self._tick.interval() != interval:  # setInterval restarts a running timer
            self._tick.setInterval(interval)

    def _refresh_times(self) -> None:
        now = self.surface.engine.clock()
        for card in self.cards.values():
            for row in card.rows.values():
                row.refresh_since(now)
            card.show_pending(now)

    def refresh_setup_notes(self) -> None:
        """Ask monitors (off the GUI thread) which devices are not set up."""
        runtime = self.surface.runtime

        def show(notes: dict[Device, Text | None]) -> None:
            for device, note in notes.items():
                card = self.cards.get(device)
                if card is not None:
                    card.set_setup_note(note if not card.rows or note is not None else None)

        self.surface.worker.submit(lambda: device_setup_notes(runtime), show)

    def refresh_sparklines(self) -> None:
        """Load the last hour of every numeric indicator off the GUI thread."""
        history = self.surface.runtime.history
        if history is None:
            return
        keys = [r.key for c in self.cards.values() for r in c.rows.values() if r.state.indicator.numeric]
        until = time.time()
        since = until - SPARK_SECONDS

        def load() -> dict[str, list[tuple[float, float]]]:
            result = {}
            for key in keys:
                result[key] = [
                    (s.ts, s.vavg) for s in history.samples(key, since, until) if s.vavg is not None
                ]
            return result

        def show(series: dict[str, list[tuple[float, float]]]) -> None:
            for card in self.cards.values():
                for key, row in card.rows.items():
                    if key in series:
                        row.spark.set_points(series[key], row.state.level, since, until)

        self.surface.worker.submit(load, show)

    # -- window events --------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # What changed while hidden is drawn now, in slices like any burst.
        if self._pending and not self._flush_timer.isActive():
            self._flush_timer.start()
        if self._header_stale:
            self._header_stale = False
            self._update_header()
        self._tick.start()
        self._spark_timer.start()
        self._setup_timer.start()
        self._refresh_times()
        self.refresh_sparklines()

    def hideEvent(self, event: QHideEvent) -> None:
        # Nothing on screen to keep fresh: no timer runs for a hidden panel.
        self._tick.stop()
        self._spark_timer.stop()
        self._setup_timer.stop()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window hides it; Deskwatch keeps watching from the tray.
        if self.surface.has_tray:
            event.ignore()
            self.hide()
        else:
            super().closeEvent(event)

    def extra_widgets(self) -> dict[Device, list[QWidget]]:
        """Widgets features put on cards (for tests)."""
        return self.surface.card_slots()

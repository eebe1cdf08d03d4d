"""The status panel: one card per device group, a detail view with charts, the alert centre."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QMouseEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import IndicatorState
from app.core.history import Sample
from app.core.status import (
    PENDING,
    device_setup_notes,
    format_duration,
    overall_level,
    problems,
    shown_level,
)
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, format_value
from app.ui.alerts_view import AlertCentre
from app.ui.charts import Sparkline, TrendChart
from app.ui.theme import LEVEL_COLOURS, LEVEL_TINTS, dot_pixmap, level_icon

if TYPE_CHECKING:
    from app.ui.main import DeskwatchApp

SPARK_SECONDS = 3600.0
LABEL_MIN_WIDTH, VALUE_MAX_WIDTH = 150, 150
#: Longest slice of GUI-thread time spent applying state changes per event-loop pass.
UPDATE_BUDGET_S = 0.02
#: Chart ranges offered in the detail view: key → seconds.
RANGES: dict[str, float] = {"hour": 3600.0, "shift": 8 * 3600.0, "day": 86400.0, "week": 7 * 86400.0}
#: Most points a chart draws; longer ranges are merged into this many buckets.
CHART_POINTS = 480


def downsample(samples: list[Sample], since: float, until: float, points: int = CHART_POINTS) -> list[Sample]:
    """Merge samples into at most ``points`` buckets (min of mins, mean, max of maxes, worst level)."""
    if len(samples) <= points:
        return samples
    width = (until - since) / points
    buckets: dict[int, list[Sample]] = {}
    for sample in samples:
        buckets.setdefault(int((sample.ts - since) / width), []).append(sample)
    merged = []
    for index in sorted(buckets):
        group = buckets[index]
        avgs = [s.vavg for s in group if s.vavg is not None]
        mins = [s.vmin for s in group if s.vmin is not None]
        maxs = [s.vmax for s in group if s.vmax is not None]
        merged.append(
            Sample(
                since + (index + 0.5) * width,
                min(mins) if mins else None,
                sum(avgs) / len(avgs) if avgs else None,
                max(maxs) if maxs else None,
                max((s.level for s in group), key=lambda level: level.rank),
            )
        )
    return merged


class LevelChip(QWidget):
    """A rounded badge with the level's name, painted directly (no per-widget style sheet: cheap)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = Level.UNKNOWN
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_level(Level.UNKNOWN)

    def set_level(self, level: Level, pending: bool = False) -> None:
        """Show ``level``'s name in its colour (or "Pending" while its alert debounces)."""
        text = PENDING() if pending else level.text()
        if level is self.level and text == self._text:
            return
        self.level, self._text = level, text
        metrics = self.fontMetrics()
        self.setFixedSize(metrics.horizontalAdvance(text) + 18, metrics.height() + 4)
        self.update()

    def text(self) -> str:
        """The level name shown."""
        return self._text

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(LEVEL_COLOURS[self.level]))
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()


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
        self.message.setVisible(bool(message) and not as_text and state.level.is_problem)
        self.spark.setVisible(state.indicator.numeric)
        self.refresh_since(time.time())

    def refresh_since(self, now: float) -> None:
        """Update "how long in this state"."""
        if self.state.since:
            self.since.setText(format_duration(now - self.state.since))


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
        self._explain_not_set_up()

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


class DetailView(QWidget):
    """One device's indicators over a chosen range (hour, shift, day, week)."""

    back = Signal()

    def __init__(self, app: DeskwatchApp, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.device: Device | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        back = QPushButton(self.tr("← All devices"), self)
        back.clicked.connect(self.back)
        self.title = QLabel(self)
        self.title.setObjectName("cardTitle")
        top.addWidget(back)
        top.addWidget(self.title, 1)
        layout.addLayout(top)
        controls = QHBoxLayout()
        self.indicator = QComboBox(self)
        self.indicator.setMinimumWidth(260)
        self.indicator.currentIndexChanged.connect(self.reload)
        controls.addWidget(QLabel(self.tr("Indicator:"), self))
        controls.addWidget(self.indicator)
        controls.addStretch(1)
        self.range_group = QButtonGroup(self)
        # Python-side lists, not item data: reading an empty QVariant back as
        # None trips a reference-count bug in PySide6 6.12.
        self._keys: list[str] = []
        self._range_keys: list[str] = []
        names = {
            "hour": self.tr("Hour"),
            "shift": self.tr("Shift (8 h)"),
            "day": self.tr("Day"),
            "week": self.tr("Week"),
        }
        for n, (key, label) in enumerate(names.items()):
            button = QPushButton(label, self)
            button.setCheckable(True)
            self._range_keys.append(key)
            self.range_group.addButton(button, n)
            controls.addWidget(button)
        self.range_group.button(0).setChecked(True)
        self.range_group.idClicked.connect(lambda _id: self.reload())
        layout.addLayout(controls)
        self.chart = TrendChart(self)
        layout.addWidget(self.chart, 1)
        self.stats = QLabel(self)
        self.stats.setObjectName("muted")
        layout.addWidget(self.stats)

    def range_key(self) -> str:
        """The chosen range: hour, shift, day or week."""
        index = self.range_group.checkedId()
        return self._range_keys[index] if 0 <= index < len(self._range_keys) else "hour"

    def current_key(self) -> str | None:
        """State key of the indicator being charted."""
        index = self.indicator.currentIndex()
        return self._keys[index] if 0 <= index < len(self._keys) else None

    def set_range(self, key: str) -> None:
        """Choose a range (as if its button was clicked)."""
        for n, name in enumerate(self._range_keys):
            self.range_group.button(n).setChecked(name == key)
        self.reload()

    def show_device(self, device: Device) -> None:
        """Fill the indicator list for ``device`` and chart the first numeric one."""
        self.device = device
        self.title.setText(device.label())
        self.indicator.blockSignals(True)
        self.indicator.clear()
        self._keys = []
        for state in self.app.engine.states():
            if state.indicator.device is device and state.indicator.numeric:
                self.indicator.addItem(state.label())
                self._keys.append(state.key)
        self.indicator.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        """Load the chosen indicator's history off the GUI thread."""
        key = self.current_key()
        no_data = self.tr("No data in this range yet")
        if key is None:
            self.chart.set_data(
                [], time.time() - 3600, time.time(), None, "", self.tr("No numeric indicator")
            )
            self.stats.setText("")
            return
        history = self.app.runtime.history
        until = time.time()
        since = until - RANGES[self.range_key()]
        state = self.app.engine.state(key)
        indicator = state.indicator if state else None
        thresholds = self.app.runtime.config.indicator_thresholds(indicator) if indicator else None
        unit = indicator.unit if indicator else ""

        def load() -> list[Sample]:
            return downsample(history.samples(key, since, until), since, until) if history else []

        def show(samples: list[Sample]) -> None:
            if self.current_key() != key:
                return  # the clerk chose another indicator meanwhile
            self.chart.set_data(samples, since, until, thresholds, unit, no_data)
            avgs = [s.vavg for s in samples if s.vavg is not None]
            if avgs:
                lows = [s.vmin for s in samples if s.vmin is not None]
                highs = [s.vmax for s in samples if s.vmax is not None]
                self.stats.setText(
                    self.tr("Minimum {0}   Average {1}   Maximum {2}").format(
                        format_value(min(lows), unit),
                        format_value(sum(avgs) / len(avgs), unit),
                        format_value(max(highs), unit),
                    )
                )
            else:
                self.stats.setText("")

        self.app.worker.submit(load, show)


class StatusPanel(QMainWindow):
    """The main window: overall banner, device cards, detail view, alert centre."""

    STATUS_TAB, ALERTS_TAB = 0, 1

    alerts: AlertCentre

    def __init__(self, app: DeskwatchApp) -> None:
        super().__init__()
        self.app = app
        self._extra: dict[Device, list[QWidget]] = {}
        self._notices: dict[str, str] = {}
        self.setWindowIcon(level_icon(None))
        self.resize(1080, 760)
        self._spark_timer = QTimer(self)
        self._spark_timer.setInterval(60_000)
        self._spark_timer.timeout.connect(self.refresh_sparklines)
        self._tick = QTimer(self)
        self._tick.setInterval(5_000)
        self._tick.timeout.connect(self._refresh_times)
        self._setup_timer = QTimer(self)
        self._setup_timer.setInterval(30_000)
        self._setup_timer.timeout.connect(self.refresh_setup_notes)
        # State changes are applied in slices of at most UPDATE_BUDGET_S per
        # event-loop pass, so a burst (many monitors reporting at once, or a
        # first reading creating dozens of rows) never freezes the window.
        self._pending: dict[str, IndicatorState] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self._build()
        app.bridge.states_changed.connect(self._queue_states)
        app.bridge.alert_event.connect(lambda _event: self._update_header())

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
        top.addWidget(self.banner, 1)
        self.ack_all_button = QPushButton(self.tr("Acknowledge all"), central)
        self.ack_all_button.clicked.connect(lambda: self.app.acknowledge_all(self.alerts.note()))
        self.selftest_button = QPushButton(self.tr("Start-of-shift check"), central)
        self.selftest_button.clicked.connect(self.app.selftest_requested)
        self.report_button = QPushButton(self.tr("Reports"), central)
        self.report_button.clicked.connect(self.app.report_requested)
        self.settings_button = QPushButton(self.tr("Settings"), central)
        self.settings_button.clicked.connect(self.app.open_settings)
        for button in (self.ack_all_button, self.selftest_button, self.report_button, self.settings_button):
            top.addWidget(button)
        outer.addLayout(top)
        self.notice = QLabel(central)
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        outer.addWidget(self.notice)
        self.errors = QLabel(central)
        self.errors.setObjectName("errors")
        self.errors.setWordWrap(True)
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
        for n, device in enumerate(self.app.engine.registry.devices):
            card = DeviceCard(device, holder)
            card.clicked.connect(self.show_detail)
            grid.addWidget(card, n // 2, n % 2, Qt.AlignmentFlag.AlignTop)
            self.cards[device] = card
            for widget in self._extra.get(device, []):
                card.add_widget(widget)
        grid.setRowStretch(grid.rowCount(), 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        scroll.setWidget(holder)
        self.stack.addWidget(scroll)
        self.detail = DetailView(self.app, self.stack)
        self.detail.back.connect(lambda: self.stack.setCurrentIndex(0))
        self.stack.addWidget(self.detail)
        self.tabs.addTab(self.stack, self.tr("Status"))
        self.alerts = AlertCentre(self.app, self.tabs)
        self.tabs.addTab(self.alerts, self.tr("Alerts"))
        old = self.centralWidget()
        self.setCentralWidget(central)
        if old is not None:
            old.deleteLater()
        self._update_header()
        self._queue_states(self.app.engine.states())
        self._show_notices()
        self.show_config_errors()
        self.refresh_setup_notes()

    def retranslate(self) -> None:
        """Rebuild in the new language, keeping the tab the clerk was on."""
        tab = self.tabs.currentIndex()
        for widgets in self._extra.values():
            for widget in widgets:
                widget.setParent(None)
        self._build()
        self.tabs.setCurrentIndex(tab)

    # -- public API -----------------------------------------------------------
    def add_card_widget(self, device: Device, widget: QWidget) -> None:
        """Add a widget to a device's card (kept across language changes)."""
        self._extra.setdefault(device, []).append(widget)
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
        errors = self.app.runtime.config.errors
        if errors:
            head = self.tr("Configuration problems (defaults are used for these keys):")
            self.errors.setText(head + "\n" + "\n".join(f"• {e}" for e in errors))
        self.errors.setVisible(bool(errors))

    # -- updates --------------------------------------------------------------
    def _queue_states(self, changed: list[IndicatorState]) -> None:
        for state in changed:
            self._pending[state.key] = state
        if not self._flush_timer.isActive():
            self._flush_timer.start()

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
        """Apply every queued change now (tests, screenshots)."""
        while self._pending:
            self._flush()

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
        states = self.app.engine.states()
        keys = {s.key for s in states}
        for card in self.cards.values():
            card.remove_missing(keys)
        self._on_states(states)
        self.refresh_setup_notes()
        self.show_config_errors()

    def _update_header(self) -> None:
        states = self.app.engine.states()
        level = overall_level(states)
        bad = problems(states)
        if level is None:
            text, colour = self.tr("Starting — waiting for the first readings…"), Level.UNKNOWN
        elif not bad:
            text, colour = self.tr("All equipment normal"), Level.OK
        else:
            text = self.tr("%n problem(s) need attention", "", len(bad))
            colour = level
        self.banner.setText(text)
        style = (
            f"background: {LEVEL_TINTS[colour]}; color: {LEVEL_COLOURS[colour]};"
            f" border: 1px solid {LEVEL_COLOURS[colour]};"
        )
        # Only on a change: every setStyleSheet re-parses the sheet and re-polishes
        # the banner, and this runs on every batch of readings.
        if self.banner.styleSheet() != style:
            self.banner.setStyleSheet(style)
        pending = sum(1 for a in self.app.engine.alerts.visible() if a.needs_attention)
        label = self.tr("Alerts")
        self.tabs.setTabText(self.ALERTS_TAB, f"{label} ({pending})" if pending else label)

    def _refresh_times(self) -> None:
        now = time.time()
        for card in self.cards.values():
            for row in card.rows.values():
                row.refresh_since(now)

    def refresh_setup_notes(self) -> None:
        """Ask monitors (off the GUI thread) which devices are not set up."""
        runtime = self.app.runtime

        def show(notes: dict[Device, Text | None]) -> None:
            for device, note in notes.items():
                card = self.cards.get(device)
                if card is not None:
                    card.set_setup_note(note if not card.rows or note is not None else None)

        self.app.worker.submit(lambda: device_setup_notes(runtime), show)

    def refresh_sparklines(self) -> None:
        """Load the last hour of every numeric indicator off the GUI thread."""
        history = self.app.runtime.history
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

        self.app.worker.submit(load, show)

    # -- window events --------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._tick.start()
        self._spark_timer.start()
        self._setup_timer.start()
        self._refresh_times()
        self.refresh_sparklines()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window hides it; Deskwatch keeps watching from the tray.
        self._tick.stop()
        self._spark_timer.stop()
        self._setup_timer.stop()
        if self.app.has_tray:
            event.ignore()
            self.hide()
        else:
            super().closeEvent(event)

    def extra_widgets(self) -> dict[Device, list[Any]]:
        """Widgets other features put on cards (for tests)."""
        return dict(self._extra)

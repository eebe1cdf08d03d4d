"""Break reminders in the desktop app: notice, break windows, quiet notice, week chart.

``install(app)`` is called by ``DeskwatchApp`` (``app.ui.main``).  A 1 s timer
asks the activity source for idle time on a worker thread (a D-Bus source can
block), and the answer steps the Qt-free :class:`~app.core.breaks.BreakService`
on the GUI thread; the widgets then render :meth:`BreakScheduler.status`.

Nothing here decides *when*: the scheduler does, and it never shows a notice,
a break window or a sound while a call is in progress.  Calls win at once:
the shared :class:`~app.kernel.callstate.CallState` tells the controller the
moment a call starts or ends, or another program starts to play
(stream events, not the 1 s timer), and the controller ticks then; a ring
(:mod:`app.core.ringing`) counts as a call while a break is announced.  Visible strings are
:class:`~app.kernel.i18n.Text` pairs rendered in the current language, so they
follow a language change at run time without a catalogue rebuild.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QLocale, QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QGuiApplication, QKeyEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.breaks import (
    BreakEvent,
    BreakKind,
    BreakScheduler,
    BreakService,
    BreakSettings,
    BreakStatus,
    DayStats,
    EventKind,
    Phase,
)
from app.core.ringing import RingPolicy
from app.kernel.callstate import CallState, OpenStream
from app.kernel.i18n import Text, current_language
from app.kernel.model import Device
from sensors.idle import ActivitySample, ActivitySource, IdleUnavailable, select_source

log = logging.getLogger(__name__)

# Widget chrome is translated with self.tr() (resources/i18n/deskwatch_zh_CN.ts);
# break kinds, phases and exercises are domain text (Text pairs in app.core.breaks).
BREAK_BG = QColor("#17324d")
NOTICE_BORDER = QColor("#2f7ebf")
QUIET_BORDER = QColor("#d08a1e")


def _kind_lower(kind: BreakKind | None, lang: str) -> str:
    label = kind.label(lang) if kind is not None else ""
    return label[0].lower() + label[1:] if lang == "en" and label else label


def _mmss(seconds: float) -> str:
    whole = max(0, int(seconds + 0.999))
    return f"{whole // 60:02d}:{whole % 60:02d}"


# -- widgets --------------------------------------------------------------------------------
class _Popup(QFrame):
    """A small frameless always-on-top window that never takes the keyboard focus."""

    def __init__(self, border: QColor, object_name: str) -> None:
        super().__init__(None)
        self.setObjectName(object_name)
        self.setWindowFlags(
            Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setStyleSheet(
            f"#{object_name} {{ background: #ffffff; border: 2px solid {border.name()};"
            " border-radius: 6px; }"
            "QLabel { color: #1d2733; }"
        )
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(14, 12, 14, 12)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.body)
        self.setFixedWidth(380)

    def place(self) -> None:
        """Bottom-right corner of the primary screen, above the taskbar."""
        self.adjustSize()
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.move(area.right() - self.width() - 16, area.bottom() - self.height() - 16)


class PreBreakNotice(_Popup):
    """The small pre-break notice: countdown, postpone, skip, start now."""

    postpone_clicked = Signal()
    skip_clicked = Signal()
    start_clicked = Signal()
    phone_clicked = Signal()

    def __init__(self) -> None:
        super().__init__(NOTICE_BORDER, "breakNotice")
        self.phone_button = _phone_button()
        self.phone_button.clicked.connect(self.phone_clicked.emit)
        self.layout_.addWidget(self.phone_button)
        self.postpone_button = QPushButton()
        self.skip_button = QPushButton()
        self.start_button = QPushButton()
        self.start_button.setDefault(True)
        row = QHBoxLayout()
        row.addWidget(self.postpone_button)
        row.addWidget(self.skip_button)
        row.addStretch(1)
        row.addWidget(self.start_button)
        self.layout_.addLayout(row)
        self.postpone_button.clicked.connect(self.postpone_clicked.emit)
        self.skip_button.clicked.connect(self.skip_clicked.emit)
        self.start_button.clicked.connect(self.start_clicked.emit)
        self._postpone_minutes = 5.0

    def show_status(self, status: BreakStatus, postpone_minutes: float) -> None:
        """Show ``status`` (phase NOTICE) in the current language."""
        lang = current_language()
        kind = status.kind.label(lang) if status.kind else ""
        seconds = int(status.remaining + 0.999)
        self.title.setText(self.tr("{kind} in {seconds} s").format(kind=kind, seconds=seconds))
        self.body.setText(self.tr("Finish what you are typing; the break starts by itself."))
        if status.can_postpone:
            text = self.tr("Postpone {minutes:g} min ({left} left)")
            self.postpone_button.setText(text.format(minutes=postpone_minutes, left=status.postpones_left))
        else:
            self.postpone_button.setText(self.tr("No postpones left"))
        self.postpone_button.setEnabled(status.can_postpone)
        self.postpone_button.setVisible(not status.strict)
        self.skip_button.setText(self.tr("Skip"))
        self.skip_button.setVisible(status.can_skip)
        self.start_button.setText(self.tr("Start now"))
        self.phone_button.setText(self.tr("&Back to work: phone call"))  # Alt+B


def _phone_button() -> QPushButton:
    """ "Back to work: phone" — there in strict mode too, and reachable from the keyboard."""
    button = QPushButton()
    button.setObjectName("phoneButton")
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    button.setAutoDefault(True)
    return button


class QuietNotice(_Popup):
    """Shown instead of anything covering the screen when a call holds a break past the cap."""

    def __init__(self) -> None:
        super().__init__(QUIET_BORDER, "quietNotice")
        # Shown only while a call holds the break: it must never cover the softphone,
        # so it stays below every other window instead of on top.
        self.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)

    def show_status(self, status: BreakStatus) -> None:
        """Show ``status`` (phase OVERDUE) in the current language."""
        lang = current_language()
        kind = status.kind.label(lang) if status.kind else ""
        self.title.setText(self.tr("{kind} overdue").format(kind=kind))
        text = self.tr("Held for your call for {minutes} min. Take it when the call ends.")
        self.body.setText(text.format(minutes=int(status.held_for // 60)))


class BreakWindow(QWidget):
    """The break itself on one screen: countdown, exercise, postpone and skip (not in strict mode)."""

    postpone_clicked = Signal()
    skip_clicked = Signal()
    phone_clicked = Signal()

    def __init__(self) -> None:
        super().__init__(None)
        self.setObjectName("breakWindow")
        self.setWindowFlags(
            Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), BREAK_BG)
        self.setPalette(palette)
        self.setStyleSheet(
            "QLabel { color: #f2f6fa; } QPushButton { padding: 8px 18px; font-size: 12pt; }"
            "QProgressBar { background: #28496b; border: none; height: 8px; border-radius: 4px; }"
            "QProgressBar::chunk { background: #7cc4ff; border-radius: 4px; }"
        )
        self.title = QLabel()
        self.countdown = QLabel()
        self.exercise_title = QLabel()
        self.steps = QLabel()
        self.strict_note = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(420)
        for label, scale, bold in (
            (self.title, 2.2, True),
            (self.countdown, 5.0, True),
            (self.exercise_title, 1.6, True),
            (self.steps, 1.35, False),
            (self.strict_note, 1.1, False),
        ):
            font = QFont(label.font())
            font.setPointSizeF(max(9.0, font.pointSizeF()) * scale)
            font.setBold(bold)
            label.setFont(font)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.steps.setWordWrap(True)
        self.steps.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.steps.setFixedWidth(640)
        self.postpone_button = QPushButton()
        self.skip_button = QPushButton()
        self.phone_button = _phone_button()
        self.postpone_button.clicked.connect(self.postpone_clicked.emit)
        self.skip_button.clicked.connect(self.skip_clicked.emit)
        self.phone_button.clicked.connect(self.phone_clicked.emit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.phone_button)
        buttons.addWidget(self.postpone_button)
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addStretch(2)
        for widget in (self.title, self.countdown):
            column.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(24)
        for widget in (self.exercise_title, self.steps):
            column.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(24)
        column.addLayout(buttons)
        column.addWidget(self.strict_note, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(3)
        self._closable = False
        self.screen_: Any = None

    def show_status(self, status: BreakStatus, postpone_minutes: float) -> None:
        """Show ``status`` (phase BREAK) in the current language."""
        lang = current_language()
        self.title.setText(self.tr("Time for a {kind}").format(kind=_kind_lower(status.kind, lang)))
        self.countdown.setText(_mmss(status.remaining))
        self.progress.setMaximum(max(1, int(status.duration)))
        self.progress.setValue(int(status.duration - status.remaining))
        exercise = status.exercise
        self.exercise_title.setText(exercise.title(lang) if exercise else "")
        self.steps.setText(
            "\n".join(f"{n}. {step(lang)}" for n, step in enumerate(exercise.steps, 1)) if exercise else ""
        )
        text = self.tr("Postpone {minutes:g} min ({left} left)")
        self.postpone_button.setText(text.format(minutes=postpone_minutes, left=status.postpones_left))
        self.postpone_button.setVisible(status.can_postpone)
        self.skip_button.setText(self.tr("Skip"))
        self.skip_button.setVisible(status.can_skip)
        self.phone_button.setText(self.tr("&Back to work: phone call"))  # Alt+B
        self.strict_note.setText(
            self.tr("Strict mode: this break cannot be skipped. A call ends it at once.")
        )
        self.strict_note.setVisible(status.strict)

    def allow_close(self) -> None:
        """Let the controller close the window (the clerk cannot, e.g. with Alt+F4)."""
        self._closable = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closable:
            event.accept()
        else:
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.accept()  # Esc and friends do not end a break; the buttons do


class WeekChart(QWidget):
    """Screen-work hours per day for the last seven days, with the number of breaks taken."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._days: list[DayStats] = []
        self._limit_hours = 0.0
        self.setMinimumSize(QSize(260, 150))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_days(self, days: list[DayStats], limit_hours: float) -> None:
        """Show ``days`` (oldest first); ``limit_hours`` draws the daily-limit line (0: none)."""
        self._days, self._limit_hours = list(days), limit_hours
        self.update()

    def days(self) -> list[DayStats]:
        """What is drawn (for tests)."""
        return list(self._days)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._days:
            return
        # Day names from Qt's locale data, in the UI language.
        locale = QLocale("zh_CN" if current_language().startswith("zh") else "en_US")
        short = QLocale.FormatType.ShortFormat
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        line = metrics.height()
        area = QRectF(self.rect()).adjusted(6, 2 * line + 4, -6, -(2 * line + 4))
        painter.setPen(QColor("#5b6b7b"))
        painter.drawText(
            QRectF(6, 0, self.width() - 12, line + 2),
            Qt.AlignmentFlag.AlignLeft,
            self.tr("Screen work per day (h) and breaks taken"),
        )
        hours = [d.work_seconds / 3600 for d in self._days]
        top = max([*hours, self._limit_hours, 1.0]) * 1.15
        slot = area.width() / len(self._days)
        bar = slot * 0.55
        for index, (day, value) in enumerate(zip(self._days, hours, strict=True)):
            x = area.left() + index * slot + (slot - bar) / 2
            height = value / top * area.height()
            rect = QRectF(x, area.bottom() - height, bar, height)
            over = self._limit_hours > 0 and value >= self._limit_hours
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#d08a1e") if over else QColor("#2f7ebf"))
            painter.drawRoundedRect(rect, 2, 2)
            painter.setPen(QColor("#1d2733"))
            label_rect = QRectF(area.left() + index * slot, rect.top() - line, slot, line)
            painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, f"{value:.1f}" if value else "")
            weekday = time.strptime(day.date, "%Y-%m-%d").tm_wday
            painter.setPen(QColor("#5b6b7b"))
            day_rect = QRectF(area.left() + index * slot, area.bottom() + 2, slot, line)
            painter.drawText(day_rect, Qt.AlignmentFlag.AlignCenter, locale.dayName(weekday + 1, short))
            painter.setPen(QColor("#2f7ebf"))
            taken_rect = day_rect.translated(0, line)
            painter.drawText(taken_rect, Qt.AlignmentFlag.AlignCenter, str(day.taken))
        if self._limit_hours > 0:
            y = area.bottom() - self._limit_hours / top * area.height()
            painter.setPen(QPen(QColor("#c0392b"), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        painter.end()


class BreaksCard(QWidget):
    """What the breaks card shows besides the generic indicator rows."""

    take_break_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.chart = WeekChart()
        self.take_button = QPushButton()
        self.take_button.clicked.connect(self.take_break_clicked.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart)
        layout.addWidget(self.take_button, 0, Qt.AlignmentFlag.AlignLeft)

    def show_status(
        self, status: BreakStatus, source: Text, week: list[DayStats], limit_hours: float
    ) -> None:
        """Show the state, the next break, the activity source and the week chart."""
        lang = current_language()
        if status.next_kind is not None and status.next_in is not None:
            next_line = self.tr("Next: {kind} in {minutes} min").format(
                kind=_kind_lower(status.next_kind, lang), minutes=int(status.next_in // 60)
            )
        else:
            next_line = self.tr("No breaks scheduled")
        lines = [
            self.tr("Now: {state}").format(state=status.phase.label(lang)),
            next_line,
            self.tr("Activity source: {source}").format(source=source(lang)),
        ]
        self.summary.setText("\n".join(lines))
        self.take_button.setText(self.tr("Take a break now"))
        self.take_button.setEnabled(status.phase is not Phase.BREAK)
        self.chart.set_days(week, limit_hours)


# -- the controller --------------------------------------------------------------------------
class BreaksController(QObject):
    """Drives the scheduler from a 1 s timer and shows what it says."""

    sampled = Signal(object, object)  # ActivitySample, ActivitySource; from the reader thread
    calls_changed = Signal()  # from whichever thread reports a call or a stream
    TICK_MS = 1000

    def __init__(
        self,
        service: BreakService,
        source: ActivitySource | Callable[[], ActivitySource],
        in_call: Callable[[], bool],
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
        call_state: CallState | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        # A factory is called on the reader thread: probing D-Bus sources may block.
        self.source: ActivitySource | None = None
        self._make_source: Callable[[], ActivitySource] | None = None
        if isinstance(source, ActivitySource):
            self.source = source
            self.service.set_source(source.name, source.label)
        else:
            self._make_source = source
        self.in_call = in_call
        self.clock = clock
        #: Other programs' playback, for rings; its changes tick the scheduler at once.
        self.call_state = call_state
        #: Applications ringing at the last tick (they hold the break as a call does).
        self.ringing: list[str] = []
        self._last_sample = ActivitySample(0.0, False)
        self._last_sample_at: float | None = None
        # One-shot wake-ups between the 1 s ticks: a ring's threshold, the end of the grace.
        self._wake = QTimer(self)
        self._wake.setSingleShot(True)
        self._wake.timeout.connect(self._tick_now)
        self.notice = PreBreakNotice()
        self.quiet = QuietNotice()
        #: The break windows on screen now (one per screen during a break, else empty).
        self.windows: list[BreakWindow] = []
        self._pool: list[BreakWindow] = []
        self._retired: list[BreakWindow] = []
        self.card = BreaksCard()
        self.events: list[BreakEvent] = []
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deskwatch-idle")
        self._in_flight: Future[None] | None = None
        self._closed = False
        self.timer = QTimer(self)
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self._on_timer)
        self.sampled.connect(self._on_sample, Qt.ConnectionType.QueuedConnection)
        self.calls_changed.connect(self._tick_now, Qt.ConnectionType.QueuedConnection)
        self._on_calls = self.calls_changed.emit  # kept: the same callable is removed at close
        if call_state is not None:
            call_state.add_change_listener(self._on_calls)
        self.notice.postpone_clicked.connect(self.postpone)
        self.notice.phone_clicked.connect(self.back_to_work_for_phone)
        self.notice.skip_clicked.connect(self.skip)
        self.notice.start_clicked.connect(self.start_now)
        self.card.take_break_clicked.connect(self.take_break_now)
        self._week_refreshed = -float("inf")

    @property
    def scheduler(self) -> BreakScheduler:
        """The scheduler (for tests and other features)."""
        return self.service.scheduler

    # -- driving ------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking."""
        self.timer.start()
        self.render()

    def _on_timer(self) -> None:
        if self._closed or (self._in_flight is not None and not self._in_flight.done()):
            return  # the last read is still blocked (D-Bus): skip this second
        self._in_flight = self._reader.submit(self._read)

    def _read(self) -> None:
        if self.source is None:
            assert self._make_source is not None
            try:
                self.source = self._make_source()
            except Exception:
                log.exception("no activity source could be set up")
                self.source = ActivitySource()
        source = self.source
        try:
            sample = source.sample()
        except IdleUnavailable as exc:
            log.warning("activity source %s failed: %s", source.name, exc)
            sample = ActivitySample(0.0, False)  # unknown input counts as work, never as rest
        except Exception:
            log.exception("activity source %s failed", source.name)
            sample = ActivitySample(0.0, False)
        if not self._closed:
            self.sampled.emit(sample, source)

    def _on_sample(self, sample: ActivitySample, source: ActivitySource) -> None:
        if source.name != self.service.source_name:
            self.service.set_source(source.name, source.label)
        self._last_sample, self._last_sample_at = sample, self.clock()
        try:
            self.step(sample.idle_seconds, sample.locked)
        except Exception:  # a failing tick must not take the app down; the next one retries
            log.exception("break reminder tick failed")

    def _tick_now(self) -> None:
        """A call started or ended, a stream opened or closed, or a wake-up is due: tick now.

        The idle time is the last sample's, aged by the time since it was taken.
        """
        if self._closed:
            return
        now = self.clock()
        idle = self._last_sample.idle_seconds
        if self._last_sample_at is not None and idle > 0:
            idle += max(0.0, now - self._last_sample_at)
        try:
            self.step(idle, self._last_sample.locked, now)
        except Exception:
            log.exception("break reminder tick failed")

    def step(self, idle_seconds: float, locked: bool, now: float | None = None) -> list[BreakEvent]:
        """One tick with an activity sample (the timer path calls this; tests may too)."""
        if self._closed:
            return []
        now = self.clock() if now is None else now
        self.ringing = self._rings(now)
        in_call = self.in_call() or bool(self.ringing)
        events = self.service.step(now, idle_seconds, in_call, locked)
        self._handle(events, in_call)
        self.render(now)
        self._plan_wake(now)
        return events

    def _policy(self) -> RingPolicy:
        settings = self.service.scheduler.settings
        return RingPolicy(ring_after_seconds=settings.ring_seconds, softphones=settings.softphones)

    def _playback(self, now: float) -> list[OpenStream]:
        """Open playback streams, their opening times moved onto this controller's clock."""
        if self.call_state is None:
            return []
        offset = now - self.call_state.clock()
        return [replace(s, opened_at=s.opened_at + offset) for s in self.call_state.playback()]

    def _rings(self, now: float) -> list[str]:
        since = self.service.scheduler.announced_at()
        return self._policy().ringing(self._playback(now), since, now)

    def _plan_wake(self, now: float) -> None:
        """Wake at the next moment something changes between ticks (a ring's threshold, the grace end)."""
        moments: list[float] = []
        since = self.service.scheduler.announced_at()
        ring = self._policy().next_change(self._playback(now), since, now)
        if ring is not None:
            moments.append(ring)
        status = self.service.scheduler.status(now)
        if status.phase in (Phase.GRACE, Phase.NOTICE, Phase.BREAK) and status.remaining > 0:
            moments.append(now + status.remaining)
        if not moments:
            self._wake.stop()
            return
        delay_ms = max(0, int((min(moments) - now) * 1000) + 5)
        if delay_ms < self.TICK_MS:
            self._wake.start(delay_ms)

    def _handle(self, events: list[BreakEvent], in_call: bool) -> None:
        self.events += events
        for event in events:
            if event.kind is EventKind.SOUND and not in_call:
                QApplication.beep()

    # -- actions -------------------------------------------------------------------------
    def postpone(self) -> None:
        """Postpone button."""
        self._act(self.service.scheduler.postpone)

    def skip(self) -> None:
        """Skip button."""
        self._act(self.service.scheduler.skip)

    def start_now(self) -> None:
        """Start-now button of the notice."""
        self._act(self.service.scheduler.start_now)

    def back_to_work_for_phone(self) -> None:
        """ "Back to work: phone call" (notice or window): held as for a call, strict mode too."""
        self._act(self.service.scheduler.hold_for_phone)

    def take_break_now(self) -> None:
        """Tray / card: take a break now (held until a call ends)."""
        self._act(self.service.scheduler.take_break_now)

    def pause(self, minutes: int) -> None:
        """Tray: pause reminders for ``minutes``."""
        now = self.clock()
        self.service.scheduler.pause(float(minutes), now)
        self.service.publish(now)
        self.render(now)

    def _act(self, action: Callable[[float], Any]) -> None:
        now = self.clock()
        action(now)
        self.service.publish(now)
        self.render(now)

    # -- rendering --------------------------------------------------------------------------
    def render(self, now: float | None = None) -> None:
        """Show exactly what the scheduler's phase calls for."""
        now = self.clock() if now is None else now
        status = self.service.scheduler.status(now)
        postpone_minutes = self.service.scheduler.settings.postpone_seconds / 60
        if status.phase is Phase.NOTICE:
            self.notice.show_status(status, postpone_minutes)
            if not self.notice.isVisible():
                self.notice.place()
                self.notice.show()
        else:
            self.notice.hide()
        if status.phase is Phase.OVERDUE:
            self.quiet.show_status(status)
            if not self.quiet.isVisible():
                self.quiet.place()
                self.quiet.show()
                self.quiet.lower()  # a call is on: below the softphone's window, never over it
        else:
            self.quiet.hide()
        if status.phase is Phase.BREAK:
            self._show_windows(status, postpone_minutes)
        else:
            self._close_windows()
        if now - self._week_refreshed > 60 or status.phase is not getattr(self, "_last_phase", None):
            self._week_refreshed = now
            self._week = self.service.week(now)
        self._last_phase = status.phase
        limit = self.service.scheduler.settings.plan.daily_limit / 3600
        self.card.show_status(status, self.service.source_label, self._week, limit)

    def _show_windows(self, status: BreakStatus, postpone_minutes: float) -> None:
        screens = QGuiApplication.screens()
        if [w.screen_ for w in self._pool] != screens:
            # Screens were plugged or unplugged: build a window per screen.  Old windows
            # are hidden and kept (deleting one from inside its own button's signal crashes).
            for window in self._pool:
                window.hide()
            self._retired += self._pool
            self._pool = []
            for screen in screens:
                window = BreakWindow()
                window.screen_ = screen
                window.postpone_clicked.connect(self.postpone)
                window.skip_clicked.connect(self.skip)
                window.phone_clicked.connect(self.back_to_work_for_phone)
                window.setScreen(screen)
                window.setGeometry(screen.geometry())
                self._pool.append(window)
        for window in self._pool:
            window.show_status(status, postpone_minutes)
            if not window.isVisible():
                window.show()
                window.raise_()
                window.activateWindow()
                window.phone_button.setFocus()  # Enter / Space / Alt+B: back to the phone
        self.windows = list(self._pool)

    def _close_windows(self) -> None:
        for window in self.windows:
            window.hide()
        self.windows = []

    def retranslate(self, _language: str = "") -> None:
        """Re-render in the current language."""
        self.render()

    def apply_config(self, config: Any) -> None:
        """New settings: keep statistics, change timing."""
        self.service.scheduler.settings = BreakSettings.from_config(config.app["breaks"])
        self.render()

    def close(self) -> None:
        """Stop the timer and the reader, save the state, close every window (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.timer.stop()
        self._wake.stop()
        if self.call_state is not None:
            self.call_state.remove_change_listener(self._on_calls)
        self._reader.shutdown(wait=True, cancel_futures=True)
        self.service.close()
        self.notice.close()
        self.quiet.close()
        for window in self._pool + self._retired:
            window.allow_close()
            window.close()
        self.windows = []
        if self.source is not None:
            self.source.close()


def controller_for(runtime: Any, source: ActivitySource | None = None) -> BreaksController:
    """Build the controller from a ``Runtime`` (config, engine, history, shared call state)."""
    section = runtime.config.app["breaks"]
    service = BreakService(BreakSettings.from_config(section), runtime.engine, runtime.history)
    preference = str(section["activity_source"])
    call_state = runtime.context.services.get("call_state")

    def in_call() -> bool:
        return bool(call_state is not None and call_state.in_call)

    return BreaksController(
        service,
        source or (lambda: select_source(preference)),
        in_call,
        call_state=call_state if isinstance(call_state, CallState) else None,
    )


def install(app: Any, source: ActivitySource | None = None) -> None:
    """Hook break reminders into the desktop app (see the module docstring)."""
    if not app.runtime.config.app["breaks"]["enabled"]:
        log.info("break reminders are switched off in the config")
        return
    controller = controller_for(app.runtime, source)
    controller.setParent(app)
    app.breaks = controller
    app.take_break_requested.connect(controller.take_break_now)
    app.pause_reminders_requested.connect(controller.pause)
    app.panel.add_card_widget(Device.BREAKS, controller.card)
    for name, slot in (
        ("language_changed", controller.retranslate),
        ("config_applied", controller.apply_config),
    ):
        signal = getattr(app, name, None)
        if signal is not None:
            signal.connect(slot)
    # Save the break state before the app closes the history database.
    app_stop = app.stop

    def stop() -> None:
        controller.close()
        app_stop()

    app.stop = stop
    qapp = QApplication.instance()
    if qapp is not None:
        qapp.aboutToQuit.connect(controller.close)
    controller.start()

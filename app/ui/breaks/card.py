"""The breaks card on the panel: state, next break, activity source, "take a break now" and the week chart."""

from __future__ import annotations

import time

from PySide6.QtCore import QLocale, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.core.breaks import BreakStatus, DayStats, Phase
from app.kernel.i18n import Text, current_language
from app.ui.breaks.windows import kind_lower


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
                kind=kind_lower(status.next_kind, lang), minutes=int(status.next_in // 60)
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

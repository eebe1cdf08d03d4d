"""Hand-drawn charts (QtCharts is not part of pyside6-essentials): sparkline and trend chart."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.core.history import Sample
from app.core.palette import LEVEL_COLOURS
from app.kernel.model import Level, Thresholds
from app.ui.theme import ACCENT, CARD_BORDER, TEXT_MUTED, level_colour

Point = tuple[float, float]


class Sparkline(QWidget):
    """A small trend line of the last hour, coloured by the current level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[Point] = []
        self._level = Level.OK
        self._span = (0.0, 1.0)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(QSize(96, 24))

    def set_points(self, points: Sequence[Point], level: Level, since: float, until: float) -> None:
        """Show ``points`` (time, value) between ``since`` and ``until``."""
        self._points = [p for p in points if since <= p[0] <= until]
        self._level, self._span = level, (since, until)
        self.update()

    def points(self) -> list[Point]:
        """What is drawn (for tests)."""
        return list(self._points)

    def paintEvent(self, event: QPaintEvent) -> None:
        if len(self._points) < 2:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(2, 3, -4, -3)
        values = [v for _, v in self._points]
        lo, hi = min(values), max(values)
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1
        t0, t1 = self._span

        def at(t: float, v: float) -> QPointF:
            x = rect.left() + (t - t0) / max(t1 - t0, 1e-9) * rect.width()
            y = rect.bottom() - (v - lo) / (hi - lo) * rect.height()
            return QPointF(x, y)

        path = QPainterPath(at(*self._points[0]))
        for point in self._points[1:]:
            path.lineTo(at(*point))
        colour = level_colour(self._level)
        painter.setPen(QPen(colour, 1.6))
        painter.drawPath(path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(at(*self._points[-1]), 2.5, 2.5)
        painter.end()


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round axis ticks covering ``lo``..``hi`` (1, 2, 5 × 10ⁿ steps)."""
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _format_number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.1f}"


class TrendChart(QWidget):
    """Average line with a min–max band, threshold lines and level marks over a time range."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._samples: list[Sample] = []
        self._span = (time.time() - 3600, time.time())
        self._thresholds: Thresholds | None = None
        self._unit = ""
        self._empty_text = ""
        self.setMinimumSize(420, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(
        self,
        samples: Sequence[Sample],
        since: float,
        until: float,
        thresholds: Thresholds | None,
        unit: str,
        empty_text: str,
    ) -> None:
        """Replace what the chart shows."""
        self._samples = [s for s in samples if s.vavg is not None]
        self._span = (since, until)
        self._thresholds, self._unit, self._empty_text = thresholds, unit, empty_text
        self.update()

    def sample_count(self) -> int:
        """How many points are plotted (for tests)."""
        return len(self._samples)

    def _time_label(self, t: float) -> str:
        span = self._span[1] - self._span[0]
        fmt = "%H:%M" if span <= 2 * 86400 else "%m-%d"
        return time.strftime(fmt, time.localtime(t))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        metrics = painter.fontMetrics()
        left = metrics.horizontalAdvance("-0000.0 ") + 8
        plot = QRectF(self.rect()).adjusted(left, 12, -14, -(metrics.height() + 12))
        painter.setPen(QPen(QColor(CARD_BORDER), 1))
        painter.drawRect(plot)
        t0, t1 = self._span
        if not self._samples:
            painter.setPen(QColor(TEXT_MUTED))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, self._empty_text)
            painter.end()
            return
        values = [v for s in self._samples for v in (s.vmin, s.vmax, s.vavg) if v is not None]
        limits = []
        if self._thresholds is not None:
            limits = [v for v in (self._thresholds.warning, self._thresholds.critical) if v is not None]
        lo, hi = min(values), max(values)
        # Show a threshold when it is near the data, so the scale stays readable.
        for limit in limits:
            if lo - (hi - lo + 1) * 0.6 <= limit <= hi + (hi - lo + 1) * 0.6:
                lo, hi = min(lo, limit), max(hi, limit)
        ticks = nice_ticks(lo, hi)
        lo, hi = ticks[0], ticks[-1]

        def x_of(t: float) -> float:
            return plot.left() + (t - t0) / max(t1 - t0, 1e-9) * plot.width()

        def y_of(v: float) -> float:
            return plot.bottom() - (v - lo) / max(hi - lo, 1e-9) * plot.height()

        # grid and axes
        for tick in ticks:
            y = y_of(tick)
            painter.setPen(QPen(QColor("#eef0f3"), 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QColor(TEXT_MUTED))
            label = _format_number(tick)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, left - 6, metrics.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
        for n in range(5):
            t = t0 + (t1 - t0) * n / 4
            x = x_of(t)
            label = self._time_label(t)
            width = metrics.horizontalAdvance(label)
            painter.setPen(QColor(TEXT_MUTED))
            x_text = min(max(x - width / 2, plot.left()), plot.right() - width)
            painter.drawText(QPointF(x_text, plot.bottom() + metrics.ascent() + 6), label)
        if self._unit:
            painter.drawText(QPointF(4, metrics.ascent()), self._unit)
        # thresholds
        th = self._thresholds
        marks = [(th.warning, Level.WARNING), (th.critical, Level.CRITICAL)] if th is not None else []
        for mark, level in marks:
            if mark is None or not lo <= mark <= hi:
                continue
            limit = mark
            pen = QPen(QColor(LEVEL_COLOURS[level]), 1, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(plot.left(), y_of(limit)), QPointF(plot.right(), y_of(limit)))
        # periods out of the normal state: tinted background and a strip along the bottom
        step = (t1 - t0) / max(len(self._samples), 1)
        if len(self._samples) > 1:
            gaps = [b.ts - a.ts for a, b in zip(self._samples, self._samples[1:], strict=False)]
            step = min(gaps) if gaps else step
        for sample in self._samples:
            if not sample.level.is_problem:
                continue
            x0 = max(plot.left(), x_of(sample.ts))
            x1 = min(plot.right(), x_of(sample.ts + step))
            tint = QColor(LEVEL_COLOURS[sample.level])
            tint.setAlpha(28)
            painter.fillRect(QRectF(x0, plot.top(), max(1.0, x1 - x0), plot.height()), tint)
            painter.fillRect(QRectF(x0, plot.bottom() - 5, max(1.0, x1 - x0), 5), level_colour(sample.level))
        # min–max band
        band = QPainterPath()
        tops = [(x_of(s.ts), y_of(s.vmax if s.vmax is not None else s.vavg or 0)) for s in self._samples]
        bottoms = [(x_of(s.ts), y_of(s.vmin if s.vmin is not None else s.vavg or 0)) for s in self._samples]
        band.moveTo(*tops[0])
        for point in tops[1:]:
            band.lineTo(*point)
        for point in reversed(bottoms):
            band.lineTo(*point)
        band.closeSubpath()
        accent = QColor(ACCENT)
        fill = QColor(accent)
        fill.setAlpha(40)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawPath(band)
        # average line
        line = QPainterPath()
        first = self._samples[0]
        line.moveTo(x_of(first.ts), y_of(first.vavg or 0.0))
        for sample in self._samples[1:]:
            line.lineTo(x_of(sample.ts), y_of(sample.vavg or 0.0))
        painter.setPen(QPen(accent, 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(line)
        painter.end()

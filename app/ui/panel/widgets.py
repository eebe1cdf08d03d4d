"""Small painted widgets of the panel: the level chip."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.core.palette import LEVEL_COLOURS
from app.core.status import PENDING
from app.kernel.model import Level


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

"""Small widgets of the panel: the level chip, a label that shortens itself to fit."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

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


class ElidedLabel(QLabel):
    """A one-line label that shortens its text to its width with "…" and then carries it whole in its tooltip.

    :meth:`text` is the whole text; :meth:`shown_text` what is painted.  An
    explicit tooltip (:meth:`set_tip`, e.g. a reading's full message) wins.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, keep_after: str = "") -> None:
        super().__init__(parent)
        self._full = ""
        self._tip = ""
        #: A separator whose tail is kept whole when the text is shortened (a row's " — instance").
        self._keep_after = keep_after
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self._elide()
        self.updateGeometry()

    def text(self) -> str:
        """The whole text (not the shortened one painted)."""
        return self._full

    def shown_text(self) -> str:
        """The text as painted (shortened with "…" when it does not fit)."""
        return super().text()

    def set_tip(self, tip: str) -> None:
        """A tooltip shown whether or not the text is shortened (``""``: the whole text when shortened)."""
        self._tip = tip
        self._elide()

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 2
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("…") * 4, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        metrics = self.fontMetrics()
        shown = metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        head, sep, tail = self._full.rpartition(self._keep_after) if self._keep_after else ("", "", "")
        if shown != self._full and sep:
            # "Formaldehyde now (5-min…) — cabinet": the instance tells two such rows apart.
            kept = sep + tail
            room = width - metrics.horizontalAdvance(kept)
            if room > metrics.horizontalAdvance("…") * 4:
                shown = metrics.elidedText(head, Qt.TextElideMode.ElideRight, room) + kept
        if shown != super().text():
            super().setText(shown)
        self.setToolTip(self._tip or (self._full if shown != self._full else ""))

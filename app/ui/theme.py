"""Colours, fonts and the drawn icons (tray, app, level dots) shared by every window.

Level colours come from the one palette, :mod:`app.core.palette` (the reports use it too).
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication

from app.core.palette import LEVEL_COLOURS
from app.kernel.model import Level

ACCENT = "#2563a8"
TEXT_MUTED = "#6b7280"
CARD_BORDER = "#d9dee5"
WINDOW_BG = "#f4f6f9"

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW_BG}; }}
QFrame#card {{ background: white; border: 1px solid {CARD_BORDER}; border-radius: 8px; }}
QFrame#card:hover {{ border: 1px solid {ACCENT}; }}
QFrame#card:focus {{ border: 2px solid {ACCENT}; }}
QLabel#problem {{ font-weight: 600; }}
QPushButton#cardButton {{ padding: 2px 8px; }}
QLabel#cardTitle {{ font-size: 15px; font-weight: 600; }}
QLabel#muted {{ color: {TEXT_MUTED}; }}
QLabel#banner {{ border-radius: 6px; padding: 8px 12px; font-size: 14px; font-weight: 600; }}
QLabel#notice {{ background: #fff8e1; border: 1px solid #f0d68a; border-radius: 6px; padding: 6px 10px; }}
QLabel#errors {{ background: #fdecec; border: 1px solid #f1b5b5; border-radius: 6px; padding: 6px 10px; }}
QLabel#chip {{ border-radius: 9px; padding: 1px 8px; color: white; font-weight: 600; }}
QPushButton {{ padding: 5px 12px; }}
QTabWidget::pane {{ border: none; }}
QListWidget {{ background: white; border: 1px solid {CARD_BORDER}; border-radius: 6px; }}
QListWidget::item {{ padding: 6px 8px; }}
QListWidget::item:selected {{ background: {ACCENT}; color: white; }}
QGroupBox {{ background: white; border: 1px solid {CARD_BORDER}; border-radius: 6px;
            margin-top: 14px; padding: 8px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; font-weight: 600; }}
QTreeWidget {{ background: white; border: 1px solid {CARD_BORDER}; border-radius: 6px; }}
"""


def level_colour(level: Level) -> QColor:
    """The colour of a level."""
    return QColor(LEVEL_COLOURS[level])


def apply_style(app: QApplication, language: str) -> None:
    """Application-wide style and a font that renders Chinese well."""
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET)
    families = set(QFontDatabase.families())
    wanted = ["Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC"] if language.startswith("zh") else []
    wanted += ["Noto Sans", "DejaVu Sans", "Segoe UI"]
    for family in wanted:
        if family in families:
            font = QFont(family, 10)
            # Chinese glyphs come from the CJK face even in English, via fallback.
            font.setFamilies([family, "Noto Sans CJK SC"])
            app.setFont(font)
            break


#: Faces with Latin digits for the badge, most likely first (any of them will do).
BADGE_FAMILIES = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "Segoe UI", "Arial", "Helvetica")


def _shield(painter: QPainter, rect: QRectF, colour: QColor) -> None:
    """The Deskwatch mark: a rounded screen with a pulse line."""
    w = rect.width()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    body = QRectF(rect.left() + w * 0.06, rect.top() + w * 0.10, w * 0.88, w * 0.64)
    painter.drawRoundedRect(body, w * 0.12, w * 0.12)
    stand = QRectF(rect.left() + w * 0.36, rect.top() + w * 0.76, w * 0.28, w * 0.14)
    painter.drawRoundedRect(stand, w * 0.04, w * 0.04)
    pen = QPen(QColor("white"), max(1.5, w * 0.075))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    path = QPainterPath()
    x0, y = rect.left() + w * 0.18, rect.top() + w * 0.42
    path.moveTo(x0, y)
    for dx, dy in ((0.16, 0), (0.08, -0.14), (0.1, 0.16), (0.08, -0.06), (0.22, 0)):
        x0 += w * dx
        path.lineTo(x0, y + w * dy)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)


def render_icon(size: int, level: Level | None = None, badge: int = 0) -> QPixmap:
    """The app icon in the colour of ``level`` (accent blue when ``None``), with a count badge."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    colour = QColor(ACCENT) if level is None else level_colour(level)
    _shield(painter, QRectF(0, 0, size, size), colour)
    if badge > 0:
        text = str(badge) if badge < 10 else "9+"
        d = size * 0.5
        circle = QRectF(size - d, size - d, d, d)
        painter.setPen(QPen(QColor("white"), max(1.0, size * 0.04)))
        painter.setBrush(QColor("#b91c1c") if level is Level.CRITICAL else QColor("#1f2937"))
        painter.drawEllipse(circle)
        font = QFont()
        # Digits only: a Latin face, so that drawing a badge does not map a CJK
        # collection (the app font in Chinese, 4 MiB resident for ten digits).
        font.setFamilies(list(BADGE_FAMILIES))
        font.setBold(True)
        font.setPixelSize(max(6, int(d * 0.62)))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


#: Badges above this read "9+": they all share one icon.
BADGE_MAX = 10


def level_icon(level: Level | None, badge: int = 0) -> QIcon:
    """A multi-size icon for the tray and window titles (one shared icon per level and badge).

    Shared, not redrawn per change: every new QIcon has a new cache key, so the
    scaled pixmaps Qt caches for it (QPixmapCache, up to its 10 MB limit) were
    new entries at every tray change — RSS climbing through an 8-hour shift.
    """
    return _level_icon(level, min(max(badge, 0), BADGE_MAX))


@functools.cache
def _level_icon(level: Level | None, badge: int) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        icon.addPixmap(render_icon(size, level, badge))
    return icon


@functools.lru_cache(maxsize=64)
def dot_pixmap(level: Level, size: int = 12) -> QPixmap:
    """A filled circle in the level's colour (for lists and cards).

    Cached: rows repaint on every reading, and QPixmap copies share data.
    """
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(level_colour(level))
    painter.drawEllipse(QPointF(size / 2, size / 2), size / 2 - 0.5, size / 2 - 0.5)
    painter.end()
    return pixmap

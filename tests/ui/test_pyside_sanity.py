"""Guards against a Qt binding that corrupts reference counts (PySide6 6.12.0 on Python 3.11).

PySide6 6.12.0 returns ``None`` from void methods without taking a reference,
so every ``painter.drawRect(...)`` lowers ``None``'s count by one; on Python
3.11 (where ``None`` is not immortal) a long-running tray app then dies with
"none_dealloc: deallocating None".  pyproject.toml excludes that release;
this test fails if a broken one is installed again.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPixmap


def test_void_calls_keep_the_reference_count_of_none(qapp: Any) -> None:
    pixmap = QPixmap(16, 16)
    painter = QPainter(pixmap)
    path = QPainterPath()
    before = sys.getrefcount(None)
    for n in range(200):
        painter.setBrush(QColor("red"))
        painter.drawRect(QRectF(0, 0, 1, 1))
        path.lineTo(n, n)
    after = sys.getrefcount(None)
    painter.end()
    # Other threads may hold or release a few references meanwhile; 600 lost ones are the bug.
    assert after >= before - 50, f"None lost {before - after} references in 600 void calls"

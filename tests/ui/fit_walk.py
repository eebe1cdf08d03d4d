"""Walk every visible text of the panel, alert centre, settings and self-check on a real-seat-like seat.

``python -m tests.ui.fit_walk 1280x800 en`` (with ``QT_SCALE_FACTOR`` in the
environment for scaled screens) prints one JSON list of the texts wider than
their space.  A text shortened on purpose (an
:class:`~app.ui.panel.widgets.ElidedLabel`) passes when its tooltip holds the
whole text; a label wraps only when it is marked to (``wraps``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.core.runtime import build_runtime
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from app.kernel.monitor import LoopLatencyProbe

#: Instances of a real seat: two printer queues, three sensors, two SIP transports.
INSTANCES = {
    "printer": ("Front1", "Back2"),
    "environment": ("desk", "window", "co2"),
    "telephone": ("udp", "tcp"),
}
#: Long values a real seat reports (paths, SIP replies, reasons).
LONG = Text(
    "Connected on /tmp/dw-shots-real-jjt_d3kq/ttys/environment-desk since 01:46:59 (9600 baud)",
    "已连接 /tmp/dw-shots-real-jjt_d3kq/ttys/environment-desk,自 01:46:59 起(9600 波特)",
)
FAULT = Text(
    "Out of paper; Print queue paused — Tray 1 is empty, load A4 paper and press Resume",
    "缺纸;打印队列已暂停 — 纸盒 1 已空,请放入 A4 纸并按继续",
)


def normal_value(indicator: Any) -> float:
    """A value on the good side of the indicator's limits (a seat is mostly healthy)."""
    from app.kernel.model import Direction

    th = indicator.thresholds
    if th is None:
        return 12.5
    if th.two_sided:
        th = th.for_band("")
        low, high = th.low, th.high
        if low is not None and high is not None:
            return float(low + high) / 2
        return float(low + 1 if low is not None else (high - 1 if high is not None else 0))
    limit = th.warning if th.warning is not None else th.critical
    if limit is None:
        return 12.5
    return float(limit) * (2 if th.direction is Direction.LOW_IS_BAD else 0.5) + (1 if limit == 0 else 0)


def seat_readings(registry: Any) -> list[Reading]:
    """A reading for every declared indicator of every instance, long texts, one fault."""
    readings = []
    for indicator in registry.indicators.values():
        device = indicator.device.id
        for n, instance in enumerate(INSTANCES.get(device, ("",))):
            if indicator.numeric:
                normal = normal_value(indicator)
                # Instances differ a little; by a tenth of a unit, or 1 % of a small value (0.04 mg/m³).
                step = 0.1 if abs(normal) >= 10 else abs(normal) / 100
                readings.append(Reading(indicator.id, normal + n * step, None, None, instance))
                continue
            fault = device == "printer" and n == 1 and indicator.id in ("printer.state", "printer.status")
            message = FAULT if fault else LONG
            readings.append(
                Reading(indicator.id, "x", Level.CRITICAL if fault else Level.OK, message, instance)
            )
    return readings


def too_wide(root: Any, wraps: bool = True) -> list[str]:
    """Every visible text under ``root`` wider (or taller) than its widget's space.

    ``wraps``: also fail on a label that wraps without being marked to (the panel's rule).
    """
    from PySide6.QtWidgets import QAbstractButton, QLabel, QTabBar, QTreeWidget, QWidget

    from app.ui.panel.widgets import ElidedLabel

    found: list[str] = []

    def name(widget: QWidget, text: str) -> str:
        return f"{type(widget).__name__}({widget.objectName()}) {text[:60]!r}"

    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        if not widget.isVisibleTo(root) or not widget.isVisible():
            continue
        if widget.window() is not root.window():
            continue  # a dialog of its own (a message box offering the check): not this window's text
        rect = widget.contentsRect()
        metrics = widget.fontMetrics()
        if isinstance(widget, ElidedLabel):
            shown = widget.shown_text()
            if shown != widget.text() and not widget.toolTip():
                found.append(name(widget, widget.text()) + " shortened without its whole text in a tooltip")
            continue
        if isinstance(widget, QLabel):
            text = widget.text()
            if not text or (widget.pixmap() is not None and not widget.pixmap().isNull()):
                continue
            plain = re.sub(r"<[^>]+>", "", text) if rich(widget) else text
            if widget.buddy() is not None:
                # A buddy label's "&N" is a mnemonic: Qt draws the letter underlined, not the "&".
                plain = re.sub(r"&(.)", r"\1", plain)
            if widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                one_line = metrics.height() * (plain.count("\n") + 1) + 2 + widget.height() - rect.height()
                if needed > widget.height() + 2:
                    found.append(name(widget, text) + f" clipped ({needed} px tall in {widget.height()})")
                elif wraps and not widget.property("wraps") and needed > one_line + metrics.height() // 2:
                    found.append(name(widget, text) + " wraps onto a second line")
                continue
            width = max(metrics.horizontalAdvance(line) for line in plain.split("\n"))
            if width > rect.width() + 1:
                found.append(name(widget, text) + f" {width} px wide in {rect.width()}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            if widget.sizeHint().width() > widget.width() + 1:
                found.append(
                    name(widget, widget.text())
                    + f" needs {widget.sizeHint().width()} px, has {widget.width()}"
                )
        elif isinstance(widget, QTabBar):
            for index in range(widget.count()):
                if widget.tabSizeHint(index).width() > widget.tabRect(index).width() + 1:
                    found.append(name(widget, widget.tabText(index)) + " tab text cut")
        elif isinstance(widget, QTreeWidget):
            header = widget.header()
            for row in range(min(widget.topLevelItemCount(), 30)):
                item = widget.topLevelItem(row)
                for column in range(widget.columnCount()):
                    if header.isSectionHidden(column) or (
                        column == widget.columnCount() - 1 and header.stretchLastSection()
                    ):
                        continue
                    text = item.text(column)
                    rect_item = widget.visualItemRect(item)
                    if not text or rect_item.isEmpty():
                        continue
                    need = metrics.horizontalAdvance(text) + 8
                    if column == 0 and item.isFirstColumnSpanned():
                        need -= widget.viewport().width() - widget.columnWidth(0)
                    if column == 0:
                        need += widget.indentation() * (1 if widget.rootIsDecorated() else 0)
                    if need > widget.columnWidth(column) and text not in (item.toolTip(column) or ""):
                        found.append(name(widget, text) + f" column {column} cut")
    return found


def below_the_fold(panel: Any) -> list[str]:
    """Cards whose summary (all but the opened rows) is not on the first screen of the status tab."""
    scroll = panel.stack.widget(0)
    bottom = scroll.viewport().height()
    found = []
    for card in panel.cards.values():
        top = card.mapTo(scroll.widget(), card.rect().topLeft()).y()
        # Other features' widgets (the break chart) come after the summary.
        end = top + (card.extra.geometry().top() if card.extra.count() else card.height())
        if end > bottom:
            found.append(
                f"{card.device.id} card's summary ends at {end} px, below the first screen ({bottom})"
            )
    return found


def rich(label: Any) -> bool:
    """Whether a label shows its text as rich text (measured without its tags)."""
    from PySide6.QtCore import Qt

    return bool(
        label.textFormat() == Qt.TextFormat.RichText
        or (label.textFormat() == Qt.TextFormat.AutoText and re.search(r"<\w+[^>]*>", label.text()))
    )


def walk(size: str, language: str) -> list[str]:
    """Build the seat, show each window at ``size`` (logical pixels shrink with the scale), walk them."""
    from PySide6.QtWidgets import QApplication

    import monitors
    from app.kernel import i18n
    from app.ui.main import DeskwatchApp, load_features
    from app.ui.settings_dialog import SettingsDialog
    from app.ui.theme import apply_style
    from app.ui.translations import Translations
    from tests.screenshots import settle
    from tests.ui.conftest import FakeAutostart

    qapp = QApplication.instance() or QApplication(sys.argv[:1])

    def flush() -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        settle(0.5)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        settle(0.2)

    width, height = (int(n) for n in size.split("x"))
    scale = float(os.environ.get("QT_SCALE_FACTOR", "1") or 1)
    width, height = int(width / scale), int((height - 32) / scale)  # below the tray bar
    i18n.set_language(language)
    translations = Translations()
    translations.install(language)
    apply_style(qapp, language)
    folder = Path(tempfile.mkdtemp(prefix="dw-fit-"))
    (folder / "deskwatch.toml").write_text("", "utf-8")
    runtime = build_runtime(
        config_path=folder / "deskwatch.toml",
        data_dir=folder / "data",
        loop_probe=LoopLatencyProbe(),
        monitor_classes=monitors.discover(),
    )
    app = DeskwatchApp(runtime, tray=False, autostart=FakeAutostart(), translations=translations)
    load_features(app)
    app.set_language(language)  # the runtime took the language from its (empty) config
    runtime.engine.ingest(seat_readings(runtime.engine.registry))
    found: list[str] = []
    try:
        panel = app.panel
        panel.set_notice("tray", None)  # a real seat has a tray: no "runs in this window" notice
        panel.setGeometry(0, 0, width, height)
        panel.show()
        panel.flush_pending()
        flush()
        for card in panel.cards.values():  # a real seat is set up: no "not configured" notes
            card.set_setup_note(None)
        flush()
        found += [f"panel: {f}" for f in too_wide(panel)]
        if os.environ.get("QT_SCALE_FACTOR", "1") in ("", "1") and size == "1280x800":
            found += [f"panel: {f}" for f in below_the_fold(panel)]
        for card in panel.cards.values():  # every card opened, its rows too
            card.set_expanded(True)
        flush()
        found += [f"panel, cards open: {f}" for f in too_wide(panel)]
        panel.show_alerts()
        settle(0.3)
        found += [f"alert centre: {f}" for f in too_wide(panel)]
        from app.ui.selftest import SelfTestDialog

        for dialog in (SettingsDialog(app.surface, app.autostart, panel), SelfTestDialog(app.surface, panel)):
            dialog.resize(min(dialog.width(), width), min(dialog.height(), height))
            dialog.show()
            settle(0.3)
            found += [f"{type(dialog).__name__}: {f}" for f in too_wide(dialog, wraps=False)]
            dialog.close()
    finally:
        app.stop()
        runtime.stop()
    return found


if __name__ == "__main__":
    print(json.dumps(walk(sys.argv[1], sys.argv[2]), ensure_ascii=False))

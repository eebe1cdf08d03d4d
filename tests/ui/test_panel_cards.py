"""Cards lead with their summary: problems and what to do, compact healthy lines, rows on demand."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.kernel.i18n import Text
from app.kernel.model import Device, Level
from tests import devices
from tests.ui.conftest import CPU, PRINTER_STATE, reading


def panel_with(make_app: Any, *readings: Any) -> Any:
    """An app whose panel is on screen with these readings applied."""
    app = make_app()
    app.panel.show()
    app.engine.ingest(list(readings))
    app.panel.flush_pending()
    return app


def visible_texts(card: Any) -> list[str]:
    return [w.text() for w in card.findChildren(QLabel) if w.isVisibleTo(card) and w.text()]


def test_a_closed_card_says_what_is_wrong_and_what_to_do(make_app: Any) -> None:
    jam = Text("Paper jam", "卡纸")
    app = panel_with(make_app, reading(PRINTER_STATE, "media-jam", Level.CRITICAL, jam))
    card = app.panel.cards[devices.PRINTER]
    row = card.rows["printer.state"]
    assert not card.expanded and not row.value.isVisibleTo(card)  # the rows wait for a click
    texts = visible_texts(card)
    assert "Printer state: Paper jam" in texts
    assert any(t.startswith("What to do: ") for t in texts)
    assert card.accessibleName() == "Printer, Critical, Paper jam"
    assert row.label.accessibleName() == "Printer state, Critical, Paper jam"


def test_an_all_normal_card_says_so_with_the_time_and_a_compact_line(make_app: Any) -> None:
    app = panel_with(make_app, reading(CPU, 12.0))
    card = app.panel.cards[Device.COMPUTER]
    texts = visible_texts(card)
    assert any(t.startswith("All normal · checked ") for t in texts), texts
    assert any(t.endswith(" · 12.0 %") for t in texts), texts  # the healthy items in one line
    assert card.accessibleName() == "Computer, OK"


def test_click_enter_and_space_open_and_close_the_rows_charts_opens_the_detail(
    make_app: Any, qtbot: Any
) -> None:
    app = panel_with(make_app, reading(CPU, 12.0))
    card = app.panel.cards[Device.COMPUTER]
    row = card.rows["pc.cpu"]
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
    assert card.expanded and row.value.isVisibleTo(card) and row.value.text() == "12.0 %"
    card.setFocus()
    qtbot.keyClick(card, Qt.Key.Key_Return)
    assert not card.expanded and not row.value.isVisibleTo(card)
    qtbot.keyClick(card, Qt.Key.Key_Space)
    assert card.expanded
    qtbot.mouseClick(card.charts_button, Qt.MouseButton.LeftButton)
    assert app.panel.stack.currentIndex() == 1 and app.panel.detail.device is Device.COMPUTER


def test_a_long_value_is_shortened_with_its_whole_text_in_the_tooltip(make_app: Any) -> None:
    long = Text("Out of paper; Print queue paused — Tray 1 is empty, load A4 paper and press Resume", "缺纸")
    app = panel_with(make_app, reading(PRINTER_STATE, "x", Level.OK, long))
    card = app.panel.cards[devices.PRINTER]
    card.set_expanded(True)
    value = card.rows["printer.state"].value
    value.resize(120, value.height())
    assert value.shown_text().endswith("…") and value.text() == long.en and value.toolTip() == long.en


def test_a_changed_value_rewrites_the_summary_and_a_changed_shape_frees_what_it_replaces(
    make_app: Any,
) -> None:
    """A card's summary follows every value: same lines are rewritten, replaced ones freed.

    Rebuilding on every change churned widgets several times a second, and
    ``takeAt`` leaves the ``QWidgetItem`` (and a taken sub-layout) to the
    caller: kept, they leaked all shift long (the soak's malloc growth).
    """
    import shiboken6

    def busy(value: float) -> Any:
        return reading(CPU, value, Level.CRITICAL, Text(f"CPU at {value}", f"CPU {value}"))

    app = panel_with(make_app, busy(97.0))
    card = app.panel.cards[Device.COMPUTER]

    def held_items() -> list[Any]:
        held = []
        for box in (card.problem_box, card.line_box):
            for index in range(box.count()):
                item = box.itemAt(index)
                held.append(item)
                inner = item.layout()
                if inner is not None:
                    held += [inner.itemAt(i) for i in range(inner.count())]
        return held

    before = held_items()
    assert any(item.layout() is not None for item in before)  # a problem line: a sub-layout of two
    labels_before = card.findChildren(QLabel)
    for value in (98.0, 99.0, 99.5):
        app.engine.ingest([busy(value)])
        app.panel.flush_pending()
    assert any("99.5" in t for t in visible_texts(card))  # the card shows the news ...
    assert not any("97.0" in t for t in visible_texts(card))
    assert held_items() == before and card.findChildren(QLabel) == labels_before  # ... in the same widgets

    app.engine.ingest([reading(CPU, 12.0)])  # the problem is gone: other lines
    app.panel.flush_pending()
    assert any(t.endswith(" · 12.0 %") for t in visible_texts(card))
    assert not [item for item in before if shiboken6.isValid(item)]  # every replaced item deleted
    assert all(shiboken6.isValid(item) for item in held_items())

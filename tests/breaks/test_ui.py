"""pytest-qt: the pre-break notice, the break windows, the quiet notice, install() into the app.

The service is stepped by hand with a fake clock; the widgets render what it says."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from app.core.breaks import BreakPlan, BreakRule, BreakService, BreakSettings, EventKind, Phase
from app.core.runtime import build_runtime
from app.kernel import i18n
from app.kernel.callstate import CallState
from app.kernel.model import Device
from app.ui import breaks as ui
from app.ui.breaks.windows import NOTICE_KEY
from app.ui.surface import Surface
from app.ui.translations import Translations
from tests.breaks.sim import MONDAY_9AM, FakeSource
from tests.conftest import FakeClock

MICRO = BreakSettings(plan=BreakPlan(BreakRule(60, 20), BreakRule(0, 0), 0))


class Rig:
    """A controller over a service with a fake clock, source and call state (stepped, no threads)."""

    def __init__(self, settings: BreakSettings = MICRO) -> None:
        self.clock = FakeClock(MONDAY_9AM)
        self.calls = CallState(hangover_seconds=0, clock=self.clock)
        self.source = FakeSource()
        self.service = BreakService(settings, call_state=self.calls, source=self.source, clock=self.clock)
        self.controller = ui.BreaksController(self.service)
        self.controller.render()

    def run(self, seconds: int, idle: bool = False) -> None:
        for _ in range(seconds):
            self.clock.advance(1)
            self.source.idle = self.source.idle + 1 if idle else 0.0
            self.service.step(self.source.idle, False)

    def until(self, phase: Phase, limit: int = 3600) -> None:
        for _ in range(limit):
            if self.service.phase is phase:
                return
            self.run(1, idle=phase is Phase.WORKING)
        raise AssertionError(f"never reached {phase}")

    def close(self) -> None:
        self.controller.close()
        self.service.close()


@pytest.fixture
def rig(qtbot: QtBot) -> Iterator[Rig]:
    made = Rig()
    yield made
    made.close()


def test_notice_shows_countdown_and_postpone_until_the_limit(rig: Rig, qtbot: QtBot) -> None:
    notice = rig.controller.notice
    assert not notice.isVisible()
    rig.until(Phase.NOTICE)
    assert notice.isVisible()
    assert notice.title.text() == "Micro-break in 30 s"
    rig.run(4)
    assert notice.title.text() == "Micro-break in 26 s"
    assert notice.postpone_button.text() == "&Postpone 5 min (2 left)"
    qtbot.mouseClick(notice.postpone_button, Qt.MouseButton.LeftButton)
    assert not notice.isVisible()
    assert rig.service.scheduler.today.postponed == 1
    rig.run(5 * 60)
    assert notice.isVisible() and notice.postpone_button.text() == "&Postpone 5 min (1 left)"
    qtbot.mouseClick(notice.postpone_button, Qt.MouseButton.LeftButton)
    rig.run(5 * 60)
    assert notice.isVisible()
    assert not notice.postpone_button.isEnabled()
    assert notice.postpone_button.text() == "No postpones left"


def test_notice_skip_is_counted(rig: Rig, qtbot: QtBot) -> None:
    rig.until(Phase.NOTICE)
    qtbot.mouseClick(rig.controller.notice.skip_button, Qt.MouseButton.LeftButton)
    assert not rig.controller.notice.isVisible()
    assert rig.service.scheduler.today.skipped == 1


def test_break_windows_cover_every_screen_and_count_down(rig: Rig, qtbot: QtBot) -> None:
    rig.until(Phase.NOTICE)
    qtbot.mouseClick(rig.controller.notice.start_button, Qt.MouseButton.LeftButton)
    windows = rig.controller.windows
    assert len(windows) == len(QGuiApplication.screens()) >= 1
    window = windows[0]
    assert window.isVisible() and not rig.controller.notice.isVisible()
    assert window.geometry() == QGuiApplication.screens()[0].geometry()
    assert window.countdown.text() == "00:20"
    assert window.exercise_title.text() == "Rest your eyes"
    assert "6 metres" in window.steps.text()
    rig.run(5, idle=True)
    assert window.countdown.text() == "00:15"
    assert window.progress.value() == 5
    assert not window.close()  # the clerk cannot just close it
    rig.run(15, idle=True)
    assert rig.controller.windows == []
    assert rig.service.scheduler.today.taken == 1


def test_break_window_skip_and_postpone(rig: Rig, qtbot: QtBot) -> None:
    rig.until(Phase.BREAK)
    window = rig.controller.windows[0]
    assert window.postpone_button.isVisible() and window.skip_button.isVisible()
    qtbot.mouseClick(window.postpone_button, Qt.MouseButton.LeftButton)
    assert rig.controller.windows == [] and rig.service.scheduler.today.postponed == 1
    rig.until(Phase.BREAK)
    qtbot.mouseClick(rig.controller.windows[0].skip_button, Qt.MouseButton.LeftButton)
    assert rig.controller.windows == [] and rig.service.scheduler.today.skipped == 1


def test_strict_mode_window_has_no_way_out_but_a_call(qtbot: QtBot) -> None:
    rig = Rig(replace(MICRO, strict=True))
    try:
        rig.until(Phase.NOTICE)
        assert not rig.controller.notice.skip_button.isVisible()
        assert not rig.controller.notice.postpone_button.isVisible()
        rig.until(Phase.BREAK)
        window = rig.controller.windows[0]
        assert not window.skip_button.isVisible() and not window.postpone_button.isVisible()
        assert window.strict_note.isVisible() and "cannot be skipped" in window.strict_note.text()
        rig.calls.set_source("test", True)
        rig.run(1)
        assert rig.controller.windows == []  # a call ends even a strict break
    finally:
        rig.close()


def test_nothing_shows_during_a_call_and_the_cap_gives_a_quiet_notice(rig: Rig, qtbot: QtBot) -> None:
    rig.calls.set_source("headset", True)
    seen: set[str] = set()
    for _ in range(20 * 60):
        rig.run(1)
        if rig.controller.notice.isVisible():
            seen.add("notice")
        if rig.controller.windows:
            seen.add("window")
    assert seen == set()
    assert rig.controller.quiet.isVisible()
    assert rig.controller.quiet.title.text() == "Micro-break overdue"
    assert "Held for your call for 19 min" in rig.controller.quiet.body.text()
    rig.calls.set_source("headset", False)
    rig.run(29)
    assert not rig.controller.notice.isVisible()  # wrap-up grace
    rig.run(2)
    assert rig.controller.notice.isVisible() and not rig.controller.quiet.isVisible()


@pytest.fixture
def chinese() -> Iterator[None]:
    """The app's zh_CN catalogue installed, as ``DeskwatchApp.set_language`` does."""
    translations = Translations()
    i18n.set_language("zh_CN")
    assert translations.install("zh_CN"), "resources/i18n/deskwatch_zh_CN.qm is missing"
    yield
    translations.install("en")


def test_everything_visible_is_chinese_under_zh_cn(rig: Rig, chinese: None) -> None:
    rig.until(Phase.NOTICE)
    notice = rig.controller.notice
    assert notice.title.text() == "30 秒后眼部小憩"
    assert notice.postpone_button.text() == "推迟 5 分钟(剩 2 次)(&P)"
    assert notice.start_button.text() == "立即开始(&N)"
    rig.until(Phase.BREAK)
    window = rig.controller.windows[0]
    assert window.title.text() == "现在是眼部小憩时间"
    assert window.exercise_title.text() == "放松眼睛"
    assert window.skip_button.text() == "跳过(&S)"
    card = rig.controller.card
    card.show()  # drawn while it can be seen
    assert "当前:休息中" in card.summary.text()
    assert card.take_button.text() == "立即休息"
    for label in [notice.title, notice.body, window.title, window.steps, card.summary]:
        assert not any(word in label.text() for word in ("break", "Break", "the ")), label.text()


def test_week_chart_shows_seven_days(rig: Rig, qtbot: QtBot) -> None:
    rig.run(30 * 60)
    rig.controller.card.show()
    chart = rig.controller.card.chart
    days = chart.days()
    assert len(days) == 7 and days[-1].work_seconds > 20 * 60
    rig.controller.card.resize(320, 220)
    image = rig.controller.card.grab().toImage()
    assert image.width() == 320


# -- install() into the app ---------------------------------------------------------------
@pytest.fixture
def surface(qtbot: QtBot, tmp_path: Path) -> Iterator[Surface]:
    """The app's surface on a runtime, without the rest of the app."""
    config = tmp_path / "deskwatch.toml"
    config.write_text('[breaks]\nactivity_source = "none"\n', "utf-8")
    runtime = build_runtime(data_dir=tmp_path, monitor_classes={}, config_path=config)
    made = Surface(runtime)
    yield made
    made.stop()
    runtime.stop()


def test_install_shows_the_runtimes_break_service(surface: Surface, qtbot: QtBot) -> None:
    ui.install(surface)
    controller = surface.feature(ui.BreaksController)
    assert controller is not None and controller.service is surface.runtime.breaks
    assert surface.card_slots() == {Device.BREAKS: [controller.card]}
    assert surface.handled(surface.take_break_requested) and surface.handled(
        surface.pause_reminders_requested
    )
    # The runtime's own thread samples the activity source and ticks; readings reach the engine.
    surface.runtime.start()
    qtbot.waitUntil(lambda: surface.engine.state("breaks.activity_source") is not None, timeout=10_000)
    state = surface.engine.state("breaks.activity_source")
    assert state is not None and state.detail == {"source": "none"}
    surface.take_break_requested.emit()
    assert controller.scheduler.phase is Phase.BREAK and controller.windows
    assert controller.windows[0].exercise_title.text() in ("Neck and shoulders", "Wrists and hands")
    surface.pause_reminders_requested.emit(15)
    assert controller.scheduler.phase is Phase.PAUSED and controller.windows == []
    surface.pause_reminders_requested.emit(0)
    surface.take_break_requested.emit()
    assert controller.windows
    # A call on the shared call state wakes the service's thread, which holds the break;
    # its update reaches the GUI thread through the controller's queued signal.
    surface.runtime.context.call_state.set_source("headset", True)
    qtbot.waitUntil(lambda: controller.windows == [], timeout=2000)
    assert controller.scheduler.phase is Phase.HELD
    assert any(e.kind is EventKind.BREAK_INTERRUPTED for e in controller.events)
    surface.stop()  # the app is stopping: the feature closes before the runtime stops
    assert controller._closed
    assert surface.runtime.breaks is not None and surface.runtime.breaks._listeners == []


def test_install_does_nothing_when_switched_off(qtbot: QtBot, tmp_path: Path) -> None:
    config = tmp_path / "off.toml"
    config.write_text("[breaks]\nenabled = false\n", "utf-8")
    runtime = build_runtime(data_dir=tmp_path, monitor_classes={}, config_path=config)
    assert runtime.breaks is None
    surface = Surface(runtime)
    ui.install(surface)
    assert surface.feature(ui.BreaksController) is None and surface.card_slots() == {}
    assert not surface.handled(surface.take_break_requested)  # the tray entry shows disabled
    surface.stop()
    runtime.stop()


def test_qt_binding_keeps_none_alive(qtbot: QtBot) -> None:
    """PySide6 6.12.0 on Python 3.11 decrements None on every void call.

    A 1 s timer that sets a few labels would abort the app within hours.
    """
    import sys

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.update()
    assert sys.getrefcount(None) - before > -100


# -- the keyboard -------------------------------------------------------------------------
ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture
def softphone(qtbot: QtBot) -> QLineEdit:
    """A window the clerk is typing into when the notice appears (it has the keyboard)."""
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    edit.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is edit, timeout=3000)
    edit.setFocus()
    return edit


def test_notice_never_takes_the_keyboard_and_its_key_goes_there(
    rig: Rig, qtbot: QtBot, softphone: QLineEdit
) -> None:
    qtbot.keyClicks(softphone, "acc")
    rig.until(Phase.NOTICE)
    notice = rig.controller.notice
    qtbot.waitExposed(notice)
    # The clerk goes on typing where they were: the notice took nothing.
    assert QApplication.activeWindow() is softphone and QApplication.focusWidget() is softphone
    qtbot.keyClicks(softphone, "ount 42")
    assert softphone.text() == "account 42"
    # The notice says which key goes to it; that key moves the keyboard there.
    assert f"{NOTICE_KEY}:" in notice.keys.text()
    assert NOTICE_KEY in notice.accessibleDescription()
    qtbot.keyClick(softphone, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | ALT)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is notice, timeout=3000)
    assert QApplication.focusWidget() is notice.phone_button
    # Tab walks the buttons in reading order.
    order = [notice.phone_button]
    for _ in range(3):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [notice.phone_button, notice.postpone_button, notice.skip_button, notice.start_button]
    # Alt+P postpones (a button's Alt key clicks it a moment later).
    qtbot.keyClick(notice, Qt.Key.Key_P, ALT)
    qtbot.waitUntil(lambda: rig.service.scheduler.today.postponed == 1, timeout=3000)
    assert not notice.isVisible()


@pytest.mark.parametrize(
    ("key", "outcome"),
    [(Qt.Key.Key_S, "skipped"), (Qt.Key.Key_N, "break"), (Qt.Key.Key_B, "phone")],
)
def test_notice_buttons_by_their_alt_keys(rig: Rig, qtbot: QtBot, key: Qt.Key, outcome: str) -> None:
    rig.until(Phase.NOTICE)
    notice = rig.controller.notice
    qtbot.waitExposed(notice)
    notice.take_focus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is notice, timeout=3000)
    for button in (notice.phone_button, notice.postpone_button, notice.skip_button, notice.start_button):
        assert "Alt+" in button.toolTip(), button.text()  # the key is shown, not only underlined
    qtbot.keyClick(notice, key, ALT)
    if outcome == "skipped":
        qtbot.waitUntil(lambda: rig.service.scheduler.today.skipped == 1, timeout=3000)
    elif outcome == "break":
        qtbot.waitUntil(lambda: rig.service.phase is Phase.BREAK, timeout=3000)
    else:
        qtbot.waitUntil(lambda: rig.service.scheduler.today.held_for_calls == 1, timeout=3000)
        assert not notice.isVisible() and rig.service.phase is not Phase.BREAK


def test_break_window_from_the_keyboard(rig: Rig, qtbot: QtBot) -> None:
    rig.until(Phase.BREAK)
    window = rig.controller.windows[0]
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.phone_button, timeout=3000)
    qtbot.keyClick(window.phone_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is window.postpone_button
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc does not end a break
    assert window.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_S, ALT)
    qtbot.waitUntil(lambda: rig.service.scheduler.today.skipped == 1, timeout=3000)
    rig.until(Phase.BREAK)
    window = rig.controller.windows[0]
    qtbot.keyClick(window, Qt.Key.Key_P, ALT)
    qtbot.waitUntil(lambda: rig.service.scheduler.today.postponed == 1, timeout=3000)
    rig.until(Phase.BREAK)
    window = rig.controller.windows[0]
    qtbot.keyClick(window, Qt.Key.Key_B, ALT)  # back to the phone
    qtbot.waitUntil(lambda: rig.service.scheduler.today.held_for_calls == 1, timeout=3000)
    assert rig.controller.windows == []


def test_break_windows_and_notices_are_named_for_a_screen_reader(rig: Rig, qtbot: QtBot) -> None:
    rig.until(Phase.NOTICE)
    notice = rig.controller.notice
    assert notice.accessibleName() == "Micro-break in 30 s"
    assert "the break starts by itself" in notice.accessibleDescription()
    assert notice.skip_button.accessibleName() == "Skip"
    rig.until(Phase.BREAK)
    window = rig.controller.windows[0]
    assert window.accessibleName() == "Time for a micro-break"
    assert "left" in window.accessibleDescription() and "Rest your eyes" in window.accessibleDescription()
    assert window.phone_button.accessibleName() == "Back to work: phone call"


def test_ticks_that_change_nothing_on_screen_do_not_reach_the_gui(
    rig: Rig, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered: list[Phase] = []
    rig.controller.updated.connect(lambda update: delivered.append(update.status.phase))
    card = rig.controller.card
    drawn: list[float | None] = []
    show_status = card.show_status
    monkeypatch.setattr(
        card, "show_status", lambda status, *rest: (drawn.append(status.next_in), show_status(status, *rest))
    )
    rig.run(20)  # working time, nothing of ours on screen (the card is in a hidden panel)
    # Not even laid out while hidden: a label's text loads the app font (in Chinese the CJK face).
    assert delivered.count(Phase.WORKING) <= 1 and drawn == [], delivered
    assert rig.controller.card.summary.text() == ""
    card.show()  # the panel opens: the card is drawn at once, with the time as it is now
    assert drawn[-1] == 40.0
    before = len(delivered)
    rig.run(5)  # then kept fresh every tick while it can be seen
    assert len(delivered) - before == 5 and drawn[-1] == 35.0
    card.hide()
    rig.until(Phase.NOTICE)  # a new phase is always passed on, and shows the notice
    assert delivered[-1] is Phase.NOTICE and rig.controller.notice.isVisible()

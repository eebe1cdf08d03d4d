"""The break reminder's windows: the pre-break notice, the break window on each screen, the quiet notice.

Widget chrome is translated with ``self.tr()`` (the Qt catalogue,
``resources/i18n/deskwatch_zh_CN.ts``); break kinds, phases and exercises are
domain text, :class:`~app.kernel.i18n.Text` pairs from :mod:`app.core.breaks`
rendered in the current language.  Nothing here decides what to show: the
controller (:mod:`app.ui.breaks.controller`) shows what the break service's
status says.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QGuiApplication, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core.breaks import BreakKind, BreakStatus
from app.kernel.i18n import current_language
from app.ui.keys import label

#: Goes to the pre-break notice from any Deskwatch window.  The notice itself never takes
#: the keyboard (the clerk may be typing into the CRM or the softphone when it appears);
#: this key, or a click, moves the focus there, and then Tab and the buttons' Alt keys work.
NOTICE_KEY = "Ctrl+Alt+N"

BREAK_BG = QColor("#17324d")
NOTICE_BORDER = QColor("#2f7ebf")
QUIET_BORDER = QColor("#d08a1e")


def kind_lower(kind: BreakKind | None, lang: str) -> str:
    """A break kind's name in running text ("a micro-break"; Chinese has no case)."""
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
        self.keys = QLabel()
        self.keys.setStyleSheet("color: #5b6270;")
        self.layout_.addWidget(self.keys)
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
        for button in (self.postpone_button, self.skip_button, self.start_button):
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        QWidget.setTabOrder(self.phone_button, self.postpone_button)
        QWidget.setTabOrder(self.postpone_button, self.skip_button)
        QWidget.setTabOrder(self.skip_button, self.start_button)
        # Works while any Deskwatch window has the keyboard; never grabs it on its own.
        self.go_to = QShortcut(QKeySequence(NOTICE_KEY), self)
        self.go_to.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.go_to.activated.connect(self.take_focus)

    def take_focus(self) -> None:
        """The clerk asked for the notice: activate it, the keyboard on its first button."""
        self.activateWindow()
        self.raise_()
        self.phone_button.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_status(self, status: BreakStatus, postpone_minutes: float) -> None:
        """Show ``status`` (phase NOTICE) in the current language."""
        lang = current_language()
        kind = status.kind.label(lang) if status.kind else ""
        seconds = int(status.remaining + 0.999)
        self.title.setText(self.tr("{kind} in {seconds} s").format(kind=kind, seconds=seconds))
        self.body.setText(self.tr("Finish what you are typing; the break starts by itself."))
        self.keys.setText(self.tr("{key}: go to these buttons").format(key=NOTICE_KEY))
        if status.can_postpone:
            text = self.tr("&Postpone {minutes:g} min ({left} left)")
            label(self.postpone_button, text.format(minutes=postpone_minutes, left=status.postpones_left))
        else:
            label(self.postpone_button, self.tr("No postpones left"))
        self.postpone_button.setEnabled(status.can_postpone)
        self.postpone_button.setVisible(not status.strict)
        label(self.skip_button, self.tr("&Skip"))
        self.skip_button.setVisible(status.can_skip)
        label(self.start_button, self.tr("Start &now"))
        label(self.phone_button, self.tr("&Back to work: phone call"))  # Alt+B
        self.setAccessibleName(self.title.text())
        self.setAccessibleDescription(f"{self.body.text()} {self.keys.text()}")


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
        self.setAccessibleName(self.title.text())
        self.setAccessibleDescription(self.body.text())


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
        for text_label, scale, bold in (
            (self.title, 2.2, True),
            (self.countdown, 5.0, True),
            (self.exercise_title, 1.6, True),
            (self.steps, 1.35, False),
            (self.strict_note, 1.1, False),
        ):
            font = QFont(text_label.font())
            font.setPointSizeF(max(9.0, font.pointSizeF()) * scale)
            font.setBold(bold)
            text_label.setFont(font)
            text_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.steps.setWordWrap(True)
        self.steps.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.steps.setFixedWidth(640)
        self.postpone_button = QPushButton()
        self.skip_button = QPushButton()
        self.phone_button = _phone_button()
        self.postpone_button.clicked.connect(self.postpone_clicked.emit)
        self.skip_button.clicked.connect(self.skip_clicked.emit)
        self.phone_button.clicked.connect(self.phone_clicked.emit)
        for button in (self.postpone_button, self.skip_button):
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        QWidget.setTabOrder(self.phone_button, self.postpone_button)
        QWidget.setTabOrder(self.postpone_button, self.skip_button)
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
        self.title.setText(self.tr("Time for a {kind}").format(kind=kind_lower(status.kind, lang)))
        self.countdown.setText(_mmss(status.remaining))
        self.progress.setMaximum(max(1, int(status.duration)))
        self.progress.setValue(int(status.duration - status.remaining))
        exercise = status.exercise
        self.exercise_title.setText(exercise.title(lang) if exercise else "")
        self.steps.setText(
            "\n".join(f"{n}. {step(lang)}" for n, step in enumerate(exercise.steps, 1)) if exercise else ""
        )
        text = self.tr("&Postpone {minutes:g} min ({left} left)")
        label(self.postpone_button, text.format(minutes=postpone_minutes, left=status.postpones_left))
        self.postpone_button.setVisible(status.can_postpone)
        label(self.skip_button, self.tr("&Skip"))
        self.skip_button.setVisible(status.can_skip)
        label(self.phone_button, self.tr("&Back to work: phone call"))  # Alt+B
        self.strict_note.setText(
            self.tr("Strict mode: this break cannot be skipped. A call ends it at once.")
        )
        self.strict_note.setVisible(status.strict)
        self.setAccessibleName(self.title.text())
        spoken = [self.tr("{time} left").format(time=self.countdown.text()), self.exercise_title.text()]
        if status.strict:
            spoken.append(self.strict_note.text())
        self.setAccessibleDescription(". ".join(part for part in spoken if part))

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

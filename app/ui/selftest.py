"""Start-of-shift check and report dialogs, plugged into the tray app by ``install(surface)``.

The app calls :func:`install` with its :class:`~app.ui.surface.Surface`:
the feature handles the ``selftest_requested`` / ``report_requested``
requests (emitted by the tray menu and the panel), puts its "Reports…" entry
after the check's in the tray menu, and registers itself on the surface.  The
check and the report run on the surface's worker, each in its own lane, so
a slow check never holds up the panel; results come back on the GUI thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QDate, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core import selftest
from app.ui.bridge import Job
from app.ui.keys import label, name
from app.ui.markup import escape
from app.ui.surface import Surface

log = logging.getLogger(__name__)

# Seconds after start-up before offering the check: the first readings are in by then.
OFFER_DELAY_MS = 4000
STATUS_COLOURS = {selftest.PASS: "#2c7a3f", selftest.FAIL: "#c22f36", selftest.SKIPPED: "#6b7280"}


#: Worker lanes: one check and one report at a time, beside the panel's own work.
CHECK_LANE, REPORT_LANE = "selftest.check", "selftest.report"


class CheckRow(QFrame):
    """One checklist line: a coloured status, the check's name, what was found and what to do."""

    def __init__(self, name: str, status: str, message: str, advice: str | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.status = status
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        self.mark = QLabel(selftest.STATUS_TEXT[status](), self)
        self.mark.setMinimumWidth(72)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.mark.setStyleSheet(f"color: {STATUS_COLOURS[status]}; font-weight: bold;")
        layout.addWidget(self.mark)
        parts = [f"<b>{escape(name)}</b>", escape(message).replace("\n", "<br/>")]
        if advice:
            parts.append(f'<span style="color:#5b6270">→ {escape(advice)}</span>')
        self.text = QLabel("<br/>".join(parts), self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text, 1)
        # A tab stop of its own, so a screen reader reads the checklist line by line.
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        spoken = ", ".join(part for part in (name, self.mark.text(), message, advice) if part)
        self.setAccessibleName(spoken)
        self.setAccessibleDescription(advice or "")


class SelfTestDialog(QDialog):
    """The checklist: run the check, show pass / fail / skipped and what to do."""

    finished_check = Signal(object)

    def __init__(self, surface: Surface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface = surface
        self.last_result: selftest.SelfTestResult | None = None
        self.job: Job[selftest.SelfTestResult] | None = None
        self.rows: list[CheckRow] = []
        self.setWindowTitle(self.tr("Start-of-shift check"))
        self.resize(680, 460)
        layout = QVBoxLayout(self)
        self.summary = QLabel(self.tr("Check that every device works before you start taking calls."), self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        self.list_holder = QWidget(scroll)
        self.list_layout = QVBoxLayout(self.list_holder)
        self.list_layout.addStretch(1)
        scroll.setWidget(self.list_holder)
        layout.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.test_page = QCheckBox(self.tr("&Print a test page"), self)
        self.test_page.setChecked(bool(surface.config.get("selftest", "test_page")))
        row.addWidget(self.test_page)
        row.addStretch(1)
        self.run_button = QPushButton(self)
        label(self.run_button, self.tr("&Run check"))
        self.run_button.setDefault(True)  # Enter runs the check; Esc closes
        self.run_button.clicked.connect(self.start)
        row.addWidget(self.run_button)
        self.close_button = QPushButton(self)
        label(self.close_button, self.tr("&Close"), self.tr("Close the checklist (Esc)"))
        self.close_button.clicked.connect(self.close)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        name(self.summary, self.tr("Check summary"))
        name(scroll, self.tr("Checklist"))

    def _clear(self) -> None:
        for row in self.rows:
            self.list_layout.removeWidget(row)
            row.deleteLater()
        self.rows.clear()

    def start(self) -> None:
        """Run the check off the GUI thread (ignored while one is running)."""
        if self.busy():
            return
        self.run_button.setEnabled(False)
        self._clear()
        self.summary.setStyleSheet("")
        self.summary.setText(self.tr("Checking the devices…"))
        runtime = self.surface.runtime
        options = {"test_page": self.test_page.isChecked()}

        def work() -> selftest.SelfTestResult:
            check = selftest.SelfTest(
                runtime.config, list(runtime.monitors), engine=runtime.engine, use_latest_states=True
            )
            result = check.run(options)
            if runtime.history is not None:
                selftest.store(runtime.history, result)
            return result

        self.job = self.surface.worker.submit(work, self._show, self._failed, lane=CHECK_LANE, context=self)
        if self.job is None:  # the app is stopping
            self.run_button.setEnabled(True)

    def busy(self) -> bool:
        """Whether a check is running."""
        return self.job is not None and not self.job.done()

    def _failed(self, error: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.summary.setText(self.tr("The check could not run: %1").replace("%1", str(error)))

    def _show(self, result: selftest.SelfTestResult) -> None:
        self.run_button.setEnabled(True)
        self.last_result = result
        for check in result.checks:
            for line in check.results:
                advice = line.advice() if line.advice is not None and line.status != selftest.PASS else None
                row = CheckRow(check.line_title(line), line.status, line.message(), advice, self.list_holder)
                # Before the stretch that keeps the rows at the top.
                self.list_layout.insertWidget(len(self.rows), row)
                row.show()
                self.rows.append(row)
        counts = result.counts()
        if result.passed:
            text = self.tr("All devices are ready (%1 passed, %2 skipped).")
        else:
            text = self.tr("%3 check(s) failed: see what to do below (%1 passed, %2 skipped).")
        self.summary.setText(
            text.replace("%1", str(counts["pass"]))
            .replace("%2", str(counts["skipped"]))
            .replace("%3", str(counts["fail"]))
        )
        colour = STATUS_COLOURS[selftest.PASS if result.passed else selftest.FAIL]
        self.summary.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.finished_check.emit(result)


class ReportDialog(QDialog):
    """Pick a date range and write the HTML report and the CSV of alerts."""

    written = Signal(object)

    def __init__(self, surface: Surface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface = surface
        self.job: Job[tuple[Path, Path]] | None = None
        self.paths: tuple[Path, Path] | None = None
        self.setWindowTitle(self.tr("Reports"))
        self.setMinimumWidth(560)
        form = QFormLayout(self)
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-6), self)
        self.date_to = QDateEdit(today, self)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        form.addRow(self.tr("&From"), self.date_from)
        form.addRow(self.tr("&To"), self.date_to)
        name(self.date_from, self.tr("First day of the report"))
        name(self.date_to, self.tr("Last day of the report"))
        self.per = QComboBox(self)
        self.per.addItem(self.tr("Per day"), "day")
        self.per.addItem(self.tr("Per shift"), "shift")
        form.addRow(self.tr("C&olumns"), self.per)
        name(self.per, self.tr("Columns"), self.tr("Per day or per shift"))
        folder_row = QHBoxLayout()
        runtime = surface.runtime
        self.folder = QLineEdit(str(Path(runtime.context.data_dir) / "reports"), self)
        name(self.folder, self.tr("Save in"), self.tr("The folder the report files are written to"))
        browse = QPushButton(self)
        label(browse, self.tr("&Browse…"), self.tr("Choose the folder"))
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        save_in = QLabel(self.tr("&Save in"), self)
        save_in.setBuddy(self.folder)
        form.addRow(save_in, folder_row)
        self.open_after = QCheckBox(self.tr("Open the report &when it is ready"), self)
        self.open_after.setChecked(True)
        form.addRow("", self.open_after)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setOpenExternalLinks(True)  # the saved files are links
        form.addRow(self.status)
        buttons = QDialogButtonBox(self)
        self.generate_button = buttons.addButton(
            self.tr("Create &report"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.generate_button.setDefault(True)  # Enter creates the report; Esc closes
        name(self.status, self.tr("Report status"))
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.generate_button.clicked.connect(self.generate)
        buttons.rejected.connect(self.close)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Save reports in"), self.folder.text())
        if folder:
            self.folder.setText(folder)

    def generate(self) -> None:
        """Write the report on a worker thread."""
        if self.busy():
            return
        first = _to_date(self.date_from.date())
        last = _to_date(self.date_to.date())
        per = str(self.per.currentData())
        outdir = Path(self.folder.text().strip() or ".")
        runtime = self.surface.runtime
        self.generate_button.setEnabled(False)
        self.status.setText(self.tr("Creating the report…"))

        def work() -> tuple[Path, Path]:
            from app.core import reports  # loaded when a report is first made, not in every tray app

            if runtime.history is None:
                raise ValueError("no history is kept in this mode")
            shifts = reports.parse_shifts(runtime.config.get("reports", "shifts"))
            indicators = runtime.engine.indicators  # the registry in force
            data = reports.gather(runtime.history, first, last, per=per, shifts=shifts, indicators=indicators)
            return reports.write_report(data, outdir)

        self.job = self.surface.worker.submit(work, self._done, self._failed, lane=REPORT_LANE, context=self)
        if self.job is None:  # the app is stopping
            self.generate_button.setEnabled(True)

    def busy(self) -> bool:
        """Whether a report is being written."""
        return self.job is not None and not self.job.done()

    def _failed(self, error: BaseException) -> None:
        self.generate_button.setEnabled(True)
        message = self.tr("The report could not be created: %1").replace("%1", str(error))
        self.status.setText(escape(message))

    def _done(self, result: tuple[Path, Path]) -> None:
        self.generate_button.setEnabled(True)
        self.paths = result
        html_path, csv_path = result
        links = "<br/>".join(
            f'<a href="{QUrl.fromLocalFile(str(path)).toString()}">{escape(str(path))}</a>'
            for path in (html_path, csv_path)
        )
        self.status.setText(escape(self.tr("Saved:")) + "<br/>" + links)
        self.adjustSize()
        if self.open_after.isChecked():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(html_path)))
        self.written.emit(result)


def _to_date(date: QDate) -> dt.date:
    return dt.date(date.year(), date.month(), date.day())


class SelfTestFeature(QObject):
    """Owns the dialogs and the first-login offer for one app."""

    def __init__(self, surface: Surface) -> None:
        super().__init__(surface)
        self.surface = surface
        self.dialog: SelfTestDialog | None = None
        self.report_dialog: ReportDialog | None = None
        self.offer_box: QMessageBox | None = None
        self.reports_action: QAction | None = None
        self.offer_timer = QTimer(self)
        self.offer_timer.setSingleShot(True)
        self.offer_timer.timeout.connect(self.offer_if_first_login)

    def add_reports_action(self, anchor: QAction | None) -> QAction:
        """The tray-menu entry for reports, right after ``anchor`` (the check's entry)."""
        action = QAction(self.tr("&Reports…"), self.surface.tray_menu)
        action.triggered.connect(lambda _checked=False: self.show_reports())
        self.surface.insert_action_after(anchor, action)
        self.reports_action = action
        return action

    def retranslate(self) -> None:
        """After a language change: new menu text; closed dialogs are rebuilt when next opened."""
        if self.reports_action is not None:
            self.reports_action.setText(self.tr("&Reports…"))
        if self.dialog is not None and _idle_and_closed(self.dialog):
            self.dialog = None
        if self.report_dialog is not None and _idle_and_closed(self.report_dialog):
            self.report_dialog = None

    def close(self) -> None:
        """The app is stopping: no offer any more, and the dialogs close."""
        self.offer_timer.stop()
        for dialog in (self.dialog, self.report_dialog, self.offer_box):
            if dialog is not None:
                dialog.close()

    def show_selftest(self, run: bool = True) -> SelfTestDialog:
        """Open (or raise) the checklist and start a check."""
        if self.dialog is None:
            self.dialog = SelfTestDialog(self.surface, self.surface.dialog_parent())
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        if run:
            self.dialog.start()
        return self.dialog

    def show_reports(self) -> ReportDialog:
        """Open (or raise) the report dialog."""
        if self.report_dialog is None:
            self.report_dialog = ReportDialog(self.surface, self.surface.dialog_parent())
        self.report_dialog.show()
        self.report_dialog.raise_()
        self.report_dialog.activateWindow()
        return self.report_dialog

    def offer_if_first_login(self) -> None:
        """Ask once a day (at the first start of the day) whether to run the check now.

        Reading and marking the day touches the history database, so it runs
        off the GUI thread; the question appears when the answer comes back.
        """
        runtime = self.surface.runtime
        self.surface.worker.submit(
            lambda: selftest.should_offer(runtime.config, runtime.history), self._offer, context=self
        )

    def _offer(self, offer: bool) -> None:
        if not offer:
            return
        box = QMessageBox(self.surface.dialog_parent())
        box.setWindowTitle(self.tr("Start-of-shift check"))
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(
            self.tr(
                "Before taking calls: check now that the phone, headset, computer, recorder and printer work?"
            )
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText(self.tr("Check now"))
        yes.clicked.connect(lambda: self.show_selftest(run=True))
        box.button(QMessageBox.StandardButton.No).setText(self.tr("Later"))
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()
        self.offer_box = box


def _idle_and_closed(dialog: SelfTestDialog | ReportDialog) -> bool:
    """Delete a dialog that is neither shown nor working (it is rebuilt in the new language)."""
    if dialog.isVisible() or dialog.busy():
        return False
    dialog.deleteLater()
    return True


def install(surface: Surface) -> None:
    """Handle the check and report requests, add the Reports entry, offer the check at first login."""
    feature = surface.add_feature(SelfTestFeature(surface))
    surface.selftest_requested.connect(lambda: feature.show_selftest(run=True))
    surface.report_requested.connect(feature.show_reports)
    anchor: QAction | None = None
    with contextlib.suppress(KeyError):
        anchor = surface.action("selftest")
    feature.add_reports_action(anchor)
    surface.language_changed.connect(lambda _language: feature.retranslate())
    surface.stopping.connect(feature.close)
    # Owned by the feature, so it dies with the app instead of firing into a deleted object.
    feature.offer_timer.start(OFFER_DELAY_MS)

"""File › Shift report…: the handover report of the outgoing shift, as a PDF or a CSV.

The dispatcher picks the period (this shift: the last N hours, or since a date and time,
until now), writes the handover note, picks the format and the file, and writes. The
journal is read on a thread of its own (a read-only connection, so the recording process
never waits for it); the PDF is laid out on the GUI thread afterwards (Qt's text layout),
at most a few hundred rows (`app/reports/shift.py`). Nothing else opens: the dialog says
where the report went, and a click on that link opens it.

    open_shift_report(ctx, parent)  # the File menu's and the alarm panel's entry point

Uses of the context: `journal_path`, `settings` (the alarm severities the user set, under
"alarms/severities", and the dialog's own choices under "shift_report/") and `operator`.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.fleet.severity import SeverityTable

log = logging.getLogger(__name__)

SEVERITIES_KEY = "alarms/severities"  # SeverityTable.to_text(), written by Settings
HOURS_KEY = "shift_report/hours"
FORMAT_KEY = "shift_report/format"
FOLDER_KEY = "shift_report/folder"
SUFFIX = {"pdf": ".pdf", "csv": ".csv"}


class _Done(QObject):
    """Carries the worker thread's result to the GUI thread."""

    sig_read_finished = Signal(object, object, str)
    """The ShiftSummary (None on failure), the ShiftReportInfo, the error ("" when read)."""


class ShiftReportDialog(QDialog):
    sig_report_finished = Signal(str, str)
    """Path, error ("" when the report was written)."""

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Shift report")
        self.setObjectName("shift_report_dialog")
        self.running = False
        self._writing: tuple[Path, str] = (Path(), "pdf")
        self.last_summary = None  # the ShiftSummary of the last report written
        settings = ctx.settings

        # -- period
        period = QGroupBox("Period")
        grid = QGridLayout(period)
        self.this_shift = QRadioButton("This shift: the last")
        self.hours = QSpinBox()
        self.hours.setRange(1, 72)
        self.hours.setSuffix(" h")
        self.hours.setValue(_int(settings.value(HOURS_KEY, 8), 8, 1, 72))
        self.since_radio = QRadioButton("Since")
        self.since_edit = QDateTimeEdit()
        self.since_edit.setCalendarPopup(True)
        self.since_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        start = QDateTime.currentDateTime().addSecs(-3600 * self.hours.value())
        start.setTime(start.time().addSecs(-60 * start.time().minute()))  # on the hour
        self.since_edit.setDateTime(start)
        group = QButtonGroup(self)
        group.addButton(self.this_shift)
        group.addButton(self.since_radio)
        self.this_shift.setChecked(True)
        grid.addWidget(self.this_shift, 0, 0)
        grid.addWidget(self.hours, 0, 1)
        grid.addWidget(QLabel("until now"), 0, 2)
        grid.addWidget(self.since_radio, 1, 0)
        grid.addWidget(self.since_edit, 1, 1)
        grid.addWidget(QLabel("until now"), 1, 2)
        self.period_label = QLabel()
        self.period_label.setObjectName("muted")
        grid.addWidget(self.period_label, 2, 0, 1, 3)
        grid.setColumnStretch(2, 1)

        # -- note
        note_box = QGroupBox("Handover note")
        note_layout = QVBoxLayout(note_box)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What the next shift must know: alarms left open and "
                                     "why, calls to return, devices to watch…")
        self.note.setTabChangesFocus(True)
        note_layout.addWidget(self.note)

        # -- format and file
        out_box = QGroupBox("Report")
        out = QGridLayout(out_box)
        self.pdf_radio = QRadioButton("PDF (to print or send)")
        self.csv_radio = QRadioButton("CSV (every alarm, for a spreadsheet)")
        formats = QButtonGroup(self)
        formats.addButton(self.pdf_radio)
        formats.addButton(self.csv_radio)
        (self.csv_radio if settings.value(FORMAT_KEY, "pdf") == "csv"
         else self.pdf_radio).setChecked(True)
        row = QHBoxLayout()
        row.addWidget(self.pdf_radio)
        row.addWidget(self.csv_radio)
        row.addStretch(1)
        out.addLayout(row, 0, 0, 1, 3)
        out.addWidget(QLabel("File:"), 1, 0)
        self.path_edit = QLineEdit()
        self.path_edit.setClearButtonEnabled(True)
        folder = Path(str(settings.value(FOLDER_KEY, "") or Path.home()))
        self.path_edit.setText(str(folder / f"shift-report-{datetime.now():%Y-%m-%d-%H%M}"
                                   f"{SUFFIX[self.format]}"))
        out.addWidget(self.path_edit, 1, 1)
        self.choose = QPushButton("Choose…")
        self.choose.clicked.connect(self.choose_file)
        out.addWidget(self.choose, 1, 2)
        out.setColumnStretch(1, 1)

        # -- progress and buttons
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: reading a journal has no known length
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing())
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.status.linkActivated.connect(self._open_link)
        buttons = QDialogButtonBox()
        self.write_button = buttons.addButton("Write report",
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setDefault(True)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.write)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(period)
        layout.addWidget(note_box, 1)
        layout.addWidget(out_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(560, 520)

        self._done = _Done()
        self._done.sig_read_finished.connect(self._read_finished)
        for signal in (self.this_shift.toggled, self.since_radio.toggled):
            signal.connect(self._show_period)
        self.hours.valueChanged.connect(self._show_period)
        self.since_edit.dateTimeChanged.connect(self._since_edited)
        self.pdf_radio.toggled.connect(self._format_changed)
        self._show_period()

    # -- choices -------------------------------------------------------------------------

    @property
    def format(self) -> str:
        return "csv" if self.csv_radio.isChecked() else "pdf"

    def set_format(self, fmt: str) -> None:
        (self.csv_radio if fmt == "csv" else self.pdf_radio).setChecked(True)

    def period(self, now: float | None = None) -> tuple[float, float]:
        """(since, until) as epoch seconds; until is now."""
        until = time.time() if now is None else now
        if self.this_shift.isChecked():
            return until - 3600 * self.hours.value(), until
        return float(self.since_edit.dateTime().toSecsSinceEpoch()), until

    def path(self) -> Path | None:
        """The file to write, with the format's ending (added when the name has none)."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if path.suffix.lower() not in SUFFIX.values():
            path = path.with_name(path.name + SUFFIX[self.format])
        return path

    def _since_edited(self) -> None:
        self.since_radio.setChecked(True)
        self._show_period()

    def _show_period(self) -> None:
        from app.reports.shift import duration

        since, until = self.period()
        text = (f"{_utc(since)} – {_utc(until)} UTC ({duration(until - since)}); the report's "
                "times are UTC")
        if since >= until:
            text = "The period starts in the future: pick an earlier time."
        self.period_label.setText(text)

    def _format_changed(self) -> None:
        path = self.path_edit.text().strip()
        for suffix in SUFFIX.values():
            if path.lower().endswith(suffix):
                self.path_edit.setText(path[: -len(suffix)] + SUFFIX[self.format])
                break

    def choose_file(self) -> None:
        pdf, csv = "PDF (*.pdf)", "CSV (*.csv)"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save the shift report", self.path_edit.text(),
            f"{pdf};;{csv}", pdf if self.format == "pdf" else csv)
        if not path:
            return
        suffix = Path(path).suffix.lower()
        if suffix in (".pdf", ".csv"):
            self.set_format(suffix[1:])
        elif chosen == csv:
            self.set_format("csv")
        self.path_edit.setText(path)

    # -- writing -------------------------------------------------------------------------

    def write(self) -> bool:
        """Start writing the report; False (and why, in the status line) when it cannot."""
        if self.running:
            return False
        path = self.path()
        if path is None:
            return self._refuse("Choose the file to write the report to.")
        since, until = self.period()
        if since >= until:
            return self._refuse("The period starts in the future: pick an earlier time.")
        if not path.parent.is_dir():
            return self._refuse(f"There is no folder {path.parent}.")
        from app.reports.shift import ShiftReportInfo, severities_text

        settings = self.ctx.settings
        severities = SeverityTable.from_text(str(settings.value(SEVERITIES_KEY, "") or ""))
        info = ShiftReportInfo(operator=str(self.ctx.operator or ""),
                               note=self.note.toPlainText(),
                               journal=Path(self.ctx.journal_path).name,
                               severities=severities_text(severities))
        settings.setValue(HOURS_KEY, self.hours.value())
        settings.setValue(FORMAT_KEY, self.format)
        settings.setValue(FOLDER_KEY, str(path.parent))
        self.path_edit.setText(str(path))
        self._busy(True, "Reading the journal…")
        fmt, journal_path, done = self.format, str(self.ctx.journal_path), self._done

        def work() -> None:
            try:
                from app.journal.shift import read_shift
                from app.journal.url import open_journal

                with open_journal(journal_path, readonly=True) as journal:
                    summary = read_shift(journal.conn, since, until, severities)
                if fmt == "csv":
                    from app.reports.shift import write_csv

                    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
                        write_csv(summary, info, fh)
            except Exception as exc:
                log.exception("shift report")
                done.sig_read_finished.emit(None, info, _reason(exc))
                return
            done.sig_read_finished.emit(summary, info, "")

        self._writing = (path, fmt)
        threading.Thread(target=work, name="shift-report", daemon=True).start()
        return True

    def _read_finished(self, summary, info, error: str) -> None:
        path, fmt = self._writing
        if error:
            self._finish(path, f"Cannot write the report: {error}")
            return
        if fmt == "csv":
            self._finish(path, "", summary)
            return
        self.status.setText(f"Laying out the PDF ({summary.total.raised} alarms)…")
        QTimer.singleShot(0, lambda: self._write_pdf(summary, info, path))

    def _write_pdf(self, summary, info, path: Path) -> None:
        from app.ui.shift_report_pdf import write_shift_pdf

        try:
            write_shift_pdf(summary, info, path)
        except Exception as exc:
            log.exception("shift report PDF")
            self._finish(path, f"Cannot write the report: {_reason(exc)}")
            return
        self._finish(path, "", summary)

    def _finish(self, path: Path, error: str, summary=None) -> None:
        from app.reports.shift import headline

        self._busy(False)
        if error:
            self.status.setText(html.escape(error))
        else:
            self.last_summary = summary
            url = QUrl.fromLocalFile(str(path)).toString()
            self.status.setText(f"{html.escape(headline(summary))}.<br/>Written to "
                                f'<a href="{html.escape(url)}">{html.escape(str(path))}</a>')
        self.sig_report_finished.emit(str(path), error)

    def _refuse(self, message: str) -> bool:
        self.status.setText(html.escape(message))
        return False

    def _busy(self, busy: bool, text: str = "") -> None:
        self.running = busy
        self.progress.setVisible(busy)
        self.write_button.setEnabled(not busy)
        if text:
            self.status.setText(html.escape(text))

    def _open_link(self, url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))


def open_shift_report(ctx, parent: QWidget | None = None) -> ShiftReportDialog:
    """Show the Shift report dialog (the one already open under `parent`, if any) and return
    it; it is not modal, the window keeps running behind it."""
    dialog = parent.findChild(ShiftReportDialog) if parent is not None else None
    if dialog is None:
        dialog = ShiftReportDialog(ctx, parent)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _int(value: object, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(str(value))))
    except ValueError:
        return default


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)

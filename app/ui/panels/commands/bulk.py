"""Bulk: one command to many devices, paced, with progress and a summary of the answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import csvsafe
from app.commands.builder import Command, CommandError, check_device, mask_secrets
from app.commands.replies import label_reply
from app.commands.tracker import TrackedCommand
from app.protocol.redact import MASK
from app.ui.panels.commands.confirm import ConfirmDialog, mono_font
from app.ui.panels.commands.console import CommandConsole, SendRefused
from app.ui.panels.commands.history_model import STATE_COLOURS, STATE_WORDS
from app.ui.widgets.table_model import AnyIndex, RowsTableModel

CSV_HEADER = ("device", "state", "outcome", "firmware", "IMEI", "ICCID", "answered_in_s",
              "serial", "text", "profile")


@dataclass
class BulkRow:
    device: str
    command: Command | None = None
    profile: str = ""
    state: str = "waiting"  # waiting = not sent yet; then the tracker's states
    reason: str = ""
    tracker_id: int | None = None
    reply: Any = None
    reply_type: str | None = None
    answered_in: float | None = None

    def fields(self) -> dict[str, str]:
        if self.state != "answered":
            return {}
        return dict(label_reply(self.reply_type or "", self.reply))

    def outcome(self) -> str:
        if self.state == "answered":
            return "answered"
        return self.reason


class BulkModel(RowsTableModel):
    HEADERS = ("Device", "State", "Reason", "Firmware", "IMEI", "ICCID", "Answered in")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[BulkRow] = []
        self._by_id: dict[int, int] = {}

    @property
    def rows(self) -> list[BulkRow]:
        return self._rows

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        c = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(r)[c] if 0 <= c < len(self.HEADERS) else None
        if role == Qt.ItemDataRole.ForegroundRole and c == 1:
            return STATE_COLOURS.get(r.state)
        return None

    @staticmethod
    def cells(r: BulkRow) -> tuple[str, ...]:
        f = r.fields()
        return (
            r.device,
            STATE_WORDS.get(r.state, r.state),
            r.outcome() if r.state != "answered" else "",
            f.get("firmware", ""),
            f.get("IMEI", ""),
            f.get("ICCID", ""),
            "" if r.answered_in is None else f"{r.answered_in:.2f} s",
        )

    def set_rows(self, rows: list[BulkRow]) -> None:
        self.beginResetModel()
        self._rows = rows
        self._by_id = {}
        self.endResetModel()

    def bind(self, row: int, tracker_id: int) -> None:
        self._by_id[tracker_id] = row

    def update(self, tc: TrackedCommand) -> bool:
        i = self._by_id.get(tc.id)
        if i is None:
            return False
        r = self.rows[i]
        r.state, r.reason = tc.state.value, tc.reason
        r.reply, r.reply_type = tc.reply, tc.reply_type
        if tc.answered_at is not None and tc.sent_at is not None and tc.state.value == "answered":
            r.answered_in = max(0.0, tc.answered_at - tc.sent_at)
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))
        return True

    def mark(self, i: int, state: str, reason: str) -> None:
        self.rows[i].state, self.rows[i].reason = state, reason
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in ("waiting", "queued", "sent", "answered", "failed", "timed_out",
                              "not_sent")}
        for r in self.rows:
            out[r.state] = out.get(r.state, 0) + 1
        return out


def parse_ids(text: str) -> list[str]:
    """Ids one per line or separated by commas/spaces; duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\s,;]+", text):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)


def write_summary(path: str, rows: list[BulkRow]) -> int:
    """The bulk summary as CSV: a row per device (firmware, IMEI… as the device answered)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csvsafe.writer(fh)  # what a device answers is its text: never a formula
        w.writerow(CSV_HEADER)
        for r in rows:
            f = r.fields()
            w.writerow((
                r.device, r.state, r.outcome(), f.get("firmware", ""), f.get("IMEI", ""),
                f.get("ICCID", ""), "" if r.answered_in is None else f"{r.answered_in:.3f}",
                r.command.serial if r.command and r.command.serial else "",
                mask_secrets(r.command.text, mask=MASK) if r.command else "", r.profile,
            ))
    return len(rows)


class BulkDialog(QDialog):
    sig_bulk_finished = Signal()
    """Every command of the bulk run is answered, failed or timed out."""

    def __init__(self, console: CommandConsole, build, devices: list[str], describe: str,
                 fallback_profile: str = "", parent: QWidget | None = None) -> None:
        """`build(device, serial) -> Command` composes the current form for one device."""
        super().__init__(parent)
        self.setWindowTitle("Send to selection")
        self.setObjectName("commands_bulk")
        self.console = console
        self.build = build
        self.fallback_profile = fallback_profile
        self.confirm_dialog: ConfirmDialog | None = None
        self.model = BulkModel(self)
        self._queue: list[int] = []
        self._running = False
        self._finished = False
        self.cancelled = False
        self.resize(820, 560)

        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Command: <b>{describe}</b> — the same command to every device, "
                             "each with its own serial."))
        ids_row = QHBoxLayout()
        self.ids_edit = QPlainTextEdit("\n".join(devices))
        self.ids_edit.setObjectName("bulk_ids")
        self.ids_edit.setFont(mono_font())
        self.ids_edit.setPlaceholderText("device ids, one per line (or paste a list)")
        self.ids_edit.setMaximumHeight(90)
        ids_row.addWidget(self.ids_edit, 1)
        side = QVBoxLayout()
        self.count_label = QLabel("")
        side.addWidget(self.count_label)
        pace = QHBoxLayout()
        pace.addWidget(QLabel("Pace"))
        self.rate_spin = QSpinBox()
        self.rate_spin.setRange(1, 50)
        self.rate_spin.setValue(20)
        self.rate_spin.setSuffix(" / s")
        pace.addWidget(self.rate_spin)
        side.addLayout(pace)
        side.addStretch(1)
        ids_row.addLayout(side)
        lay.addLayout(ids_row)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #d03b3b;")
        self.error_label.setWordWrap(True)
        lay.addWidget(self.error_label)

        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m closed")
        lay.addWidget(self.progress)
        self.progress_label = QLabel("Not started.")
        lay.addWidget(self.progress_label)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        for col, w in enumerate((120, 90, 150, 250, 130, 170)):
            self.table.setColumnWidth(col, w)
        lay.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("bulk_start")
        self.cancel_button = QPushButton("Stop sending")
        self.cancel_button.setToolTip("Send no more; the ones already sent stay tracked")
        self.cancel_button.setEnabled(False)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        close = QPushButton("Close")
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        lay.addLayout(buttons)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self._export_clicked)
        close.clicked.connect(self.close)
        self.ids_edit.textChanged.connect(self._count)
        console.sig_command_changed.connect(self._on_command)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._send_next)
        self._count()

    def _count(self) -> None:
        n = len(parse_ids(self.ids_edit.toPlainText()))
        self.count_label.setText(f"{n} device(s)")

    # ---- run ------------------------------------------------------------------------

    def prepare(self) -> list[BulkRow] | None:
        ids = parse_ids(self.ids_edit.toPlainText())
        if not ids:
            self.error_label.setText("No devices: select some in the tree or paste ids.")
            return None
        rows: list[BulkRow] = []
        for d in ids:
            try:
                check_device(d)
                cmd = self.build(d, self.console.peek_serial(d))
            except CommandError as exc:
                self.error_label.setText(f"{d}: {exc}")
                return None
            profile = self.console.profile_for(d) or self.fallback_profile
            rows.append(BulkRow(d, cmd, profile))
        self.error_label.setText("")
        return rows

    def start(self) -> None:
        if self._running:
            return
        rows = self.prepare()
        if rows is None:
            return
        first = rows[0].command
        if first is not None and first.dangerous:
            self.confirm_dialog = ConfirmDialog(
                expected=f"ALL {len(rows)}", reason=first.reason,
                texts=[mask_secrets(r.command.text, mask=MASK)  # an unlock password: ••••
                       for r in rows if r.command is not None],
                target=f"{len(rows)} devices", parent=self,
            )
            self.confirm_dialog.accepted.connect(lambda: self._run(rows))
            self.confirm_dialog.open()
            return
        self._run(rows)

    def _run(self, rows: list[BulkRow]) -> None:
        self.model.set_rows(rows)
        self._queue = list(range(len(rows)))
        self._running = True
        self.cancelled = False
        self.ids_edit.setReadOnly(True)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, len(rows))
        self._timer.start(max(20, int(1000 / self.rate_spin.value())))
        self._send_next()

    def _send_next(self) -> None:
        if not self._queue:
            self._timer.stop()
            self.cancel_button.setEnabled(False)
            self._progress()
            return
        i = self._queue.pop(0)
        r = self.model.rows[i]
        if r.command is None:
            self.model.mark(i, "not_sent", "could not be composed")
        else:
            try:
                cid = self.console.send(r.command, r.profile)
                self.model.bind(i, cid)
                self.model.update(self.console.tracker.get(cid))
            except SendRefused as exc:
                self.model.mark(i, "not_sent", str(exc))
        self._progress()

    def cancel(self) -> None:
        self._timer.stop()
        self.cancelled = True
        for i in self._queue:
            self.model.mark(i, "not_sent", "cancelled before sending")
        self._queue = []
        self.cancel_button.setEnabled(False)
        self._progress()

    def _on_command(self, tc: TrackedCommand) -> None:
        if self.model.update(tc):
            self._progress()

    def _progress(self) -> None:
        c = self.model.counts()
        total = len(self.model.rows)
        closed = c["answered"] + c["failed"] + c["timed_out"] + c["not_sent"]
        sent = total - c["waiting"] - c["not_sent"]
        self.progress.setValue(closed)
        waiting = c["sent"] + c["queued"]
        text = (f"sent {sent}/{total} · answered {c['answered']} · failed {c['failed']} · "
                f"timed out {c['timed_out']} · waiting for reply {waiting}")
        if c["waiting"]:
            text += f" · still to send {c['waiting']}"
        if c["not_sent"]:
            text += f" · not sent {c['not_sent']}"
        done = total > 0 and closed == total
        if done:
            text = "Done: " + text
            self._running = False
            self.export_button.setEnabled(True)
            if not self._finished:
                self._finished = True
                self.sig_bulk_finished.emit()
        elif total:
            self.export_button.setEnabled(True)
        self.progress_label.setText(text)

    @property
    def done(self) -> bool:
        c = self.model.counts()
        return bool(self.model.rows) and c["waiting"] + c["sent"] + c["queued"] == 0

    # ---- export ---------------------------------------------------------------------

    def export_csv(self, path: str) -> int:
        return write_summary(path, self.model.rows)

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export bulk summary", "bulk-summary.csv",
                                              "CSV (*.csv)")
        if path:
            try:
                n = self.export_csv(path)
                self.progress_label.setText(self.progress_label.text() +
                                            f" · exported {n} rows to {path}")
            except OSError as exc:
                self.error_label.setText(f"Export failed: {exc}")

    def closeEvent(self, event) -> None:
        if self._queue:
            self.cancel()
        super().closeEvent(event)

"""The alarm panel's small windows: acknowledge with a reason and a note, and the severity
table (also the Alarms page of File › Settings)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.fleet.severity import Severity, SeverityTable, default_severities
from app.protocol.codes import ALARM_TYPES
from app.ui.panels.alarms.model import ACK_REASONS


class AcknowledgeDialog(QDialog):
    """N (or "Acknowledge with a note…"): a reason from a short list and a free note."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Acknowledge")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Acknowledge {count:,} alarm{'s' if count != 1 else ''}:"))
        self.reason = QComboBox()
        self.reason.addItem("(no reason)", "")
        for reason in ACK_REASONS:
            self.reason.addItem(reason, reason)
        form.addRow("Reason", self.reason)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What was done, who was called… (kept in the journal and "
                                     "the shift report)")
        self.note.setTabChangesFocus(True)
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Acknowledge")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.note.setFocus()

    def values(self) -> tuple[str, str]:
        return str(self.reason.currentData() or ""), self.note.toPlainText().strip()


class SeverityEditor(QWidget):
    """Every alarm type of the seed with its severity; each change applies at once."""

    sig_table_changed = Signal(object)
    """The user changed a severity: the new SeverityTable."""

    def __init__(self, table: SeverityTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table_value = table
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit(placeholderText="Find an alarm type…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        lay.addWidget(self.search)
        codes = sorted(set(ALARM_TYPES) | set(table.overrides))
        self.grid = QTableWidget(len(codes), 3)
        self.grid.setHorizontalHeaderLabels(["Code", "Alarm type", "Severity"])
        self.grid.verticalHeader().hide()
        self.grid.horizontalHeader().setStretchLastSection(False)
        self.grid.setColumnWidth(0, 50)
        self.grid.setColumnWidth(1, 260)
        self.grid.setColumnWidth(2, 120)
        self._combos: dict[int, QComboBox] = {}
        defaults = default_severities()
        for row, code in enumerate(codes):
            self.grid.setItem(row, 0, _cell(str(code)))
            self.grid.setItem(row, 1, _cell(ALARM_TYPES.get(code, f"Unknown alarm {code}")))
            combo = QComboBox()
            for severity in Severity:
                label = severity.label
                if defaults.get(code) is severity:
                    label += " (default)"
                combo.addItem(label, severity)
            combo.setCurrentIndex(list(Severity).index(table.of(code)))
            combo.currentIndexChanged.connect(
                lambda _i, c=code, box=combo: self._changed(c, box.currentData()))
            self.grid.setCellWidget(row, 2, combo)
            self._combos[code] = combo
        lay.addWidget(self.grid, 1)
        note = QLabel("Critical alarms beep, notify, stay red until acknowledged and sound again "
                      "when overdue. Changes apply at once.")
        note.setWordWrap(True)
        lay.addWidget(note)

    def _changed(self, code: int, severity: Severity) -> None:
        self.table_value = self.table_value.with_overrides({code: severity})
        self.sig_table_changed.emit(self.table_value)

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for row in range(self.grid.rowCount()):
            shown = not text or any(text in (self.grid.item(row, c).text().lower())
                                    for c in (0, 1))
            self.grid.setRowHidden(row, not shown)

    def set_severity(self, code: int, severity: Severity) -> None:
        """As if the user chose it (tests, "restore defaults")."""
        combo = self._combos[code]
        combo.setCurrentIndex(list(Severity).index(severity))


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


def severity_dialog(table: SeverityTable, apply: Callable[[SeverityTable], None],
                    parent: QWidget | None = None) -> QDialog:
    """The editor in a window of its own (the alarm panel's "Severities…" button)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Alarm severities")
    lay = QVBoxLayout(dialog)
    editor = SeverityEditor(table)
    editor.sig_table_changed.connect(apply)
    lay.addWidget(editor)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    lay.addWidget(buttons)
    dialog.resize(520, 560)
    dialog.editor = editor
    return dialog

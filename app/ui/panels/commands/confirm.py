"""Typed confirmation for dangerous commands (unlock, bind, restart).

OK is enabled only while the typed text equals the expected word exactly: the device id for
one command, "ALL <n>" for a bulk send. Nothing is remembered between dialogs.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def mono_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class ConfirmDialog(QDialog):
    def __init__(
        self,
        *,
        expected: str,
        reason: str,
        texts: list[str],
        target: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.expected = expected
        self.setWindowTitle("Confirm a dangerous command")
        self.setObjectName("commands_confirm")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        head = QLabel(f"<b>This command {reason}.</b>")
        head.setStyleSheet("color: #d03b3b;")
        head.setWordWrap(True)
        lay.addWidget(head)
        lay.addWidget(QLabel(f"Target: <b>{target}</b>"))
        lay.addWidget(QLabel("Exact text that will be published:"))
        self.text_view = QPlainTextEdit("\n".join(texts[:50]) + (
            f"\n… and {len(texts) - 50} more" if len(texts) > 50 else ""))
        self.text_view.setReadOnly(True)
        self.text_view.setFont(mono_font())
        self.text_view.setMaximumHeight(90 if len(texts) > 1 else 44)
        lay.addWidget(self.text_view)
        prompt = QLabel(f"Type <b><code>{expected}</code></b> to confirm:")
        lay.addWidget(prompt)
        self.edit = QLineEdit()
        self.edit.setObjectName("confirm_edit")
        self.edit.setFont(mono_font())
        self.edit.setPlaceholderText(expected)
        lay.addWidget(self.edit)
        self.hint = QLabel("")
        self.hint.setStyleSheet("color: #8a8f98;")
        lay.addWidget(self.hint)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Send")
        self.ok_button.setEnabled(False)
        self.cancel_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self._accept_if_matching)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.edit.textChanged.connect(self._check)
        self.edit.setFocus()

    def _check(self, text: str) -> None:
        ok = text == self.expected
        self.ok_button.setEnabled(ok)
        self.hint.setText("" if ok or not text else "does not match")

    def _accept_if_matching(self) -> None:
        if self.edit.text() == self.expected:  # Enter in the line edit cannot bypass it
            self.accept()

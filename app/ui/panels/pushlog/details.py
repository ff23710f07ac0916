"""The selected push, raw and decoded side by side, with its errors."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.journal.store import JournalRow
from app.protocol.redact import has_secrets, mask_data, mask_raw, secrets_of

MAX_SHOWN = 256 * 1024  # bytes of a payload shown; copy always takes everything


def hex_dump(data: bytes, limit: int = MAX_SHOWN) -> str:
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off: off + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:06x}  {hexes:<47}  {text}")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes")
    return "\n".join(lines)


def escaped(raw: bytes) -> str:
    """Text with every byte that is not UTF-8 written as \\xNN."""
    return raw.decode("utf-8", "backslashreplace")


def format_raw(raw: bytes) -> tuple[str, str]:
    """(text to show, what it is). JSON is pretty-printed; bytes that are not UTF-8 as hex."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = hex_dump(raw)
        return (f"{shown}\n\nas text (\\xNN = not UTF-8):\n{escaped(raw[:MAX_SHOWN])}",
                f"{len(raw):,} bytes · not UTF-8 (bad byte at {exc.start}) · hex")
    if not text.strip():
        return "", f"{len(raw):,} bytes · empty"
    try:
        obj = json.loads(text)
    except ValueError:
        return text[:MAX_SHOWN], f"{len(raw):,} bytes · not JSON · as received"
    return (json.dumps(obj, indent=2, ensure_ascii=False)[:MAX_SHOWN],
            f"{len(raw):,} bytes · JSON, pretty-printed")


def format_decoded(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _mono() -> Any:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class _Pane(QWidget):
    def __init__(self, title: str, copy_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        top = QHBoxLayout()
        self.title = QLabel(f"<b>{title}</b>")
        self.note = QLabel("")
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.copy = QPushButton(copy_text)
        self.copy.setEnabled(False)
        top.addWidget(self.title)
        top.addWidget(self.note, 1)
        top.addWidget(self.copy)
        lay.addLayout(top)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(_mono())
        lay.addWidget(self.text, 1)


class DetailsPane(QWidget):
    """Header (id, time, topic), raw | decoded side by side, and the errors. Unlock
    passwords are masked in both, and in what is copied, unless `reveal` shows them."""

    def __init__(self, parent: QWidget | None = None, *, reveal=None) -> None:
        super().__init__(parent)
        self.row: JournalRow | None = None
        self.reveal = reveal  # app/ui/reveal.py's SecretReveal; None: always masked
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 0, 0, 0)
        lay.setSpacing(4)
        top = QHBoxLayout()
        self.header = QLabel("Select a push to see it raw and decoded.")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setWordWrap(True)
        self.reveal_button = QPushButton("Reveal secrets…")
        self.reveal_button.setToolTip("This push holds an unlock password, masked here. "
                                      "Revealing it is recorded in the journal.")
        self.reveal_button.setVisible(False)
        self.reveal_button.clicked.connect(self._toggle_reveal)
        top.addWidget(self.header, 1)
        top.addWidget(self.reveal_button)
        lay.addLayout(top)
        if reveal is not None:
            reveal.sig_reveal_changed.connect(self._on_reveal_changed)
        self.errors = QListWidget()
        self.errors.setVisible(False)
        self.errors.setToolTip("What the decoder found wrong (⚠) or odd (note) with this push")
        lay.addWidget(self.errors)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.raw = _Pane("Raw", "Copy raw")
        self.decoded = _Pane("Decoded", "Copy decoded")
        self.split.addWidget(self.raw)
        self.split.addWidget(self.decoded)
        lay.addWidget(self.split, 1)
        self.raw.copy.clicked.connect(self.copy_raw)
        self.decoded.copy.clicked.connect(self.copy_decoded)

    def show_row(self, row: JournalRow | None) -> None:
        self.row = row
        if row is None:
            self.header.setText("Select a push to see it raw and decoded.")
            for pane in (self.raw, self.decoded):
                pane.text.clear()
                pane.note.clear()
                pane.copy.setEnabled(False)
            self.errors.clear()
            self.errors.setVisible(False)
            self.reveal_button.setVisible(False)
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.received_at))
        ms = min(999, round((row.received_at % 1) * 1000))
        where = " · ".join(x for x in (row.source, row.profile) if x)
        dev = row.device or "no device"
        if row.sublock:
            dev += f" / sub-lock {row.sublock}"
        self.header.setText(
            f"<b>#{row.id}</b> · {stamp}.{ms:03d} · <b>{row.kind}</b> · {dev} · {where}"
            f"<br><span style='font-family:monospace'>{_html(row.topic)}</span>"
        )
        raw, data = self.shown_raw(), self.shown_data()
        secret = has_secrets(row.kind, row.data) or raw != row.raw
        shown = self.reveal is not None and self.reveal.shown
        self.reveal_button.setVisible(secret)
        self.reveal_button.setText("Hide secrets" if shown else "Reveal secrets…")
        text, note = format_raw(raw)
        self.raw.text.setPlainText(text)
        self.raw.note.setText(note + (" · password masked" if secret and not shown else ""))
        self.decoded.text.setPlainText(format_decoded(data) if data else "")
        self.decoded.note.setText("" if row.data else "nothing decoded")
        self.raw.copy.setEnabled(True)
        self.decoded.copy.setEnabled(bool(row.data))
        self.errors.clear()
        # Warnings (odd, not wrong: e.g. the path said another kind) below the errors, not red.
        notes = [f"⚠ {e}" for e in row.errors] + [f"note: {w}" for w in row.warnings]
        if notes:
            self.errors.addItems(notes)
            rows = min(len(notes), 4)
            self.errors.setFixedHeight(
                rows * self.errors.sizeHintForRow(0) + 2 * self.errors.frameWidth() + 2)
            red = "#ff9d96" if self.palette().color(QPalette.ColorRole.Base).lightness() < 128 \
                else "#a3121f"
            self.errors.setStyleSheet(f"color: {red};" if row.errors else "")
        self.errors.setVisible(bool(notes))

    def shown_raw(self) -> bytes:
        """The row's raw bytes as shown and copied: its secrets masked unless revealed."""
        row = self.row
        if row is None:
            return b""
        if self.reveal is not None:
            return self.reveal.raw(row.raw, row.kind, row.data)
        return mask_raw(row.raw, secrets_of(row.kind, row.data))

    def shown_data(self):
        row = self.row
        if row is None:
            return {}
        if self.reveal is not None:
            return self.reveal.data(row.kind, row.data)
        return mask_data(row.kind, row.data)

    def _on_reveal_changed(self, _shown: bool) -> None:
        self.show_row(self.row)

    def _toggle_reveal(self) -> None:
        if self.reveal is None:
            return
        if self.reveal.shown:
            self.reveal.hide()
        else:
            self.reveal.reveal("push log", self)

    def raw_for_copy(self) -> str:
        if self.row is None:
            return ""
        raw = self.shown_raw()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return escaped(raw)

    def decoded_for_copy(self) -> str:
        return format_decoded(self.shown_data()) if self.row is not None else ""

    def copy_raw(self) -> None:
        QGuiApplication.clipboard().setText(self.raw_for_copy())

    def copy_decoded(self) -> None:
        QGuiApplication.clipboard().setText(self.decoded_for_copy())


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

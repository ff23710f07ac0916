"""Secrets shown only on purpose: one reveal for the whole window, audited, for a while.

Unlock passwords are masked wherever they would appear — the command field and its preview,
the command history and its export, the push log's raw and decoded views and exports, the
events table (app/protocol/redact.py says what a secret is). An operator who must see them
asks once ("Reveal secrets…"), says yes to a question that tells them it is recorded, and a
row goes into the journal (who, when, from where: app/journal/reveals.py) before anything is
shown. Every view follows `sig_reveal_changed`; after REVEAL_S, or "Hide secrets", they are
masked again and the row gets its end time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.commands.builder import mask_secrets
from app.journal import reveals
from app.journal.url import open_journal
from app.protocol.redact import MASK, mask_data, mask_raw, mask_reply, secrets_of

log = logging.getLogger(__name__)

REVEAL_S = 300  # secrets are masked again after this long


class SecretReveal(QObject):
    sig_reveal_changed = Signal(bool)
    """Secrets are shown (True) or masked again (False): redraw what shows them."""

    def __init__(self, journal_path: str, operator: Callable[[], str],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.journal_path = journal_path
        self.operator = operator
        self.shown = False
        self._row: int | None = None
        self._timer = QTimer(self, singleShot=True, interval=REVEAL_S * 1000,
                             timeout=self.hide)

    # -- revealing -----------------------------------------------------------------------

    def reveal(self, place: str, parent: QWidget | None = None, *, ask: bool = True) -> bool:
        """Show secrets everywhere for REVEAL_S, after the operator's yes and the audit row;
        True when they are shown."""
        if self.shown:
            return True
        if ask:
            answer = QMessageBox.question(
                parent, "Reveal secrets",
                f"Show unlock passwords in clear, in every panel, for {REVEAL_S // 60} "
                "minutes?\n\nThis is recorded in the journal: your name, the time and where "
                "you asked from.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            with open_journal(self.journal_path) as journal:
                self._row = reveals.record(journal.conn, at=time.time(),
                                           operator=self.operator(), place=place)
        except Exception:
            log.exception("the reveal could not be recorded: secrets stay masked")
            if parent is not None:
                QMessageBox.warning(parent, "Reveal secrets",
                                    "The reveal could not be recorded in the journal, so the "
                                    "secrets stay masked.")
            return False
        self.shown = True
        self._timer.start()
        self.sig_reveal_changed.emit(True)
        return True

    def hide(self) -> None:
        if not self.shown:
            return
        self.shown = False
        self._timer.stop()
        if self._row is not None:
            try:
                with open_journal(self.journal_path) as journal:
                    reveals.close(journal.conn, self._row, at=time.time())
            except Exception:
                log.exception("the end of a reveal could not be recorded")
            self._row = None
        self.sig_reveal_changed.emit(False)

    # -- what a view shows -----------------------------------------------------------------

    def command(self, text: str) -> str:
        """Command text as sent, its secret parameters masked unless revealed."""
        return text if self.shown else mask_secrets(text, mask=MASK)

    def reply(self, command: str | None, content: Any) -> Any:
        return content if self.shown else mask_reply(command, content)

    def data(self, kind: str, data: Any) -> Any:
        return data if self.shown else mask_data(kind, data)

    def raw(self, raw: bytes, kind: str, data: Any) -> bytes:
        return raw if self.shown else mask_raw(raw, secrets_of(kind, data))

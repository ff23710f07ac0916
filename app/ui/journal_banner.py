"""The window's word when the journal stops: a red banner across the top of the window.

"Journal stopped: <cause> — pushes are held by the broker, not lost", with Retry (the same
journal again) and "Start a new journal" (the stopped one is moved aside, kept for
`python main.py salvage`). A journal that is retrying (disk full, busy) shows in amber with
the number of pushes waiting, unacknowledged; the banner goes once it writes again.
Self-contained: `attach_journal_banner(recording, window)` is the whole wiring.
"""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QToolBar,
)

from app.journal.writer import RETRYING, JournalHealth

_RED = "background:#b3261e; color:white; padding:4px;"
_AMBER = "background:#f2a900; color:black; padding:4px;"


class JournalBanner(QFrame):
    sig_health_changed = Signal(object)  # JournalHealth, from any thread
    sig_journal_reopened = Signal(object, object)  # moved-to path or None, error text or None

    def __init__(self, recording, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("journal-banner")
        self.recording = recording
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        self.new_button = QPushButton("Start a new journal")
        self.retry_button.clicked.connect(lambda: self._reopen(fresh=False))
        self.new_button.clicked.connect(lambda: self._reopen(fresh=True))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.new_button)
        self.health = JournalHealth()
        self.sig_health_changed.connect(self.show_health)
        self.sig_journal_reopened.connect(self._reopened)
        self.wanted = False  # shown only while the journal is not writing
        recording.add_journal_listener(self._from_any_thread)

    def _from_any_thread(self, health: JournalHealth) -> None:
        with contextlib.suppress(RuntimeError):  # the window is gone
            self.sig_health_changed.emit(health)

    def show_health(self, health: JournalHealth) -> None:
        self.health = health
        if health.stopped:
            self.setStyleSheet(_RED)
            self.label.setText(health.describe())
            self.retry_button.setEnabled(True)
            self.new_button.setEnabled(True)
            self.retry_button.setVisible(True)
            self.new_button.setVisible(True)
        elif health.state == RETRYING:
            self.setStyleSheet(_AMBER)
            self.label.setText(health.describe())
            self.retry_button.setVisible(False)
            self.new_button.setVisible(False)
        self._set_shown(health.stopped or health.state == RETRYING)

    def _set_shown(self, shown: bool) -> None:
        self.wanted = shown
        bar = self.parentWidget()
        (bar if isinstance(bar, QToolBar) else self).setVisible(shown)

    def _reopen(self, *, fresh: bool) -> None:
        self.retry_button.setEnabled(False)
        self.new_button.setEnabled(False)
        self.label.setText("Opening a new journal…" if fresh else "Retrying the journal…")

        def work() -> None:  # off the GUI thread: the recording process answers in seconds
            try:
                moved = self.recording.reopen_journal(fresh=fresh)
            except Exception as exc:
                self.sig_journal_reopened.emit(None, str(exc))
            else:
                self.sig_journal_reopened.emit(moved, None)

        threading.Thread(target=work, name="journal-reopen", daemon=True).start()

    def _reopened(self, moved, error) -> None:
        if error:
            self.show_health(JournalHealth("stopped", error, path=self.health.path))
            return
        self.health = JournalHealth(path=self.health.path)
        self._set_shown(False)
        if moved:
            self.window().statusBar().showMessage(
                f"The stopped journal was kept as {moved}; recording into a new one", 15000)


def attach_journal_banner(recording, window: QMainWindow) -> JournalBanner:
    """A banner across the top of the window, shown only while the journal is not writing."""
    bar = QToolBar("Journal", window)
    bar.setObjectName("journal-banner-bar")
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.toggleViewAction().setVisible(False)  # not one of the panels to show or hide
    banner = JournalBanner(recording, bar)
    bar.addWidget(banner)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    bar.setVisible(False)
    # A saved window layout must not bring the bar back without a reason to show it.
    bar.visibilityChanged.connect(lambda shown: shown and not banner.wanted and bar.hide())
    if recording.journal_health.stopped:
        banner.show_health(recording.journal_health)
    window.journal_banner = banner
    return banner


def open_checked(journal_path, parent=None) -> bool:
    """Before the window trusts a journal: check it (bounded quick_check); a damaged one is
    not used — the user moves it aside (kept for `salvage`) and starts a new one, or quits.
    Returns False to quit."""
    from PySide6.QtWidgets import QMessageBox

    from app.journal.check import JournalDamaged, check_journal, move_aside

    try:
        check_journal(journal_path)
    except JournalDamaged as exc:
        box = QMessageBox(QMessageBox.Icon.Critical, "Journal damaged",
                          f"{exc}.\n\nSealDesk will not record into it: pushes it acknowledged "
                          "could not be read back. Move it aside (it is kept; `python main.py "
                          "salvage` copies what it still holds) and start a new journal?",
                          parent=parent)
        move = box.addButton("Move it aside, start a new journal",
                             QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is not move:
            return False
        move_aside(journal_path)
    return True

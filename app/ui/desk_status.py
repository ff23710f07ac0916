"""A desk's word on its journal, at the left of the status bar.

"Desk — journal host/db" while the journal connection holds; in red, with the reason and
when it tries again, once it is lost (the live feed is then still: nothing new shows until
it is back, and what came meanwhile is caught up from the journal). It writes the window's
`journal_label` (first in the status bar, hidden in a recording window):
`attach_desk_status(shared, window, where)` is the whole wiring.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QMainWindow

from app.desk.tail import DeskState
from app.ui.shared_changes import SharedChanges
from app.ui.theme import STATUS_COLOURS


class DeskStatus(QObject):
    def __init__(self, shared: SharedChanges, where: str, window: QMainWindow,
                 label: QLabel) -> None:
        super().__init__(window)
        self.where = where
        self.window_ = window
        self.label = label
        self.lost = False
        label.setText(f"Desk — journal {where}")
        label.setToolTip("This window is a desk: its live feed, acknowledgements, notes, "
                         "commands and commissioning sessions are the shared journal's")
        label.show()
        shared.sig_connection_changed.connect(self.show_state)
        if isinstance(shared.state, DeskState):
            self.show_state(shared.state)

    def text(self) -> str:
        return self.label.text()

    def show_state(self, state: DeskState) -> None:
        self.label.setText(state.describe(self.where))
        if state.connected:
            self.label.setStyleSheet("")
            if self.lost:
                self.window_.statusBar().showMessage(
                    f"Journal {self.where} connected again; what came meanwhile is caught up",
                    8000)
        else:
            colour = STATUS_COLOURS["refused"].name()
            self.label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.lost = not state.connected


def attach_desk_status(shared: SharedChanges, window, where: str) -> DeskStatus:
    """`window`: the MainWindow (its `journal_label`)."""
    status = DeskStatus(shared, where, window, window.journal_label)
    window.desk_status = status
    return status

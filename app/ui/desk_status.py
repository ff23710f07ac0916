"""A desk's word on its journal, at the left of the status bar.

"Desk — journal host/db" while the journal connection holds; in red, with the reason and
when it tries again, once it is lost (the live feed is then still: nothing new shows until
it is back, and what came meanwhile is caught up from the journal). Self-contained:
`attach_desk_status(shared, window, where)` is the whole wiring.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from app.desk.tail import DeskState
from app.ui.shared_changes import SharedChanges
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.elided_label import ElidedLabel


class DeskStatus(ElidedLabel):
    def __init__(self, shared: SharedChanges, where: str, window: QMainWindow) -> None:
        super().__init__(f"Desk — journal {where}")
        self.setObjectName("desk-status")
        self.where = where
        self.window_ = window
        self.lost = False
        self.setContentsMargins(8, 0, 8, 0)
        self.setToolTip("This window is a desk: its live feed, acknowledgements, notes, "
                        "commands and commissioning sessions are the shared journal's")
        shared.sig_connection_changed.connect(self.show_state)
        if isinstance(shared.state, DeskState):
            self.show_state(shared.state)

    def show_state(self, state: DeskState) -> None:
        self.setText(state.describe(self.where))
        if state.connected:
            self.setStyleSheet("")
            if self.lost:
                self.window_.statusBar().showMessage(
                    f"Journal {self.where} connected again; what came meanwhile is caught up",
                    8000)
        else:
            colour = STATUS_COLOURS["refused"].name()
            self.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.lost = not state.connected


def attach_desk_status(shared: SharedChanges, window: QMainWindow, where: str) -> DeskStatus:
    label = DeskStatus(shared, where, window)
    window.statusBar().insertPermanentWidget(0, label, 2)
    window.desk_status = label
    return label

"""What other desks did, as the journal tells it: one signal per changed shared table.

A desk's tail (`app/desk/tail.py`) hears, on its own thread, that a shared table changed
(`alarm_ack`, `command`, `commissioning`; '*' after a reconnect: any may have). This service
carries that to the GUI thread, where each service or panel that keeps such rows reloads its
own: the acknowledgements, the command history, the commissioning sessions. In a recording
window nothing is shared and the signal never fires.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, Signal

EVERYTHING = "*"


class SharedChanges(QObject):
    sig_table_changed = Signal(str)
    """A shared table changed in the journal (its name; '*': any of them may have)."""
    sig_connection_changed = Signal(object)
    """The desk's journal connection: a `DeskState` (connected, or lost and why)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state: object | None = None  # the newest DeskState (None: not a desk)

    def table_changed(self, table: str) -> None:
        """Any thread."""
        with contextlib.suppress(RuntimeError):  # the window is gone
            self.sig_table_changed.emit(table)

    def connection_changed(self, state: object) -> None:
        """Any thread."""
        self.state = state
        with contextlib.suppress(RuntimeError):
            self.sig_connection_changed.emit(state)

    @staticmethod
    def concerns(table: str, name: str) -> bool:
        """Whether a change of `table` means `name` must be read again."""
        return table in (name, EVERYTHING)

"""What every panel declares about itself, so the window can build any of them from a list.

Spyder's plugins declare NAME, title and what they need; the main window never wires two of
them together. A SealDesk panel does the same with four class attributes and two hooks.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.ui.bounds import Held


class Panel(QWidget):
    """A dockable view of the shared context (`AppContext`), one package per panel.

    A panel talks to others only through the context's services (selection, acknowledgements,
    detail sections…) or, when it must offer another panel something, in
    `on_panel_available`, which the window calls once every panel exists.
    """

    KEY: ClassVar[str] = ""  # stable: names the dock in saved layouts and in workspaces
    TITLE: ClassVar[str] = ""  # the dock's title and the View menu's entry
    SHORTCUT: ClassVar[str] = ""  # "Go to <title>", e.g. "Ctrl+4"

    def on_panel_available(self, key: str, panel: Panel) -> None:
        """Another panel was built (called for every other panel, once); default: nothing."""

    def file_actions(self) -> list[QAction]:
        """What this panel offers in the File menu (e.g. "Export pushes…"); default: none."""
        return []

    def quit_warning(self) -> str:
        """What would be left undone if the window closed now (asked before quitting);
        empty when nothing is."""
        return ""

    def settings_page(self) -> QWidget | None:
        """A page for File › Settings, saving each change at once; default: none."""
        return None

    def bounds(self) -> list[Held]:
        """What this panel keeps in memory, against each bound (app/ui/bounds.py), for the
        soak benchmark's report and the tests; default: nothing that grows."""
        return []

    def shutdown(self) -> None:
        """Stop timers and threads before the window closes; default: nothing to stop."""

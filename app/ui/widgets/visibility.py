"""Is a panel really on screen? A dock in a non-current tab stays "visible" to Qt
(it is only moved off-screen), so views that redraw expensively ask this instead."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget


def on_screen(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class WhenOnScreen(QObject):
    """Emits `sig_on_screen` once the widget is on screen again, after `missed()` said it
    skipped work while hidden. A tab change gives a dock no show event, so this looks twice
    a second (only while something was missed). Holds no reference to the widget: a panel
    deleted by its window must not be kept alive by its own helper."""

    sig_on_screen = Signal()
    """The widget is on screen again after work was missed."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.behind = False
        self._timer = QTimer(self, interval=500, timeout=self._look)

    def hidden(self) -> bool:
        """True when the widget is a part of a bigger window and not on screen now."""
        widget = self.parent()
        return widget.window() is not widget and not on_screen(widget)

    def missed(self) -> None:
        self.behind = True
        if not self._timer.isActive():
            self._timer.start()

    def _look(self) -> None:
        if self.behind and not self.hidden():
            self.behind = False
            self._timer.stop()
            self.sig_on_screen.emit()

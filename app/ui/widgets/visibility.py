"""Is a panel really on screen? A dock in a non-current tab stays "visible" to Qt
(it is only moved off-screen), so views that redraw expensively ask this instead."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def on_screen(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()

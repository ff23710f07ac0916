"""The same next steps from a device wherever it is shown: tree, event row, push log row.

Show on map, chart its readings, send a command, its push history, its alarms, commission
it, copy its id — the same words, order and keys everywhere. Each step goes through the
context's `Navigator` (app/ui/navigator.py): the device is selected, the target panel comes
to the front and does its part. The panel offering the steps names no other panel's widget.

`DeviceSteps(ctx, widget, current)` gives `widget` the keys (while it has focus, acting on
`current()`, the device of its current row) and `add_to(menu, device_id)` the menu entries.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget


@dataclass(frozen=True)
class Step:
    panel: str  # the target panel's KEY
    text: str
    keys: str


STEPS: tuple[Step, ...] = (
    Step("map", "Show on map", "Ctrl+Shift+M"),
    Step("charts", "Chart its readings", "Ctrl+Shift+G"),
    Step("commands", "Send a command…", "Ctrl+Shift+K"),
    Step("pushlog", "Its push history", "Ctrl+Shift+H"),
    Step("alarms", "Its alarms", "Ctrl+Shift+L"),
    Step("commissioning", "Commission it", "Ctrl+Shift+O"),
)
COPY_KEYS = "Ctrl+Shift+C"


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


class DeviceSteps(QObject):
    """The steps as keys on one widget (its current device) and as entries of its menus."""

    def __init__(self, ctx, widget: QWidget, current: Callable[[], str]) -> None:
        super().__init__(widget)
        self.ctx = ctx
        # Weakly: a panel's bound method held here would keep the panel's Python side
        # alive after Qt deleted it (its parent window closing).
        self._current = weakref.WeakMethod(current) if hasattr(current, "__self__") else \
            (lambda: current)
        self.actions: dict[str, QAction] = {}
        for step in STEPS:
            action = QAction(step.text, widget, shortcut=QKeySequence(step.keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, k=step.panel: self._go(k))
            widget.addAction(action)
            self.actions[step.panel] = action
        copy = QAction("Copy device id", widget, shortcut=QKeySequence(COPY_KEYS))
        copy.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy.triggered.connect(lambda: self.current() and copy_text(self.current()))
        widget.addAction(copy)
        self.actions["copy"] = copy

    def current(self) -> str:
        """The device of the widget's current row ('' when none, or the panel is gone)."""
        method = self._current()
        return (method() or "") if method is not None else ""

    def _go(self, panel: str, device_id: str | None = None) -> None:
        device_id = device_id if device_id is not None else self.current()
        if device_id:
            self.ctx.navigator.show_device(panel, device_id)

    def add_to(self, menu: QMenu, device_id: str) -> list[QAction]:
        """The steps for `device_id` at the end of `menu` (their keys shown, not bound twice:
        the widget holds the keys)."""
        added = []
        for step in STEPS:
            action = menu.addAction(f"{step.text}\t{step.keys}")
            action.setObjectName(f"step_{step.panel}")
            action.triggered.connect(lambda _=False, k=step.panel: self._go(k, device_id))
            added.append(action)
        copy = menu.addAction(f"Copy device id {device_id}\t{COPY_KEYS}")
        copy.setObjectName("step_copy")
        copy.triggered.connect(lambda: copy_text(device_id))
        added.append(copy)
        return added


def step_action(menu: QMenu, panel: str) -> QAction | None:
    """The entry of `menu` that leads to `panel` (what a test clicks)."""
    for action in menu.actions():
        if action.objectName() == f"step_{panel}":
            return action
    return None

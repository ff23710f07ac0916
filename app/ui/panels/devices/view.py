"""The device tree's view: it has the rows it is about to draw brought up to date first.

The model keeps current values only in the rows a view draws (see `model.py`). Every way a
row comes on screen — a batch, scrolling, expanding, sorting, resizing, a search — ends in
a paint of the viewport, so that is where the rows are filled: once per paint, not once
per cell.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPoint
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QTreeView, QWidget

MAX_ROWS_DRAWN = 1_000  # a guard: a screenful is ~50


class DeviceTreeView(QTreeView):
    def __init__(self, before_paint: Callable[[list[QModelIndex]], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._before_paint = before_paint

    def rows_drawn(self) -> list[QModelIndex]:
        """The column-0 indexes (of the model shown) of the rows on screen, top to bottom."""
        index = self.indexAt(QPoint(0, 0))
        if not index.isValid():
            return []
        last = self.indexAt(QPoint(0, self.viewport().height() - 1))
        last = last.siblingAtColumn(0) if last.isValid() else None
        rows = [index.siblingAtColumn(0)]
        while rows[-1] != last and len(rows) < MAX_ROWS_DRAWN:
            below = self.indexBelow(rows[-1])
            if not below.isValid():
                break
            rows.append(below)
        return rows

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name
        self._before_paint(self.rows_drawn())
        super().paintEvent(event)

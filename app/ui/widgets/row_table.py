"""A table whose unit is the row: showing a row scrolls up or down, never sideways."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QAbstractItemView, QTableView


class RowTableView(QTableView):
    """Qt's table brings the clicked or current *cell* into view, and for a cell wider than
    what is left of the viewport that means scrolling sideways to its start: clicking an
    alarm's long text at 1366×768 took the Time column out of view (seen under Xvfb). Rows
    are selected whole here, so a row counts as shown when it is in view vertically; the
    horizontal position stays where the operator left it."""

    def scrollTo(self, index: QModelIndex,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
                 ) -> None:
        bar = self.horizontalScrollBar()
        left = bar.value()
        super().scrollTo(index, hint)
        bar.setValue(left)

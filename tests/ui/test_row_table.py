"""Tables whose unit is the row (alarms, events, push log): clicking a wide cell, or moving
down with the keys, scrolls up and down only — the Time column stays in view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QTableView

from app.ui.widgets.row_table import RowTableView


def _table(qtbot, cls: type[QTableView]) -> QTableView:
    # Time, severity, device, alarm, code: as the alarm table at 1366×768.
    model = QStandardItemModel(200, 5)
    for row in range(200):
        model.setItem(row, 0, QStandardItem(f"04 Dec 12:00:{row % 60:02d}"))
        model.setItem(row, 1, QStandardItem("critical"))
        model.setItem(row, 2, QStandardItem("8043857462"))
        model.setItem(row, 3, QStandardItem("Unlock password error for 5 consecutive times"))
        model.setItem(row, 4, QStandardItem("43"))
    view = cls()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    for column, width in enumerate((120, 90, 110, 700, 60)):
        view.setColumnWidth(column, width)
    view.resize(640, 300)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def _click_wide_cell(qtbot, view: QTableView) -> None:
    rect = view.visualRect(view.model().index(2, 3))  # the alarm's text, running off the view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 100, rect.center().y()))


def test_a_plain_table_scrolls_sideways_to_the_current_wide_cell(qtbot):
    """What the row table mends (so that the test below can fail): a click does not scroll
    (Qt holds it back), but the next row by the arrow key does — to the alarm's text."""
    view = _table(qtbot, QTableView)
    _click_wide_cell(qtbot, view)
    assert view.horizontalScrollBar().value() == 0
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 3
    assert view.horizontalScrollBar().value() > 0


@pytest.mark.parametrize("key", [Qt.Key.Key_Down, Qt.Key.Key_PageDown])
def test_the_row_table_keeps_the_left_columns_in_view(qtbot, key):
    view = _table(qtbot, RowTableView)
    _click_wide_cell(qtbot, view)
    assert view.horizontalScrollBar().value() == 0
    assert view.currentIndex().row() == 2
    for _ in range(30):
        qtbot.keyClick(view, key)
    current = view.currentIndex().row()
    assert current > 10
    assert view.viewport().rect().intersects(view.visualRect(view.model().index(current, 0)))
    assert view.verticalScrollBar().value() > 0  # it did follow the rows down
    assert view.horizontalScrollBar().value() == 0

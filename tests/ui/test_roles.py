"""One Python entry per painted cell (multiData), also through the filtering proxies."""

from __future__ import annotations

from live_rig import painted
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from app.ui.widgets.roles import ForwardRoles
from app.ui.widgets.table_model import RowsTableModel


class Cells(RowsTableModel):
    HEADERS = ("a", "b", "c")

    def __init__(self) -> None:
        super().__init__()
        self._rows = list(range(20))
        self.entries = 0  # entries from Qt: multiData, or data when Qt asks role by role

    def multiData(self, index, span) -> None:
        self.entries += 1
        super().multiData(index, span)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row()}:{index.column()}"
        if role == Qt.ItemDataRole.ForegroundRole and index.row() == 0:
            return QColor("#d03b3b")
        return None


class Proxy(ForwardRoles, QSortFilterProxyModel):
    pass


def test_one_entry_per_cell_and_the_values_arrive(qtbot):
    model = Cells()
    view = painted(qtbot, model)
    visible = sum(1 for r in range(20) for c in range(3)
                  if view.visualRect(model.index(r, c)).intersects(view.viewport().rect()))
    assert 0 < model.entries <= 3 * visible  # not seven entries (one per role) per cell
    index = model.index(0, 1)
    assert index.data() == "0:1"
    assert index.data(Qt.ItemDataRole.ForegroundRole) == QColor("#d03b3b")


def test_the_proxy_forwards_in_one_call(qtbot):
    model = Cells()
    proxy = Proxy()
    proxy.setSourceModel(model)
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    painted(qtbot, proxy)
    assert model.entries > 0  # without ForwardRoles the proxy asks data() role by role
    assert proxy.index(0, 0).data() == "9:0"  # sorted as text, descending
    assert proxy.index(19, 0).data() == "0:0"  # mapped to the right source row
    assert proxy.index(19, 0).data(Qt.ItemDataRole.ForegroundRole) == QColor("#d03b3b")

"""One Python entry per painted cell (multiData), also through the filtering proxies."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView

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


def painted(qtbot, model) -> QTableView:
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.grab()
    return view


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


def test_a_cells_roles_do_not_leak_into_the_next_cell(qtbot):
    """The delegate reuses one span for every cell: a value set for a red row must not stay
    for the plain rows painted after it."""
    from PySide6.QtGui import QBrush

    from app.ui.widgets.live_table import LiveTableModel

    class Rows(LiveTableModel):
        HEADERS = ("a", "b")

        def display(self, row, column):
            return f"{row.push_id}:{column}"

        def other_role(self, row, column, role):
            if role == Qt.ItemDataRole.BackgroundRole and row.push_id == 0:
                return QBrush(QColor("#ff0000"))
            return None

    model = Rows()
    model._rows = [SimpleNamespace(push_id=i) for i in range(3)]  # rows carry their push id
    view = painted(qtbot, model)
    image = view.viewport().grab().toImage()

    def colour_in(row: int) -> str:
        rect = view.visualRect(model.index(row, 1))
        return image.pixelColor(rect.right() - 3, rect.center().y()).name()

    assert colour_in(0) == "#ff0000"
    assert colour_in(1) != "#ff0000" and colour_in(2) != "#ff0000"


def test_a_cell_answers_again_after_its_row_changes(qtbot):
    """What a cell answered is kept for the next repaint, and forgotten on dataChanged."""
    from app.ui.widgets.live_table import LiveTableModel

    class Rows(LiveTableModel):
        HEADERS = ("a",)

        def display(self, row, column):
            return row.text

    model = Rows()
    row = SimpleNamespace(push_id=1, text="not yet")
    model._rows = [row]
    index = model.index(0, 0)
    view = painted(qtbot, model)
    before = view.grab().toImage()
    row.text = "acknowledged"  # as the alarm model does, then announces it
    model.dataChanged.emit(index, index)
    after = view.grab().toImage()
    assert after != before  # the cell was asked again, not painted from what it said before

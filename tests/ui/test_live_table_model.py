"""The alarm and event tables' model: Qt's own cells, filled once per row, sorted and
filtered by a proxy that reads the Python rows only to filter."""

from __future__ import annotations

from types import SimpleNamespace

from live_rig import painted
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from app.ui.widgets.live_model import LiveFilterProxy, LiveTableModel


class Rows(LiveTableModel):
    HEADERS = ("id", "device", "speed")

    def __init__(self, max_rows: int = 20_000) -> None:
        super().__init__(max_rows)
        self.asked = 0  # calls into Python for a cell's content

    def display(self, row, column):
        self.asked += 1
        return (str(row.push_id), row.device, f"{row.speed} km/h")[column]

    def sort_key(self, row, column):
        return (row.push_id, row.device, row.speed)[column]

    def row_style(self, row):
        return {int(Qt.ItemDataRole.BackgroundRole.value): QBrush(QColor("#ff0000"))} if row.red \
            else {}


def row(push_id: int, device: str = "d", speed: float = 0.0, red: bool = False):
    return SimpleNamespace(push_id=push_id, device=device, speed=speed, red=red, code=None,
                           name="x", text="")


def test_painting_calls_no_python(qtbot, qtmodeltester):
    model = Rows()
    model.add_rows(row(i, f"dev{i}", i * 1.5) for i in range(1, 40))
    qtmodeltester.check(model)
    asked = model.asked
    assert asked == 39 * 3  # each cell once, when its row arrived
    view = painted(qtbot, model)
    view.viewport().repaint()
    assert model.asked == asked
    assert model.index(model.row_of(39), 2).data() == "58.5 km/h"
    assert model.rows[0].push_id == 39  # newest first


def test_a_rows_colour_does_not_leak_into_the_next_row(qtbot):
    model = Rows()
    model.add_rows([row(3, red=True), row(2), row(1)])
    view = painted(qtbot, model)
    image = view.viewport().grab().toImage()

    def colour_in(r: int) -> str:
        rect = view.visualRect(model.index(r, 1))
        return image.pixelColor(rect.right() - 3, rect.center().y()).name()

    assert colour_in(0) == "#ff0000"
    assert colour_in(1) != "#ff0000" and colour_in(2) != "#ff0000"


def test_a_changed_row_is_refilled_and_announced_once(qtbot):
    model = Rows()
    rows = [row(i, red=(i == 2)) for i in (1, 2, 3)]
    model.add_rows(rows)
    view = painted(qtbot, model)
    before = view.grab().toImage()
    changed = []
    model.dataChanged.connect(lambda a, b, _r: changed.append((a.row(), b.row())))
    for r in rows:
        r.red = not r.red
        r.device = "other"
    model.rows_changed([1, 2, 3])
    assert changed == [(0, 2)]
    assert model.index(1, 1).data() == "other"
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None  # cleared
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) == QBrush(QColor("#ff0000"))
    assert view.grab().toImage() != before


def test_live_rows_land_in_sorted_place_under_any_column(qtbot):
    """The proxy places a row during its insert, when only its first cell is in the model:
    the sort keys of every column live there."""
    model = Rows()
    proxy = LiveFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(2, Qt.SortOrder.DescendingOrder)  # by speed, a number, not its text
    model.add_rows([row(1, speed=9.0), row(2, speed=100.0), row(3, speed=50.0)])
    model.add_rows([row(4, speed=70.0), row(5, speed=8.0)])
    speeds = [proxy.index(r, 2).data() for r in range(proxy.rowCount())]
    assert speeds == ["100.0 km/h", "70.0 km/h", "50.0 km/h", "9.0 km/h", "8.0 km/h"]
    assert proxy.sorted_by == 2
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    proxy.sort(-1)  # unsorted: the model's order, newest first
    assert [proxy.index(r, 0).data() for r in range(5)] == ["5", "4", "3", "2", "1"]


def test_past_the_cap_the_oldest_rows_slots_are_reused_nothing_removed(qtbot, qtmodeltester):
    """Qt finds a removed cell's row by searching from where it last saw it: with rows
    inserted at the top and removed at the bottom that was a scan of the whole table per
    cell (~1.2 ms a row at 20 000). Past the cap a new row overwrites the oldest's cells."""
    model = Rows(max_rows=5)
    proxy = LiveFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(-1)
    qtmodeltester.check(model)
    inserted, removed, changed = [], [], []
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    model.dataChanged.connect(lambda a, b, _r: changed.append((a.row(), b.row())))
    model.add_rows(row(i) for i in range(1, 5))
    cells = [model.item(r, c) for r in range(4) for c in range(3)]
    model.add_rows(row(i) for i in range(5, 8))
    assert inserted == [(0, 3), (4, 4)]  # one insert per call, at the end
    assert removed == []
    assert changed == [(2, 3)]  # the slots of 2 and 1, overwritten, in one run
    assert [proxy.index(r, 0).data() for r in range(5)] == ["7", "6", "5", "4", "3"]
    assert [r.push_id for r in model.rows] == [7, 6, 5, 4, 3]
    assert model.dropped == 2
    assert {model.row_at(model.row_of(i)).push_id for i in range(3, 8)} == set(range(3, 8))
    assert model.row_of(1) == model.row_of(2) == -1
    qtmodeltester.check(model)
    import shiboken6

    assert all(shiboken6.isValid(cell) for cell in cells)  # the same cells, new contents
    assert model.item(model.row_of(7), 0).text() == "7"


def test_older_rows_merge_in_and_a_full_table_keeps_the_newest(qtbot):
    model = Rows(max_rows=5)
    model.add_rows(row(i) for i in (10, 20, 30))
    model.add_rows(row(i) for i in (15, 25, 5, 1))  # history pages: older rows
    assert [r.push_id for r in model.rows] == [30, 25, 20, 15, 10]
    assert model.dropped == 2 and model.row_of(5) == model.row_of(1) == -1
    assert sorted(model.item(r, 0).text() for r in range(model.rowCount())) == sorted(
        ["30", "25", "20", "15", "10"])


def test_a_rebuild_leaves_no_cell_that_pyside_thinks_alive(qtbot):
    """PySide must learn when Qt deletes a cell; a wrapper left behind once answered for a
    selection model that Qt later put at the same address (a crash in the window). Cells
    are deleted only when the table is rebuilt (its cap lowered)."""
    import shiboken6

    model = Rows(max_rows=5)
    model.add_rows(row(i) for i in range(1, 6))
    cells = [model.item(r, c) for r in range(5) for c in range(3)]
    assert all(shiboken6.isValid(cell) for cell in cells)
    model.max_rows = 3
    model.add_rows([row(6)])  # three newest kept: fewer rows than slots, a rebuild
    assert [r.push_id for r in model.rows] == [6, 5, 4]
    assert model.rowCount() == 3
    assert not any(shiboken6.isValid(cell) for cell in cells)
    assert model.item(model.row_of(6), 1).text() == "d"

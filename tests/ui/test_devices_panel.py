"""Devices panel: a real fleet state and live feed, fed simulated vendor pushes, decoded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import QModelIndex, Qt

from app.journal.store import Journal
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.ui.panels.devices.model import (
    COL_ALARM,
    COL_BATTERY,
    COL_DEVICE,
    COL_LOCK,
    COL_SIGNAL,
    COL_STATUS,
    COLUMNS,
    FILTER_ROLE,
    ID_ROLE,
    INSERT_AT_MOST,
    SORT_ROLE,
)
from app.ui.panels.devices.widget import HEADER_KEY, DevicesPanel
from app.ui.theme import STATUS_COLOURS

KEY = "TESTKEY"


class Rig(LiveRig):
    """FleetState + LiveFeed + AppContext as the session wires them, and a simulated fleet."""

    def __init__(self, tmp_path: Path, devices: int = 12, seed: int = 5) -> None:
        super().__init__(tmp_path, listen=False)
        self.sim = Fleet(KEY, devices=devices, seed=seed)

    def everyone(self):
        return [p for d in self.sim.device_ids for p in self.sim.location(d)]

    def sublock_pushes(self):
        return [
            p for d in self.sim.devices.values() for sl in d.sublocks
            for p in self.sim.sublock_push(d.device_id, sl.sub_id)
        ]


@pytest.fixture
def rig(tmp_path, qtbot):
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, DevicesPanel(rig.ctx), (900, 500), show=True) as p:
        yield p


def top_ids(view_model) -> list[str]:
    return [view_model.index(r, 0).data(ID_ROLE) for r in range(view_model.rowCount())]


def drawn(panel, index, role=Qt.ItemDataRole.DisplayRole):
    """What the tree shows in a cell: its row brought on screen and drawn, then read back
    (the model writes a row's values only when a view draws it)."""
    view = panel.view
    if index.model() is not view.model():
        index = panel.proxy.mapFromSource(index)
    if index.parent().isValid():
        view.expand(index.parent())
    view.scrollTo(index)
    view.viewport().repaint()
    return index.data(role)


def with_sublocks(rig) -> list[str]:
    return [d.device_id for d in rig.sim.devices.values() if d.sublocks]


def test_devices_and_sublocks_appear_and_the_model_is_sound(rig, panel, qtbot, qtmodeltester):
    rig.send(qtbot, rig.everyone())
    model, proxy = panel.model, panel.proxy  # the proxy works while the view shows the model
    assert model.rowCount() == len(rig.sim.devices)
    assert proxy.rowCount() == len(rig.sim.devices)
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)

    # sub-locks of known devices arrive later: children rows
    rig.send(qtbot, rig.sublock_pushes())
    hosts = with_sublocks(rig)
    assert hosts
    for host in hosts:
        parent = model.index_of(host)
        subs = [s.sub_id for s in rig.sim.devices[host].sublocks]
        assert model.rowCount(parent) == len(subs)
        assert [model.index(i, 0, parent).data(FILTER_ROLE) for i in range(len(subs))] == subs
        child = model.index(0, COL_SIGNAL, parent)
        assert drawn(panel, child).startswith("RSSI ")
        assert child.siblingAtColumn(0).data(ID_ROLE) == host  # ids are in column 0
        sensor = rig.sim.devices[host].sublocks[0].sensor_type
        assert {4: "JT709", 6: "JT802"}[sensor] in drawn(panel, model.index(0, COL_DEVICE, parent))
        assert drawn(panel, model.index(0, COL_BATTERY, parent)).endswith(" %")

    # changes, an alarm, sorted and re-sorted: still a sound model
    rig.send(qtbot, rig.sim.raise_alarm(hosts[0], 46) + rig.everyone())
    panel.view.sortByColumn(COL_BATTERY, Qt.SortOrder.DescendingOrder)
    rig.send(qtbot, rig.everyone())
    model.resort()
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)
    row = model.index_of(hosts[0], COL_ALARM)
    assert drawn(panel, row).startswith("Back cover opened · ")
    assert "Back cover opened (46)" in drawn(panel, row, Qt.ItemDataRole.ToolTipRole)


def test_columns_show_decoded_state(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone())
    model = panel.model
    for dev in rig.sim.devices.values():
        row = model.row_of(dev.device_id)
        cell = lambda col, r=row: drawn(panel, model.index(r, col))  # noqa: E731
        assert cell(COL_STATUS) == "online"
        decoration = Qt.ItemDataRole.DecorationRole
        assert drawn(panel, model.index(row, COL_STATUS), decoration) is not None
        if dev.model == "GP":
            assert cell(COL_LOCK) == "ACC on"
        else:
            assert cell(COL_LOCK) == ("Locked" if dev.lock_status == 0 else "Unlocked")
        if dev.charging:
            assert cell(COL_BATTERY) == "⚡ charging"
        else:
            assert cell(COL_BATTERY) == f"{dev.battery} %"
        assert cell(COL_SIGNAL).startswith(f"{dev.cell_signal} / ")
        for col in range(len(COLUMNS)):
            assert "{" not in str(cell(col))


def test_search_filters_by_device_and_sublock_id(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone() + rig.sublock_pushes())
    n = len(rig.sim.devices)
    some = rig.sim.device_ids[3]
    panel.focus_search()
    qtbot.keyClicks(panel.search, some[-6:])
    assert some in top_ids(panel.view.model())
    assert panel.view.model().rowCount() < n
    assert f"showing {panel.view.model().rowCount()} of {n}" in panel.counts_text()

    host = with_sublocks(rig)[0]
    sub = rig.sim.devices[host].sublocks[-1].sub_id
    panel.search.setText(sub.lower())  # case does not matter
    assert top_ids(panel.view.model()) == [host]
    parent = panel.view.model().index(0, 0)
    assert [panel.view.model().index(i, 0, parent).data(FILTER_ROLE)
            for i in range(panel.view.model().rowCount(parent))] == [sub]
    # drawn through the proxy: the rows it shows are the model's rows brought up to date
    assert drawn(panel, panel.view.model().index(0, COL_SIGNAL, parent)).startswith("RSSI ")
    assert f"showing 1 of {n}" in panel.counts_text()
    # the device chosen while searching stays selected, in the same sort, once cleared
    rig.ctx.selection.select(host)
    panel.view.sortByColumn(COL_BATTERY, Qt.SortOrder.DescendingOrder)

    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)
    assert panel.search.text() == ""
    assert panel.view.model() is panel.model  # no filtering proxy in the way when not searching
    assert panel.view.model().rowCount() == n
    assert "showing" not in panel.counts_text()
    assert panel._selected_ids() == [host]
    assert panel.view.header().sortIndicatorSection() == COL_BATTERY
    assert panel.model.sort_column == COL_BATTERY


def test_counts_line(rig, panel, qtbot):
    assert "no devices yet" in panel.counts_text()
    rig.send(qtbot, rig.everyone())
    n = len(rig.sim.devices)
    # the counts line follows within half a second (it walks every device: not per batch)
    qtbot.waitUntil(lambda: panel.counts_text()
                    == f"{n} devices · {n} online · 0 quiet · 0 offline", timeout=3000)


def test_status_moves_with_the_clock(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone())
    quiet, gone = rig.sim.device_ids[:2]
    th = rig.fleet.thresholds
    rig.fleet.devices[quiet].last_seen -= th.quiet_after + 1
    rig.fleet.devices[gone].last_seen -= th.offline_after + 1
    changed = []
    panel.model.dataChanged.connect(lambda a, b, roles: changed.append((a.row(), b.row(),
                                                                         a.column(), b.column())))
    panel.refresh_status()  # what the 5 s timer does
    assert changed == [(0, len(rig.sim.devices) - 1, COL_STATUS, COL_STATUS)]
    assert drawn(panel, panel.model.index_of(quiet, COL_STATUS)) == "quiet"
    assert drawn(panel, panel.model.index_of(gone, COL_STATUS)) == "offline"
    n = len(rig.sim.devices)
    assert panel.counts_text() == f"{n} devices · {n - 2} online · 1 quiet · 1 offline"
    # sorting by status puts the worst last (ascending), and uses ranks, not words
    panel.view.sortByColumn(COL_STATUS, Qt.SortOrder.AscendingOrder)
    assert top_ids(panel.view.model())[-2:] == [quiet, gone]


def test_sort_by_battery_is_numeric(rig, panel, qtbot):
    levels = [5, 40, 100, 9, 73, 18, 61, 2, 88, 30, 55, 99]
    for dev, level in zip(rig.sim.devices.values(), levels, strict=False):
        dev.battery, dev.charging = level, False
    charging = rig.sim.devices[rig.sim.device_ids[-1]]
    charging.charging = True
    rig.send(qtbot, rig.everyone())
    panel.view.sortByColumn(COL_BATTERY, Qt.SortOrder.AscendingOrder)
    values = [panel.view.model().index(r, COL_BATTERY).data(SORT_ROLE)
              for r in range(panel.view.model().rowCount())]
    assert values == sorted(values)
    assert values[-1] == 101  # charging sorts above full
    assert top_ids(panel.view.model())[-1] == charging.device_id
    texts = [drawn(panel, panel.view.model().index(r, COL_BATTERY)) for r in range(3)]
    assert texts == ["2 %", "5 %", "9 %"]  # as numbers, not as strings
    panel.view.sortByColumn(COL_BATTERY, Qt.SortOrder.DescendingOrder)
    assert drawn(panel, panel.view.model().index(0, COL_BATTERY)) == "⚡ charging"
    # a new reading moves the row at the next re-sort (timer), not under the mouse at once
    low = top_ids(panel.view.model())[1]
    rig.sim.devices[low].battery = 1
    rig.send(qtbot, rig.sim.location(low))
    assert top_ids(panel.view.model())[1] == low
    panel.model.resort()
    assert top_ids(panel.view.model())[-1] == low


@pytest.mark.parametrize(("column", "order"), [(COL_DEVICE, Qt.SortOrder.AscendingOrder),
                                               (COL_BATTERY, Qt.SortOrder.DescendingOrder)])
def test_a_few_new_devices_go_straight_into_their_sorted_places(rig, panel, qtbot, column,
                                                                order):
    """No re-sort of the whole tree (a C++ sort and a relayout of every row) for them."""
    levels = [5, 40, 100, 9, 73, 18, 61, 2, 88, 30, 55, 99]
    for dev, level in zip(rig.sim.devices.values(), levels, strict=False):
        dev.battery, dev.charging = level, False
    rig.send(qtbot, rig.everyone())
    panel.view.sortByColumn(column, order)
    later = Fleet(KEY, devices=3, seed=77)
    for dev, level in zip(later.devices.values(), (50, 1, 95), strict=True):
        dev.battery, dev.charging = level, False
    layouts, inserts = [], []
    panel.model.layoutChanged.connect(lambda *_: layouts.append(1))
    panel.model.rowsInserted.connect(lambda parent, a, b: inserts.append(b - a + 1)
                                     if not parent.isValid() else None)
    rig.send(qtbot, [p for d in later.device_ids for p in later.location(d)])
    view_model = panel.view.model()
    values = [view_model.index(r, column).data(SORT_ROLE) for r in range(view_model.rowCount())]
    assert len(values) == 15
    assert values == sorted(values, reverse=order == Qt.SortOrder.DescendingOrder)
    assert inserts == [1, 1, 1] and not layouts
    assert not panel.model.sort_dirty


def test_clicking_a_row_selects_the_device(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone())
    target = top_ids(panel.view.model())[2]
    rect = panel.view.visualRect(panel.view.model().index(2, 0))
    with qtbot.waitSignal(rig.ctx.selection.sig_device_selected) as blocker:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [target]
    assert rig.ctx.selection.device_ids == [target]
    # extended selection: charts overlay several devices
    other = top_ids(panel.view.model())[4]
    rect = panel.view.visualRect(panel.view.model().index(4, 0))
    with qtbot.waitSignal(rig.ctx.selection.sig_devices_selected) as blocker:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ControlModifier, rect.center())
    assert set(blocker.args[0]) == {target, other}


def test_selection_from_another_panel_selects_the_row(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone())
    target = rig.sim.device_ids[7]
    emitted = []
    rig.ctx.selection.sig_devices_selected.connect(emitted.append)
    rig.ctx.selection.select(target)  # e.g. a click on the map
    current = panel.view.currentIndex()
    assert current.data(ID_ROLE) == target
    assert panel.view.selectionModel().isSelected(current)
    assert emitted == [[target]]  # no echo back from the tree

    # a device selected before it has a row is selected when it appears
    rig.ctx.selection.select("")
    late = Fleet(KEY, devices=1, seed=99)
    late_id = late.device_ids[0]
    rig.ctx.selection.select(late_id)
    rig.send(qtbot, late.location(late_id))
    assert panel.view.currentIndex().data(ID_ROLE) == late_id


def test_header_state_is_saved(rig, panel, qtbot, tmp_path):
    panel.view.setColumnWidth(COL_BATTERY, 155)
    panel.shutdown()
    assert rig.settings.value(HEADER_KEY) is not None
    again = DevicesPanel(rig.ctx)
    qtbot.addWidget(again)
    assert again.view.columnWidth(COL_BATTERY) == 155
    again.shutdown()


def test_acknowledge_all_alarms_of_a_device(rig, panel, qtbot):
    rig.recorder.add_listener(rig.feed.push)
    device = rig.sim.device_ids[0]
    for topic, payload in rig.sim.raise_alarm(device, 40) + rig.sim.raise_alarm(device, 51):
        rig.recorder.writer.submit(RawPush("mqtt", topic, payload, time.time(), "test"))
    qtbot.waitUntil(lambda: len(rig.fleet.unacknowledged_of(device)) == 2, timeout=5000)
    with qtbot.waitSignal(rig.ctx.acknowledgements.sig_alarms_acknowledged) as blocker:
        done = panel.acknowledge_device(device)
    assert len(done) == 2 and blocker.args[0] == done
    assert rig.fleet.unacknowledged_of(device) == []

    def stored() -> bool:
        with Journal(rig.path) as journal:
            return not [r for r in journal.unacknowledged_alarms() if r.device == device]

    qtbot.waitUntil(stored, timeout=5000)


def test_5000_devices_arrive_in_batches(tmp_path, qtbot):
    rig = Rig(tmp_path, devices=5000, seed=11)
    try:
        panel = DevicesPanel(rig.ctx)
        qtbot.addWidget(panel)
        panel.resize(900, 500)
        panel.show()
        model = panel.model
        inserted, changed = [], []
        model.rowsInserted.connect(
            lambda parent, a, b: inserted.append(b - a + 1) if not parent.isValid() else None)
        # changes from batches: one dataChanged per run of changed rows on screen, from
        # column 1 (the id never changes; from column 0 QTreeView asks hasChildren of every
        # row), none for rows off screen (a span across the tree cost QTreeView ~50 ms).
        # The 5 s status refresh touches only its own column.
        model.dataChanged.connect(
            lambda a, b, roles: changed.append((a.parent().isValid(), a.row(), b.row()))
            if (a.column(), b.column()) == (1, len(COLUMNS) - 1) else None)
        pushes = rig.everyone()
        batches = 10
        size = len(pushes) // batches
        for i in range(batches):
            rig.send(qtbot, pushes[i * size:(i + 1) * size])
        # one insert per batch, not per push, of at most INSERT_AT_MOST: the rest wait for
        # the next few milliseconds, after a paint
        assert inserted[0] == INSERT_AT_MOST
        qtbot.waitUntil(lambda: model.rowCount() == 5000, timeout=5000)
        assert panel.view.model().rowCount() == 5000
        assert sum(inserted) == 5000 and max(inserted) == INSERT_AT_MOST
        assert not model.waiting
        assert changed == []  # nothing changed yet: only new rows
        # a second round of 250 pushes per tick: one dataChanged per batch, never one per
        # push. Large trees put new rows in order on the re-sort timer: do now what it would,
        # so the row order below is the one that stays.
        height = panel.view.rowHeight(model.index(0, 0))
        model.resort()
        # the first row sets every row's height: one not drawn yet is as tall as one drawn
        assert panel.view.rowHeight(model.index(0, 0)) == height
        ids = model.device_ids()  # in row order
        pushes = [p for d in ids[:1000] for p in rig.sim.location(d)]  # adjacent rows
        for i in range(0, len(pushes), 250):
            rig.send(qtbot, pushes[i:i + 250])
        on_screen = panel._rows_on_screen()
        assert on_screen == list(range(len(on_screen))) and 10 < len(on_screen) < 250
        assert changed == [(False, 0, on_screen[-1])]  # rows 250-999 are off screen
        changed.clear()
        spread = [p for d in ids[::20] for p in rig.sim.location(d)]  # 250 rows, none adjacent
        rig.send(qtbot, spread)
        assert changed == [(False, r, r) for r in on_screen if r % 20 == 0]
        changed.clear()
        panel.view.scrollToBottom()
        qtbot.waitUntil(lambda: panel._rows_on_screen()[-1] == 4999)
        rig.send(qtbot, [p for d in ids[-3:] for p in rig.sim.location(d)])
        assert changed == [(False, 4997, 4999)]  # what is on screen now
        assert sum(inserted) == 5000
        panel.view.sortByColumn(COL_BATTERY, Qt.SortOrder.AscendingOrder)
        qtbot.keyClicks(panel.search, rig.sim.device_ids[123])
        assert rig.sim.device_ids[123] in top_ids(panel.view.model())
        assert "of 5,000" in panel.counts_text()
        panel.shutdown()
    finally:
        rig.close()


def test_model_index_edges(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone())
    model = panel.model
    assert not model.index(len(rig.sim.devices), 0).isValid()
    assert not model.index(0, len(COLUMNS)).isValid()
    assert not model.parent(model.index(0, 0)).isValid()
    assert model.data(QModelIndex()) is None


def test_sublock_changes_are_announced_only_for_expanded_devices(rig, panel, qtbot):
    rig.send(qtbot, rig.everyone() + rig.sublock_pushes())
    shown, hidden = with_sublocks(rig)[:2]
    model = panel.model
    panel.view.expand(model.index_of(shown))
    announced: list[str] = []
    model.dataChanged.connect(
        lambda a, b, roles: announced.append(a.data(ID_ROLE)) if a.parent().isValid() else None)
    rig.send(qtbot, rig.sublock_pushes())
    assert announced == [shown]  # the collapsed device's rows are read fresh when expanded
    assert hidden not in announced


def painted(panel, index):
    """How the view's delegate paints a cell, once its row is drawn."""
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    drawn(panel, index)
    option = QStyleOptionViewItem()
    QStyledItemDelegate().initStyleOption(option, index)
    return option


def test_drawn_cells_follow_every_change(rig, panel, qtbot):
    """A drawn row keeps its values until something changes; each kind of change must
    reach what is drawn next."""
    rig.send(qtbot, rig.everyone() + rig.sublock_pushes())
    model = panel.model
    device = rig.sim.device_ids[0]
    host = with_sublocks(rig)[0]
    sub = rig.sim.devices[host].sublocks[0]
    sub_index = model.index(0, COL_BATTERY, model.index_of(host))
    before_sub = painted(panel, sub_index).text
    panel.view.collapse(model.index_of(host))  # its sub-lock rows are not drawn now
    assert painted(panel, model.index_of(device, COL_STATUS)).text == "online"
    rig.sim.devices[device].battery, rig.sim.devices[device].charging = 3, False
    rig.send(qtbot, rig.sim.location(device))  # a push of the device
    assert painted(panel, model.index_of(device, COL_BATTERY)).text == "3 %"
    sub.battery = 7 if before_sub != "7 %" else 8
    rig.send(qtbot, rig.sim.sublock_push(host, sub.sub_id))  # a push of a hidden sub-lock
    assert painted(panel, sub_index).text == f"{sub.battery} %"
    rig.fleet.devices[device].last_seen -= rig.fleet.thresholds.quiet_after + 1
    panel.refresh_status()  # the clock
    assert painted(panel, model.index_of(device, COL_STATUS)).text == "quiet"
    # a critical alarm is red until acknowledged, wherever it is acknowledged
    rig.send(qtbot, rig.sim.raise_alarm(device, 46))  # back cover opened: critical
    alarm_cell = model.index_of(device, COL_ALARM)
    red = STATUS_COLOURS["critical"].name()
    assert painted(panel, alarm_cell).palette.text().color().name() == red
    rig.ctx.acknowledgements.acknowledge(list(rig.fleet.unacknowledged))  # as the alarm panel
    assert painted(panel, alarm_cell).palette.text().color().name() != red


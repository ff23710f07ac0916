"""A live alarm table holds still under the hand (issue 18's "Done when", driven on the real
table with alarms arriving every 100 ms through the real journal and feed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import QPoint, Qt, QTimer

from app.sim.fleet import Fleet
from app.ui.panels.alarms.widget import AlarmsPanel

CODES = (40, 41, 44, 45, 46, 51, 198)


class Rig(LiveRig):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = Fleet("HOLDKEY", devices=8, seed=11)
        self.sent = 0

    def one_alarm(self) -> None:
        device = self.sim.device_ids[self.sent % len(self.sim.device_ids)]
        self.submit([p for p in self.sim.raise_alarm(device, CODES[self.sent % len(CODES)])
                     if "/alarm" in p[0]])
        self.sent += 1


@pytest.fixture
def rig(tmp_path, qtbot):
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, AlarmsPanel(rig.ctx), (900, 420), show=True, history=True) as p:
        qtbot.waitExposed(p)
        # the pointer starts off the table, on the filters (over the table first, so that
        # Qt's enter/leave tracking knows this window rather than the last test's)
        qtbot.mouseMove(p.view.viewport(), QPoint(20, 20))
        qtbot.mouseMove(p.device_edit)
        qtbot.waitUntil(lambda: not p.hold.pointer_over)
        yield p


@pytest.fixture
def stream(rig):
    """An alarm every 100 ms until the test ends."""
    timer = QTimer(interval=100)
    timer.timeout.connect(rig.one_alarm)
    timer.start()
    yield timer
    timer.stop()


def row_id_at(panel, pos: QPoint) -> int:
    index = panel.view.indexAt(pos)
    return panel.model.row_at(panel.proxy.mapToSource(index).row()).push_id


def test_a_clicked_alarm_stays_put_and_space_acknowledges_exactly_it(rig, panel, stream, qtbot):
    qtbot.waitUntil(lambda: panel.proxy.rowCount() >= 6, timeout=10_000)
    view = panel.view
    pos = view.visualRect(panel.proxy.index(3, 1)).center()  # the 4th row, device column
    aimed = row_id_at(panel, pos)
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert [r.push_id for r in panel.selected_rows()] == [aimed]
    sent = rig.sent
    # 5 s of alarms at 100 ms: every one waits behind the bar, none moves the table
    qtbot.waitUntil(lambda: rig.sent >= sent + 50, timeout=20_000)
    qtbot.waitUntil(lambda: panel.proxy.held_count() >= 40, timeout=10_000)
    assert row_id_at(panel, pos) == aimed
    assert [r.push_id for r in panel.selected_rows()] == [aimed]
    assert panel.new_rows_bar.isVisible()
    assert "new alarms" in panel.new_rows_bar.label.text()

    acked: list[list[int]] = []
    panel.ctx.acknowledgements.sig_alarms_acknowledged.connect(lambda ids, *_: acked.append(ids))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert acked == [[aimed]]
    assert all(r.acked_at is None for r in panel.model.rows if r.push_id != aimed)


def test_scrolled_down_the_top_row_stays_and_show_brings_the_new_ones_in(rig, panel, stream,
                                                                        qtbot):
    view = panel.view
    qtbot.waitUntil(lambda: panel.proxy.rowCount() >= 40, timeout=20_000)
    view.verticalScrollBar().setValue(10)
    top = row_id_at(panel, QPoint(5, 5))
    shown = panel.proxy.rowCount()
    qtbot.waitUntil(lambda: panel.proxy.held_count() >= 10, timeout=10_000)
    assert row_id_at(panel, QPoint(5, 5)) == top
    assert view.verticalScrollBar().value() == 10
    assert panel.proxy.rowCount() == shown  # nothing came in above or below

    waiting = panel.proxy.held_count()
    qtbot.mouseClick(panel.new_rows_bar.show_button, Qt.MouseButton.LeftButton)
    assert panel.proxy.rowCount() >= shown + waiting
    assert view.verticalScrollBar().value() == 0
    newest = max(r.push_id for r in panel.model.rows)
    assert row_id_at(panel, QPoint(5, 5)) >= newest - 2  # the newest are at the top again


def test_with_no_hand_on_it_the_table_follows_live(rig, panel, stream, qtbot):
    qtbot.waitUntil(lambda: panel.proxy.rowCount() >= 3, timeout=10_000)
    assert not panel.hold.held
    qtbot.waitUntil(lambda: panel.proxy.rowCount() >= 8, timeout=10_000)
    assert panel.proxy.held_count() == 0 and not panel.new_rows_bar.isVisible()


def test_j_k_move_and_f_follows_live_again(rig, panel, stream, qtbot):
    qtbot.waitUntil(lambda: panel.proxy.rowCount() >= 5, timeout=10_000)
    view = panel.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_J)
    qtbot.keyClick(view, Qt.Key.Key_J)
    assert view.currentIndex().row() == 1 and panel.hold.held
    qtbot.keyClick(view, Qt.Key.Key_K)
    assert view.currentIndex().row() == 0
    qtbot.waitUntil(lambda: panel.proxy.held_count() >= 2, timeout=10_000)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert not view.selectionModel().hasSelection()
    assert panel.proxy.held_count() == 0 and not panel.hold.held

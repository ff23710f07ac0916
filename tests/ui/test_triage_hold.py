"""A live alarm table holds still under the hand (issue 18's "Done when", driven on the real
table with alarms arriving every 100 ms through the real journal and feed)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer


@pytest.fixture
def stream(alarm_rig):
    """An alarm every 100 ms until the test ends."""
    timer = QTimer(interval=100)
    timer.timeout.connect(alarm_rig.one_alarm)
    timer.start()
    yield timer
    timer.stop()


def row_id_at(alarms_panel, pos: QPoint) -> int:
    index = alarms_panel.view.indexAt(pos)
    return alarms_panel.model.row_at(alarms_panel.proxy.mapToSource(index).row()).push_id


def test_a_clicked_alarm_stays_put_and_space_acknowledges_exactly_it(alarm_rig, alarms_panel,
                                                                    stream, qtbot):
    qtbot.waitUntil(lambda: alarms_panel.proxy.rowCount() >= 6, timeout=10_000)
    view = alarms_panel.view
    pos = view.visualRect(alarms_panel.proxy.index(3, 1)).center()  # the 4th row, device column
    aimed = row_id_at(alarms_panel, pos)
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert [r.push_id for r in alarms_panel.selected_rows()] == [aimed]
    sent = alarm_rig.sent
    # 5 s of alarms at 100 ms: every one waits behind the bar, none moves the table
    qtbot.waitUntil(lambda: alarm_rig.sent >= sent + 50, timeout=20_000)
    qtbot.waitUntil(lambda: alarms_panel.proxy.held_count() >= 40, timeout=10_000)
    assert row_id_at(alarms_panel, pos) == aimed
    assert [r.push_id for r in alarms_panel.selected_rows()] == [aimed]
    assert alarms_panel.new_rows_bar.isVisible()
    assert "new alarms" in alarms_panel.new_rows_bar.label.text()

    acked: list[list[int]] = []
    acks = alarms_panel.ctx.acknowledgements
    acks.sig_alarms_acknowledged.connect(lambda ids, *_: acked.append(ids))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert acked == [[aimed]]
    assert all(r.acked_at is None for r in alarms_panel.model.rows if r.push_id != aimed)


def test_scrolled_down_the_top_row_stays_and_show_brings_the_new_ones_in(alarm_rig, alarms_panel,
                                                                        stream, qtbot):
    view = alarms_panel.view
    qtbot.waitUntil(lambda: alarms_panel.proxy.rowCount() >= 40, timeout=20_000)
    view.verticalScrollBar().setValue(10)
    top = row_id_at(alarms_panel, QPoint(5, 5))
    shown = alarms_panel.proxy.rowCount()
    qtbot.waitUntil(lambda: alarms_panel.proxy.held_count() >= 10, timeout=10_000)
    assert row_id_at(alarms_panel, QPoint(5, 5)) == top
    assert view.verticalScrollBar().value() == 10
    assert alarms_panel.proxy.rowCount() == shown  # nothing came in above or below

    waiting = alarms_panel.proxy.held_count()
    qtbot.mouseClick(alarms_panel.new_rows_bar.show_button, Qt.MouseButton.LeftButton)
    assert alarms_panel.proxy.rowCount() >= shown + waiting
    assert view.verticalScrollBar().value() == 0
    newest = max(r.push_id for r in alarms_panel.model.rows)
    assert row_id_at(alarms_panel, QPoint(5, 5)) >= newest - 2  # the newest are at the top again


def test_with_no_hand_on_it_the_table_follows_live(alarm_rig, alarms_panel, stream, qtbot):
    qtbot.waitUntil(lambda: alarms_panel.proxy.rowCount() >= 3, timeout=10_000)
    assert not alarms_panel.hold.held
    qtbot.waitUntil(lambda: alarms_panel.proxy.rowCount() >= 8, timeout=10_000)
    assert alarms_panel.proxy.held_count() == 0 and not alarms_panel.new_rows_bar.isVisible()


def test_j_k_move_and_f_follows_live_again(alarm_rig, alarms_panel, stream, qtbot):
    qtbot.waitUntil(lambda: alarms_panel.proxy.rowCount() >= 5, timeout=10_000)
    view = alarms_panel.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_J)
    qtbot.keyClick(view, Qt.Key.Key_J)
    assert view.currentIndex().row() == 1 and alarms_panel.hold.held
    qtbot.keyClick(view, Qt.Key.Key_K)
    assert view.currentIndex().row() == 0
    qtbot.waitUntil(lambda: alarms_panel.proxy.held_count() >= 2, timeout=10_000)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert not view.selectionModel().hasSelection()
    assert alarms_panel.proxy.held_count() == 0 and not alarms_panel.hold.held


def test_an_empty_table_has_nothing_to_hold(alarm_rig, alarms_panel, qtbot):
    """A pointer resting over an empty table must not keep the first alarms out of it."""
    view = alarms_panel.view
    qtbot.mouseMove(view.viewport(), QPoint(30, 30))
    qtbot.waitUntil(lambda: alarms_panel.hold.pointer_over)
    alarm_rig.one_alarm()
    qtbot.waitUntil(lambda: alarms_panel.proxy.rowCount() == 1, timeout=10_000)
    assert alarms_panel.hold.held  # now there is a row under the hand: the next one waits
    alarm_rig.one_alarm()
    qtbot.waitUntil(lambda: alarms_panel.proxy.held_count() == 1, timeout=10_000)
    assert alarms_panel.proxy.rowCount() == 1

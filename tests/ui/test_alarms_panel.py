"""Alarm panel: fed real decoded pushes through the journal writer and the live feed."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt

from app.fleet.state import DEFAULT_CRITICAL_ALARMS
from app.journal.store import Journal
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.ui.panels.alarms.model import ACK, ALARM, CRITICAL_BG, POSITION, AlarmFilterProxy
from app.ui.panels.alarms.notify import CriticalNotifier
from app.ui.panels.alarms.widget import AlarmsPanel, load_critical
from app.ui.session import Session

KEY = "TESTKEY"


class Rig(LiveRig):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = Fleet(KEY, devices=6, seed=3)

    def alarm(self, device: str, code: int, at: float | None = None) -> None:
        # raise_alarm also gives the location push devices send with an alarm
        self.submit(self.sim.raise_alarm(device, code), at)


def newest(m, n: int, column: int):
    """The cell of the n-th newest row (the model's rows are slots; the view shows them
    newest first through the proxy)."""
    return m.index(m.row_of(m.rows[n].push_id), column)


@pytest.fixture
def rig(tmp_path, qtbot):
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, AlarmsPanel(rig.ctx), history=True) as p:
        yield p


def devices(rig: Rig) -> list[str]:
    return rig.sim.device_ids


def test_live_alarms_decoded_and_model_is_sound(rig, panel, qtbot, qtmodeltester):
    d = devices(rig)
    rig.alarm(d[0], 45)  # Low power
    rig.alarm(d[1], 999)  # not in the seed's table
    rig.alarm(d[2], 51)  # SOS
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3)
    m = panel.model
    names = [newest(m, r, ALARM).data() for r in range(3)]
    assert names == ["SOS", "Unknown alarm 999", "Low power"]
    assert newest(m, 0, 1).data() == d[2]
    assert newest(m, 0, ACK).data() == "not yet"
    assert newest(m, 0, POSITION).data() != ""  # position or "no fix"
    shown = [panel.proxy.index(r, ALARM).data() for r in range(3)]
    assert shown == names  # the view: newest first
    qtmodeltester.check(m)
    qtmodeltester.check(panel.proxy)
    # unknown type appears in the type filter
    assert panel.type_combo.findData(999) > 0


def test_one_insert_per_batch(rig, panel, qtbot):
    rig.feed.stop()  # deliver by hand: exactly one batch
    inserted: list[tuple[int, int]] = []
    panel.model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    d = devices(rig)
    for i in range(12):
        rig.alarm(d[i % len(d)], 41)
    rig.deliver()
    assert inserted == [(0, 11)]
    for i in range(5):
        rig.alarm(d[i], 42)
    rig.deliver()
    assert inserted == [(0, 11), (12, 16)]  # the model's rows are slots: new ones at the end
    assert panel.model.rowCount() == 17


def test_a_flood_batch_goes_in_a_few_hundred_rows_at_a_time(rig, panel, qtbot):
    """Hundreds of rows in one piece of GUI work was one of a flood's longest stalls."""
    from app.ui.widgets.live_panel import LIVE_ROWS_AT_ONCE

    rig.feed.stop()
    inserted: list[tuple[int, int]] = []
    panel.model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    d = devices(rig)
    n = 2 * LIVE_ROWS_AT_ONCE + 50
    for i in range(n):
        rig.alarm(d[i % len(d)], 41)
    rig.deliver()
    assert inserted == [(0, LIVE_ROWS_AT_ONCE - 1)]  # the oldest first; the rest after a breath
    qtbot.waitUntil(lambda: panel.model.rowCount() == n, timeout=5000)
    assert inserted == [(0, LIVE_ROWS_AT_ONCE - 1), (LIVE_ROWS_AT_ONCE, 2 * LIVE_ROWS_AT_ONCE - 1),
                        (2 * LIVE_ROWS_AT_ONCE, n - 1)]
    ids = [r.push_id for r in panel.model.rows]
    assert ids == sorted(ids, reverse=True)
    shown = [panel.model.row_at(panel.proxy.mapToSource(panel.proxy.index(r, 0)).row()).push_id
             for r in range(3)]
    assert shown == ids[:3]  # the view: newest first


def test_bounded_and_says_so(rig, qtbot):
    p = AlarmsPanel(rig.ctx, max_rows=5)
    qtbot.addWidget(p)
    qtbot.waitUntil(lambda: p.history_done)
    rig.feed.stop()
    d = devices(rig)
    for i in range(8):
        rig.alarm(d[i % len(d)], 41)
    rig.deliver()
    assert p.model.rowCount() == 5
    assert p.model.dropped == 3
    assert "showing newest 5" in p.drop_label.text()
    assert "push log" in p.drop_label.text()
    p.shutdown()


def test_critical_highlighted_until_acknowledged(rig, panel, qtbot):
    d = devices(rig)
    rig.alarm(d[0], 41)  # Vibration: not critical
    rig.alarm(d[1], 40)  # Lock rope cut: critical by default
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    m = panel.model
    assert newest(m, 0, ALARM).data() == "Lock rope cut"
    assert newest(m, 0, 0).data(Qt.ItemDataRole.BackgroundRole) == CRITICAL_BG
    assert newest(m, 0, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert newest(m, 1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    # still red a while later (nothing but acknowledgement clears it)
    rig.alarm(d[2], 41)
    qtbot.waitUntil(lambda: m.rowCount() == 3)
    assert newest(m, 1, 0).data(Qt.ItemDataRole.BackgroundRole) == CRITICAL_BG
    push_id = m.rows[1].push_id
    with qtbot.waitSignal(rig.ctx.acknowledgements.sig_alarms_acknowledged) as sig:
        panel.acknowledge([push_id])
    assert sig.args[0] == [push_id] and sig.args[2] == "dispatcher1"
    assert newest(m, 1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert newest(m, 1, ACK).data().startswith("dispatcher1 · ")
    assert push_id not in rig.ctx.fleet.unacknowledged


def test_notifications_coalesced_one_per_second(rig, panel, qtbot):
    calls: list[tuple[str, str]] = []
    panel.notifier.show_hook = lambda title, msg: calls.append((title, msg))
    rig.feed.stop()
    d = devices(rig)
    rig.alarm(d[0], 51)
    rig.alarm(d[1], 40)
    rig.alarm(d[2], 46)
    rig.alarm(d[3], 41)  # not critical: not in the notification
    rig.deliver()
    assert len(calls) == 1
    assert calls[0][0].startswith("3 critical alarms: ")
    assert "SOS" in calls[0][0] and d[1] in calls[0][1]
    # within the second: held back, then one notification for both
    rig.alarm(d[4], 52)
    rig.deliver()
    rig.alarm(d[5], 26)
    rig.deliver()
    assert len(calls) == 1 and panel.notifier.pending == 2
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=3000)
    assert calls[1][0] == "2 critical alarms: Towing alarm, Vehicle theft"


def test_notifier_logic_with_a_fake_clock(qtbot):
    now = [100.0]
    shown: list[str] = []
    n = CriticalNotifier(lambda t, _m: shown.append(t), clock=lambda: now[0])
    from app.ui.panels.alarms.model import make_row

    def row(i, code=51):
        return make_row(i, f"dev{i}", 0.0, {"alarmType": code, "alarmName": "SOS"})

    n.add([row(1)])
    assert shown == ["Critical alarm: SOS"]
    now[0] += 0.2
    n.add([row(2)])
    n.add([row(3)])
    assert len(shown) == 1
    now[0] += 1.0
    with qtbot.waitSignal(n.sig_notification_shown, timeout=3000):
        pass
    assert shown[-1] == "2 critical alarms: 2× SOS"
    n.stop()


def test_default_notification_beeps_and_shows_banner_without_tray(rig, panel, qtbot,
                                                                   monkeypatch):
    beeps = []
    monkeypatch.setattr("PySide6.QtWidgets.QApplication.beep", lambda: beeps.append(1))
    rig.alarm(devices(rig)[0], 51)
    qtbot.waitUntil(lambda: panel.banner.isVisibleTo(panel))
    assert beeps == [1]
    assert "SOS" in panel.banner_label.text()
    assert panel.banner_label.text().startswith("⚠ 1 critical alarm waiting for acknowledgement")
    # acknowledging the last critical alarm takes the banner away
    panel.acknowledge(list(panel.model.unacked))
    assert not panel.banner.isVisibleTo(panel)


def test_user_chooses_critical_types(rig, panel, qtbot):
    d = devices(rig)
    rig.alarm(d[0], 41)  # Vibration
    rig.alarm(d[1], 51)  # SOS
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    panel.set_critical_codes({41})
    m = panel.model
    assert newest(m, 1, 0).data(Qt.ItemDataRole.BackgroundRole) == CRITICAL_BG  # vibration
    assert newest(m, 0, 0).data(Qt.ItemDataRole.BackgroundRole) is None  # SOS no longer
    assert rig.ctx.fleet.critical_alarms == {41}
    assert load_critical(rig.settings) == {41}
    vib = next(e for e in rig.ctx.fleet.unacknowledged.values() if e.alarm_type == 41)
    assert vib.critical
    # a new panel applies the saved choice to the fleet state
    rig.ctx.fleet.critical_alarms = set(DEFAULT_CRITICAL_ALARMS)
    p2 = AlarmsPanel(rig.ctx, history=0)
    qtbot.addWidget(p2)
    assert rig.ctx.fleet.critical_alarms == {41}
    p2.shutdown()


def test_critical_dialog_lists_the_seed_table(qtbot):
    from app.protocol.codes import ALARM_TYPES
    from app.ui.panels.alarms.widget import CriticalTypesDialog

    dlg = CriticalTypesDialog({51, 40})
    qtbot.addWidget(dlg)
    assert dlg.list.count() == len(ALARM_TYPES)
    assert dlg.codes() == {51, 40}
    dlg.set_codes(set(DEFAULT_CRITICAL_ALARMS))
    assert dlg.codes() == set(DEFAULT_CRITICAL_ALARMS)
    dlg.search.setText("rope")
    visible = [dlg.list.item(i).text() for i in range(dlg.list.count())
               if not dlg.list.item(i).isHidden()]
    assert any("Lock rope cut" in t for t in visible)
    assert all("rope" in t.lower() for t in visible)


def _select(panel, proxy_rows: list[int]) -> None:
    sm = panel.view.selectionModel()
    sm.clearSelection()
    for r in proxy_rows:
        sm.select(panel.proxy.index(r, 0),
                  QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


def test_acknowledge_one_selection_device_and_visible(rig, panel, qtbot, monkeypatch):
    d = devices(rig)
    for dev in (d[0], d[1], d[1], d[2], d[2], d[3]):
        rig.alarm(dev, 41)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 6)
    m = panel.model
    # one, via the keyboard
    panel.show()
    qtbot.waitExposed(panel)
    _select(panel, [0])
    first = m.row_at(0)
    assert rig.ctx.selection.device_id == first.device  # selecting selects the device
    panel.view.setFocus()
    panel.ack_action.trigger()  # Space / Ctrl+Shift+A
    assert first.acked_at is not None
    assert first.push_id not in rig.ctx.fleet.unacknowledged
    # a selection of two
    _select(panel, [1, 2])
    ids = {m.row_at(1).push_id, m.row_at(2).push_id}
    assert set(rig.ctx.selection.device_ids) == {m.row_at(1).device, m.row_at(2).device}
    assert set(panel.acknowledge_selected()) == ids
    # all of a device (its alarms outside the table too)
    done = panel.acknowledge_device(d[1])
    assert len(done) == 2 - len(ids & {r.push_id for r in m.rows if r.device == d[1]})
    assert rig.ctx.fleet.unacknowledged_of(d[1]) == []
    # all visible, after confirmation stating the count
    asked: list[str] = []
    monkeypatch.setattr(panel, "_confirm", lambda _t, text: asked.append(text) or True)
    remaining = len(panel.model.unacked)
    done = panel.acknowledge_visible()
    assert asked == [f"Acknowledge {remaining} alarm{'s' if remaining != 1 else ''} "
                     "shown in the table?"]
    assert len(done) == remaining
    assert not rig.ctx.fleet.unacknowledged
    assert rig.ctx.acknowledgements.wait_stored()
    with Journal(rig.path) as j:
        assert j.unacknowledged_alarms() == []


def test_space_and_ctrl_shift_a_acknowledge(rig, panel, qtbot):
    rig.alarm(devices(rig)[0], 41)
    rig.alarm(devices(rig)[1], 41)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.view.setFocus()
    _select(panel, [0])
    qtbot.keyClick(panel.view, Qt.Key.Key_Space)
    assert panel.model.row_at(0).acked_at is not None
    assert panel.model.row_at(1).acked_at is None
    _select(panel, [1])
    qtbot.keyClick(panel.view, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert panel.model.row_at(1).acked_at is not None


def test_acknowledgement_survives_restart(tmp_path, qtbot):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    path = tmp_path / "journal.sqlite"
    sim = Fleet(KEY, devices=4, seed=11)
    d = sim.device_ids
    s1 = Session(path, settings)
    s1.ctx.operator = "alice"
    p1 = AlarmsPanel(s1.ctx)
    qtbot.addWidget(p1)
    for dev, code in ((d[0], 51), (d[1], 41), (d[2], 40), (d[3], 45)):
        for topic, payload in sim.raise_alarm(dev, code):
            s1.recording.submit(RawPush("mqtt", topic, payload, time.time(), "t"))
    qtbot.waitUntil(lambda: p1.model.rowCount() == 4)
    by_device = {r.device: r.push_id for r in p1.model.rows}
    acked = [by_device[d[0]], by_device[d[2]]]
    assert p1.acknowledge(acked) == acked
    p1.shutdown()
    s1.ctx.acknowledgements.close()  # as the session does when the window closes
    s1.feed.stop()
    s1.recording.stop()

    s2 = Session(path, settings)
    try:
        assert set(s2.fleet.unacknowledged) == {by_device[d[1]], by_device[d[3]]}
        p2 = AlarmsPanel(s2.ctx)
        qtbot.addWidget(p2)
        qtbot.waitUntil(lambda: p2.history_done and p2.model.rowCount() == 4)
        rows = {r.push_id: r for r in p2.model.rows}
        assert rows[by_device[d[0]]].acked_by == "alice"
        assert rows[by_device[d[2]]].acked_at is not None
        assert rows[by_device[d[1]]].acked_at is None
        assert set(p2.model.unacked) == {by_device[d[1]], by_device[d[3]]}
        row = p2.model.row_of(by_device[d[0]])
        assert p2.model.index(row, ACK).data().startswith("alice · ")
        # the unacknowledged critical one (none left: SOS and rope cut were acked) — and
        # the restored ones can be acknowledged in the new session
        p2.acknowledge([by_device[d[1]]])
        p2.shutdown()
    finally:
        s2.ctx.acknowledgements.close()
        s2.feed.stop()
        s2.recording.stop()
    with Journal(path) as j:
        assert [r.id for r in j.unacknowledged_alarms()] == [by_device[d[3]]]


def test_filters_device_type_time_unacked(rig, panel, qtbot, qtmodeltester):
    d = devices(rig)
    now = time.time()
    rig.alarm(d[0], 41, at=now - 3 * 86400)  # 3 days ago
    rig.alarm(d[1], 45, at=now - 5 * 3600)  # 5 hours ago
    rig.alarm(d[1], 41, at=now - 600)  # 10 minutes ago
    rig.alarm(d[2], 51, at=now)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 4)
    proxy: AlarmFilterProxy = panel.proxy

    def shown() -> list[tuple[str, int]]:
        return [(r.device, r.code) for r in proxy.visible_rows()]

    panel.device_edit.setText(d[1][-5:])  # applied once typing pauses
    qtbot.waitUntil(lambda: shown() == [(d[1], 41), (d[1], 45)])
    panel.device_edit.clear()
    qtbot.waitUntil(lambda: len(shown()) == 4)
    panel.type_combo.setCurrentIndex(panel.type_combo.findData(41))
    assert shown() == [(d[1], 41), (d[0], 41)]
    panel.type_combo.setCurrentIndex(0)
    picker = panel.range_picker
    picker.set_span(3600.0)
    assert shown() == [(d[2], 51), (d[1], 41)]
    picker.set_span(86400.0)
    assert len(shown()) == 3
    picker.set_span(7 * 86400.0)
    assert len(shown()) == 4
    picker.set_custom(now - 4 * 86400, now - 3600)
    assert shown() == [(d[1], 45), (d[0], 41)]
    picker.set_span(None)
    assert len(shown()) == 4
    panel.acknowledge([panel.model.row_at(0).push_id])
    panel.unacked_box.setChecked(True)
    assert len(shown()) == 3
    qtmodeltester.check(proxy)
    # live rows still go through the filters
    rig.alarm(d[3], 42)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 5)
    assert shown()[0] == (d[3], 42)


def test_history_and_restored_alarms_on_start(tmp_path, qtbot):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    path = tmp_path / "journal.sqlite"
    sim = Fleet(KEY, devices=3, seed=5)
    d = sim.device_ids
    s1 = Session(path, settings)
    for i in range(30):
        for topic, payload in sim.raise_alarm(d[i % 3], 41 + i % 3):
            s1.recording.submit(RawPush("mqtt", topic, payload, time.time(), "t"))
    assert s1.recording.flush(10)
    with Journal(path) as j:
        ids = [r.id for r in j.rows(kind="alarm")]
        j.acknowledge(ids[:20], at=time.time(), operator="bob")
    s1.feed.stop()
    s1.recording.stop()

    s2 = Session(path, settings)
    try:
        assert len(s2.fleet.unacknowledged) == 10
        # fewer history rows than there are alarms: the unacknowledged ones still show
        p = AlarmsPanel(s2.ctx, history=5)
        qtbot.addWidget(p)
        inserted = []
        p.model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
        qtbot.waitUntil(lambda: p.history_done)
        assert inserted == [(0, 9)]  # one page: no overlap, no merge
        got = [r.push_id for r in p.model.rows]
        assert got == sorted(got, reverse=True)
        assert set(ids[20:]) <= set(got)
        assert len(got) == 10  # the newest 5 are among the 10 unacknowledged
        p.shutdown()
        p = AlarmsPanel(s2.ctx, history=25)
        qtbot.addWidget(p)
        qtbot.waitUntil(lambda: p.history_done)
        got = [r.push_id for r in p.model.rows]
        assert got == sorted(got, reverse=True) and len(got) == 25
        assert sum(1 for r in p.model.rows if r.acked_by == "bob") == 15
        p.shutdown()
        # a small table holds the newest only
        p = AlarmsPanel(s2.ctx, max_rows=7)
        qtbot.addWidget(p)
        qtbot.waitUntil(lambda: p.history_done)
        assert [r.push_id for r in p.model.rows] == sorted(ids, reverse=True)[:7]
        p.shutdown()
    finally:
        s2.feed.stop()
        s2.recording.stop()


def test_merge_keeps_order_and_one_insert_per_call(qtbot, qtmodeltester):
    from app.ui.panels.alarms.model import AlarmTableModel, make_row

    m = AlarmTableModel(lambda: {51}, max_rows=8)
    qtmodeltester.check(m)
    inserted = []
    m.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    m.add_rows(make_row(i, "d", float(i), {"alarmType": 41}) for i in (10, 20, 30))
    m.add_rows(make_row(i, "d", float(i), {"alarmType": 41}) for i in (15, 25, 26, 5, 20))
    assert [r.push_id for r in m.rows] == [30, 26, 25, 20, 15, 10, 5]
    assert inserted == [(0, 2), (3, 6)]  # older rows too go in at the end: slots
    m.add_rows(make_row(i, "d", float(i), {"alarmType": 41}) for i in (40, 41, 42))
    assert [r.push_id for r in m.rows] == [42, 41, 40, 30, 26, 25, 20, 15]
    assert m.dropped == 2
    assert inserted == [(0, 2), (3, 6), (7, 7)]  # two took the slots of 10 and 5
    assert all(m.row_at(m.row_of(r.push_id)) is r for r in m.rows)
    qtmodeltester.check(m)


def test_export_csv(rig, panel, qtbot, tmp_path):
    d = devices(rig)
    rig.alarm(d[0], 51)
    rig.alarm(d[1], 41)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    panel.device_edit.setText(d[0])
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1)
    out = tmp_path / "alarms.csv"
    with qtbot.waitSignal(panel.exporter.sig_export_finished, timeout=5000):
        assert panel.export_csv(str(out)) == 1
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0][:3] == ["time", "device", "alarm"]
    assert rows[1][1:4] == [d[0], "SOS", "51"]


def test_header_state_saved(rig, qtbot):
    p = AlarmsPanel(rig.ctx, history=0)
    qtbot.addWidget(p)
    p.view.horizontalHeader().resizeSection(ALARM, 333)
    p.shutdown()
    p2 = AlarmsPanel(rig.ctx, history=0)
    qtbot.addWidget(p2)
    assert p2.view.horizontalHeader().sectionSize(ALARM) == 333
    p2.shutdown()


def test_interleaved_history_merges_with_one_insert(qtbot, qtmodeltester):
    from app.ui.panels.alarms.model import AlarmTableModel, make_row

    m = AlarmTableModel(lambda: set(), max_rows=1000)
    qtmodeltester.check(m)
    m.add_rows(make_row(i, "d", float(i), {"alarmType": 41}) for i in range(0, 400, 2))
    resets, inserted = [], []
    m.modelReset.connect(lambda: resets.append(1))
    m.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    m.add_rows(make_row(i, "d", float(i), {"alarmType": 41}) for i in range(1, 400, 2))
    assert resets == [] and inserted == [(200, 399)]
    assert [r.push_id for r in m.rows] == list(range(399, -1, -1))
    assert all(m.row_at(m.row_of(i)).push_id == i for i in range(400))

"""Alarm triage beyond the table holding still: severities, acknowledging with a reason and a
note, undo, escalation, mute, several types, and a quit that asks first."""

from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from app.fleet.severity import Severity
from app.journal.queries import acknowledgements_between
from app.journal.store import Journal
from app.ui.panels.alarms import dialogs as alarm_dialogs
from app.ui.panels.alarms.model import ACK, SEVERITY
from app.ui.session import Session
from app.ui.widgets import live_panel


def row_of(alarms_panel, code: int):
    return next(r for r in alarms_panel.model.rows if r.code == code)


def cell(alarms_panel, row, column):
    return alarms_panel.model.index(alarms_panel.model.row_of(row.push_id), column)


def test_severity_column_and_one_click_chips(alarm_rig, alarms_panel, qtbot):
    d = alarm_rig.sim.device_ids
    for device, code in ((d[0], 51), (d[1], 45), (d[2], 163), (d[3], 40)):
        alarm_rig.alarm(device, code)  # SOS, low power, GPRS reconnection, rope cut
    qtbot.waitUntil(lambda: alarms_panel.model.rowCount() == 4)
    assert cell(alarms_panel, row_of(alarms_panel, 51), SEVERITY).data() == "▲ critical"
    assert cell(alarms_panel, row_of(alarms_panel, 45), SEVERITY).data() == "◆ warning"
    assert cell(alarms_panel, row_of(alarms_panel, 163), SEVERITY).data() == "● info"
    # shown second, right after the time
    assert alarms_panel.view.horizontalHeader().visualIndex(SEVERITY) == 1
    chips = alarms_panel.severity_chips
    alarms_panel._update_status()
    assert [b.text() for b in chips.buttons] == ["▲ critical 2", "◆ warning 1", "● info 1"]
    qtbot.mouseClick(chips.buttons[0], Qt.MouseButton.LeftButton)  # critical only: one click
    assert {r.code for r in alarms_panel.proxy.visible_rows()} == {51, 40}
    qtbot.mouseClick(chips.buttons[0], Qt.MouseButton.LeftButton)  # again: all
    assert alarms_panel.proxy.rowCount() == 4
    # the user's table: low power made critical, applied at once and kept
    page = alarms_panel.settings_page()
    page.editor.set_severity(45, Severity.CRITICAL)
    assert cell(alarms_panel, row_of(alarms_panel, 45), SEVERITY).data() == "▲ critical"
    assert 45 in alarm_rig.ctx.fleet.critical_alarms
    assert "45=critical" in str(alarm_rig.settings.value("alarms/severities"))


def test_acknowledge_with_a_reason_and_a_note_then_undo(alarm_rig, alarms_panel, qtbot,
                                                         monkeypatch):
    d = alarm_rig.sim.device_ids
    alarm_rig.alarm(d[0], 51)
    alarm_rig.alarm(d[1], 46)
    qtbot.waitUntil(lambda: alarms_panel.model.rowCount() == 2)
    sos = row_of(alarms_panel, 51)

    def fake_exec(dialog):  # the operator picks a reason and types a note
        dialog.reason.setCurrentIndex(dialog.reason.findData("handled on site"))
        dialog.note.setPlainText("guard checked the container, seal intact")
        return QDialog.DialogCode.Accepted
    monkeypatch.setattr(alarm_dialogs.AcknowledgeDialog, "exec", fake_exec)

    shown = alarms_panel.proxy.visible_rows()
    alarms_panel.view.selectRow(next(r for r in range(2) if shown[r] is sos))
    alarms_panel.view.setFocus()
    qtbot.keyClick(alarms_panel.view, Qt.Key.Key_N)
    assert sos.acked_at is not None and sos.ack_reason == "handled on site"
    text = cell(alarms_panel, sos, ACK).data()
    assert text.startswith("dispatcher1 · ") and "handled on site" in text and "✎" in text
    assert "seal intact" in cell(alarms_panel, sos, ACK).data(Qt.ItemDataRole.ToolTipRole)
    assert alarm_rig.ctx.acknowledgements.wait_stored()
    with Journal(alarm_rig.path) as j:
        stored = acknowledgements_between(j, sos.push_id, sos.push_id)[sos.push_id]
    assert stored[1:] == ("dispatcher1", "handled on site",
                          "guard checked the container, seal intact")

    # undo within a minute: waiting again everywhere, and in the journal
    assert alarms_panel.undo_button.isEnabled()
    qtbot.mouseClick(alarms_panel.undo_button, Qt.MouseButton.LeftButton)
    assert sos.acked_at is None and sos.push_id in alarms_panel.model.unacked
    assert sos.push_id in alarm_rig.ctx.fleet.unacknowledged
    assert cell(alarms_panel, sos, ACK).data() == "not yet"
    assert alarm_rig.ctx.acknowledgements.wait_stored()
    with Journal(alarm_rig.path) as j:
        assert sos.push_id in {r.id for r in j.unacknowledged_alarms()}


def test_undo_is_offered_for_a_minute_only(alarm_rig, alarms_panel, qtbot):
    alarm_rig.alarm(alarm_rig.sim.device_ids[0], 51)
    qtbot.waitUntil(lambda: alarms_panel.model.rowCount() == 1)
    acks = alarm_rig.ctx.acknowledgements
    now = [time.time()]
    acks.clock = lambda: now[0]
    alarms_panel.acknowledge([alarms_panel.model.rows[0].push_id])
    now[0] += 61
    assert acks.undoable() is None
    assert alarms_panel.undo_acknowledge() == []
    assert alarms_panel.model.rows[0].acked_at is not None


def test_overdue_critical_alarms_sound_again_once_per_period(alarm_rig, alarms_panel, qtbot):
    d = alarm_rig.sim.device_ids
    t0 = time.time()
    alarm_rig.alarm(d[0], 51, at=t0)
    alarm_rig.alarm(d[1], 45, at=t0)  # a warning never escalates
    qtbot.waitUntil(lambda: alarms_panel.model.rowCount() == 2)
    alarm_rig.settings.setValue("alarms/escalate_after_min", 5)
    played = alarms_panel.sound.played
    assert alarms_panel.check_overdue(now=t0 + 4 * 60) == []
    due = alarms_panel.check_overdue(now=t0 + 5 * 60 + 1)
    assert [r.code for r in due] == [51]
    assert alarms_panel.sound.played == played + 1
    assert "1 overdue" in alarms_panel.banner_label.text()
    assert alarms_panel.check_overdue(now=t0 + 7 * 60) == []  # not again before another 5 min
    assert [r.code for r in alarms_panel.check_overdue(now=t0 + 10 * 60 + 2)] == [51]
    # muted: it still shows as overdue, but says nothing, and the time left is on screen
    alarms_panel.sound.mute_for(15)
    assert alarms_panel.check_overdue(now=t0 + 16 * 60) != []
    assert alarms_panel.sound.played == played + 2
    assert alarms_panel.mute_label.text().startswith("🔇 muted — 1")
    alarms_panel.sound.unmute()
    assert alarms_panel.mute_label.text() == ""


def test_several_types_at_once(alarm_rig, alarms_panel, qtbot, monkeypatch):
    d = alarm_rig.sim.device_ids
    for device, code in ((d[0], 51), (d[1], 45), (d[2], 40)):
        alarm_rig.alarm(device, code)
    qtbot.waitUntil(lambda: alarms_panel.model.rowCount() == 3)

    def choose(dialog):
        for i in range(dialog.list.count()):
            item = dialog.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) in (51, 45):
                item.setCheckState(Qt.CheckState.Checked)
        return QDialog.DialogCode.Accepted
    monkeypatch.setattr(live_panel.TypesDialog, "exec", choose)
    alarms_panel.type_combo.setCurrentIndex(alarms_panel.type_combo.findData(live_panel.SEVERAL))
    assert {r.code for r in alarms_panel.proxy.visible_rows()} == {51, 45}
    assert alarms_panel.type_combo.currentText() == "2 alarm types…"
    alarms_panel.type_combo.setCurrentIndex(0)
    assert alarms_panel.proxy.rowCount() == 3


def test_quit_asks_while_critical_alarms_wait(qtbot, tmp_path, monkeypatch):
    session = Session(tmp_path / "j.sqlite",
                      QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = session.open_window()
    qtbot.addWidget(window)
    try:
        window.show()
        alarms = window.panels["alarms"]
        assert window.quit_warnings() == []
        from app.ui.panels.alarms.model import make_row

        row = make_row(1, "8000000001", time.time(), {"alarmType": 51, "alarmName": "SOS"})
        alarms.model.add_rows([row])
        asked: list[str] = []

        def answer(reply):
            def question(_parent, _title, text, *_a):
                asked.append(text)
                return reply
            return question
        monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
        assert window.request_quit() is False and window.isVisible()
        assert "1 critical alarm is not acknowledged" in asked[0]
        monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
        assert window.request_quit() is True
        assert not window.isVisible()
    finally:
        window.close()
        session.feed.stop()
        session.recording.stop()


def test_its_alarms_from_another_panel_shows_that_device_here(alarm_rig, alarms_panel, qtbot):
    d = alarm_rig.sim.device_ids
    alarm_rig.alarm(d[0], 51)
    alarm_rig.alarm(d[1], 45)
    qtbot.waitUntil(lambda: alarms_panel.model.rowCount() == 2)
    alarm_rig.ctx.navigator.show_device("alarms", d[1])  # e.g. the device tree's "Its alarms"
    assert [r.device for r in alarms_panel.proxy.visible_rows()] == [d[1]]
    # and an alarm row's keys reach the device's next steps, as everywhere
    assert "alarms" in alarms_panel.steps.actions and "map" in alarms_panel.steps.actions

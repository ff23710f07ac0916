"""Command console panel against a real broker, with the simulator answering.

The AppContext is built as the session builds it (Recorder → LiveFeed → FleetState,
Connections, Selection); the console connects a profile to the test broker. No sleeps:
every wait is qtbot.waitUntil / waitSignal on a condition.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence

from app.commands import audit
from app.fleet.state import FleetState
from app.pipeline import Recorder
from app.sim.fleet import NOT_ONLINE, Fleet, compact_json
from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings
from app.ui.context import AppContext, Connections, Selection
from app.ui.feed import LiveFeed
from app.ui.panels.commands import compose as compose_mod
from app.ui.panels.commands import history_for
from app.ui.panels.commands.bulk import BulkModel, BulkRow
from app.ui.panels.commands.history_model import HistoryModel, HistoryRow, UnsolicitedModel
from app.ui.panels.commands.widget import CommandsPanel

KEY = "PANELKEY"
PROFILE = "test"


class Rig:
    def __init__(self, broker, tmp_path: Path, in_process: bool = True) -> None:
        self.tmp = tmp_path
        self.journal = tmp_path / "journal.sqlite"
        self.settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        self.recorder = Recorder(self.journal, in_process=in_process).start()
        self.fleet_state = FleetState()
        self.feed = LiveFeed(self.fleet_state)
        self.recorder.add_listener(self.feed.push)
        self.connections = Connections(self.recorder)
        self.selection = Selection()
        self.ctx = AppContext(
            fleet=self.fleet_state, feed=self.feed, connections=self.connections,
            selection=self.selection, journal_path=str(self.journal), settings=self.settings,
            operator="tech1",
        )
        self.fleet = Fleet(KEY, devices=14, seed=21)
        sim_settings = ConnectionSettings(host=broker.host, port=broker.port, access_key=KEY,
                                          qos=1)
        self.sim = Simulator(sim_settings, self.fleet, stream=False).start()
        self.conn_settings = ConnectionSettings.from_options(
            host=broker.host, port=broker.port, access_key=KEY, qos=1,
            client_id="panel-under-test", clean_session=True, profile=PROFILE,
        )
        self.connections.connect_profile(self.conn_settings)
        assert self.recorder.transports[PROFILE].wait_connected(10)
        self._wait_sim_ready()
        self.published: list[tuple[str, str]] = []
        real = self.connections.publish

        def spy(profile, topic, payload, qos=1):
            self.published.append((topic, payload if isinstance(payload, str) else
                                   payload.decode()))
            return real(profile, topic, payload, qos)

        self.connections.publish = spy  # type: ignore[method-assign]
        self.panels: list[CommandsPanel] = []

    def _wait_sim_ready(self) -> None:
        """Probe an unregistered id until the simulator answers: its subscription is live."""
        heard = threading.Event()
        self.recorder.add_listener(
            lambda records, ids: heard.set()
            if any(r.device == "000000probe" for r in records) else None
        )
        transport = self.recorder.transports[PROFILE]
        for _ in range(80):
            transport.publish(f"download/{KEY}/000000probe/cmd", b"(000000probe,1,000,BASE,1)",
                              1)
            if heard.wait(0.25):
                return
        raise AssertionError("the simulator never answered the probe")

    def panel(self, qtbot) -> CommandsPanel:
        p = CommandsPanel(self.ctx)
        qtbot.addWidget(p)
        p.resize(1100, 800)
        p.show()
        qtbot.waitExposed(p)
        self.panels.append(p)
        return p

    @property
    def devices(self) -> list[str]:
        return self.fleet.device_ids

    def audit_rows(self) -> list[tuple]:
        with sqlite3.connect(self.journal) as c:
            sql = "SELECT device, text, state, reason FROM command ORDER BY id"
            return c.execute(sql).fetchall()

    def close(self) -> None:
        for p in self.panels:
            p.shutdown()
        self.feed.stop()
        self.recorder.stop()
        self.sim.stop(5)


@pytest.fixture(params=[True], ids=["in-process"])
def rig(request, broker, tmp_path, qtbot, monkeypatch) -> Iterator[Rig]:
    monkeypatch.setattr(compose_mod, "templates_path", lambda: tmp_path / "templates.json")
    r = Rig(broker, tmp_path, in_process=request.param)
    try:
        yield r
    finally:
        r.close()


def _send(qtbot, panel: CommandsPanel, device: str, template: str, **params: str) -> None:
    panel.compose.set_device(device)
    panel.compose.select_template(template)
    for k, v in params.items():
        panel.compose.set_param(k, v)
    assert panel.send_button.isEnabled(), panel.compose.error
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)


def _row(panel: CommandsPanel, device: str) -> HistoryRow | None:
    panel.model.flush()
    rows = [r for r in panel.model.rows() if r.device == device]
    return rows[0] if rows else None


def _state(panel: CommandsPanel, device: str) -> str | None:
    r = _row(panel, device)
    return r.state if r else None


def _reply_fields(panel: CommandsPanel) -> dict[str, str]:
    t = panel.reply_table
    return {t.item(i, 0).text(): t.item(i, 1).text() for i in range(t.rowCount())}


@pytest.mark.parametrize("rig", [True, False], ids=["in-process", "child-process"],
                         indirect=True)
def test_base1_is_answered_and_the_reply_is_labelled(rig: Rig, qtbot) -> None:
    """Also with the journal writer in a child process, as the window runs it."""
    panel = rig.panel(qtbot)
    dev = rig.devices[0]
    rig.selection.select(dev)  # follows the tree
    assert panel.compose.device() == dev
    panel.compose.select_template("version")
    shown = panel.compose.preview.text()
    assert shown.startswith(f"({dev},1,") and shown.endswith(",BASE,1)")
    assert QKeySequence("Ctrl+Return") in panel.send_action.shortcuts()
    panel.send_action.trigger()  # Ctrl+Return (offscreen windows never get key focus)
    assert rig.published == [(f"download/{KEY}/{dev}/cmd", shown)]  # exactly what was shown
    seen = set()
    qtbot.waitUntil(lambda: seen.add(_state(panel, dev)) or _state(panel, dev) == "answered",
                    timeout=10000)
    assert "answered" in seen
    row = _row(panel, dev)
    assert row.answered_in is not None and row.answered_in >= 0
    assert row.operator == "tech1" and row.profile == PROFILE
    # The new row was selected; the reply pane shows labelled fields.
    qtbot.waitUntil(lambda: "firmware" in _reply_fields(panel))
    fields = _reply_fields(panel)
    d = rig.fleet.devices[dev]
    assert fields["firmware"] == d.firmware
    assert fields["IMEI"] == d.imei and fields["ICCID"] == d.iccid
    assert "ANSWERED" in panel.reply_title.text()
    # The next preview has a new serial.
    assert panel.compose.preview.text() != shown
    # Audited, and readable by the detail pane through history_for.
    rig.recorder.writer.flush(10)
    hist = history_for(rig.journal, dev)
    assert hist[0]["state"] == "answered" and hist[0]["text"] == shown
    assert dict(hist[0]["reply_fields"])["IMEI"] == d.imei
    assert history_for(rig.journal, "nobody") == []


def test_offline_fails_with_the_platform_reason_and_silent_times_out(rig: Rig, qtbot) -> None:
    offline, silent = rig.devices[1], rig.devices[2]
    rig.fleet.devices[offline].online = False
    rig.fleet.devices[silent].silent = True
    rig.settings.setValue("commands/timeout_s", 1.5)
    panel = rig.panel(qtbot)
    assert panel.console.tracker.timeout_s == 1.5
    updated: list[str] = []
    panel.sig_command_updated.connect(updated.append)
    _send(qtbot, panel, offline, "version")
    _send(qtbot, panel, silent, "time")
    qtbot.waitUntil(lambda: _state(panel, offline) == "failed", timeout=10000)
    assert _row(panel, offline).reason == NOT_ONLINE
    assert NOT_ONLINE in panel.model.data(
        panel.model.index(panel.model.display_row_of(_row(panel, offline).key),
                          HistoryModel.OUTCOME))
    qtbot.waitUntil(lambda: _state(panel, silent) == "timed_out", timeout=10000)
    assert "no reply within 1.5 s" in _row(panel, silent).reason
    assert offline in updated and silent in updated
    rig.recorder.writer.flush(10)
    states = {r[0]: (r[2], r[3]) for r in rig.audit_rows()}
    assert states[offline] == ("failed", NOT_ONLINE)
    assert states[silent][0] == "timed_out"


def test_an_unlock_needs_the_typed_device_id(rig: Rig, qtbot) -> None:
    panel = rig.panel(qtbot)
    dev = rig.devices[3]
    _send(qtbot, panel, dev, "unlock_sublock", minutes="5", sublock="E0171E0365")
    dlg = panel.confirm_dialog
    assert dlg is not None and dlg.isVisible()
    assert panel.compose.preview.text() in dlg.text_view.toPlainText()
    assert "unlocks a sub-lock" in dlg.findChildren(type(panel.reply_title))[0].text()
    assert not dlg.ok_button.isEnabled()
    qtbot.keyClicks(dlg.edit, dev[:-1])
    assert not dlg.ok_button.isEnabled()
    qtbot.keyClick(dlg.edit, Qt.Key.Key_Return)  # Enter cannot bypass it
    assert dlg.isVisible()
    qtbot.keyClicks(dlg.edit, "X")
    assert not dlg.ok_button.isEnabled()
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    panel.model.flush()
    assert rig.published == [] and panel.console.tracker.commands() == []
    assert rig.audit_rows() == [] and panel.model.rowCount() == 0
    assert "nothing sent" in panel.message.text()

    # P43 the same; the right id sends it.
    _send(qtbot, panel, dev, "p43", password="1234")
    dlg = panel.confirm_dialog
    qtbot.keyClicks(dlg.edit, dev)
    assert dlg.ok_button.isEnabled()
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert rig.published == [(f"download/{KEY}/{dev}/cmd", "(P43,1234)")]
    qtbot.waitUntil(lambda: _state(panel, dev) == "answered", timeout=10000)
    assert [r[:3] for r in rig.audit_rows()] == [(dev, "(P43,1234)", "answered")]


def test_validation_is_shown_inline_and_blocks_sending(rig: Rig, qtbot) -> None:
    panel = rig.panel(qtbot)
    panel.compose.set_device(rig.devices[0])
    panel.compose.select_template("unlock_sublock")
    panel.compose.set_param("minutes", "999")
    err = panel.compose._param_errors["minutes"]
    assert err.isVisible() and "must be in 1–255" in err.text()
    assert not panel.send_button.isEnabled() and panel.compose.preview.text() == ""
    panel.compose.set_param("minutes", "5")
    panel.compose.set_param("sublock", "E0171E0365")
    assert not err.isVisible() and panel.send_button.isEnabled()
    panel.compose.set_device("bad id!")
    assert "device id" in panel.compose.device_error.text()
    panel.send_current()
    assert rig.published == []


def test_retry_is_explicit_and_takes_a_new_serial(rig: Rig, qtbot) -> None:
    silent = rig.devices[4]
    rig.fleet.devices[silent].silent = True
    rig.settings.setValue("commands/timeout_s", 1.0)
    panel = rig.panel(qtbot)
    _send(qtbot, panel, silent, "version")
    first = _row(panel, silent)
    assert first.state == "sent" and not panel.retry_button.isEnabled()  # not while open
    qtbot.waitUntil(lambda: _state(panel, silent) == "timed_out", timeout=10000)
    # Timed out, and nothing was re-sent on its own.
    assert len(rig.published) == 1 and len(panel.console.tracker.commands()) == 1
    panel.select_key(first.key)
    assert panel.retry_button.isEnabled()
    rig.fleet.devices[silent].silent = False
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert len(rig.published) == 2
    rows = [r for r in (panel.model.flush() or panel.model.rows()) if r.device == silent]
    assert len(rows) == 2
    new, old = rows
    assert new.serial == f"{(int(old.serial) + 1) % 1000:03d}"
    assert new.text == old.text.replace(f",{old.serial},", f",{new.serial},")
    qtbot.waitUntil(lambda: _state(panel, silent) == "answered", timeout=10000)
    assert _row(panel, silent).key == new.key
    assert panel.model.row_by_key(old.key).state == "timed_out"  # the old one stays as it was
    assert len(rig.published) == 2


def test_a_dangerous_retry_is_confirmed_again(rig: Rig, qtbot) -> None:
    panel = rig.panel(qtbot)
    dev = rig.devices[5]
    _send(qtbot, panel, dev, "p15")
    qtbot.keyClicks(panel.confirm_dialog.edit, dev)
    qtbot.mouseClick(panel.confirm_dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _state(panel, dev) == "answered", timeout=10000)
    panel.select_key(_row(panel, dev).key)
    panel.retry_selected()
    assert panel.confirm_dialog.isVisible() and len(rig.published) == 1
    qtbot.mouseClick(panel.confirm_dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert len(rig.published) == 1


def test_bulk_base1_to_ten_devices(rig: Rig, qtbot, tmp_path) -> None:
    ids = rig.devices[:10]
    rig.fleet.devices[ids[9]].online = False
    panel = rig.panel(qtbot)
    panel.compose.select_template("version")
    rig.selection.select_many(ids)
    dlg = panel.open_bulk()
    assert dlg.count_label.text() == "10 device(s)"
    with qtbot.waitSignal(dlg.sig_bulk_finished, timeout=20000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
        assert len(rig.published) < 10  # paced, not all at once
    assert len(rig.published) == 10
    assert dlg.model.rowCount() == 10
    cells = [BulkModel.cells(r) for r in dlg.model.rows]
    states = {c[0]: c[1] for c in cells}
    assert states[ids[9]] == "failed" and all(states[d] == "answered" for d in ids[:9])
    for c in cells[:9]:
        assert c[3] == rig.fleet.devices[c[0]].firmware and c[4] and c[5]
    assert "answered 9" in dlg.progress_label.text() and "failed 1" in dlg.progress_label.text()
    out = tmp_path / "bulk.csv"
    assert dlg.export_csv(str(out)) == 10
    with open(out, newline="", encoding="utf-8") as fh:
        data = list(csv.reader(fh))
    assert len(data) == 11 and data[0][:3] == ["device", "state", "outcome"]
    assert {r[0] for r in data[1:]} == set(ids)
    # Each bulk command is in the history and the audit too.
    panel.model.flush()
    assert panel.model.rowCount() == 10


def test_bulk_dangerous_needs_all_n_and_cancel_stops_the_rest(rig: Rig, qtbot) -> None:
    panel = rig.panel(qtbot)
    ids = rig.devices[:6]
    panel.compose.select_template("p15")
    dlg = panel.open_bulk(ids)
    dlg.rate_spin.setValue(1)
    dlg.start()
    conf = dlg.confirm_dialog
    assert conf.isVisible() and conf.expected == "ALL 6"
    qtbot.keyClicks(conf.edit, ids[0])
    assert not conf.ok_button.isEnabled()
    conf.edit.setText("ALL 6")
    qtbot.mouseClick(conf.ok_button, Qt.MouseButton.LeftButton)
    assert len(rig.published) == 1
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.done, timeout=10000)
    assert len(rig.published) == 1
    counts = dlg.model.counts()
    assert counts["not_sent"] == 5 and counts["answered"] == 1


def test_unsolicited_replies_are_listed(rig: Rig, qtbot) -> None:
    panel = rig.panel(qtbot)
    dev = rig.devices[6]
    doc = {"assetId": dev, "commandType": "BASE1",
           "content": compact_json([dev, "8", "123", "BASE", "1", "FW_X"]),
           "dateTime": "2025-02-07T03:52:39.964Z"}
    rig.sim.publish_now([(f"upload/{KEY}/{dev}/cmd", compact_json(doc).encode())])
    qtbot.waitUntil(lambda: panel.unsolicited_model.rowCount() == 1, timeout=10000)
    m = panel.unsolicited_model
    assert m.data(m.index(0, 1)) == dev and m.data(m.index(0, 2)) == "BASE1"
    assert panel.tabs.tabText(1) == "Unsolicited (1)"
    assert panel.model.rowCount() == 0
    panel.unsolicited_table.selectRow(0)
    assert _reply_fields(panel)["firmware"] == "FW_X"


def test_history_is_loaded_from_the_journal_searched_and_exported(rig: Rig, qtbot,
                                                                   tmp_path) -> None:
    panel = rig.panel(qtbot)
    a, b = rig.devices[7], rig.devices[8]
    _send(qtbot, panel, a, "version")
    _send(qtbot, panel, b, "time")
    qtbot.waitUntil(lambda: _state(panel, a) == "answered" and _state(panel, b) == "answered",
                    timeout=10000)
    panel.search_edit.setText(b)
    assert panel.proxy.rowCount() == 1
    panel.search_edit.setText("BASE,1")
    assert panel.proxy.rowCount() == 1
    panel.search_edit.setText("")
    assert panel.proxy.rowCount() == 2
    out = tmp_path / "audit.csv"
    with qtbot.waitSignal(panel.sig_export_finished, timeout=10000) as sig:
        panel.export_audit(str(out), needle="")
    assert sig.args[1] == 2 and sig.args[2] == ""
    with open(out, newline="", encoding="utf-8") as fh:
        assert len(list(csv.reader(fh))) == 3
    # A new panel (next start) shows the journal's rows and keeps the serials rolling.
    serial_a = _row(panel, a).serial
    panel2 = rig.panel(qtbot)
    assert {r.device for r in panel2.model.rows()} == {a, b}
    assert panel2.console.peek_serial(a) != serial_a
    assert all(r.audit_id is not None for r in panel2.model.rows())


def test_user_templates_are_saved_and_loaded(rig: Rig, qtbot) -> None:
    panel = rig.panel(qtbot)
    panel.compose.set_device(rig.devices[0])
    panel.compose.select_template("p04")
    panel.compose.set_param("awake_s", "120")
    tpl = panel.compose.save_as_template("Fast reports")
    assert tpl is not None and tpl.fixed == ("1", "120", "30")
    assert panel.compose.template().name == tpl.name
    assert panel.compose.preview.text() == "(P04,1,120,30)"
    panel2 = rig.panel(qtbot)
    assert panel2.compose.template_combo.findData(tpl.name) >= 0


def test_models_pass_the_model_tester(rig: Rig, qtbot, qtmodeltester) -> None:
    panel = rig.panel(qtbot)
    _send(qtbot, panel, rig.devices[0], "version")
    qtbot.waitUntil(lambda: _state(panel, rig.devices[0]) == "answered", timeout=10000)
    qtmodeltester.check(panel.model)
    qtmodeltester.check(panel.proxy)
    um = UnsolicitedModel()
    qtmodeltester.check(um)
    bm = BulkModel()
    bm.set_rows([BulkRow("A1"), BulkRow("B2", state="failed", reason="x")])
    qtmodeltester.check(bm)
    empty = HistoryModel()
    qtmodeltester.check(empty)
    assert audit  # the audit module is the one the panel writes through

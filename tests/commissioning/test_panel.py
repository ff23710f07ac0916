"""The commissioning panel (pytest-qt): real journal writer and live feed; the broker is
replaced by the simulator's own command responder, which answers every publish."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import Qt

from app.commissioning.checks import State, Verdict
from app.commissioning.store import CommissioningStore
from app.sim.fleet import Fleet
from app.sim.responder import CommandResponder
from app.transport.settings import ConnectionSettings
from app.ui.panels.commissioning.widget import COL_STATE, CommissioningPanel

KEY = "PANELKEY"


class Rig(LiveRig):
    profile = "field"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path, operator="tech1")
        self.connections.settings["field"] = ConnectionSettings(access_key=KEY, profile="field")
        self.published: list[tuple[str, str, str]] = []
        self.connections.publish = self.publish  # the responder stands in for the broker
        # from here on `fleet` is the simulated one (the context keeps the FleetState)
        self.fleet = Fleet(KEY, devices=10, seed=3)
        for dev in self.fleet.devices.values():
            dev.battery, dev.charging, dev.cell_signal, dev.gnss_signal = 80, False, 25, 9
        self.responder = CommandResponder(self.fleet)

    def publish(self, profile, topic, payload, qos=1):
        self.published.append((profile, topic, payload))
        text = payload if isinstance(payload, bytes) else payload.encode()
        self.submit(self.responder.respond(topic, text))

        class Info:
            rc = 0

        return Info()

    def model(self, model: str, n: int = 0) -> str:
        return [d.device_id for d in self.fleet.devices.values() if d.model == model][n]


@pytest.fixture
def rig(tmp_path, monkeypatch):
    monkeypatch.setenv("SEALDESK_TEMPLATES", str(tmp_path / "templates.json"))
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, CommissioningPanel(rig.ctx), (900, 700)) as p:
        yield p


def state_of(panel, device: str, key: str) -> State:
    return panel.session.checklists[device][key].state


def test_three_devices_turn_green_and_progress_updates(rig, panel, qtbot, tmp_path):
    a, b, c = rig.model("JT709A"), rig.model("JT709A", 1), rig.model("JT709A-S")
    panel.ids_edit.setText(a)
    qtbot.keyClick(panel.ids_edit, Qt.Key.Key_Return)  # Enter adds
    panel.add_devices(f"{b}\n{c}, {a}")  # pasted; the duplicate is ignored
    assert panel.pending == [a, b, c]
    assert "3 device(s) ready" in panel.progress.text()
    panel.start_btn.click()
    # the queries went out through the device's profile, three per device at most
    assert {t for _, t, _ in rig.published} == {f"download/{KEY}/{d}/cmd" for d in (a, b, c)}
    assert all(p == "field" for p, _, _ in rig.published)
    qtbot.waitUntil(lambda: all(
        state_of(panel, d, "firmware") is State.PASSED for d in (a, b, c)), timeout=10000)
    assert "0 of 3 done" in panel.progress.text()
    assert "lock cycle" in panel.progress.text()
    # evidence from the field
    for d in (a, b, c):
        pushes = [p for _ in range(6) for p in rig.fleet.location(d)]
        pushes += rig.fleet.lock_cycle(d) + rig.fleet.raise_alarm(d, 46)
        for sl in rig.fleet.devices[d].sublocks:
            pushes += rig.fleet.sublock_push(d, sl.sub_id)
        rig.submit(pushes)
    qtbot.waitUntil(lambda: panel.session.all_passed, timeout=10000)
    qtbot.waitUntil(lambda: panel.progress.text().startswith("3 of 3 done (3 passed"))
    top = panel._device_items[a]
    assert top.text(COL_STATE) == "PASS"
    lock_row = next(top.child(i) for i in range(top.childCount())
                    if top.child(i).text(0) == "Lock cycle")
    assert lock_row.text(COL_STATE) == "passed"
    assert "Unlock event" in lock_row.text(2) and "push #" in lock_row.toolTip(2)
    panel.tree.setCurrentItem(lock_row)
    assert "Lock event" in panel.detail.text()
    # kept in the journal once everything passed, and a report for the batch
    with CommissioningStore(rig.path) as store:
        qtbot.waitUntil(lambda: bool(store.sessions()))
        assert store.sessions()[0].verdicts == dict.fromkeys((a, b, c), "PASS")
    pdf = panel.write_report(tmp_path / "batch.pdf")
    assert pdf.startswith(b"%PDF") and b"overall PASS" in pdf


def test_not_applicable_finish_and_reopen(rig, panel, qtbot, tmp_path):
    d, offline = rig.model("JT709A"), rig.model("JT709A", 1)
    rig.fleet.devices[offline].online = False
    panel.add_devices(f"{d} {offline}")
    panel.start()
    qtbot.waitUntil(lambda: state_of(panel, offline, "firmware") is State.FAILED, timeout=10000)
    assert panel.session.checklists[offline]["firmware"].reason == "Device not online！"
    panel.mark_not_applicable(d, "alarm_path", "alarm wiring not installed yet")
    qtbot.waitUntil(lambda: "alarm wiring" in next(
        panel._device_items[d].child(i).text(2) for i in range(8)
        if panel._device_items[d].child(i).text(0) == "Alarm path"))
    panel.notes.setPlainText("Gate 4, container MSKU 123456-7")
    panel.finish()
    assert panel.session.checklists[offline].verdict is Verdict.FAIL
    assert panel._device_items[offline].text(COL_STATE) == "FAIL"
    batch = panel.session.batch
    panel.write_report(tmp_path / "one.pdf", [offline])
    panel.new_batch()
    assert panel.tree.topLevelItemCount() == 0
    assert panel.sessions.topLevelItemCount() == 1
    panel.reopen(batch)
    assert panel.viewing_batch == batch
    assert panel.notes.toPlainText() == "Gate 4, container MSKU 123456-7"
    assert panel._device_items[offline].text(COL_STATE) == "FAIL"
    assert "Reopened" in panel.progress.text()
    assert panel.sessions.topLevelItem(0).text(4) == "PDF"


def test_template_edit_is_saved(rig, panel, tmp_path):
    t = panel.template
    from dataclasses import replace

    panel.save_template(replace(t, name="Site X", min_battery=50, builtin=False))
    assert panel.template_combo.currentText() == "Site X"
    again = CommissioningPanel(rig.ctx)
    try:
        assert again.templates["Site X"].min_battery == 50
    finally:
        again.shutdown()
        again.deleteLater()

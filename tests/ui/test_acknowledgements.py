"""Acknowledging from one panel shows in the others at once, and is stored in the journal."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import Qt

from app.fleet.state import FleetState
from app.journal.store import Journal
from app.sim.fleet import Fleet
from app.ui.acknowledgements import Acknowledgements
from app.ui.panels.alarms.widget import AlarmsPanel
from app.ui.panels.devices.model import COL_ALARM
from app.ui.panels.devices.widget import DevicesPanel
from app.ui.theme import STATUS_COLOURS

RED = STATUS_COLOURS["critical"].name()


class Rig(LiveRig):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = Fleet("TESTKEY", devices=4, seed=3)


@pytest.fixture
def rig(tmp_path, qtbot):
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panels(rig, qtbot):
    with opened(qtbot, AlarmsPanel(rig.ctx), (900, 400), show=True, history=True) as alarms, \
            opened(qtbot, DevicesPanel(rig.ctx), (900, 400), show=True) as devices:
        qtbot.waitExposed(devices)
        yield alarms, devices


def _unacked_in_journal(rig) -> set[int]:
    with Journal(rig.path) as j:
        return {r.id for r in j.unacknowledged_alarms()}


def test_a_device_acknowledged_in_the_tree_is_acknowledged_in_the_alarm_table(rig, panels,
                                                                             qtbot):
    alarms, devices = panels
    device, other = rig.sim.device_ids[:2]
    rig.submit(rig.sim.raise_alarm(device, 40))  # lock rope cut: critical
    rig.submit(rig.sim.raise_alarm(device, 41))
    rig.submit(rig.sim.raise_alarm(other, 51))  # SOS: critical
    qtbot.waitUntil(lambda: alarms.model.rowCount() == 3)
    assert "2 critical alarms waiting" in alarms.banner_label.text()

    done = devices.acknowledge_device(device)

    assert len(done) == 2
    rows = {r.push_id: r for r in alarms.model.rows}
    assert all(rows[i].acked_by == "dispatcher1" for i in done)
    assert set(alarms.model.unacked) == {r.push_id for r in rows.values() if r.device == other}
    assert "1 critical alarm waiting" in alarms.banner_label.text()
    assert alarms.ctx.acknowledgements.wait_stored()
    assert _unacked_in_journal(rig) == set(alarms.model.unacked)


def test_an_alarm_acknowledged_in_the_table_turns_the_trees_red_cell_back_unasked(
        rig, panels, qtbot):
    alarms, devices = panels
    device = rig.sim.device_ids[0]
    rig.submit(rig.sim.raise_alarm(device, 46))  # back cover opened: critical
    qtbot.waitUntil(lambda: alarms.model.rowCount() == 1)
    # the tree takes new devices in pieces, a breath after the batch: wait for its row
    qtbot.waitUntil(lambda: devices.model.index_of(device, COL_ALARM).isValid())
    cell = devices.model.index_of(device, COL_ALARM)

    def colour() -> str | None:  # what the tree last wrote into the cell when it drew it
        colour = cell.data(Qt.ItemDataRole.ForegroundRole)
        return colour.name() if colour is not None else None

    qtbot.waitUntil(lambda: colour() == RED)
    alarms.acknowledge([alarms.model.rows[0].push_id])
    # No push, no mouse, no clock: the acknowledgement alone has the tree redraw the cell.
    qtbot.waitUntil(lambda: colour() != RED, timeout=2000)


def test_a_refused_journal_write_is_reported_and_the_alarm_stays_acknowledged(tmp_path,
                                                                              qtbot):
    fleet = FleetState()
    # a folder where the journal file should be: SQLite cannot open it
    acks = Acknowledgements(fleet, str(tmp_path), lambda: "bob")
    try:
        with qtbot.waitSignal(acks.sig_acknowledgement_refused, timeout=5000) as refused:
            assert acks.acknowledge([7, 7, 9]) == [7, 9]
        assert "2 alarms" in refused.args[0] and "come back" in refused.args[0]
    finally:
        acks.close()

"""Find by what matters, in the device list: a chip per status and condition, counts that
filter when clicked, search by id, sub-lock id or card number."""

from __future__ import annotations

import json
import time

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from app.ui.panels.devices.model import ID_ROLE
from app.ui.panels.devices.widget import CHIPS, DevicesPanel

NOW = time.time()


def loc(device: str, **data) -> tuple[str, bytes]:
    if "statusJson" in data:
        data["statusJson"] = json.dumps(data["statusJson"])
    return f"upload/K/{device}/location", json.dumps({"assetId": device, **data}).encode()


@pytest.fixture
def rig(tmp_path, qtbot):
    with LiveRig(tmp_path, listen=False) as r:
        th = r.fleet.thresholds
        r.send(qtbot, [
            loc("ONLINE1", battery=80, statusJson={"lockStatus": 0}),
            loc("OPEN1", battery=15, statusJson={"lockStatus": 1}),
            ("upload/K/ALARM1/alarm", json.dumps({"assetId": "ALARM1", "alarmType": 51}).encode()),
            ("upload/K/CARD1/event", json.dumps({"assetId": "CARD1", "eventType": 1,
                                                 "unLockType": 1, "card": "0012345678"}).encode()),
            ("upload/K/HOST1/sublock/E0171E0365", json.dumps(
                {"assetId": "HOST1", "subAssetID": "E0171E0365", "locStatus": 1,
                 "battery": 70}).encode()),
        ])
        r.send(qtbot, [loc("QUIET1", battery=90)], at=NOW - th.quiet_after - 60)
        r.send(qtbot, [loc("GONE1", battery=5)], at=NOW - th.offline_after - 60)
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, DevicesPanel(rig.ctx), (900, 500), show=True) as p:
        # A button an earlier test left pressed would hold the re-filter after a batch
        # (never under a press): let it go.
        if QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton:
            qtbot.mouseRelease(p.view.viewport(), QGuiApplication.mouseButtons())
        qtbot.waitUntil(lambda: p.model.rowCount() == len(rig.fleet.devices), timeout=3000)
        p.refresh_status()
        yield p


def shown(panel) -> set[str]:
    m = panel.view.model()
    return {m.index(r, 0).data(ID_ROLE) for r in range(m.rowCount())}


EVERYONE = {"ONLINE1", "OPEN1", "QUIET1", "GONE1", "ALARM1", "CARD1", "HOST1"}


@pytest.mark.parametrize(("chip", "expected"), [
    ("online", {"ONLINE1", "OPEN1", "ALARM1", "CARD1", "HOST1"}),
    ("quiet", {"QUIET1"}),
    ("offline", {"GONE1"}),
    ("unknown", set()),
    ("alarms", {"ALARM1"}),
    ("battery", {"OPEN1", "GONE1"}),
    ("unlocked", {"OPEN1", "HOST1"}),
])
def test_each_chip_shows_exactly_its_devices(panel, chip, expected):
    assert shown(panel) == EVERYONE
    panel.chips[chip].click()
    assert shown(panel) == expected
    assert f"showing {len(expected)} of {len(EVERYONE)}" in panel.counts_text()
    panel.chips[chip].click()
    assert shown(panel) == EVERYONE
    assert not panel.filtering  # no chip, no search: the tree shows the model itself


def test_every_chip_is_tested():
    keys = {k for k, _, _ in CHIPS}
    assert keys == {"online", "quiet", "offline", "unknown", "alarms", "battery", "unlocked"}


def test_unknown_chip_follows_the_feed(panel, rig, qtbot):
    panel.chips["unknown"].click()
    assert shown(panel) == set()
    rig.ctx.feed_health.on_state("test", _state("waiting"), at=NOW - 5)
    qtbot.waitUntil(lambda: shown(panel) == EVERYONE, timeout=3000)  # at once, not on a timer
    assert "7 unknown" in panel.counts_text()


def test_statuses_are_alternatives_and_conditions_narrow(panel):
    panel.chips["quiet"].click()
    panel.chips["offline"].click()
    assert shown(panel) == {"QUIET1", "GONE1"}
    panel.chips["battery"].click()
    assert shown(panel) == {"GONE1"}


def test_condition_chips_count_their_devices(panel):
    assert panel.chips["alarms"].text() == "open alarms (1)"
    assert panel.chips["battery"].text() == "low battery (2)"
    assert panel.chips["unlocked"].text() == "unlocked (2)"


def test_clicking_a_count_filters_by_it_and_again_shows_everyone(panel):
    panel.counts.linkActivated.emit("quiet")
    assert shown(panel) == {"QUIET1"}
    assert panel.chips["quiet"].isChecked()
    panel.counts.linkActivated.emit("offline")  # another count: that one instead
    assert shown(panel) == {"GONE1"}
    assert not panel.chips["quiet"].isChecked()
    panel.counts.linkActivated.emit("offline")  # the same again: everyone
    assert shown(panel) == EVERYONE
    panel.counts.linkActivated.emit("quiet")
    panel.counts.linkActivated.emit("all")  # the total: everyone
    assert shown(panel) == EVERYONE
    assert "href='online'" in panel.counts.text()  # the counts are links


def test_a_device_leaves_a_chip_when_it_changes(panel, rig, qtbot):
    panel.chips["unlocked"].click()
    assert "OPEN1" in shown(panel)
    rig.send(qtbot, [loc("OPEN1", battery=15, statusJson={"lockStatus": 0})])
    qtbot.waitUntil(lambda: "OPEN1" not in shown(panel), timeout=5000)


@pytest.mark.parametrize(("typed", "expected"), [
    ("card1", {"CARD1"}),  # part of a device id
    ("E0171E", {"HOST1"}),  # a sub-lock id
    ("12345678", {"CARD1"}),  # a card used on the lock
])
def test_search_by_id_sublock_or_card(panel, typed, expected):
    panel.search.setText(typed)
    assert shown(panel) == expected
    panel.search.clear()
    assert shown(panel) == EVERYONE


def test_search_and_chips_together(panel):
    panel.chips["online"].click()
    panel.search.setText("1")
    assert shown(panel) == {"ONLINE1", "OPEN1", "ALARM1", "CARD1", "HOST1"}
    panel.search.setText("OPEN")
    assert shown(panel) == {"OPEN1"}


def _state(phase: str):
    from app.transport.state import ConnectionState, Phase

    return ConnectionState(Phase(phase), "connection lost", retry_in=5)


def test_a_saved_group_is_a_filter(panel, rig, qtbot, monkeypatch):
    """Select devices, save them as a group (kept in the settings), show only them — with
    the chips too; another panel of the same context sees the same groups."""
    view = panel.view
    for d in ("OPEN1", "GONE1"):
        view.selectionModel().select(
            panel.model.index_of(d),
            view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows)
    assert panel.save_selection_as_group("Customer A") == "Customer A"
    assert shown(panel) == {"OPEN1", "GONE1"}
    assert panel.group_box.currentText() == "Group: Customer A"
    assert rig.ctx.groups.ids("Customer A") == {"OPEN1", "GONE1"}
    assert "Customer A" in str(rig.settings.value("groups/all"))
    panel.chips["battery"].click()
    panel.chips["offline"].click()
    assert shown(panel) == {"GONE1"}
    panel.set_chips()
    panel.set_group("")
    assert shown(panel) == EVERYONE
    from app.ui.groups import DeviceGroups

    assert DeviceGroups(rig.settings).ids("Customer A") == {"OPEN1", "GONE1"}  # saved
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.set_group("Customer A")
    panel._on_group_chosen(panel.group_box.findText("Delete group Customer A"))
    assert rig.ctx.groups.names() == [] and shown(panel) == EVERYONE

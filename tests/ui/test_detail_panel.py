"""Device detail pane: decoded names and units of real simulated pushes, never raw JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtGui import QGuiApplication

from app.sim.fleet import Fleet, iso_millis, iso_seconds
from app.ui.panels.detail import fields
from app.ui.panels.detail.widget import EMPTY_TEXT, DetailPanel

KEY = "TESTKEY"


class Rig(LiveRig):
    def __init__(self, tmp_path: Path, devices: int = 10, seed: int = 5) -> None:
        super().__init__(tmp_path, listen=False)
        self.sim = Fleet(KEY, devices=devices, seed=seed)

    def of_model(self, model: str):
        return next(d for d in self.sim.devices.values() if d.model == model)


@pytest.fixture
def rig(tmp_path, qtbot):
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, DetailPanel(rig.ctx), (500, 700), show=True) as p:
        yield p


def no_raw_json(values: dict[str, str]) -> None:
    for path, value in values.items():
        assert "{" not in value and "}" not in value, (path, value)
        assert "[" not in value and "]" not in value, (path, value)
        assert '":' not in value, (path, value)


def test_empty_state(rig, panel):
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.text() == EMPTY_TEXT
    assert not panel.copy_action.isEnabled()


def test_location_with_status_expand_and_ks_info(rig, panel, qtbot):
    ks = rig.of_model("KS20A")
    ks.temperature, ks.humidity = 21.5, 40
    rig.send(qtbot, rig.sim.location(ks.device_id))
    rig.ctx.selection.select(ks.device_id)
    assert panel.stack.currentWidget() is panel.tree
    v = panel.values()
    no_raw_json(v)
    assert ks.device_id in panel.title.text()
    assert "online" in panel.title.text() and "1 pushes" in panel.title.text()
    assert v["Location/Positioning"] in ("1 — GPS positioning", "2 — Base station positioning")
    assert v["Location/Speed"].endswith(" km/h")
    assert v["Location/Mileage"].endswith(" km")
    assert v["Location/Direction"].endswith("°")
    assert v["Location/Cell"].startswith(f"MCC {ks.mcc} · MNC ")
    assert v["Location/Battery"].endswith("%") or "charging" in v["Location/Battery"]
    assert v["Lock status/Lock"] in ("0 — Locked", "1 — Unlocked")
    assert v["Lock status/Lock rope"] == "-1 — none"
    assert v["Extended info/Network"] == f"{ks.network_type} — {ks.network_type}G"
    assert v["Extended info/Report type"] == "0 — Real-time"
    assert v["Extended info/Temperature"] == "21.5 ℃"
    assert v["Extended info/Humidity"] == "40 %"
    assert v["Extended info/Fuel level"] == "no fuel sensor"
    assert v["KS20A values/Onboard temperature"] == "21.5 ℃"
    assert v["KS20A values/LED voltage"].endswith(" V")
    assert v["KS20A values/LED current"].endswith(" A")
    assert v["KS20A values/Posture"].startswith("x ")
    assert v["KS20A values/White light"] == "50 %"
    for p in ks.ks_peripherals:
        summary = v[f"KS20A peripherals/{p.sub_id}"]
        assert "℃" in summary and "%" in summary and "lux" in summary
        assert v[f"KS20A peripherals/{p.sub_id}/Temperature"].endswith(" ℃")
    # every field of the push is somewhere
    assert "Location/GPS time" in v and "Location/Platform received" in v


def test_vehicle_status_and_units(rig, panel, qtbot):
    gp = rig.of_model("GP")
    rig.send(qtbot, rig.sim.location(gp.device_id))
    rig.ctx.selection.select(gp.device_id)
    v = panel.values()
    no_raw_json(v)
    assert v["Vehicle status/ACC (ignition)"] == "1 — on"
    assert v["Vehicle status/Door"] in ("0 — closed", "1 — open")
    assert v["Location/Voltage"].endswith(" V")
    assert v["Extended info/Fuel level"].startswith("tank 1 ")


def test_sublock_readings(rig, panel, qtbot):
    host = next(d for d in rig.sim.devices.values() if d.sublocks)
    rig.send(qtbot, rig.sim.location(host.device_id))
    rig.ctx.selection.select(host.device_id)
    assert "Sub-locks" not in panel.values()
    pushes = [p for sl in host.sublocks for p in rig.sim.sublock_push(host.device_id, sl.sub_id)]
    rig.send(qtbot, pushes)  # the selected device changed: the pane refreshes by itself
    v = panel.values()
    no_raw_json(v)
    assert v["Sub-locks"] == f"{len(host.sublocks)} bound"
    for sl in host.sublocks:
        base = f"Sub-locks/{sl.sub_id}"
        name = {4: "JT709", 6: "JT802"}[sl.sensor_type]
        assert v[f"{base}/Sensor type"] == f"{sl.sensor_type} — {name}"
        assert v[f"{base}/Battery"] == f"{sl.battery} %"
        assert v[f"{base}/RSSI"] == str(sl.rssi)
        assert v[f"{base}/Voltage"].endswith(" V")
        assert v[f"{base}/Temperature"] == "—"  # -1000 means no sensor
        assert v[f"{base}/Humidity"] == "—"  # and humidity 0 too
        assert v[f"{base}/Lock"] == "0 — Locked"
        assert v[f"{base}/Last event"] == "Heartbeat packet (6)"
        assert v[f"{base}/Status/Lock rope"] == "0 — Inserted"
        assert f"RSSI {sl.rssi}" in v[base]


def test_alarm_event_and_command_reply(rig, panel, qtbot):
    dev = rig.of_model("JT709A")
    did = dev.device_id
    now = time.time()
    waybill = {
        "assetId": did, "card": "", "cells": dev.cells, "dateTime": iso_seconds(now),
        "describe": json.dumps({"waybillGUID": "6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab",
                                "waybillNo": "12345678"}),
        "eventType": 14, "latitude": 22.6, "longitude": 113.9, "mileage": 10,
        "password": "", "speed": 0, "unLockType": -1,
    }
    reply = {
        "assetId": did, "commandType": "BASE1", "dateTime": iso_millis(now),
        "content": json.dumps([did, "8", "001", "BASE", "1", "JT709A_20240101", "0", "Jointech"]),
    }
    rig.send(qtbot, rig.sim.raise_alarm(did, 46) + rig.sim.unlock(did, 1))
    rig.ctx.selection.select(did)
    v = panel.values()
    no_raw_json(v)
    assert v["Last alarm/Alarm"] == "Back cover opened (46)"
    assert v["Last alarm/Critical"] == "yes"
    assert v["Last alarm/Acknowledged"].startswith("no")
    assert v["Last alarm/Speed"].endswith(" km/h")
    # unlock by card, then the rope event 19 came last
    assert v["Last event/Event"].endswith("(19)")
    rig.send(qtbot, rig.sim.unlock(did, 1)[:1])
    v = panel.values()
    assert v["Last event/Event"] == "Unlock (1)"
    assert v["Last event/Unlock type"] == "Swipe card to unlock (1)"
    assert v["Last event/Card"].startswith("000")

    rig.send(qtbot, [(f"upload/{KEY}/{did}/event", json.dumps(waybill).encode()),
                     (f"upload/{KEY}/{did}/cmd", json.dumps(reply).encode())])
    v = panel.values()
    no_raw_json(v)
    assert v["Last event/Event"] == "reach the destination (14)"
    assert v["Last event/Waybill GUID"] == "6f1c2d3e-aaaa-4bbb-8ccc-0123456789ab"
    assert v["Last event/Waybill No"] == "12345678"
    assert "Last event/Unlock type" in v
    assert v["Last command reply/Command type"] == "BASE1"
    assert v["Last command reply/Reply content"] == "8 fields"
    assert v["Last command reply/Reply content/8"] == "Jointech"

    rig.fleet.acknowledge(rig.fleet.unacknowledged_of(did))
    panel.refresh()
    assert panel.values()["Last alarm/Acknowledged"] == "yes"


def test_refresh_keeps_collapsed_sections_and_scroll(rig, panel, qtbot):
    ks = rig.of_model("KS20A")
    rig.send(qtbot, rig.sim.location(ks.device_id))
    rig.ctx.selection.select(ks.device_id)
    root = panel.tree.invisibleRootItem()
    sections = {root.child(i).text(0): root.child(i) for i in range(root.childCount())}
    sections["Extended info"].setExpanded(False)
    panel.resize(500, 250)
    bar = panel.tree.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 3)
    bar.setValue(3)
    before = panel.refreshes
    ks.speed = 0
    rig.send(qtbot, rig.sim.location(ks.device_id))
    assert panel.refreshes == before + 1
    again = {root.child(i).text(0): root.child(i) for i in range(root.childCount())}
    assert again["Extended info"] is sections["Extended info"]  # updated in place
    assert not again["Extended info"].isExpanded()
    assert again["Location"].isExpanded()
    assert bar.value() == 3
    assert panel.values()["Location/Speed"] == "0 km/h"
    # another device's pushes do not repaint this one
    other = rig.of_model("GP")
    rig.send(qtbot, rig.sim.location(other.device_id))
    assert panel.refreshes == before + 1
    # and the choice survives a restart
    panel.shutdown()
    again_panel = DetailPanel(rig.ctx)
    qtbot.addWidget(again_panel)
    items = again_panel.tree.invisibleRootItem()
    states = {items.child(i).text(0): items.child(i).isExpanded()
              for i in range(items.childCount())}
    assert states["Extended info"] is False and states["Location"] is True
    again_panel.shutdown()


def test_copy_as_text(rig, panel, qtbot):
    host = next(d for d in rig.sim.devices.values() if d.sublocks)
    sl = host.sublocks[0]
    rig.send(qtbot, rig.sim.location(host.device_id)
             + rig.sim.sublock_push(host.device_id, sl.sub_id))
    rig.ctx.selection.select(host.device_id)
    panel.copy_action.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith(f"Device {host.device_id} — online")
    assert "\nLocation (received " in text
    assert f"\n  {sl.sub_id}: " in text
    assert "    Battery: " in text
    assert "{" not in text and "[" not in text


def test_extension_hook_adds_a_section(rig, panel, qtbot):
    dev = rig.of_model("GP")
    rig.send(qtbot, rig.sim.location(dev.device_id))

    def history(state, fleet):
        return fields.Section("commands", "Command history", "2 commands",
                              [fields.Row("commands/1", "BASE,1", "answered")])

    rig.ctx.detail_sections.add("commands", history)
    rig.ctx.selection.select(dev.device_id)
    assert panel.values()["Command history/BASE,1"] == "answered"


def test_malformed_documents_are_not_shown_raw(rig, panel, qtbot):
    did = "8099990001"
    doc = {"assetId": did, "latitude": 0.0, "longitude": 0.0, "locType": 0, "battery": 255,
           "statusJson": "{broken", "expandInfo": '{"temperature":"-1000.0","lux":"null"}',
           "gpsTime": "2025-02-07T07:26:30Z", "mysteryField": {"a": [1, 2]}}
    rig.send(qtbot, [(f"upload/{KEY}/{did}/location", json.dumps(doc).encode())])
    rig.ctx.selection.select(did)
    v = panel.values()
    no_raw_json(v)
    assert v["Location/Positioning"] == "0 — No positioning"
    assert v["Location/Battery"].startswith("⚡ charging")
    assert v["Location/Fix"].startswith("no position fix")
    assert v["Location/Lock/vehicle status"] == "(unreadable document — see the Push log)"
    assert v["Extended info/Temperature"] == "—"
    assert v["Location/Mystery field/A"] == "1, 2"

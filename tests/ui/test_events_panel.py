"""Event panel: fed real decoded pushes through the journal writer and the live feed."""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest
from live_rig import LiveRig, opened
from PySide6.QtCore import QItemSelectionModel

from app.journal.store import Journal
from app.sim.fleet import Fleet
from app.ui.panels.events.model import CARD, EVENT, MASK, PASSWORD, UNLOCK, WAYBILL
from app.ui.panels.events.widget import EventsPanel

KEY = "TESTKEY"


class Rig(LiveRig):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = Fleet(KEY, devices=6, seed=4)

    @property
    def devices(self) -> list[str]:
        return self.sim.device_ids

    def event(self, device: str, event_type: int, *, describe: str = "", card: str = "",
              password: str = "", unlock_type: int = -1, at: float | None = None) -> None:
        """An event push in the vendor's shape (a waybill describe is a JSON string)."""
        doc = {
            "assetId": device, "card": card, "cells": "460,0,9383,149428936",
            "dateTime": "2025-02-07T06:54:52Z", "describe": describe, "eventType": event_type,
            "latitude": 22.6766686619127, "longitude": 113.928864975252, "mileage": 59,
            "password": password, "speed": 0, "unLockType": unlock_type,
        }
        self.submit([(f"upload/{KEY}/{device}/event", json.dumps(doc).encode())], at)


@pytest.fixture
def rig(tmp_path):
    with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def panel(rig, qtbot):
    with opened(qtbot, EventsPanel(rig.ctx), history=True) as p:
        yield p


def waybill(guid: str, number: str) -> str:
    return json.dumps({"waybillGUID": guid, "waybillNo": number}, separators=(",", ":"))


def test_lock_cycle_decoded(rig, panel, qtbot, qtmodeltester):
    d = rig.devices[0]
    rig.submit(rig.sim.lock_cycle(d, unlock_type=2))  # remote unlock, maybe rope, lock
    qtbot.waitUntil(lambda: panel.model.rowCount() >= 2 and panel.history_done)
    qtbot.waitUntil(lambda: any(r.code == 2 for r in panel.model.rows))
    m = panel.model
    events = [m.index(r, EVENT).data() for r in range(m.rowCount())]
    assert events[0] == "Lock (2)"
    assert events[-1] == "Unlock (1)"
    unlock_row = m.rowCount() - 1
    assert m.index(unlock_row, UNLOCK).data() == "Remote unlock"
    assert m.index(0, UNLOCK).data() == ""  # -1: no unlock, nothing to say
    assert all(m.index(r, 1).data() == d for r in range(m.rowCount()))
    assert re.fullmatch(r"-?\d+\.\d{5}, -?\d+\.\d{5}|no fix", m.index(0, 7).data())
    qtmodeltester.check(m)
    qtmodeltester.check(panel.proxy)


def test_waybill_shown_for_events_13_to_18(rig, panel, qtbot):
    d = rig.devices[1]
    guid = "9f9d0129-8a44-4ebe-89d9-bf020067dba8"
    for code in (13, 14, 15, 16, 17, 18):
        rig.event(d, code, describe=waybill(guid, f"4543534{code % 10}"))
    rig.event(d, 5, describe="door opened by driver")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 7)
    m = panel.model
    assert m.index(0, WAYBILL).data() == "door opened by driver"
    for r in range(1, 7):
        code = m.row_at(r).code
        assert 13 <= code <= 18
        assert m.index(r, WAYBILL).data() == f"{guid} / 4543534{code % 10}"
    assert m.index(6, EVENT).data() == "leave the starting point (13)"


def test_card_and_masked_password(rig, panel, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.journal import reveals
    from app.journal.store import Journal
    from app.ui import reveal as reveal_mod

    asked = []  # "Show passwords" is the window's one reveal: asked, then audited
    monkeypatch.setattr(reveal_mod.QMessageBox, "question", lambda *a, **k: (
        asked.append(a[1]), QMessageBox.StandardButton.Yes)[1])
    d = rig.devices[2]
    rig.event(d, 1, unlock_type=1, card="0003116836")
    rig.submit(rig.sim.unlock(rig.devices[3], unlock_type=5, password="654321"))
    qtbot.waitUntil(lambda: any(r.password for r in panel.model.rows)
                    and panel.model.rowCount() >= 2)
    m = panel.model
    card_row = m.row_of(next(r.push_id for r in m.rows if r.card))
    pw_row = m.row_of(next(r.push_id for r in m.rows if r.password))
    assert m.index(card_row, CARD).data() == "0003116836"
    assert m.index(card_row, UNLOCK).data() == "Swipe card to unlock"
    assert m.index(card_row, PASSWORD).data() == ""  # no password used: nothing to mask
    assert m.index(pw_row, PASSWORD).data() == MASK
    assert "654321" not in [m.index(r, c).data() for r in range(m.rowCount())
                            for c in range(m.columnCount())]
    # exported masked too, unless shown
    out = tmp_path / "e.csv"
    with qtbot.waitSignal(panel.exporter.sig_export_finished, timeout=5000):
        panel.export_csv(str(out))
    assert "654321" not in out.read_text(encoding="utf-8")
    changed = []
    m.dataChanged.connect(lambda a, b, _r: changed.append((a.row(), b.row(), b.column())))
    panel.password_box.setChecked(True)
    assert asked == ["Reveal secrets"]
    with Journal(rig.ctx.journal_path) as j:
        assert [(r.place, r.until) for r in reveals.history(j.conn)] == [("events", None)]
    # one signal, only over the row with a password (its sort key, on the first cell, too)
    assert changed == [(pw_row, pw_row, PASSWORD)]
    assert m.index(pw_row, PASSWORD).data() == "654321"
    panel.password_box.setChecked(False)
    assert m.index(pw_row, PASSWORD).data() == MASK
    assert not rig.ctx.reveal.shown


def test_one_insert_per_batch(rig, panel, qtbot):
    rig.feed.stop()
    inserted: list[tuple[int, int]] = []
    panel.model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    for i in range(9):
        rig.event(rig.devices[i % 6], 5 + i % 2)
    rig.submit(rig.sim.location(rig.devices[0]))  # not an event: not a row
    rig.deliver()
    assert inserted == [(0, 8)]
    rig.event(rig.devices[0], 6)
    rig.event(rig.devices[1], 6)
    rig.deliver()
    assert inserted == [(0, 8), (9, 10)]  # the model's rows are slots: new ones at the end
    rig.submit(rig.sim.location(rig.devices[0]))
    rig.deliver()
    assert inserted == [(0, 8), (9, 10)]


def test_bounded_and_says_so(rig, qtbot):
    p = EventsPanel(rig.ctx, max_rows=4)
    qtbot.addWidget(p)
    qtbot.waitUntil(lambda: p.history_done)
    rig.feed.stop()
    for _ in range(7):
        rig.event(rig.devices[0], 5)
    rig.deliver()
    assert p.model.rowCount() == 4
    assert "showing newest 4 — older events are in the push log" in p.drop_label.text()
    p.shutdown()


def test_filters_device_type_time(rig, panel, qtbot, qtmodeltester):
    d = rig.devices
    now = time.time()
    rig.event(d[0], 5, at=now - 2 * 86400)
    rig.event(d[1], 6, at=now - 3 * 3600)
    rig.event(d[1], 5, at=now - 60)
    rig.event(d[2], 1, unlock_type=2, at=now)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 4)

    def shown():
        return [(r.device, r.code) for r in panel.proxy.visible_rows()]

    panel.device_edit.setText(d[1])  # applied once typing pauses
    qtbot.waitUntil(lambda: shown() == [(d[1], 5), (d[1], 6)])
    panel.device_edit.setText("")
    qtbot.waitUntil(lambda: len(shown()) == 4)
    panel.type_combo.setCurrentIndex(panel.type_combo.findData(5))
    assert shown() == [(d[1], 5), (d[0], 5)]
    panel.type_combo.setCurrentIndex(0)
    panel.range_picker.set_span(3600.0)
    assert shown() == [(d[2], 1), (d[1], 5)]
    panel.range_picker.set_span(86400.0)
    assert len(shown()) == 3
    panel.range_picker.set_custom(now - 3 * 86400, now - 3600)
    assert shown() == [(d[1], 6), (d[0], 5)]
    qtmodeltester.check(panel.proxy)
    panel.range_picker.set_span(None)
    assert len(shown()) == 4


def test_selecting_selects_the_device(rig, panel, qtbot):
    rig.event(rig.devices[0], 5)
    rig.event(rig.devices[1], 6)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    with qtbot.waitSignal(rig.ctx.selection.sig_device_selected) as sig:
        panel.view.selectionModel().select(
            panel.proxy.index(0, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
    assert sig.args == [rig.devices[1]]


def test_history_loaded_on_start(tmp_path, qtbot):
    rig = Rig(tmp_path)
    try:
        for i in range(25):
            rig.event(rig.devices[i % 6], 5 + i % 2)
        assert rig.recorder.writer.flush(10)
        rig.feed.drain()  # delivered before any panel listens: only the journal has them
        with Journal(rig.path) as j:
            ids = [r.id for r in j.rows(kind="event", newest_first=True)]
        p = EventsPanel(rig.ctx, history=10)
        qtbot.addWidget(p)
        qtbot.waitUntil(lambda: p.history_done)
        assert [r.push_id for r in p.model.rows] == ids[:10]
        p.shutdown()
        # live rows that the history also holds are not shown twice
        p = EventsPanel(rig.ctx)
        qtbot.addWidget(p)
        qtbot.waitUntil(lambda: p.history_done and p.model.rowCount() == 25)
        rig.event(rig.devices[0], 2)
        qtbot.waitUntil(lambda: p.model.rowCount() == 26)
        got = [r.push_id for r in p.model.rows]
        assert got == sorted(set(got), reverse=True)
        p.shutdown()
    finally:
        rig.close()


def test_export_csv(rig, panel, qtbot, tmp_path):
    guid = "190db1a2-3df1-4857-b94e-ee5937334409"
    rig.event(rig.devices[0], 14, describe=waybill(guid, "45435345"))
    rig.event(rig.devices[1], 6)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    panel.type_combo.setCurrentIndex(panel.type_combo.findData(14))
    out = tmp_path / "events.csv"
    with qtbot.waitSignal(panel.exporter.sig_export_finished, timeout=5000):
        assert panel.export_csv(str(out)) == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["waybill_guid"] == guid and rows[0]["waybill_no"] == "45435345"
    assert rows[0]["event"] == "reach the destination"

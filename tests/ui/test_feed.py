"""The live feed under a flood: the backlog is coalesced, never an alarm or an event lost."""

from __future__ import annotations

import time

from live_rig import decoded

from app.fleet.state import FleetState
from app.sim.fleet import Fleet
from app.ui.feed import COALESCE_AT, LiveFeed


def test_a_backlog_keeps_every_alarm_and_event_and_the_newest_readings(qtbot):
    sim = Fleet("FEEDKEY", devices=50, seed=5)
    feed = LiveFeed(FleetState())
    feed.stop()  # the window is busy: nothing drains until we say so
    now = time.time()
    records: list = []
    while len(records) < COALESCE_AT + 5_000:
        batch = decoded([sim.next_push() for _ in range(500)], now + len(records) * 1e-4)
        records += batch
    ids = list(range(1, len(records) + 1))
    for k in range(0, len(records), 500):
        feed.push(records[k:k + 500], ids[k:k + 500])
    alarms = [i for i, r in zip(ids, records, strict=True) if r.kind == "alarm"]
    events = [i for i, r in zip(ids, records, strict=True) if r.kind == "event"]
    newest = {}
    for i, r in zip(ids, records, strict=True):
        if r.kind == "location":
            newest[r.device] = (i, r.data.get("battery"))

    change = feed.drain()
    assert feed.dropped > 0 and feed.delivered + feed.dropped == len(records)
    kept = [i for i, _ in change.records]
    assert kept == sorted(kept)  # still in journal order
    assert [e.push_id for e in change.alarms] == alarms  # every alarm reaches the views
    assert [i for i, _ in change.events] == events
    fleet = feed.fleet
    for device_id, (push_id, battery) in newest.items():
        assert push_id in kept  # the latest position of every device is there
        assert fleet.devices[device_id].location.get("battery") == battery


def test_no_coalescing_while_the_window_keeps_up(qtbot):
    sim = Fleet("FEEDKEY", devices=20, seed=6)
    feed = LiveFeed(FleetState())
    feed.stop()
    records = decoded([sim.next_push() for _ in range(3_000)], time.time())
    feed.push(records, list(range(1, 3_001)))
    change = feed.drain()
    assert feed.dropped == 0 and len(change.records) == 3_000

"""The fleet's own bounds (issue 26): the unacknowledged alarms it keeps in memory, and the
data each keeps. Plain Python, no Qt."""

from __future__ import annotations

import json
from itertools import count

from app.fleet.state import NO_DATA, FleetState
from app.protocol.decode import decode
from app.protocol.push import PushRecord, RawPush
from app.protocol.topics import upload_topic

_ids = count(1)


def alarm(device: str, code: int = 40) -> PushRecord:
    payload = json.dumps({"assetId": device, "alarmType": code, "alarmName": "Lock rope cut",
                          "latitude": 22.5, "longitude": 113.9, "speed": 12}).encode()
    return decode(RawPush("mqtt", upload_topic("K", device, "alarm"), payload, 1000.0, "p"))


def apply(fleet: FleetState, *records: PushRecord):
    return fleet.apply(list(records), [next(_ids) for _ in records])


def test_an_alarm_keeps_its_data_while_views_may_read_it_then_only_the_last_one_does():
    fleet = FleetState()
    first = apply(fleet, alarm("D1"), alarm("D1"), alarm("D2"))
    assert all(e.data["speed"] == 12 for e in first.alarms)  # the views' turn: all there
    apply(fleet)  # the next batch: the last one was handed out
    older, last, other = first.alarms
    assert older.data is NO_DATA  # superseded: nobody reads it again
    assert last.data["speed"] == 12 and fleet.devices["D1"].last_alarm is last
    assert other.data["speed"] == 12  # D2's last alarm: the detail panel shows it
    assert set(fleet.unacknowledged) == {e.push_id for e in first.alarms}  # still waiting


def test_unacknowledged_alarms_in_memory_stop_at_their_bound_newest_kept():
    fleet = FleetState(max_unacknowledged=3)
    changes = [apply(fleet, alarm(f"D{i}")) for i in range(5)]
    ids = [c.alarms[0].push_id for c in changes]
    assert list(fleet.unacknowledged) == ids[-3:]
    assert fleet.dropped_unacknowledged == 2
    assert fleet.set_max_unacknowledged(1) == 2  # lowered in the settings: trimmed at once
    assert list(fleet.unacknowledged) == ids[-1:] and fleet.dropped_unacknowledged == 4
    fleet.set_max_unacknowledged(10)
    apply(fleet, alarm("D9"))
    assert len(fleet.unacknowledged) == 2

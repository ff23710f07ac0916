"""FleetState on its own: decoded pushes in, the latest of every device and a FleetChange out.
No Qt, no journal, no broker: the fleet is plain Python (`tests/architecture` checks that
importing it loads no Qt)."""

from __future__ import annotations

import json
from itertools import count

import pytest

from app.fleet.state import DEFAULT_CRITICAL_ALARMS, FleetState, Status, Thresholds
from app.protocol.decode import decode
from app.protocol.normalize import CHARGING
from app.protocol.push import PushRecord, RawPush
from app.protocol.topics import upload_topic

_ids = count(1)


def push(device: str, kind: str, at: float = 1000.0, sublock: str | None = None,
         profile: str = "depot", **data) -> PushRecord:
    payload = json.dumps({"assetId": device, **data}).encode()
    return decode(RawPush("mqtt", upload_topic("K", device, kind, sublock), payload, at, profile))


def apply(fleet: FleetState, *records: PushRecord):
    return fleet.apply(list(records), [next(_ids) for _ in records])


def test_a_new_device_is_reported_once_then_only_as_changed():
    fleet = FleetState()
    first = apply(fleet, push("D1", "location", 10.0, battery=80),
                  push("D1", "location", 11.0, battery=79))
    assert first.new_devices == ["D1"]
    assert first.changed_devices == {"D1"}
    again = apply(fleet, push("D1", "location", 12.0, battery=78))
    assert again.new_devices == []
    assert again.changed_devices == {"D1"}
    dev = fleet.devices["D1"]
    assert (dev.first_seen, dev.last_seen, dev.pushes, dev.battery) == (10.0, 12.0, 3, 78)
    assert dev.profile == "depot"


def test_a_late_push_does_not_move_last_seen_back():
    fleet = FleetState()
    apply(fleet, push("D1", "location", 50.0), push("D1", "location", 40.0))
    assert fleet.devices["D1"].last_seen == 50.0


def test_latest_location_gives_lock_rope_battery_and_position():
    fleet = FleetState()
    apply(fleet, push("D1", "location", latitude=22.5, longitude=113.9, locType=1, battery=64,
                      statusJson={"lockStatus": 0, "lockRope": 1}))
    dev = fleet.devices["D1"]
    assert dev.position == (22.5, 113.9)
    assert (dev.lock_status, dev.lock_rope, dev.battery, dev.charging) == (0, 1, 64, False)
    apply(fleet, push("D1", "location", battery=CHARGING))  # the vendor's "charging" value
    assert (dev.battery, dev.charging) == (None, True)
    apply(fleet, push("D1", "location", latitude=0.0, longitude=0.0, locType=0))
    assert dev.position is None  # no fix


def test_sublocks_are_found_and_noted():
    fleet = FleetState()
    change = apply(fleet, push("D1", "sublock", sublock="S1", subAssetID="S1", battery=50))
    assert change.new_sublocks == [("D1", "S1")]
    assert change.sublock_devices == {"D1"}
    assert fleet.devices["D1"].sublocks["S1"].data["battery"] == 50
    change = apply(fleet, push("D1", "sublock", 1001.0, sublock="S1", subAssetID="S1",
                               battery=49))
    assert change.new_sublocks == []
    assert fleet.devices["D1"].sublocks["S1"].last_seen == 1001.0


def test_alarms_events_and_commands_are_sorted_into_the_change():
    fleet = FleetState()
    change = apply(fleet, push("D1", "alarm", alarmType=41, alarmName="Vibration"),
                   push("D1", "event", eventType=1, eventName="Unlock"),
                   push("D2", "location", battery=90))
    assert [a.alarm_type for a in change.alarms] == [41]
    assert len(change.events) == 1 and change.events[0][1].kind == "event"
    assert len(change.records) == 3
    assert change.changed_devices == {"D1", "D2"}
    assert fleet.devices["D1"].last_alarm is change.alarms[0]
    assert fleet.devices["D1"].last_event == change.events[0][1].data


def test_a_push_without_a_device_changes_no_device():
    fleet = FleetState()
    record = decode(RawPush("mqtt", "upload/K", b"{bad", 5.0))
    change = apply(fleet, record)
    assert change.records and not change.changed_devices and not fleet.devices
    assert bool(change)  # it still reached the push log


def test_the_fleet_says_which_alarms_are_critical():
    fleet = FleetState()
    sos, vibration = 51, 41
    assert sos in DEFAULT_CRITICAL_ALARMS and vibration not in DEFAULT_CRITICAL_ALARMS
    assert fleet.is_critical(sos) and not fleet.is_critical(vibration)
    assert not fleet.is_critical(None)  # an alarm without a type is never critical
    change = apply(fleet, push("D1", "alarm", alarmType=sos, alarmName="SOS"),
                   push("D2", "alarm", alarmType=vibration, alarmName="Vibration"))
    assert [a.critical for a in change.alarms] == [True, False]


def test_choosing_critical_types_updates_the_waiting_alarms_and_says_what_changed():
    fleet = FleetState()
    change = apply(fleet, push("D1", "alarm", alarmType=51, alarmName="SOS"),
                   push("D2", "alarm", alarmType=41, alarmName="Vibration"))
    changed = fleet.set_critical_alarms({41})
    assert changed == {41} | set(DEFAULT_CRITICAL_ALARMS)
    assert fleet.critical_alarms == {41}
    assert [a.critical for a in change.alarms] == [False, True]
    assert fleet.set_critical_alarms({41}) == set()  # the same choice changes nothing
    later = apply(fleet, push("D3", "alarm", alarmType=41, alarmName="Vibration"))
    assert later.alarms[0].critical


def test_acknowledging_removes_alarms_from_the_waiting_list():
    fleet = FleetState()
    change = apply(fleet, *(push("D1" if i % 2 else "D2", "alarm", alarmType=51)
                            for i in range(4)))
    ids = [a.push_id for a in change.alarms]
    assert list(fleet.unacknowledged) == ids
    assert sorted(fleet.unacknowledged_of("D1")) == sorted(ids[1::2])
    done = fleet.acknowledge([*fleet.unacknowledged_of("D1"), 999_999])
    assert {a.push_id for a in done} == set(ids[1::2])
    assert all(a.acknowledged for a in done)
    assert list(fleet.unacknowledged) == ids[0::2]
    assert fleet.acknowledge(ids[1::2]) == []  # twice is once


def test_waiting_alarms_are_bounded_oldest_dropped_first():
    fleet = FleetState(max_unacknowledged=3)
    change = apply(fleet, *(push("D1", "alarm", alarmType=51) for _ in range(5)))
    ids = [a.push_id for a in change.alarms]
    assert list(fleet.unacknowledged) == ids[2:]
    assert fleet.dropped_unacknowledged == 2


def test_restored_alarms_are_marked_by_todays_critical_types():
    old = FleetState()
    change = apply(old, push("D1", "alarm", alarmType=41), push("D1", "alarm", alarmType=51))
    for entry in change.alarms:
        entry.critical = not entry.critical  # as stored under another choice
    fleet = FleetState(critical_alarms=frozenset({41}))
    fleet.restore_unacknowledged(list(reversed(change.alarms)))
    assert [(e.alarm_type, e.critical) for e in fleet.unacknowledged.values()] == [
        (41, True), (51, False)]


@pytest.mark.parametrize(("age", "status"), [(0, Status.ONLINE), (299, Status.ONLINE),
                                             (300, Status.QUIET), (1799, Status.QUIET),
                                             (1800, Status.OFFLINE)])
def test_status_follows_the_thresholds(age, status):
    fleet = FleetState(Thresholds(quiet_after=300, offline_after=1800))
    apply(fleet, push("D1", "location", 1000.0))
    assert fleet.status("D1", now=1000.0 + age) is status


def test_status_counts_cover_every_device():
    fleet = FleetState(Thresholds(quiet_after=300, offline_after=1800))
    apply(fleet, push("A", "location", 3000.0), push("B", "location", 2600.0),
          push("C", "location", 1000.0))
    assert fleet.status_counts(now=3000.0) == {Status.ONLINE: 1, Status.QUIET: 1,
                                               Status.OFFLINE: 1, Status.UNKNOWN: 0}

"""Finding devices by what matters, Qt-free: each chip of the device list as a rule."""

from __future__ import annotations

import json
from itertools import count

from app.fleet.filters import DeviceFilter, condition_counts, matcher
from app.fleet.state import FleetState, Status, Thresholds
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.protocol.topics import upload_topic

_ids = count(1)
NOW = 10_000.0


def feed(fleet: FleetState, device: str, kind: str, at: float = NOW, sublock: str | None = None,
         **data) -> None:
    payload = json.dumps({"assetId": device, **data}).encode()
    rec = decode(RawPush("mqtt", upload_topic("K", device, kind, sublock), payload, at, "p"))
    fleet.apply([rec], [next(_ids)])


def fleet() -> FleetState:
    f = FleetState(Thresholds(quiet_after=300, offline_after=1800))
    feed(f, "ONLINE", "location", battery=80, statusJson=json.dumps({"lockStatus": 0}))
    feed(f, "QUIET", "location", NOW - 600, battery=90)
    feed(f, "GONE", "location", NOW - 4000, battery=10)  # offline and low
    feed(f, "OPEN", "location", battery=15, statusJson=json.dumps({"lockStatus": 1}))
    feed(f, "CHARGING", "location", battery=255)  # the vendor's "charging": never "low"
    feed(f, "ALARMED", "alarm", alarmType=51)
    feed(f, "HOST", "location", battery=70)
    feed(f, "HOST", "sublock", sublock="E0171E0365", subAssetID="E0171E0365", locStatus=1,
         battery=12)
    return f


def shown(f: FleetState, flt: DeviceFilter) -> set[str]:
    accepts = matcher(f, flt, NOW)
    return {d for d in f.devices if accepts(d)}


def test_no_chip_shows_everyone():
    f = fleet()
    assert DeviceFilter().empty
    assert shown(f, DeviceFilter()) == set(f.devices)


def test_status_chips_are_alternatives():
    f = fleet()
    assert shown(f, DeviceFilter(frozenset({Status.QUIET}))) == {"QUIET"}
    assert shown(f, DeviceFilter(frozenset({Status.QUIET, Status.OFFLINE}))) == {"QUIET", "GONE"}
    f.feeds.went_up("p", NOW - 5000)
    f.feeds.went_down("p", NOW - 10)
    assert shown(f, DeviceFilter(frozenset({Status.UNKNOWN}))) == set(f.devices)
    assert shown(f, DeviceFilter(frozenset({Status.ONLINE}))) == set()


def test_open_alarms_low_battery_unlocked():
    f = fleet()
    assert shown(f, DeviceFilter(open_alarms=True)) == {"ALARMED"}
    f.acknowledge(list(f.unacknowledged))
    assert shown(f, DeviceFilter(open_alarms=True)) == set()
    # a sub-lock's low battery or open lock counts for its host
    assert shown(f, DeviceFilter(low_battery=True)) == {"GONE", "OPEN", "HOST"}
    assert shown(f, DeviceFilter(unlocked=True)) == {"OPEN", "HOST"}


def test_other_chips_narrow():
    f = fleet()
    flt = DeviceFilter(frozenset({Status.OFFLINE}), low_battery=True)
    assert shown(f, flt) == {"GONE"}
    assert shown(f, DeviceFilter(low_battery=True, unlocked=True)) == {"OPEN", "HOST"}
    assert flt.describe() == "offline, low battery"


def test_condition_counts_match_the_chips():
    f = fleet()
    counts = condition_counts(f)
    assert (counts.open_alarms, counts.low_battery, counts.unlocked) == (1, 3, 2)


def test_cards_used_on_a_device_are_remembered_for_search():
    f = fleet()
    for n in range(12):
        feed(f, "OPEN", "event", eventType=1, unLockType=1, card=f"C{n:04d}")
    feed(f, "OPEN", "event", eventType=1, unLockType=1, card="C0011")  # seen: not again
    assert f.devices["OPEN"].cards == [f"C{n:04d}" for n in range(4, 12)]


def test_a_group_narrows_too():
    f = fleet()
    group = frozenset({"OPEN1", "GONE", "OPEN"})
    assert shown(f, DeviceFilter(group=group)) == {"GONE", "OPEN"}  # unknown ids: nothing
    assert shown(f, DeviceFilter(group=group, low_battery=True, unlocked=True)) == {"OPEN"}
    assert not DeviceFilter(group=frozenset()).empty  # an empty group shows no one
